package session

import (
	"crypto/rand"
	"fmt"
	"html"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"

	"github.com/mirrorleech/mirrorleech/actors/task"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Options configures every session of the node.
type Options struct {
	DownloadDir string
	Task        task.Options
	Logger      *slog.Logger
}

type entry struct {
	pid  *actor.PID
	spec messages.TaskSpec
}

// Session is the session grain.
type Session struct {
	o      Options
	log    *slog.Logger
	userID int64
	tasks  map[string]*entry
	byPID  map[string]string
}

var _ actor.Actor = (*Session)(nil)

// Kind returns the cluster kind of sessions.
func Kind(o Options) *cluster.Kind {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	props := actor.PropsFromProducer(func() actor.Actor {
		return &Session{o: o, log: o.Logger, tasks: map[string]*entry{}, byPID: map[string]string{}}
	}, actor.WithSupervisor(actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive {
		return actor.StopDirective
	})))
	return cluster.NewKind(messages.SessionKind, props)
}

func (s *Session) outbox(ctx actor.Context) *actor.PID {
	return messages.Local(ctx.ActorSystem(), messages.OutboxName)
}

// Receive implements actor.Actor.
func (s *Session) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *cluster.ClusterInit:
		id, err := strconv.ParseInt(m.Identity.Identity, 10, 64)
		if err != nil {
			s.log.Error("session with a bad identity", slog.String("identity", m.Identity.Identity))
			ctx.Stop(ctx.Self())
			return
		}
		s.userID = id
		s.log = s.o.Logger.With(slog.Int64("user_id", id))
	case *messages.StartTask:
		spec := m.Spec
		spec.ID = newTaskID()
		spec.UserID = s.userID
		if spec.Created.IsZero() {
			spec.Created = time.Now()
		}
		dir := filepath.Join(s.o.DownloadDir, spec.ID)
		pid, err := ctx.SpawnNamed(task.Props(s.o.Task, spec, dir), "task-"+spec.ID)
		if err != nil {
			s.log.Error("spawning task", slog.Any("err", err))
			ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: spec.ChatID, ReplyTo: spec.ReplyTo,
				Text: "Could not start the task, please try again."})
			return
		}
		s.tasks[spec.ID] = &entry{pid: pid, spec: spec}
		s.byPID[pid.Id] = spec.ID
	case *messages.CancelTask:
		s.cancel(ctx, m)
	case *messages.CancelAllTasks:
		n := 0
		for _, e := range s.tasks {
			ctx.Send(e.pid, &messages.CancelTask{TaskID: e.spec.ID, ByUserID: m.ByUserID})
			n++
		}
		text := "You have no running tasks."
		if n > 0 {
			text = fmt.Sprintf("Cancelling %d task(s).", n)
		}
		ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: m.ChatID, ReplyTo: m.ReplyTo, Text: text})
	case *messages.TaskEnded:
		if e := s.tasks[m.TaskID]; e != nil {
			ctx.Stop(e.pid)
		}
		s.forget(m.TaskID)
	case *actor.Terminated:
		id, ok := s.byPID[m.Who.Id]
		if !ok {
			return
		}
		e := s.tasks[id]
		s.forget(id)
		if e != nil {
			// The task stopped without reporting its end: it crashed.
			s.log.Error("task stopped unexpectedly", slog.String("task_id", id))
			ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: e.spec.ChatID, ReplyTo: e.spec.ReplyTo,
				Text: fmt.Sprintf("❌ Task %s failed: an internal error occurred.", id)})
		}
	}
}

func (s *Session) cancel(ctx actor.Context, m *messages.CancelTask) {
	e, ok := s.tasks[m.TaskID]
	answer := func(text string, alert bool) {
		if m.CallbackID != "" {
			ctx.Send(s.outbox(ctx), &messages.AnswerCallback{CallbackID: m.CallbackID, Text: text, Alert: alert})
			return
		}
		ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: m.ChatID, ReplyTo: m.ReplyTo, Text: text, HTML: true})
	}
	switch {
	case !ok:
		answer(fmt.Sprintf("No running task %s: it has finished or never existed.", html.EscapeString(m.TaskID)), true)
	case m.ByUserID != s.userID && !m.Admin:
		answer("That task is not yours.", true)
	default:
		ctx.Send(e.pid, m)
		if m.CallbackID != "" {
			answer("Cancelling…", false)
		}
	}
}

func (s *Session) forget(id string) {
	if e := s.tasks[id]; e != nil {
		delete(s.byPID, e.pid.Id)
		delete(s.tasks, id)
	}
}

// newTaskID returns a short id users can type: 8 characters of a-z0-9.
func newTaskID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
