package bench

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/redistest"
	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// clusterFigures is what one cluster size measured.
type clusterFigures struct {
	nodes                    int
	activateP50, activateP99 time.Duration
	routedP50, routedP99     time.Duration
	tasks                    int
	throughput               time.Duration // all small leeches, first command to last "done"
}

// TestClusterOverhead measures what the cluster costs: a node alone (no
// Redis), then 1 and 3 nodes of the real binary on one Redis (the same machine, so the point is the
// overhead, not a speed-up):
//   - session activation: a user's first command, routed to a session that
//     does not exist yet (the cluster places and starts it) — /cancel of a
//     task that does not exist, answered by the session;
//   - routed command: the same command again, to the now active session;
//   - many small tasks: BENCH_CLUSTER_TASKS leeches of 256 KiB from as
//     many users, until every one is done.
//
// Latency is from pushing the update into the Bot API fake to the reply
// arriving there, so it includes the long poll, the routing, and the outbox.
// Run with BENCH_CLUSTER=1 (make bench does).
func TestClusterOverhead(t *testing.T) {
	if os.Getenv("BENCH_CLUSTER") != "1" {
		t.Skip("a benchmark: set BENCH_CLUSTER=1 (make bench does)")
	}
	users, tasks := 40, 60
	bin, cleanup, err := harness.Build()
	require.NoError(t, err)
	defer cleanup()
	var res []clusterFigures
	// 0 is a node alone (no Redis): the baseline of the cluster's cost.
	sizes := []int{0, 1, 3}
	if os.Getenv("BENCH_CLUSTER_NODES") == "1" {
		sizes = []int{0, 1}
	}
	for _, n := range sizes {
		res = append(res, runCluster(t, bin, n, users, tasks))
	}
	t.Logf("cluster overhead (%d users, %d leeches of 256 KiB):", users, tasks)
	t.Logf("| nodes | activation p50 | p99 | routed p50 | p99 | %d leeches |", tasks)
	t.Logf("|---|---|---|---|---|---|")
	for _, r := range res {
		name := fmt.Sprint(r.nodes)
		if r.nodes == 0 {
			name = "alone (no Redis)"
		}
		t.Logf("| %s | %s | %s | %s | %s | %s |", name, ms(r.activateP50), ms(r.activateP99),
			ms(r.routedP50), ms(r.routedP99), r.throughput.Round(10*time.Millisecond))
	}
	if len(res) == 3 {
		alone, one, three := res[0], res[1], res[2]
		t.Logf("ratios 1 clustered node / node alone: activation p50 %.2f×, routed p50 %.2f×, leeches wall time %.2f×",
			ratio(one.activateP50, alone.activateP50), ratio(one.routedP50, alone.routedP50),
			ratio(one.throughput, alone.throughput))
		t.Logf("ratios 3 nodes / 1 node: activation p50 %.2f×, routed p50 %.2f×, leeches wall time %.2f×",
			ratio(three.activateP50, one.activateP50), ratio(three.routedP50, one.routedP50),
			ratio(three.throughput, one.throughput))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func runCluster(t *testing.T, bin string, n, users, tasks int) clusterFigures {
	r := redistest.Start(t)
	tg := tgfake.New(t, tgfake.Options{})
	var files []origin.File
	for i := range tasks {
		files = append(files, origin.File{Path: fmt.Sprintf("/small%d.bin", i), Size: 256 << 10, Seed: uint64(i + 1)})
	}
	o := origin.New(t, files...)
	ids := make([]string, 0, users+tasks)
	for i := range users + tasks {
		ids = append(ids, fmt.Sprint(50000+i))
	}
	env := []string{"AUTHORIZED_CHATS=" + strings.Join(ids, " "), "LOG_LEVEL=warn",
		"MAX_CONCURRENT_DOWNLOADS=8", "MAX_CONCURRENT_UPLOADS=8"}
	if n == 0 {
		harness.Start(t, bin, tg, env...)
	} else {
		harness.StartCluster(t, bin, tg, r.URL(), n, env...).WaitPoller(30 * time.Second)
	}

	ask := func(user int64) time.Duration {
		m := tg.PushText(user, user, "/cancel nosuchid")
		start := time.Now()
		for deadline := start.Add(30 * time.Second); time.Now().Before(deadline); {
			for _, s := range tg.Messages(user) {
				if s.ReplyTo == m.MessageID && strings.Contains(s.Text, "No running task") {
					return s.Time.Sub(start)
				}
			}
			time.Sleep(500 * time.Microsecond)
		}
		t.Fatalf("user %d got no answer", user)
		return 0
	}
	// At most 20 commands a second: Telegram allows the bot 30 messages a
	// second in all, and the outbox would (rightly) hold the 31st back.
	var activate, routed []time.Duration
	for i := range users {
		activate = append(activate, ask(int64(50000+i)))
		time.Sleep(50 * time.Millisecond)
	}
	// One message per chat per second is Telegram's limit: let every chat's
	// window pass before asking again.
	time.Sleep(1500 * time.Millisecond)
	for i := range users {
		routed = append(routed, ask(int64(50000+i)))
		time.Sleep(50 * time.Millisecond)
	}

	start := time.Now()
	for i := range tasks {
		u := int64(50000 + users + i)
		tg.PushText(u, u, "/leech "+o.URL(fmt.Sprintf("/small%d.bin", i)))
	}
	harness.WaitFor(t, 5*time.Minute, "every small leech done", func() bool {
		for i := range tasks {
			if _, ok := harness.MessageContaining(tg, int64(50000+users+i), "✅"); !ok {
				return false
			}
		}
		return true
	})
	took := time.Since(start)
	f := clusterFigures{nodes: n, tasks: tasks, throughput: took}
	f.activateP50, f.activateP99 = pct(activate, 50), pct(activate, 99)
	f.routedP50, f.routedP99 = pct(routed, 50), pct(routed, 99)
	if os.Getenv("BENCH_CLUSTER_VERBOSE") == "1" {
		t.Logf("activation: %v\nrouted: %v", activate, routed)
	}
	t.Logf("%d node(s): activation p50 %s p99 %s; routed p50 %s p99 %s; %d leeches in %s", n,
		ms(f.activateP50), ms(f.activateP99), ms(f.routedP50), ms(f.routedP99), tasks, took.Round(10*time.Millisecond))
	return f
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}
