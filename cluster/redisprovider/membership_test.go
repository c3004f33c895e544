package redisprovider_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/cluster/redisprovider"
)

func TestJoin(t *testing.T) {
	h := newHarness(t)
	ab := h.lightN("node-b", "node-a")
	a, b := ab[1], ab[0]
	waitSees(t, ab, ab...)

	begin := time.Now()
	c := h.light("node-c")
	all := []*node{a, b, c}
	waitSees(t, all, all...)
	t.Logf("join: every member listed node-c %v after its StartMember began", time.Since(begin))

	for _, n := range all {
		require.Equal(t, n.sys.ID, n.p.Self(), "member id is the actor system id")
		for _, id := range []string{a.sys.ID, b.sys.ID, c.sys.ID} {
			require.True(t, n.p.Alive(id))
		}
		ms := n.p.Members()
		require.Equal(t, []string{"node-a", "node-b", "node-c"}, []string{ms[0].Name, ms[1].Name, ms[2].Name}, "sorted by name")
		for _, m := range ms {
			require.Equal(t, "127.0.0.1", m.Host)
			require.Positive(t, m.Port)
			require.Equal(t, "http://"+m.Name+".test", m.API)
			require.False(t, m.Started.IsZero())
		}
		// The copy is the caller's.
		ms[0].Name = "changed"
		require.NotEqual(t, "changed", n.p.Members()[0].Name)
	}
	require.False(t, a.p.Alive("nobody"))

	ctx := context.Background()
	for _, n := range all {
		d, err := h.rdb.PTTL(ctx, memberKey(n.sys.ID)).Result()
		require.NoError(t, err)
		require.Positive(t, d)
		require.LessOrEqual(t, d, ttl)
	}
	idx, err := h.rdb.SMembers(ctx, idxKey).Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{a.sys.ID, b.sys.ID, c.sys.ID}, idx)
	require.ElementsMatch(t, []string{memberKey(a.sys.ID), memberKey(b.sys.ID), memberKey(c.sys.ID), idxKey},
		keysWith(t, h.rdb, "*"), "key layout")

	// Heartbeats keep the keys alive well past the TTL.
	time.Sleep(ttl + heartbeat)
	waitSees(t, all, all...)
	for _, n := range all {
		require.Zero(t, n.lost.Load())
	}
}

func TestClientWatchesWithoutRegistering(t *testing.T) {
	h := newHarness(t)
	all := h.lightN("node-a", "node-b")
	waitSees(t, all, all...)

	p := redisprovider.New(h.providerConfig("client", &node{}))
	sys := quietSystem()
	c := cluster.New(sys, cluster.Configure(clusterName, p, disthash.New(), remote.Configure("127.0.0.1", 0)))
	c.Remote = remote.NewRemote(sys, c.Config.RemoteConfig)
	require.NoError(t, p.StartClient(c))
	t.Cleanup(func() { _ = p.Shutdown(true) })
	require.Empty(t, p.Self())
	require.Eventually(t, func() bool { return len(p.Members()) == 2 }, wait, tick)
	idx, err := h.rdb.SMembers(context.Background(), idxKey).Result()
	require.NoError(t, err)
	require.Len(t, idx, 2, "a client does not register")
	require.NoError(t, p.Leave(context.Background()), "Leave is a no-op for a client")
	require.ErrorIs(t, p.StartClient(c), redisprovider.ErrStarted)
}

func TestLeaveAndGracefulShutdown(t *testing.T) {
	h := newHarness(t)
	all := h.lightN("node-a", "node-b", "node-c")
	a, b, c := all[0], all[1], all[2]
	waitSees(t, all, all...)
	ctx := context.Background()

	// Leave: peers drop C at once (pub/sub nudge), its key is gone, and C
	// applies views without itself.
	begin := time.Now()
	require.NoError(t, c.p.Leave(ctx))
	waitSees(t, []*node{a, b}, a, b)
	t.Logf("leave: peers dropped node-c %v after Leave", time.Since(begin))
	require.True(t, sees(c, a, b), "the leaver applies a view without itself before Leave returns")
	require.NoError(t, c.p.Leave(ctx), "Leave is idempotent")
	n, err := h.rdb.Exists(ctx, memberKey(c.sys.ID)).Result()
	require.NoError(t, err)
	require.Zero(t, n)
	ok, err := h.rdb.SIsMember(ctx, idxKey, c.sys.ID).Result()
	require.NoError(t, err)
	require.False(t, ok)
	// No heartbeat, no re-registration, no loss guard afterwards.
	time.Sleep(2 * (heartbeat + pollEvery))
	n, err = h.rdb.Exists(ctx, memberKey(c.sys.ID)).Result()
	require.NoError(t, err)
	require.Zero(t, n)
	require.Zero(t, c.lost.Load())
	require.True(t, sees(c, a, b))
	require.NoError(t, c.p.Shutdown(true), "Shutdown after Leave")
	c.stopped = true

	// Shutdown(true) alone deregisters.
	begin = time.Now()
	require.NoError(t, b.p.Shutdown(true))
	b.stopped = true
	require.Eventually(t, func() bool { return sees(a, a) }, wait, tick)
	t.Logf("graceful shutdown: node-a dropped node-b %v after Shutdown(true)", time.Since(begin))
	require.NoError(t, b.p.Shutdown(true), "Shutdown is idempotent")
	require.NoError(t, b.p.Leave(ctx), "Leave after Shutdown")

	require.NoError(t, a.p.Shutdown(true))
	a.stopped = true
	require.Empty(t, keysWith(t, h.rdb, "*"), "no keys left after every member left")
	// Nobody was dropped by expiry, so nobody blocked anyone it should not.
	require.Zero(t, a.lost.Load()+b.lost.Load()+c.lost.Load())
}

func TestLeaveWhileRedisIsDown(t *testing.T) {
	h := newHarness(t)
	all := h.lightN("node-a", "node-b", "node-c")
	a, b, c := all[0], all[1], all[2]
	waitSees(t, all, all...)
	h.s.Stop()

	err := c.p.Leave(context.Background())
	require.Error(t, err, "the key could not be deleted")
	require.True(t, sees(c, a, b), "the leaver still moves its grains away, from its last listing")
	require.NoError(t, c.p.Leave(context.Background()), "second Leave is a no-op")
	time.Sleep(2 * pollEvery)
	require.True(t, sees(a, all...), "peers keep their view while Redis is down")
	require.True(t, sees(b, all...))
	for _, n := range all {
		require.NoError(t, n.p.Shutdown(false)) // nothing to deregister from a dead Redis
		n.stopped = true
	}
}

func TestCrashExpiresAfterTTL(t *testing.T) {
	h := newHarness(t)
	all := h.lightN("node-a", "node-b", "node-c")
	a, b, c := all[0], all[1], all[2]
	waitSees(t, all, all...)

	// Shutdown(false) is what a crash looks like from Redis: the loop stops,
	// nothing is deleted.
	require.NoError(t, c.p.Shutdown(false))
	c.stopped = true
	begin := time.Now()
	n, err := h.rdb.Exists(context.Background(), memberKey(c.sys.ID)).Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "no deregistration on Shutdown(false)")

	waitSees(t, []*node{a, b}, a, b)
	t.Logf("crash: peers dropped node-c %v after its heartbeat stopped (TTL %v, heartbeat %v, poll %v)",
		time.Since(begin), ttl, heartbeat, pollEvery)
	require.Eventually(t, func() bool {
		ok, err := h.rdb.SIsMember(context.Background(), idxKey, c.sys.ID).Result()
		return err == nil && !ok
	}, wait, tick, "the expired id is pruned from the index")
	// The dead member is blocked for good (protoactor), the living are not.
	for _, n := range []*node{a, b} {
		require.Equal(t, 1, n.c.Remote.BlockList().Len())
	}
}

func TestRedisRestartsEmpty(t *testing.T) {
	h := newHarness(t)
	all := h.lightN("node-a", "node-b", "node-c")
	waitSees(t, all, all...)
	nudges := make([]int64, len(all))
	ctx := context.Background()

	stopSampling := sampleMin(all...)
	begin := time.Now()
	h.s.Restart()

	require.Eventually(t, func() bool {
		for _, n := range all {
			if k, err := h.rdb.Exists(ctx, memberKey(n.sys.ID)).Result(); err != nil || k == 0 || n.lost.Load() == 0 {
				return false
			}
		}
		return true
	}, ttl+heartbeat+pollEvery+wait, tick)
	reregistered := time.Since(begin)
	require.Eventually(t, func() bool {
		for _, n := range all {
			if n.p.Holding() || !sees(n, all...) {
				return false
			}
		}
		return true
	}, ttl+heartbeat+pollEvery+wait, tick)
	t.Logf("redis restart: all re-registered %v after the restart; views applied again after %v (hold TTL+heartbeat = %v)",
		reregistered, time.Since(begin), ttl+heartbeat)
	require.Equal(t, 3, stopSampling(), "no node ever applied a view missing a member")

	idx, err := h.rdb.SMembers(ctx, idxKey).Result()
	require.NoError(t, err)
	require.Len(t, idx, 3)
	for _, n := range all {
		require.Zero(t, n.c.Remote.BlockList().Len(), "%s blocked nobody", n.name)
		require.Equal(t, int32(1), n.lost.Load(), "%s: OnRegistrationLost once", n.name)
	}
	require.Contains(t, h.logs.String(), "cluster registration lost")

	// Pub/sub came back by itself: a nudge published now reaches everyone.
	for i, n := range all {
		nudges[i] = n.p.Nudges()
	}
	require.Eventually(t, func() bool {
		if err := h.rdb.Publish(ctx, "mirrorleech:{"+clusterName+"}:ev", "join:probe").Err(); err != nil {
			return false
		}
		for i, n := range all {
			if n.p.Nudges() <= nudges[i] {
				return false
			}
		}
		return true
	}, wait, 100*time.Millisecond)
}

func TestRedisDownKeepsLastView(t *testing.T) {
	h := newHarness(t)
	all := h.lightN("node-a", "node-b", "node-c")
	waitSees(t, all, all...)
	before := make([][]string, len(all))
	for i, n := range all {
		before[i] = ids(n.p.Members())
	}

	stopSampling := sampleMin(all...)
	h.s.Stop()
	down := time.Now()
	// Longer than the TTL: had the views followed Redis, everyone would be gone.
	time.Sleep(ttl + time.Second)
	for i, n := range all {
		require.Equal(t, before[i], ids(n.p.Members()), "%s keeps its view while Redis is down", n.name)
	}

	h.s.Restart() // comes back empty: no persistence
	back := time.Now()
	require.Eventually(t, func() bool {
		for _, n := range all {
			k, err := h.rdb.Exists(context.Background(), memberKey(n.sys.ID)).Result()
			if err != nil || k == 0 || n.p.Holding() || !sees(n, all...) {
				return false
			}
		}
		return true
	}, ttl+heartbeat+pollEvery+wait, tick)
	t.Logf("redis down %v: recovered (all registered, views applied) %v after it came back",
		back.Sub(down), time.Since(back))
	require.Equal(t, 3, stopSampling(), "no node ever applied a view missing a member")
	for _, n := range all {
		require.Zero(t, n.c.Remote.BlockList().Len(), "%s blocked nobody", n.name)
		require.Positive(t, n.lost.Load())
	}
	logs := h.logs.String()
	require.Contains(t, logs, "cluster redis unavailable")
	require.Contains(t, logs, "cluster redis reachable again")
}

func TestUnroutableAddress(t *testing.T) {
	h := newHarness(t)
	for _, addr := range []string{"", "0.0.0.0:4000", "[::]:4000", "127.0.0.1:0"} {
		t.Run(addr, func(t *testing.T) {
			sys := quietSystem()
			if addr != "" {
				sys.ProcessRegistry.Address = addr
			} // else the system's default address "nonhost"
			p := redisprovider.New(h.providerConfig("n", &node{}))
			c := cluster.New(sys, cluster.Configure(clusterName, p, disthash.New(), remote.Configure("127.0.0.1", 0)))
			err := p.StartMember(c)
			require.ErrorIs(t, err, redisprovider.ErrUnroutable)
			require.NoError(t, p.Shutdown(true))
		})
	}
	require.Empty(t, keysWith(t, h.rdb, "*"), "nothing registered")
}

func TestStartMemberFailsFastWithoutRedis(t *testing.T) {
	h := newHarness(t)
	h.s.Stop()
	sys := quietSystem()
	sys.ProcessRegistry.Address = "127.0.0.1:4000"
	p := redisprovider.New(h.providerConfig("n", &node{}))
	c := cluster.New(sys, cluster.Configure(clusterName, p, disthash.New(), remote.Configure("127.0.0.1", 0)))
	err := p.StartMember(c)
	require.Error(t, err)
	require.NotErrorIs(t, err, redisprovider.ErrUnroutable)
	// go-redis keeps redialling until the per-call timeout; either way the
	// cause is in the chain.
	var opErr *net.OpError
	require.True(t, errors.Is(err, context.DeadlineExceeded) || errors.As(err, &opErr),
		"the Redis error is wrapped: %v", err)
	require.NoError(t, p.Shutdown(true))

	require.ErrorIs(t, redisprovider.New(redisprovider.Config{}).StartMember(c), redisprovider.ErrNoClient)
}
