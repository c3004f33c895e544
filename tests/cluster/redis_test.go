package cluster

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
)

// statusWatch asks every node for its status twice a second and remembers
// the slowest answer and every failure: a node that does not answer within
// the harness's 5 s is blocked.
type statusWatch struct {
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	slowest  map[string]time.Duration
	failures []string
}

func watchStatus(c *harness.Cluster) *statusWatch {
	w := &statusWatch{stop: make(chan struct{}), done: make(chan struct{}), slowest: map[string]time.Duration{}}
	nodes := c.Running()
	go func() {
		defer close(w.done)
		for {
			var wg sync.WaitGroup
			for _, n := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := time.Now()
					_, err := n.Status()
					took := time.Since(start)
					w.mu.Lock()
					defer w.mu.Unlock()
					w.slowest[n.Name] = max(w.slowest[n.Name], took)
					if err != nil {
						w.failures = append(w.failures, fmt.Sprintf("%s at %s: %v", n.Name, start.Format("15:04:05.000"), err))
					}
				}()
			}
			wg.Wait()
			select {
			case <-w.stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *statusWatch) Stop() (map[string]time.Duration, []string) {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.slowest, w.failures
}

// Redis restarts empty under a running cluster: every node lists the three
// members again, one node polls, no node stops answering, a running leech
// and every ping are handled exactly once, and new leeches work.
func TestRedisRestartEmpty(t *testing.T) {
	const runner int64 = 3201
	fresh := userIDs(3202, 5)
	files := []origin.File{{Path: "/through.bin", Size: 3 * mib, Seed: 41, RateLimit: 256 << 10}}
	for _, u := range fresh {
		files = append(files, origin.File{Path: fmt.Sprintf("/after%d.bin", u), Size: mib / 2, Seed: uint64(u)})
	}
	o := origin.New(t, files...)
	tg, rs, c := startCluster(t, append([]int64{runner}, fresh...), "HTTP_CONNECTIONS=1", "LEECH_SPLIT_SIZE=1MiB")
	c.WaitPoller(30 * time.Second)

	tg.PushText(runner, runner, "/leech "+o.URL("/through.bin"))
	var before harness.Task
	waitFor(t, 30*time.Second, "the leech to be downloading", func() bool {
		for _, task := range c.Tasks() {
			if task.UserID == runner && task.Stage == "downloading" && task.DoneBytes > 0 {
				before = task
				return true
			}
		}
		return false
	})
	p := startPinger(tg, 500*time.Millisecond)
	defer p.Stop()
	w := watchStatus(c)
	defer w.Stop()
	time.Sleep(time.Second)

	restartAt := time.Now()
	rs.Restart()
	t.Logf("redis restarted empty in %.1f s; the leech of task %s runs on %s", time.Since(restartAt).Seconds(), before.ID, before.Host)

	members := c.WaitMembers(nodes, 60*time.Second)
	poller := c.WaitPoller(60 * time.Second)
	recovered := time.Since(restartAt)
	for _, n := range c.Running() {
		require.True(t, n.Ready(), "%s is ready after the restart", n.Name)
	}
	waitFor(t, 30*time.Second, "an answer to a ping sent after the recovery", func() bool {
		return !p.report(time.Now().Add(-time.Second)).firstAfter.IsZero()
	})
	time.Sleep(2 * time.Second)
	r := p.settle(t, 60*time.Second)
	slowest, failures := w.Stop()
	t.Logf("redis recovery: every node lists 3 members %.1f s after the restart, %s polls (%.1f s); %d pings, %d answered more than once, longest wait %.1f s",
		members.Seconds(), poller.Name, recovered.Seconds(), r.sent, len(r.twice()), r.maxDelay.Seconds())
	t.Logf("slowest status answer per node during the recovery: %v; %d getUpdates refused with 409 (two pollers at once) since the restart",
		slowest, conflicts(tg, restartAt))
	require.Empty(t, failures, "a node stopped answering its status (blocked)")

	start := time.Now()
	for _, u := range fresh {
		tg.PushText(u, u, fmt.Sprintf("/leech %s", o.URL(fmt.Sprintf("/after%d.bin", u))))
	}
	waitFor(t, 90*time.Second, "the new leeches and the one running through the restart", func() bool {
		for _, u := range fresh {
			if !done(tg, u, fmt.Sprintf("after%d.bin", u)) {
				return false
			}
		}
		return done(tg, runner, "through.bin")
	})
	t.Logf("5 new leeches after the recovery finished in %.1f s", time.Since(start).Seconds())
	time.Sleep(2 * time.Second)
	for _, u := range fresh {
		requireDeliveredOnce(t, tg, u, fmt.Sprintf("after%d.bin", u), o.SHA256(fmt.Sprintf("/after%d.bin", u)), 1)
	}
	requireDeliveredOnce(t, tg, runner, "through.bin", o.SHA256("/through.bin"), 3)
	require.Empty(t, recycled(tg, runner), "no node was lost, so no task moved")
	// Last, so that a duplicate does not hide the checks above.
	p.requireOnce(t, r)
}
