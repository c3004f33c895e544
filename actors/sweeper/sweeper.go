package sweeper

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/actors/internal/repeat"
	"github.com/mirrorleech/mirrorleech/cluster/grains"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Options configures the sweeper.
type Options struct {
	Store store.TaskStore
	// Alive tells whether a member id is a live member of the cluster.
	Alive func(memberID string) bool
	// Ready tells whether the node's view of the members can be trusted
	// yet (the provider applied one); until then nothing is swept, so a
	// node that just started never takes a live node's tasks.
	Ready    func() bool
	Interval time.Duration
	Logger   *slog.Logger
	// OnSwept, if set, is told how many users were sent their orphaned
	// tasks in a round (metrics, tests).
	OnSwept func(users int)
}

type tick struct{}

type swept struct {
	users []int64
	err   error
}

// Sweeper is the sweeper actor.
type Sweeper struct {
	o       Options
	busy    bool
	cancel  repeat.Cancel
	rounds  int
	resumed int
}

var _ actor.Actor = (*Sweeper)(nil)

// Props returns the sweeper's props.
func Props(o Options) *actor.Props {
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Ready == nil {
		o.Ready = func() bool { return true }
	}
	return actor.PropsFromProducer(func() actor.Actor { return &Sweeper{o: o} })
}

// Receive implements actor.Actor.
func (s *Sweeper) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		s.cancel = repeat.Send(ctx.ActorSystem().Root, s.o.Interval, s.o.Interval, ctx.Self(), &tick{})
	case *actor.Stopping:
		if s.cancel != nil {
			s.cancel()
		}
	case *tick:
		if s.busy || !s.o.Ready() {
			return
		}
		s.busy = true
		self, root, st, alive := ctx.Self(), ctx.ActorSystem().Root, s.o.Store, s.o.Alive
		timeout := max(s.o.Interval, 10*time.Second)
		go func() {
			c, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			tasks, err := st.Tasks(c, store.Filter{Unfinished: true})
			root.Send(self, &swept{users: Orphans(tasks, alive), err: err})
		}()
	case *swept:
		s.busy = false
		s.rounds++
		if m.err != nil {
			s.o.Logger.Warn("looking for orphaned tasks", slog.Any("err", m.err))
			return
		}
		for _, u := range m.users {
			grains.Send(ctx, messages.SessionKind, strconv.FormatInt(u, 10),
				&messages.ResumeTasks{Reason: messages.ResumeFailover})
		}
		if len(m.users) > 0 {
			s.resumed += len(m.users)
			s.o.Logger.Info("sent orphaned tasks to their sessions", slog.Int("users", len(m.users)))
		}
		if s.o.OnSwept != nil {
			s.o.OnSwept(len(m.users))
		}
	}
}

// Orphans returns the users (in first-seen order) with an unfinished task
// whose owner is not alive; a task without an owner was released and is
// an orphan too.
func Orphans(tasks []store.Task, alive func(string) bool) []int64 {
	seen := map[int64]bool{}
	var users []int64
	for _, t := range tasks {
		if t.Stage.Final() || (t.Owner != "" && alive != nil && alive(t.Owner)) {
			continue
		}
		if !seen[t.Spec.UserID] {
			seen[t.Spec.UserID] = true
			users = append(users, t.Spec.UserID)
		}
	}
	return users
}

// Describe reports the sweeper for the actor tree.
func (s *Sweeper) Describe() map[string]any {
	return map[string]any{"rounds": s.rounds, "users_resumed": s.resumed, "busy": s.busy}
}
