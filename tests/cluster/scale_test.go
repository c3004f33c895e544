package cluster

import (
	"testing"
	"time"

	"github.com/mirrorleech/mirrorleech/tests/harness"
)

// A node joins a cluster with running tasks: the cluster moves some users'
// sessions to it (protoactor's rebalance stops them where they were). The
// tasks of a moved session are handed over, not lost: each finishes once,
// on the new node, and no chat is told of a failure.
func TestScaleOutHandsTasksOver(t *testing.T) {
	users := userIDs(3401, 9)
	o, jobs := slowLeeches(t, users)
	tg, _, c := startCluster(t, users, "HTTP_CONNECTIONS=1", "LEECH_SPLIT_SIZE=1MiB", "MAX_CONCURRENT_DOWNLOADS=0")
	// Two nodes run the work; the third joins while it runs.
	third := c.Nodes[2]
	_, err := third.Terminate(15 * time.Second)
	if err != nil {
		t.Fatalf("stopping n3 before the tasks: %v", err)
	}
	c.WaitMembers(nodes-1, 30*time.Second)

	defer func() {
		if t.Failed() {
			for _, j := range jobs {
				logChat(t, tg, j.user)
			}
		}
	}()
	for _, j := range jobs {
		tg.PushText(j.user, j.user, "/leech "+o.URL(j.path))
	}
	before := waitRunning(t, c, jobs, 60*time.Second, "every task a MiB into its download", func(task harness.Task) bool {
		return task.Stage == "downloading" && task.DoneBytes >= mib
	})
	joinAt := time.Now()
	added := c.AddNode()
	t.Logf("%s joined with the tasks running on %v", added.Name, hosts(before))
	c.WaitMembers(nodes, 30*time.Second)

	moved := map[int64]string{}
	waitFor(t, 120*time.Second, "every leech to finish", func() bool {
		for _, task := range c.Tasks() {
			if old, ok := before[task.UserID]; ok && task.Host != old.Host {
				if _, seen := moved[task.UserID]; !seen {
					moved[task.UserID] = task.Host
					t.Logf("user %d: task %s moved from %s to %s, %.1f s after the join", task.UserID, task.ID,
						old.Host, task.Host, time.Since(joinAt).Seconds())
				}
			}
		}
		for _, j := range jobs {
			if !done(tg, j.user, j.name) {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // late duplicates would show now
	for _, j := range jobs {
		requireDeliveredOnce(t, tg, j.user, j.name, j.sha, j.parts)
		notes := recycled(tg, j.user)
		if _, ok := moved[j.user]; ok {
			if len(notes) != 1 {
				t.Fatalf("user %d: %d notices that the task moved, want 1", j.user, len(notes))
			}
			t.Logf("user %d was told: %q", j.user, notes[0].Text)
		}
	}
	t.Logf("scale out: %d of %d tasks moved to the new node, all finished %.1f s after it joined",
		len(moved), len(jobs), time.Since(joinAt).Seconds())
}

func hosts(tasks map[int64]harness.Task) map[string]int {
	out := map[string]int{}
	for _, task := range tasks {
		out[task.Host]++
	}
	return out
}
