package cluster

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
)

// SIGTERM to a node running a task: the node leaves within 30 s, its tasks
// finish on the other nodes with every part once, and its users can go on.
func TestGracefulLeave(t *testing.T) {
	users := userIDs(3301, 3)
	o, jobs := slowLeeches(t, users)
	o.Add(origin.File{Path: "/next.bin", Size: mib / 2, Seed: 51})
	tg, _, c := startCluster(t, users, "HTTP_CONNECTIONS=1", "LEECH_SPLIT_SIZE=1MiB")

	for _, j := range jobs {
		tg.PushText(j.user, j.user, "/leech "+o.URL(j.path))
	}
	tasks := waitRunning(t, c, jobs, 60*time.Second, "every task a MiB into its download", func(task harness.Task) bool {
		return task.Stage == "downloading" && task.DoneBytes >= mib
	})
	leaver := victimOf(c, tasks)
	moving := map[int64]harness.Task{}
	for u, task := range tasks {
		t.Logf("user %d: task %s on %s", u, task.ID, task.Host)
		if task.Host == leaver.Name {
			moving[u] = task
		}
	}
	t.Logf("stopping %s, which runs %d of the 3 tasks", leaver.Name, len(moving))
	termAt := time.Now()
	wait := leaver.SendTerm()
	type exit struct {
		took time.Duration
		err  error
	}
	exitc := make(chan exit, 1)
	go func() {
		took, err := wait(30 * time.Second)
		exitc <- exit{took, err}
	}()
	moved := failover(t, c, moving, termAt, 60*time.Second)
	ex := <-exitc
	exited := ex.took
	t.Logf("%s exited %.1f s after SIGTERM (%v)", leaver.Name, exited.Seconds(), ex.err)
	// The exit status is checked last, so that the hand-over is checked
	// whatever it is.
	defer func() { require.NoError(t, ex.err, "%s: a clean exit within 30 s", leaver.Name) }()
	left := c.WaitMembers(nodes-1, 30*time.Second)
	waitFor(t, 120*time.Second, "every leech to finish", func() bool {
		for _, j := range jobs {
			if !done(tg, j.user, j.name) {
				return false
			}
		}
		return true
	})
	finished := time.Since(termAt)
	time.Sleep(2 * time.Second)
	var worst time.Duration
	for _, d := range moved {
		worst = max(worst, d)
	}
	t.Logf("graceful leave: exit %.1f s, the last task ran elsewhere %.1f s after SIGTERM, member lists updated %.1f s after the exit, all finished after %.1f s",
		exited.Seconds(), worst.Seconds(), left.Seconds(), finished.Seconds())
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
		require.LessOrEqual(t, len(notes), 1, "user %d: told at most once that a task moved", j.user)
		if _, ok := moving[j.user]; !ok {
			require.Empty(t, notes, "user %d: its task was not on the node that left", j.user)
		} else if len(notes) == 1 {
			t.Logf("user %d was told: %q", j.user, notes[0].Text)
		}
	}

	// A user whose session was on the leaving node goes on: a new leech works.
	var u int64
	for user := range moving {
		u = user
	}
	tg.PushText(u, u, "/leech "+o.URL("/next.bin"))
	waitFor(t, 60*time.Second, "a new leech of a moved user", func() bool { return done(tg, u, "next.bin") })
	time.Sleep(time.Second)
	require.Len(t, messagesWith(tg, u, "✅", "next.bin"), 1)
	require.Equal(t, 1, countDocs(tg.Documents(u), "next.bin"), "the new leech delivered once")
}
