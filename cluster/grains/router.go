// Package grains is the node's router to cluster grains (sessions and chat
// boards). Finding a grain's PID may block for seconds (the cluster asks the
// owning member to activate it), which no actor's Receive may do, so the
// router resolves identities in worker goroutines and keeps what it learnt.
//
// It receives messages.RouteToGrain and delivers the carried message to the
// grain, in routing order per identity; messages wait in a per-identity queue
// while the PID is being resolved. It watches every PID it hands out and
// forgets it when that grain stops, so the next message re-activates it.
//
// Failure: when an identity cannot be resolved (the cluster has no member for
// the kind, or the lookup timed out) the router retries with backoff up to
// MaxResolveAttempts, then drops that identity's queue with a warning; the
// senders' own timeouts or the user's retry recover from it.
package grains

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/mirrorleech/mirrorleech/messages"
)

// MaxResolveAttempts bounds the lookups of one identity before its queue is
// dropped.
const MaxResolveAttempts = 5

type key struct{ kind, identity string }

type entry struct {
	pid      *actor.PID
	queue    []any
	resolve  bool // a lookup is in flight
	attempts int
}

type resolved struct {
	key key
	pid *actor.PID
}

type retryResolve struct{ key key }

// Router is the grains router actor.
type Router struct {
	cluster *cluster.Cluster
	log     *slog.Logger
	grains  map[key]*entry
	byPID   map[string]key
	timers  *scheduler.TimerScheduler
}

var _ actor.Actor = (*Router)(nil)

// Props returns the router's props.
func Props(c *cluster.Cluster, log *slog.Logger) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &Router{cluster: c, log: log, grains: map[key]*entry{}, byPID: map[string]key{}}
	})
}

// Receive implements actor.Actor.
func (r *Router) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.timers = scheduler.NewTimerScheduler(ctx)
	case *messages.RouteToGrain:
		k := key{m.Kind, m.Identity}
		e := r.grains[k]
		if e == nil {
			e = &entry{}
			r.grains[k] = e
		}
		if e.pid != nil && len(e.queue) == 0 {
			ctx.Send(e.pid, m.Message)
			return
		}
		e.queue = append(e.queue, m.Message)
		r.lookup(ctx, k, e)
	case *resolved:
		e := r.grains[m.key]
		if e == nil {
			return
		}
		e.resolve = false
		if m.pid == nil {
			e.attempts++
			if e.attempts >= MaxResolveAttempts {
				r.log.Warn("grain lookup failed, dropping its messages",
					slog.String("kind", m.key.kind), slog.Int("dropped", len(e.queue)))
				delete(r.grains, m.key)
				return
			}
			delay := time.Duration(100<<e.attempts) * time.Millisecond
			r.timers.SendOnce(delay, ctx.Self(), &retryResolve{key: m.key})
			return
		}
		e.attempts = 0
		e.pid = m.pid
		r.byPID[m.pid.String()] = m.key
		ctx.Watch(m.pid)
		for _, msg := range e.queue {
			ctx.Send(m.pid, msg)
		}
		e.queue = nil
	case *retryResolve:
		if e := r.grains[m.key]; e != nil {
			r.lookup(ctx, m.key, e)
		}
	case *actor.Terminated:
		k, ok := r.byPID[m.Who.String()]
		if !ok {
			return
		}
		delete(r.byPID, m.Who.String())
		if e := r.grains[k]; e != nil && e.pid != nil && e.pid.Equal(m.Who) {
			if len(e.queue) == 0 && !e.resolve {
				delete(r.grains, k)
			} else {
				e.pid = nil
			}
		}
	}
}

func (r *Router) lookup(ctx actor.Context, k key, e *entry) {
	if e.resolve {
		return
	}
	e.resolve = true
	e.pid = nil
	self, root, c := ctx.Self(), ctx.ActorSystem().Root, r.cluster
	go func() {
		pid := c.Get(k.identity, k.kind)
		root.Send(self, &resolved{key: k, pid: pid})
	}()
}

// Send routes msg to the grain (kind, identity) through the node's router.
func Send(ctx actor.SenderContext, kind, identity string, msg any) {
	ctx.Send(messages.Local(ctx.ActorSystem(), messages.GrainsName),
		&messages.RouteToGrain{Kind: kind, Identity: identity, Message: msg})
}
