package actortree_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/monitoring/actortree"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture/download"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture/session"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture/task"
)

const wait = 5 * time.Second

// newSystem returns an actor system whose root spawns through a fresh
// registry, installed before anything is spawned as in the node.
func newSystem(t *testing.T, timeout time.Duration) (*actor.ActorSystem, *actortree.Registry, *actor.RootContext) {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	reg := actortree.New(actortree.Options{Node: "node-a", Timeout: timeout})
	root := sys.Root.WithSpawnMiddleware(reg.SpawnMiddleware())
	t.Cleanup(func() {
		if !sys.IsStopped() { // a cluster's shutdown stops the system too
			sys.Shutdown()
		}
	})
	return sys, reg, root
}

// spawnChain spawns session s1 → task t1 → download d1 and returns the
// session's PID.
func spawnChain(t *testing.T, root *actor.RootContext, name string) *actor.PID {
	t.Helper()
	dl := download.Props(fixture.Node{State: map[string]any{"task_id": "T1", "stage": "download", "progress": 0.5}})
	tk := task.Props(fixture.Node{Child: dl, ChildName: "d1", State: map[string]any{"task_id": "T1", "stage": "downloading"}})
	pid, err := root.SpawnNamed(session.Props(fixture.Node{Child: tk, ChildName: "t1", State: map[string]any{"user_id": 7}}), name)
	require.NoError(t, err)
	t.Cleanup(func() { _ = root.PoisonFuture(pid).Wait() })
	return pid
}

func byID(tr actortree.Tree) map[string]actortree.Actor {
	m := make(map[string]actortree.Actor, len(tr.Actors))
	for _, a := range tr.Actors {
		m[a.ID] = a
	}
	return m
}

// eventually snapshots until ok holds and returns that snapshot.
func eventually(t *testing.T, reg *actortree.Registry, sys *actor.ActorSystem, ok func(map[string]actortree.Actor) bool) actortree.Tree {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		last := reg.Snapshot(context.Background(), sys)
		if ok(byID(last)) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s; last snapshot: %+v", wait, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTreeRegistersDescendantsWithKindsAndState(t *testing.T) {
	sys, reg, root := newSystem(t, actortree.DefaultTimeout)
	spawnChain(t, root, "s1")

	tr := eventually(t, reg, sys, func(m map[string]actortree.Actor) bool {
		return m["s1/t1/d1"].Kind != ""
	})
	require.Equal(t, "node-a", tr.Node)
	require.Equal(t, []string{"s1"}, tr.Roots)
	got := byID(tr)
	require.Len(t, got, 3)
	for _, c := range []struct {
		id, kind, parent string
		children         []string
		state            map[string]any
	}{
		{"s1", "session", "", []string{"s1/t1"}, map[string]any{"user_id": 7}},
		{"s1/t1", "task", "s1", []string{"s1/t1/d1"}, map[string]any{"task_id": "T1", "stage": "downloading"}},
		{"s1/t1/d1", "download", "s1/t1", []string{}, map[string]any{"task_id": "T1", "stage": "download", "progress": 0.5}},
	} {
		a := got[c.id]
		require.Equal(t, c.kind, a.Kind, c.id)
		require.Equal(t, c.parent, a.Parent, c.id)
		require.Equal(t, c.children, a.Children, c.id)
		require.Equal(t, c.state, a.State, c.id)
		require.False(t, a.Stuck, c.id)
		require.Zero(t, a.Restarts, c.id)
		require.GreaterOrEqual(t, a.UptimeSeconds, 0.0, c.id)
	}
}

func TestRestartsCountedOncePerRestartAndStoppedActorsRemoved(t *testing.T) {
	sys, reg, root := newSystem(t, actortree.DefaultTimeout)
	s1 := spawnChain(t, root, "s1")
	eventually(t, reg, sys, func(m map[string]actortree.Actor) bool { return m["s1/t1/d1"].Kind != "" })
	t1 := actor.NewPID(sys.Address(), "s1/t1")

	for want := 1; want <= 2; want++ {
		failed := time.Now()
		root.Send(t1, &fixture.Fail{})
		// The restart stops the task's download and the new incarnation
		// spawns a fresh one, which starts with no restarts.
		tr := eventually(t, reg, sys, func(m map[string]actortree.Actor) bool {
			d1 := m["s1/t1/d1"]
			return m["s1/t1"].Restarts == want && d1.Kind == "download" && d1.StartedAt.After(failed)
		})
		got := byID(tr)
		require.Equal(t, want, got["s1/t1"].Restarts)
		require.Zero(t, got["s1"].Restarts)
		require.Zero(t, got["s1/t1/d1"].Restarts)
		require.Len(t, got, 3)
	}

	// Once the session has stopped, its Stopped and its descendants' have
	// run: nothing of it is left.
	require.NoError(t, root.PoisonFuture(s1).Wait())
	require.Empty(t, reg.Snapshot(context.Background(), sys).Actors)
}

func TestBlockedActorIsStuckWithinTheTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	sys, reg, root := newSystem(t, timeout)
	spawnChain(t, root, "s1")
	blocker, err := root.SpawnNamed(download.Props(fixture.Node{State: map[string]any{"stage": "download"}}), "blocker")
	require.NoError(t, err)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	entered := make(chan struct{})
	root.Send(blocker, &fixture.Block{Entered: entered, Release: release})
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("the blocker never blocked")
	}

	start := time.Now()
	tr := reg.Snapshot(context.Background(), sys)
	took := time.Since(start)
	require.GreaterOrEqual(t, took, timeout-20*time.Millisecond)
	require.Less(t, took, timeout+time.Second, "one timeout for the whole walk")
	got := byID(tr)
	require.True(t, got["blocker"].Stuck)
	require.Nil(t, got["blocker"].State)
	require.Equal(t, "download", got["blocker"].Kind, "the kind comes from Started, not from Describe")
	for _, id := range []string{"s1", "s1/t1", "s1/t1/d1"} {
		require.False(t, got[id].Stuck, id)
	}

	// An overall deadline shorter than the per-actor timeout wins.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	tr = reg.Snapshot(ctx, sys)
	require.Less(t, time.Since(start), timeout)
	require.True(t, byID(tr)["blocker"].Stuck)
}

// panicky's Describe panics; probing it must not make it fail.
type panicky struct{}

func (panicky) Receive(actor.Context)    {}
func (panicky) Describe() map[string]any { panic("describe exploded") }

func TestKindsStateAbsentAndDescribePanic(t *testing.T) {
	sys, reg, root := newSystem(t, actortree.DefaultTimeout)
	for name, p := range map[string]*actor.Props{
		"plain":   actor.PropsFromProducer(func() actor.Actor { return fixture.Plain{} }),
		"func":    actor.PropsFromFunc(func(actor.Context) {}),
		"panicky": actor.PropsFromProducer(func() actor.Actor { return panicky{} }),
	} {
		_, err := root.SpawnNamed(p, name)
		require.NoError(t, err)
	}
	tr := eventually(t, reg, sys, func(m map[string]actortree.Actor) bool {
		return m["plain"].Kind != "" && m["func"].Kind != "" && m["panicky"].Kind != ""
	})
	got := byID(tr)
	require.Equal(t, "fixture", got["plain"].Kind)
	require.Nil(t, got["plain"].State)
	require.Equal(t, "actortree_test", got["func"].Kind, "a function actor is named by its function's package")
	require.Equal(t, "actortree_test", got["panicky"].Kind)
	require.Equal(t, map[string]any{"describe_error": "describe exploded"}, got["panicky"].State)
	require.False(t, got["panicky"].Stuck)

	// A second probe still reaches the same incarnation.
	again := byID(reg.Snapshot(context.Background(), sys))
	require.Zero(t, again["panicky"].Restarts)
	require.Equal(t, []string{"func", "panicky", "plain"}, reg.Snapshot(context.Background(), sys).Roots)
}

// A guardian given through the props must still supervise a top-level actor
// spawned through the middleware: OneForOne(1) restarts once, then stops.
// protoactor's root middleware chain alone would fall back to the default
// strategy, which keeps restarting.
func TestGuardianSurvivesTheMiddleware(t *testing.T) {
	sys, reg, root := newSystem(t, actortree.DefaultTimeout)
	guardian := actor.WithGuardian(actor.NewOneForOneStrategy(1, time.Minute, actor.DefaultDecider))
	pid, err := root.SpawnNamed(session.Props(fixture.Node{}).Configure(guardian), "guarded")
	require.NoError(t, err)
	eventually(t, reg, sys, func(m map[string]actortree.Actor) bool { return m["guarded"].Kind == "session" })

	root.Send(pid, &fixture.Fail{})
	eventually(t, reg, sys, func(m map[string]actortree.Actor) bool { return m["guarded"].Restarts == 1 })
	root.Send(pid, &fixture.Fail{})
	eventually(t, reg, sys, func(m map[string]actortree.Actor) bool { _, alive := m["guarded"]; return !alive })
}

// The probe is a plain request any caller can make: the answer carries the
// actor's state and its children as its own context knows them.
func TestDescribeRequestAnswersStateAndChildren(t *testing.T) {
	sys, reg, root := newSystem(t, actortree.DefaultTimeout)
	s1 := spawnChain(t, root, "s1")
	eventually(t, reg, sys, func(m map[string]actortree.Actor) bool { return m["s1/t1"].Kind != "" })

	res, err := root.RequestFuture(s1, &actortree.Describe{}, wait).Result()
	require.NoError(t, err)
	d, ok := res.(*actortree.Description)
	require.True(t, ok, "answer %T", res)
	require.Equal(t, map[string]any{"user_id": 7}, d.State)
	require.Equal(t, []string{"s1/t1"}, d.Children)
}

func TestObserveReportsLifecycleByKind(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer sys.Shutdown()
	events := make(chan string, 64)
	reg := actortree.New(actortree.Options{Observe: func(kind string, e actortree.Event) {
		events <- kind + map[actortree.Event]string{actortree.Spawned: "+", actortree.Restarted: "!", actortree.Stopped: "-"}[e]
	}})
	root := sys.Root.WithSpawnMiddleware(reg.SpawnMiddleware())
	s1 := spawnChain(t, root, "s1")
	got := map[string]int{}
	collect := func(n int) {
		for i := 0; i < n; i++ {
			select {
			case e := <-events:
				got[e]++
			case <-time.After(wait):
				t.Fatalf("only %d of %d events: %v", i, n, got)
			}
		}
	}
	collect(3)
	require.Equal(t, map[string]int{"session+": 1, "task+": 1, "download+": 1}, got)

	root.Send(actor.NewPID(sys.Address(), "s1/t1"), &fixture.Fail{})
	// One restart of the task: its old download stops, a new one spawns.
	collect(3)
	require.Equal(t, 1, got["task!"], "a restart is counted once")
	require.Equal(t, 1, got["task+"], "a restart is not a spawn")
	require.Equal(t, 2, got["download+"])
	require.Equal(t, 1, got["download-"])

	require.NoError(t, root.PoisonFuture(s1).Wait())
	collect(3)
	require.Equal(t, 1, got["session-"])
	require.Equal(t, 1, got["task-"])
	require.Equal(t, 2, got["download-"])
}
