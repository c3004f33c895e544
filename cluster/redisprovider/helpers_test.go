package redisprovider_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/mirrorleech/mirrorleech/cluster/bootstrap"
	"github.com/mirrorleech/mirrorleech/cluster/redisprovider"
	"github.com/mirrorleech/mirrorleech/internal/redistest"
)

// Short timings keep the package quick; the ratios are close to the
// defaults (heartbeat TTL/4 instead of TTL/3, poll well under TTL).
const (
	clusterName = "rp-test"
	ttl         = 2 * time.Second
	heartbeat   = 500 * time.Millisecond
	pollEvery   = 500 * time.Millisecond
	// wait bounds every Eventually: generous for -race on two busy cores.
	wait = 15 * time.Second
	tick = 20 * time.Millisecond
)

// logBuf collects provider logs so tests can assert on warnings.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type node struct {
	name    string
	sys     *actor.ActorSystem
	c       *cluster.Cluster
	p       *redisprovider.Provider
	lost    atomic.Int32
	stopped bool // shut down (or crashed) by the test itself
}

type harness struct {
	t    *testing.T
	s    *redistest.Server
	rdb  *redis.Client
	logs *logBuf
}

func newHarness(t *testing.T) *harness {
	// Registered first, so it runs after every other cleanup: once the
	// providers are shut down and the clients closed, no goroutine of this
	// package or of go-redis (pub/sub receiver, health check) may remain.
	// goleak proper cannot be used: the full protoactor members of
	// cluster_test.go leave gossip and gRPC goroutines behind.
	t.Cleanup(func() {
		require.Eventually(t, func() bool { return ownGoroutines() == "" }, 5*time.Second, tick,
			"goroutines left behind:\n%s", ownGoroutines())
	})
	s := redistest.Start(t)
	return &harness{t: t, s: s, rdb: s.Client(), logs: &logBuf{}}
}

func quietSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
}

func echoKind() *cluster.Kind {
	return cluster.NewKind("echo", actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*wrapperspb.StringValue); ok {
			ctx.Respond(wrapperspb.String(ctx.ActorSystem().ID))
		}
	}))
}

func (h *harness) providerConfig(name string, n *node) redisprovider.Config {
	return redisprovider.Config{
		Client: h.s.Client(), TTL: ttl, Heartbeat: heartbeat, Poll: pollEvery,
		Name: name, API: "http://" + name + ".test",
		Logger:             slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		OnRegistrationLost: func(string) { n.lost.Add(1) },
	}
}

// light makes a member whose cluster has a MemberList and a block list but
// no running remote or gossip: protoactor itself races when several full
// members share one process (see cluster_test.go), and the membership logic
// under test is the same. The advertised address is fake; nobody dials it.
func (h *harness) light(name string) *node {
	h.t.Helper()
	n := &node{name: name, sys: quietSystem()}
	n.sys.ProcessRegistry.Address = net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(h.t)))
	n.p = redisprovider.New(h.providerConfig(name, n))
	n.c = cluster.New(n.sys, cluster.Configure(clusterName, n.p, disthash.New(),
		remote.Configure("127.0.0.1", 0), cluster.WithKinds(echoKind())))
	n.c.Remote = remote.NewRemote(n.sys, n.c.Config.RemoteConfig)
	require.NoError(h.t, n.p.StartMember(n.c))
	h.t.Cleanup(func() {
		if !n.stopped {
			_ = n.p.Shutdown(true)
		}
		n.sys.Shutdown()
	})
	return n
}

func (h *harness) lightN(names ...string) []*node {
	h.t.Helper()
	nodes := make([]*node, len(names))
	for i, name := range names {
		nodes[i] = h.light(name)
	}
	return nodes
}

// start boots a full cluster member the way main does (bootstrap.Start).
func (h *harness) start(name string) *node {
	h.t.Helper()
	n := &node{name: name, sys: quietSystem()}
	n.p = redisprovider.New(h.providerConfig(name, n))
	c, err := bootstrap.Start(n.sys, bootstrap.Options{Name: clusterName, ListenAddr: "127.0.0.1:0",
		Provider: n.p, Kinds: []*cluster.Kind{echoKind()}})
	require.NoError(h.t, err)
	n.c = c
	h.t.Cleanup(func() {
		if n.stopped {
			return
		}
		_ = n.p.Shutdown(true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		bootstrap.Stop(ctx, n.c, false, slog.New(slog.DiscardHandler))
	})
	return n
}

// startN boots members concurrently (each StartMember sleeps a second).
func (h *harness) startN(names ...string) []*node {
	h.t.Helper()
	nodes := make([]*node, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { nodes[i] = h.start(name) })
	}
	wg.Wait()
	for _, n := range nodes {
		require.NotNil(h.t, n)
	}
	return nodes
}

func ids(ms []redisprovider.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// sees reports whether n's applied view is exactly want.
func sees(n *node, want ...*node) bool {
	got := ids(n.p.Members())
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !n.p.Alive(w.sys.ID) {
			return false
		}
	}
	return true
}

func waitSees(t *testing.T, observers []*node, want ...*node) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, o := range observers {
			if !sees(o, want...) {
				return false
			}
		}
		return true
	}, wait, tick)
}

func keysWith(t *testing.T, rdb *redis.Client, pattern string) []string {
	t.Helper()
	ks, err := rdb.Keys(context.Background(), pattern).Result()
	require.NoError(t, err)
	return ks
}

func memberKey(id string) string { return "mirrorleech:{" + clusterName + "}:m:" + id }

const idxKey = "mirrorleech:{" + clusterName + "}:idx"

// sampleMin records the smallest view any node had while it runs.
func sampleMin(nodes ...*node) (stop func() int) {
	var minSeen atomic.Int64
	minSeen.Store(1 << 30)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			for _, n := range nodes {
				if l := int64(len(n.p.Members())); l < minSeen.Load() {
					minSeen.Store(l)
				}
			}
			select {
			case <-done:
				return
			case <-tk.C:
			}
		}
	}()
	return func() int {
		close(done)
		<-finished
		return int(minSeen.Load())
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ownGoroutines returns the stacks of goroutines running provider or
// go-redis code.
func ownGoroutines() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "redisprovider.(*Provider)") || strings.Contains(g, "github.com/redis/go-redis/v9") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
