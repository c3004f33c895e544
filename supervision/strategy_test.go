package supervision

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/messages"
)

// flaky is a stage that escalates the next error of its script on every
// start and reports success when the script runs out.
type flaky struct {
	script *script
}

// script hands out errors in order; when they run out the stage succeeds,
// unless repeat is set, which repeats the last error forever.
type script struct {
	mu     sync.Mutex
	errs   []error
	repeat bool
	starts int
}

func (s *script) next() (error, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	if len(s.errs) == 0 {
		return nil, false
	}
	e := s.errs[0]
	if len(s.errs) > 1 || !s.repeat {
		s.errs = s.errs[1:]
	}
	return e, true
}

func (s *script) startCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts
}

type succeeded struct{}

func (f *flaky) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		if err, ok := f.script.next(); ok {
			Escalate(ctx, err)
			return
		}
		ctx.Send(ctx.Parent(), &succeeded{})
	}
}

// parent supervises one flaky child with a StageStrategy and records what
// it is told.
type parent struct {
	strategy *StageStrategy
	script   *script
	events   chan any
}

func (p *parent) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, msg interface{}) {
	p.strategy.HandleFailure(sys, sup, child, rs, reason, msg)
}

func (p *parent) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		pid := ctx.Spawn(actor.PropsFromProducer(func() actor.Actor { return &flaky{script: p.script} }))
		p.strategy.Track(pid, messages.StageDownloading)
	case *succeeded, *messages.StageRetrying, *messages.StageGaveUp:
		p.events <- m
	}
}

type run struct {
	events    chan any
	script    *script
	decisions chan Decision
	delays    chan time.Duration
}

func start(t *testing.T, policy Policy, repeat bool, errs ...error) *run {
	t.Helper()
	sys := actor.NewActorSystem()
	t.Cleanup(sys.Shutdown)
	r := &run{events: make(chan any, 64), script: &script{errs: errs, repeat: repeat}, decisions: make(chan Decision, 64),
		delays: make(chan time.Duration, 64)}
	s := NewStageStrategy(policy, nil, func(d Decision) { r.decisions <- d })
	s.after = func(d time.Duration, f func()) {
		r.delays <- d
		f() // no real waiting in tests; the delays are asserted instead
	}
	sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &parent{strategy: s, script: r.script, events: r.events}
	}))
	return r
}

func (r *run) next(t *testing.T) any {
	t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event from the supervised stage")
		return nil
	}
}

func TestTransientFailuresRestartThenSucceed(t *testing.T) {
	transient := errors.New("connection reset")
	r := start(t, Policy{MaxAttempts: 5, InitialDelay: 100 * time.Millisecond, MaxDelay: time.Second},
		false, transient, transient)
	retry1 := r.next(t).(*messages.StageRetrying)
	require.Equal(t, 2, retry1.Attempt)
	retry2 := r.next(t).(*messages.StageRetrying)
	require.Equal(t, 3, retry2.Attempt)
	_, ok := r.next(t).(*succeeded)
	require.True(t, ok)
	require.Equal(t, 3, r.script.startCount(), "two restarts, one success")
	d1, d2 := <-r.delays, <-r.delays
	require.InDelta(t, 100*time.Millisecond, d1, float64(60*time.Millisecond), "first delay near InitialDelay")
	require.Greater(t, d2, 60*time.Millisecond)
}

func TestPermanentFailureStopsAtOnce(t *testing.T) {
	r := start(t, Policy{MaxAttempts: 5}, true, NewUserError("the file does not exist"))
	gave := r.next(t).(*messages.StageGaveUp)
	require.Equal(t, 1, gave.Attempts)
	require.Equal(t, "the file does not exist", gave.Reason)
	require.Equal(t, messages.StageDownloading, gave.Stage)
	d := <-r.decisions
	require.False(t, d.Restart)
	require.Equal(t, Permanent, d.Class)
	require.Equal(t, 1, r.script.startCount())
}

func TestTransientFailureGivesUpAfterMaxAttempts(t *testing.T) {
	r := start(t, Policy{MaxAttempts: 3, InitialDelay: time.Millisecond}, true, errors.New("flaky"))
	var retries int
	for {
		e := r.next(t)
		if gave, ok := e.(*messages.StageGaveUp); ok {
			require.Equal(t, 3, gave.Attempts)
			break
		}
		retries++
	}
	require.Equal(t, 2, retries)
	require.Equal(t, 3, r.script.startCount())
}

func TestRateLimitIsAFloor(t *testing.T) {
	r := start(t, Policy{MaxAttempts: 3, InitialDelay: time.Millisecond}, false,
		&Failure{Class: RateLimited, RetryAfter: 7 * time.Second, Reason: "slow down", Err: errors.New("429")})
	r.next(t)
	require.GreaterOrEqual(t, <-r.delays, 7*time.Second)
}

func TestElapsedTimeBound(t *testing.T) {
	r := start(t, Policy{MaxAttempts: 100, InitialDelay: time.Minute, MaxDelay: time.Hour, MaxElapsed: 30 * time.Second},
		true, errors.New("flaky"))
	gave := r.next(t).(*messages.StageGaveUp)
	require.Equal(t, 1, gave.Attempts, "a first delay beyond MaxElapsed gives up at once")
}
