package supervision

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cenkalti/backoff/v4"

	"github.com/mirrorleech/mirrorleech/messages"
)

// Policy bounds the retries of one stage.
type Policy struct {
	// MaxAttempts is the number of attempts, the first included. Default: 5.
	MaxAttempts int
	// InitialDelay is the delay before the first restart. Default: 1s.
	InitialDelay time.Duration
	// MaxDelay caps one delay. Default: 1m.
	MaxDelay time.Duration
	// MaxElapsed caps the time from the first failure to the last restart.
	// Default: 15m.
	MaxElapsed time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.InitialDelay <= 0 {
		p.InitialDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = time.Minute
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = 15 * time.Minute
	}
	return p
}

// Decision is what the strategy did with one failure; it is handed to the
// Observer (metrics and tests watch it).
type Decision struct {
	Stage   messages.Stage
	Class   Class
	Restart bool
	Attempt int // the attempt that failed, 1-based
	Delay   time.Duration
}

// StageStrategy is the supervisor strategy of a task actor over its stage
// children. It is not safe for concurrent use: protoactor calls HandleFailure
// on the supervising actor's goroutine, which is its only user.
type StageStrategy struct {
	policy  Policy
	log     *slog.Logger
	observe func(Decision)
	// stage names the stage a child runs, so failures can be reported in the
	// task's terms; it is set by Track when the task spawns a stage.
	children map[string]*childState
	// after schedules a delayed restart; tests replace it.
	after func(time.Duration, func())
}

type childState struct {
	stage    messages.Stage
	attempts int
	first    time.Time
	backoff  *backoff.ExponentialBackOff
}

// NewStageStrategy returns a strategy for one task. observe may be nil.
func NewStageStrategy(p Policy, log *slog.Logger, observe func(Decision)) *StageStrategy {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if observe == nil {
		observe = func(Decision) {}
	}
	return &StageStrategy{
		policy:   p.withDefaults(),
		log:      log,
		observe:  observe,
		children: map[string]*childState{},
		after:    func(d time.Duration, f func()) { time.AfterFunc(d, f) },
	}
}

var _ actor.SupervisorStrategy = (*StageStrategy)(nil)

// Track registers a newly spawned stage child.
func (s *StageStrategy) Track(child *actor.PID, stage messages.Stage) {
	s.children[child.Id] = &childState{stage: stage}
}

// Forget drops a child's state once it has stopped.
func (s *StageStrategy) Forget(child *actor.PID) {
	delete(s.children, child.Id)
}

// Attempt returns the attempt the child is on (1 before any failure).
func (s *StageStrategy) Attempt(child *actor.PID) int {
	if st, ok := s.children[child.Id]; ok {
		return st.attempts + 1
	}
	return 1
}

// HandleFailure implements actor.SupervisorStrategy.
func (s *StageStrategy) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason interface{}, _ interface{}) {
	f, ok := reason.(*Failure)
	if !ok {
		// A panic is a bug; it is treated as transient so the stage gets a
		// bounded number of fresh starts, and it is logged loudly.
		err, _ := reason.(error)
		if err == nil {
			err = fmt.Errorf("panic: %v", reason)
		}
		s.log.Error("stage panicked", slog.String("actor", child.Id), slog.Any("err", err))
		f = &Failure{Class: Transient, Reason: "an internal error occurred", Err: err}
	}
	st := s.children[child.Id]
	if st == nil {
		st = &childState{}
		s.children[child.Id] = st
	}
	now := time.Now()
	if st.attempts == 0 {
		st.first = now
		st.backoff = backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(s.policy.InitialDelay),
			backoff.WithMaxInterval(s.policy.MaxDelay),
			backoff.WithMaxElapsedTime(0), // elapsed time is bounded below, from the first failure
		)
	}
	st.attempts++
	self := selfOf(sup)

	giveUp := func() {
		s.observe(Decision{Stage: st.stage, Class: f.Class, Attempt: st.attempts})
		sup.StopChildren(child)
		if self != nil {
			sys.Root.Send(self, &messages.StageGaveUp{Stage: st.stage, Reason: f.Reason, Err: f.Err, Attempts: st.attempts})
		}
	}
	switch f.Class {
	case Permanent, Cancelled:
		giveUp()
		return
	}
	delay := st.backoff.NextBackOff()
	if f.Class == RateLimited && f.RetryAfter > delay {
		delay = f.RetryAfter
	}
	if st.attempts >= s.policy.MaxAttempts || now.Add(delay).Sub(st.first) > s.policy.MaxElapsed {
		giveUp()
		return
	}
	s.observe(Decision{Stage: st.stage, Class: f.Class, Restart: true, Attempt: st.attempts, Delay: delay})
	s.log.Info("restarting stage", slog.String("stage", st.stage.String()), slog.Int("attempt", st.attempts+1),
		slog.Duration("delay", delay), slog.Any("err", f.Err))
	if self != nil {
		sys.Root.Send(self, &messages.StageRetrying{Stage: st.stage, Attempt: st.attempts + 1, Delay: delay, Reason: f.Reason})
	}
	// The child's mailbox stays suspended until the restart, so nothing it
	// would receive is lost meanwhile.
	s.after(delay, func() { sup.RestartChildren(child) })
}

func selfOf(sup actor.Supervisor) *actor.PID {
	if c, ok := sup.(interface{ Self() *actor.PID }); ok {
		return c.Self()
	}
	return nil
}

// Escalate hands a stage's error to its supervisor without panicking: the
// stage's mailbox is suspended and its parent's strategy decides.
func Escalate(ctx actor.Context, err error) {
	f := NewFailure(err)
	if e, ok := ctx.(interface {
		EscalateFailure(reason interface{}, message interface{})
	}); ok {
		e.EscalateFailure(f, ctx.Message())
		return
	}
	panic(f)
}
