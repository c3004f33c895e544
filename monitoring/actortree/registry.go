package actortree

import (
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// DefaultTimeout is how long Snapshot waits for one actor's Description
// before it marks the actor stuck.
const DefaultTimeout = 500 * time.Millisecond

// Describe asks an actor for its Description. The registry's receiver
// middleware answers it; the actor's Receive never sees it.
type Describe struct{}

// Description is an actor's answer to Describe.
type Description struct {
	// State is what the actor's Describe method returned (nil when the
	// actor has none).
	State map[string]any
	// Children are the ids of the actor's children as its context knows
	// them.
	Children []string
}

// Describer is implemented by actors that show state in the tree, for
// example a task stage returning {task_id, stage, progress}. Describe runs
// on the actor's goroutine, so it may read the actor's fields freely; the
// returned map is copied (one level) before it leaves that goroutine, so
// nested values must not be mutated afterwards.
type Describer interface {
	Describe() map[string]any
}

// Options configures a Registry.
type Options struct {
	// Node names this node in snapshots.
	Node string
	// Timeout is the per-actor Describe timeout. Default: DefaultTimeout.
	Timeout time.Duration
	// Logger receives Describe panics. Nil discards.
	Logger *slog.Logger
	// Observe, if set, is told each lifecycle event of a registered actor
	// with its kind (metrics: spawned, restarted, stopped and live by kind).
	// It runs on the actor's goroutine and must be cheap.
	Observe func(kind string, event Event)
}

// Event is an actor lifecycle event reported to Options.Observe.
type Event uint8

const (
	// Spawned is reported once per actor, on its first start.
	Spawned Event = iota + 1
	// Restarted is reported once per supervised restart.
	Restarted
	// Stopped is reported once when the actor stops for good.
	Stopped
)

// Registry records every actor spawned through its SpawnMiddleware. It is
// safe for concurrent use.
type Registry struct {
	node    string
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time
	observe func(string, Event)

	mu     sync.Mutex
	actors map[string]*entry
}

// entry is one actor incarnation chain (restarts keep the PID and the
// entry). Every field is guarded by Registry.mu.
type entry struct {
	pid      *actor.PID
	parent   string
	kind     string
	started  time.Time
	restarts int
	// seen is set on the first Started, so restarts are not counted as spawns.
	seen bool
	// gone is set when *actor.Stopped was seen, possibly before the spawn
	// returned and the entry was added.
	gone bool
}

// New returns an empty registry.
func New(o Options) *Registry {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observe == nil {
		o.Observe = func(string, Event) {}
	}
	return &Registry{node: o.Node, timeout: o.Timeout, log: o.Logger, now: time.Now, observe: o.Observe,
		actors: make(map[string]*entry)}
}

// SpawnMiddleware returns the middleware to install with
// sys.Root.WithSpawnMiddleware before anything is spawned. It registers the
// spawned actor and clones its props so that the actor's own children pass
// through it as well.
func (r *Registry) SpawnMiddleware() actor.SpawnMiddleware {
	var mw actor.SpawnMiddleware
	mw = func(next actor.SpawnFunc) actor.SpawnFunc {
		return func(sys *actor.ActorSystem, id string, props *actor.Props, parent actor.SpawnerContext) (*actor.PID, error) {
			e := &entry{started: r.now()}
			root, top := parent.(*actor.RootContext)
			if !top && parent.Self() != nil {
				e.parent = parent.Self().Id
			}
			// The entry is created before the spawn so that the receiver
			// middleware, which may run before the spawn returns, has it.
			cloned := props.Clone(actor.WithReceiverMiddleware(r.receiver(e)), actor.WithSpawnMiddleware(mw))
			var (
				pid *actor.PID
				err error
			)
			if top && root.Self() != nil {
				// A guardian is in play. The root chain's last step would
				// spawn with the root context captured at installation and
				// drop it, so spawn through a copy without spawn middleware.
				pid, err = root.Copy().WithSpawnMiddleware().SpawnNamed(cloned, id)
			} else {
				pid, err = next(sys, id, cloned, parent)
			}
			if err != nil {
				return pid, err
			}
			r.add(pid, e)
			return pid, nil
		}
	}
	return mw
}

func (r *Registry) add(pid *actor.PID, e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.pid = pid
	if e.gone {
		return
	}
	// An older entry with this id belongs to an actor whose Stopped has not
	// run yet although its name is already free; its removal compares
	// entries and leaves this one alone.
	r.actors[pid.Id] = e
}

func (r *Registry) receiver(e *entry) actor.ReceiverMiddleware {
	return func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(ctx actor.ReceiverContext, env *actor.MessageEnvelope) {
			switch env.Message.(type) {
			case *Describe:
				r.answer(ctx, env)
				return
			case *actor.Started:
				kind := kindOf(ctx.Actor())
				r.mu.Lock()
				e.kind = kind
				first := !e.seen
				e.seen = true
				r.mu.Unlock()
				if first {
					r.observe(kind, Spawned)
				}
			case *actor.Restarting:
				r.mu.Lock()
				e.restarts++
				kind := e.kind
				r.mu.Unlock()
				r.observe(kind, Restarted)
			case *actor.Stopped:
				r.mu.Lock()
				e.gone = true
				if id := ctx.Self().Id; r.actors[id] == e {
					delete(r.actors, id)
				}
				kind, seen := e.kind, e.seen
				r.mu.Unlock()
				if seen {
					r.observe(kind, Stopped)
				}
			}
			next(ctx, env)
		}
	}
}

// answer runs on the actor's goroutine. A request without a sender (a plain
// Send) has nobody to answer and is ignored.
func (r *Registry) answer(ctx actor.ReceiverContext, env *actor.MessageEnvelope) {
	if env.Sender == nil {
		return
	}
	d := &Description{State: r.describe(ctx)}
	if c, ok := ctx.(interface{ Children() []*actor.PID }); ok {
		for _, pid := range c.Children() {
			d.Children = append(d.Children, pid.Id)
		}
	}
	// ctx.Respond would look for the sender in the actor's current message,
	// which a receiver middleware has not set: send to the envelope's.
	if s, ok := ctx.(actor.SenderContext); ok {
		s.Send(env.Sender, d)
		return
	}
	ctx.ActorSystem().Root.Send(env.Sender, d)
}

func (r *Registry) describe(ctx actor.ReceiverContext) (state map[string]any) {
	d, ok := ctx.Actor().(Describer)
	if !ok {
		return nil
	}
	// A panicking Describe must not turn a probe into a supervised failure.
	defer func() {
		if p := recover(); p != nil {
			r.log.Warn("actor Describe panicked", slog.String("actor", ctx.Self().Id), slog.Any("err", p))
			state = map[string]any{"describe_error": fmt.Sprint(p)}
		}
	}()
	return maps.Clone(d.Describe())
}

// kindOf names an actor by the package of its Go type: *task.Task → "task".
// Function actors (actor.PropsFromFunc) are named by the package of the
// function, which says more than "actor".
func kindOf(a actor.Actor) string {
	if a == nil {
		return ""
	}
	t := reflect.TypeOf(a)
	if t.Kind() == reflect.Func {
		if fn := runtime.FuncForPC(reflect.ValueOf(a).Pointer()); fn != nil {
			return funcPackage(fn.Name())
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := t.String() // "task.Task", qualified by the package name
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}

// funcPackage extracts the package from a runtime function name such as
// "github.com/x/mirrorleech/actors/task.Props.func1".
func funcPackage(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}
