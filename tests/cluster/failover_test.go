package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// leechJob is one user's leech of one origin file.
type leechJob struct {
	user  int64
	path  string
	name  string
	sha   string
	parts int
}

// slowLeeches serves one throttled file per user: 4 MiB at 320 KiB/s over
// one connection is about 13 s of download, and four 1 MiB parts.
func slowLeeches(t *testing.T, users []int64) (*origin.Origin, []leechJob) {
	var files []origin.File
	var jobs []leechJob
	for i, u := range users {
		name := fmt.Sprintf("slow%d.bin", u)
		files = append(files, origin.File{Path: "/" + name, Size: 4*mib - int64(i+1)*777, Seed: uint64(u), RateLimit: 320 << 10})
		jobs = append(jobs, leechJob{user: u, path: "/" + name, name: name, parts: 4})
	}
	o := origin.New(t, files...)
	for i := range jobs {
		jobs[i].sha = o.SHA256(jobs[i].path)
	}
	return o, jobs
}

// waitRunning waits until every job's task runs and cond holds for it, and
// returns the tasks by user.
func waitRunning(t *testing.T, c *harness.Cluster, jobs []leechJob, timeout time.Duration, what string, cond func(harness.Task) bool) map[int64]harness.Task {
	t.Helper()
	users := make([]int64, len(jobs))
	for i, j := range jobs {
		users[i] = j.user
	}
	return harness.WaitTasks(t, timeout, what, c.Tasks, users, cond)
}

// victimOf picks the node to lose: one running a task but not polling, so
// that the test sees a task failover alone, when there is one.
func victimOf(c *harness.Cluster, tasks map[int64]harness.Task) *harness.Node {
	poller := ""
	if ps := c.Pollers(); len(ps) == 1 {
		poller = ps[0].Name
	}
	var victim string
	for _, task := range tasks {
		if victim == "" || (victim == poller && task.Host != poller) {
			victim = task.Host
		}
	}
	return c.Node(victim)
}

// failover watches the tasks that ran on the lost node until each one runs
// on another node (same user), and returns how long after since each took.
func failover(t *testing.T, c *harness.Cluster, lost map[int64]harness.Task, since time.Time, timeout time.Duration) map[int64]time.Duration {
	t.Helper()
	moved := map[int64]time.Duration{}
	waitFor(t, timeout, "the lost node's tasks to run on another node", func() bool {
		for _, task := range c.Tasks() {
			old, ok := lost[task.UserID]
			if !ok || task.Host == old.Host {
				continue
			}
			if _, seen := moved[task.UserID]; !seen {
				moved[task.UserID] = time.Since(since)
				t.Logf("user %d: task %s (was %s on %s) runs on %s at %s, %.1f s after the loss",
					task.UserID, task.ID, old.ID, old.Host, task.Host, task.Stage, moved[task.UserID].Seconds())
				require.Equal(t, old.ID, task.ID, "the task keeps its id when it moves")
			}
		}
		return len(moved) == len(lost)
	})
	return moved
}

// kill -9 of a node in the middle of downloads: its tasks finish on the
// other nodes, every part arrives exactly once, and each affected user is
// told once.
func TestKillNodeMidTask(t *testing.T) {
	users := userIDs(3101, 3)
	o, jobs := slowLeeches(t, users)
	tg, _, c := startCluster(t, users, "HTTP_CONNECTIONS=1", "LEECH_SPLIT_SIZE=1MiB")

	for _, j := range jobs {
		tg.PushText(j.user, j.user, "/leech "+o.URL(j.path))
	}
	tasks := waitRunning(t, c, jobs, 60*time.Second, "every task a MiB into its download", func(task harness.Task) bool {
		return task.Stage == "downloading" && task.DoneBytes >= mib
	})
	victim := victimOf(c, tasks)
	lost := map[int64]harness.Task{}
	for u, task := range tasks {
		t.Logf("user %d: task %s on %s", u, task.ID, task.Host)
		if task.Host == victim.Name {
			lost[u] = task
		}
	}
	t.Logf("killing %s, which runs %d of the 3 tasks", victim.Name, len(lost))
	killAt := time.Now()
	victim.Kill()

	moved := failover(t, c, lost, killAt, 90*time.Second)
	waitFor(t, 120*time.Second, "every leech to finish", func() bool {
		for _, j := range jobs {
			if !done(tg, j.user, j.name) {
				return false
			}
		}
		return true
	})
	finished := time.Since(killAt)
	time.Sleep(2 * time.Second) // late duplicates would show now

	var worst time.Duration
	for _, d := range moved {
		worst = max(worst, d)
	}
	t.Logf("task failover: %.1f s until the last lost task ran elsewhere, all finished %.1f s after the kill (target ~30 s)",
		worst.Seconds(), finished.Seconds())
	defer func() {
		if t.Failed() {
			for _, j := range jobs {
				logChat(t, tg, j.user)
			}
		}
	}()
	for _, j := range jobs {
		requireDeliveredOnce(t, tg, j.user, j.name, j.sha, j.parts)
		notes := recycled(tg, j.user)
		if task, ok := lost[j.user]; ok {
			require.Len(t, notes, 1, "user %d: told once that task %s moved", j.user, task.ID)
			require.Contains(t, notes[0].Text, task.ID, "the notice names the task")
			t.Logf("user %d was told: %q", j.user, notes[0].Text)
		} else {
			require.Empty(t, notes, "user %d: its task did not run on the lost node", j.user)
		}
	}
}

// kill -9 of a node between two parts of a leech: the parts delivered
// before are not sent again.
func TestKillNodeMidUpload(t *testing.T) {
	const user int64 = 3151
	size := int64(5*mib - 1000)
	o := origin.New(t, origin.File{Path: "/parts.bin", Size: size, Seed: 31})
	tg, _, c := startCluster(t, []int64{user}, "LEECH_SPLIT_SIZE=1MiB")

	tg.PushText(user, user, "/leech "+o.URL("/parts.bin"))
	// The moment the second part is stored, the next send meets a long
	// flood wait, so the node is killed between parts 2 and 3.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, tg.WaitFor(ctx, func(s *tgfake.Server) bool {
		if len(s.Documents(user)) < 2 {
			return false
		}
		s.FailNext("sendDocument", 1, 429, "Too Many Requests: retry after 120", 120)
		return true
	}), "two parts delivered")
	waitFor(t, 20*time.Second, "a part to be refused", func() bool {
		for _, call := range tg.Calls("sendDocument") {
			if call.Status == 429 {
				return true
			}
		}
		return false
	})
	before := len(tg.Documents(user))
	var task harness.Task
	waitFor(t, 10*time.Second, "the task in some node's list", func() bool {
		for _, tk := range c.Tasks() {
			if tk.UserID == user {
				task = tk
				return true
			}
		}
		return false
	})
	t.Logf("task %s on %s at %s with %d parts delivered; killing %s", task.ID, task.Host, task.Stage, before, task.Host)
	killAt := time.Now()
	c.Node(task.Host).Kill()

	moved := failover(t, c, map[int64]harness.Task{user: task}, killAt, 90*time.Second)
	waitFor(t, 120*time.Second, "the leech to finish", func() bool { return done(tg, user, "parts.bin") })
	finished := time.Since(killAt)
	time.Sleep(2 * time.Second)
	defer func() {
		if t.Failed() {
			logChat(t, tg, user)
		}
	}()
	t.Logf("task failover mid-upload: ran elsewhere %.1f s after the kill, finished after %.1f s; %d parts before the kill, %d after; origin served %.2fx the file",
		moved[user].Seconds(), finished.Seconds(), before, len(tg.Documents(user))-before, float64(o.BytesServed())/float64(size))
	requireDeliveredOnce(t, tg, user, "parts.bin", o.SHA256("/parts.bin"), 5)
	notes := recycled(tg, user)
	require.Len(t, notes, 1, "told once that the task moved")
	require.Contains(t, notes[0].Text, task.ID)
}
