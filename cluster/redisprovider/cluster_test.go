//go:build !race

// Full protoactor members (remote, gossip, disthash, grains) in one process.
// protoactor-go itself races here, in frames this package cannot reach:
// remote.BlockList reads without its lock while gossip writes it
// (BlockedMembers/IsBlocked vs Block), and every Remote.Start rewrites the
// global grpclog logger other members' gRPC connections read. Under -race
// these tests would fail on library frames only, so they run without it
// (`go test -count=1 ./cluster/redisprovider/`); membership_test.go covers
// the provider's own logic under -race with members that run no remote.

package redisprovider_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/mirrorleech/mirrorleech/cluster/bootstrap"
	"github.com/mirrorleech/mirrorleech/cluster/redisprovider"
)

func TestClusterJoinSamePlacement(t *testing.T) {
	h := newHarness(t)
	ab := h.startN("node-a", "node-b")
	a, b := ab[0], ab[1]
	waitSees(t, ab, ab...)

	// Join latency: from the start of node C's bootstrap until both peers
	// list it (its StartMember registers, then protoactor sleeps a second).
	begin := time.Now()
	seen := make(chan time.Duration, 1)
	go func() {
		defer close(seen)
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			if len(a.p.Members()) == 3 && len(b.p.Members()) == 3 {
				seen <- time.Since(begin)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	c := h.start("node-c")
	all := []*node{a, b, c}
	waitSees(t, all, all...)
	if d, ok := <-seen; ok {
		t.Logf("join: peers listed node-c %v after its bootstrap began (bootstrap took %v)", d, time.Since(begin))
	}
	for _, n := range all {
		require.Equal(t, n.sys.ID, n.p.Self(), "member id is the actor system id")
		for _, m := range n.p.Members() {
			require.Equal(t, "127.0.0.1", m.Host)
			require.Contains(t, m.Kinds, "echo")
		}
	}

	o := requireSamePlacement(t, all...)
	require.Contains(t, []string{a.sys.ID, b.sys.ID, c.sys.ID}, o)
	t.Logf("placement: grain x lives on %s from every node", nameOf(all, o))

	// A client watches without registering and places grains the same way.
	cp := redisprovider.New(h.providerConfig("client", &node{}))
	csys := quietSystem()
	cc := cluster.New(csys, cluster.Configure(clusterName, cp, disthash.New(),
		remote.Configure("127.0.0.1", freePort(t))))
	cc.StartClient()
	t.Cleanup(func() {
		_ = cp.Shutdown(true)
		// cluster.Shutdown nil-derefs on a client (no gossip actor).
		cc.Remote.Shutdown(false)
		csys.Shutdown()
	})
	require.Empty(t, cp.Self())
	require.Eventually(t, func() bool { return len(cp.Members()) == 3 }, wait, tick)
	idx, err := h.rdb.SMembers(context.Background(), idxKey).Result()
	require.NoError(t, err)
	require.Len(t, idx, 3, "a client does not register")
	require.Eventually(t, func() bool {
		res, err := cc.Request("x", "echo", wrapperspb.String("ping"), cluster.WithTimeout(4*time.Second))
		sv, ok := res.(*wrapperspb.StringValue)
		return err == nil && ok && sv.GetValue() == o
	}, wait, tick)
}

func nameOf(nodes []*node, id string) string {
	for _, n := range nodes {
		if n.sys.ID == id {
			return n.name
		}
	}
	return id
}

func TestClusterGracefulShutdownDeregisters(t *testing.T) {
	h := newHarness(t)
	all := h.startN("node-a", "node-b", "node-c")
	a, b, c := all[0], all[1], all[2]
	waitSees(t, all, all...)
	requireSamePlacement(t, all...)

	stop := func(n *node) chan struct{} {
		n.stopped = true
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			bootstrap.Stop(ctx, n.c, true, slog.New(slog.DiscardHandler))
		}()
		return done
	}

	// Leave first (the node's handover), then cluster.Shutdown(true).
	begin := time.Now()
	require.NoError(t, c.p.Leave(context.Background()))
	waitSees(t, []*node{a, b}, a, b)
	t.Logf("leave: peers dropped node-c %v after Leave", time.Since(begin))
	o := requireSamePlacement(t, a, b)
	require.NotEqual(t, c.sys.ID, o)
	cDone := stop(c)

	// cluster.Shutdown(true) alone deregisters through Shutdown(true).
	begin = time.Now()
	bDone := stop(b)
	require.Eventually(t, func() bool { return sees(a, a) }, wait, tick)
	t.Logf("graceful shutdown: node-a dropped node-b %v after cluster.Shutdown(true) began", time.Since(begin))
	require.Equal(t, a.sys.ID, requireSamePlacement(t, a))

	<-stop(a)
	<-bDone
	<-cDone
	require.Empty(t, keysWith(t, h.rdb, "*"), "no keys left after every member shut down gracefully")
}

func TestClusterCrashedOwnerReplaced(t *testing.T) {
	h := newHarness(t)
	all := h.startN("node-a", "node-b", "node-c")
	waitSees(t, all, all...)
	o := requireSamePlacement(t, all...)

	// Crash the owner of "x": no deregistration, heartbeat and remote gone.
	var dead *node
	var survivors []*node
	for _, n := range all {
		if n.sys.ID == o {
			dead = n
		} else {
			survivors = append(survivors, n)
		}
	}
	require.NotNil(t, dead)
	dead.stopped = true
	require.NoError(t, dead.p.Shutdown(false))
	dead.c.Gossip.Shutdown()
	dead.c.Remote.Shutdown(false)
	begin := time.Now()

	waitSees(t, survivors, survivors...)
	dropped := time.Since(begin)
	o2 := requireSamePlacement(t, survivors...)
	require.NotEqual(t, o, o2)
	t.Logf("crash: survivors dropped %s %v after its heartbeat stopped (TTL %v, poll %v); grain x answered from %s %v after the crash",
		dead.name, dropped, ttl, pollEvery, nameOf(all, o2), time.Since(begin))
}

func TestClusterRedisRestartKeepsGrainsReachable(t *testing.T) {
	h := newHarness(t)
	all := h.startN("node-a", "node-b", "node-c")
	waitSees(t, all, all...)
	o := requireSamePlacement(t, all...)

	stopSampling := sampleMin(all...)
	begin := time.Now()
	h.s.Restart()
	require.Eventually(t, func() bool {
		for _, n := range all {
			if n.lost.Load() == 0 || n.p.Holding() || !sees(n, all...) {
				return false
			}
		}
		return true
	}, ttl+heartbeat+pollEvery+wait, tick)
	t.Logf("redis restart (full members): views applied again %v after the restart", time.Since(begin))
	require.Equal(t, 3, stopSampling(), "no node ever applied a view missing a member")
	for _, n := range all {
		require.Zero(t, n.c.Remote.BlockList().Len(), "%s blocked nobody", n.name)
	}
	require.Equal(t, o, requireSamePlacement(t, all...), "grain x still reachable, same owner, from every node")
}

// owner asks n for grain "x" and returns the id of the system that answered.
func owner(n *node) (string, error) {
	res, err := n.c.Request("x", "echo", wrapperspb.String("ping"), cluster.WithTimeout(4*time.Second))
	if err != nil {
		return "", err
	}
	sv, ok := res.(*wrapperspb.StringValue)
	if !ok {
		return "", fmt.Errorf("unexpected reply %T", res)
	}
	return sv.GetValue(), nil
}

// requireSamePlacement waits until every node reaches grain "x" and they all
// reach the same member; it returns that member's id.
func requireSamePlacement(t *testing.T, nodes ...*node) string {
	t.Helper()
	var got string
	require.Eventually(t, func() bool {
		first := ""
		for _, n := range nodes {
			o, err := owner(n)
			if err != nil || (first != "" && o != first) {
				return false
			}
			first = o
		}
		got = first
		return true
	}, wait, tick)
	return got
}
