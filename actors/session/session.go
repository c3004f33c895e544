package session

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"

	"github.com/mirrorleech/mirrorleech/actors/task"
	"github.com/mirrorleech/mirrorleech/cluster/grains"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Options configures every session of the node.
type Options struct {
	DownloadDir string
	Node        string
	Store       store.TaskStore
	// UserTaskLimit caps a user's tasks at once (0 = no limit); owner and
	// sudo users are exempt.
	UserTaskLimit int
	Task          task.Options
	Logger        *slog.Logger
	// OnActive, if set, is told +1 when a session activates on this node and
	// -1 when it stops (metrics).
	OnActive func(delta int)
}

type entry struct {
	pid  *actor.PID
	spec messages.TaskSpec
}

type taskSaved struct {
	spec messages.TaskSpec
	err  error
	dup  string // id of an existing task started by the same command message
}

type tasksLoaded struct {
	tasks []store.Task
	err   error
}

// Session is the session grain.
type Session struct {
	o       Options
	log     *slog.Logger
	userID  int64
	tasks   map[string]*entry
	byPID   map[string]string
	saving  int // new tasks whose record is being written
	loading bool
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
		if s.o.OnActive != nil {
			s.o.OnActive(1)
		}
	case *actor.Stopped:
		if s.o.OnActive != nil && s.userID != 0 {
			s.o.OnActive(-1)
		}
	case *messages.StartTask:
		s.startTask(ctx, m.Spec)
	case *taskSaved:
		s.saving--
		if m.dup != "" {
			// Telegram delivers an update again when the node died before
			// confirming it: the command already has its task.
			s.log.Info("ignoring a repeated command", slog.String("task_id", m.dup))
			return
		}
		if m.err != nil {
			s.log.Error("saving a new task", slog.Any("err", m.err))
			ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: m.spec.ChatID, ReplyTo: m.spec.ReplyTo,
				Text: "The task could not be saved, so it was not started. Please try again later."})
			return
		}
		s.spawn(ctx, task.Run{Record: store.Task{Spec: m.spec, Stage: messages.StageQueued, Node: s.o.Node},
			Dir: s.dir(m.spec.ID)})
	case *messages.ResumeTasks:
		if s.loading {
			return
		}
		s.loading = true
		self, root, st, user := ctx.Self(), ctx.ActorSystem().Root, s.o.Store, s.userID
		go func() {
			c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tasks, err := st.Tasks(c, store.Filter{UserID: user, Unfinished: true})
			root.Send(self, &tasksLoaded{tasks: tasks, err: err})
		}()
	case *tasksLoaded:
		s.loading = false
		s.resume(ctx, m)
	case *messages.CancelTask:
		s.cancel(ctx, m)
	case *messages.SelectionPressed:
		e, ok := s.tasks[m.TaskID]
		switch {
		case !ok:
			ctx.Send(s.outbox(ctx), &messages.AnswerCallback{CallbackID: m.CallbackID,
				Text: "This task has finished or no longer exists.", Alert: true})
		case m.ByUserID != s.userID:
			// Only the task's owner picks its files: an admin may cancel a
			// task, but choosing what someone downloads is theirs.
			ctx.Send(s.outbox(ctx), &messages.AnswerCallback{CallbackID: m.CallbackID,
				Text: "That task is not yours.", Alert: true})
		default:
			ctx.Send(e.pid, m)
		}
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

func (s *Session) dir(id string) string { return filepath.Join(s.o.DownloadDir, id) }

// startTask checks the user's limit, writes the record, and spawns the task
// once the record is durable.
func (s *Session) startTask(ctx actor.Context, spec messages.TaskSpec) {
	if lim := s.o.UserTaskLimit; lim > 0 && !spec.Privileged && len(s.tasks)+s.saving >= lim {
		ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: spec.ChatID, ReplyTo: spec.ReplyTo,
			Text: fmt.Sprintf("You already have %d task(s) running, the most this bot allows per user. "+
				"Wait for one to finish or cancel one.", lim)})
		return
	}
	spec.ID = newTaskID()
	spec.UserID = s.userID
	if spec.Created.IsZero() {
		spec.Created = time.Now()
	}
	s.saving++
	self, root, st := ctx.Self(), ctx.ActorSystem().Root, s.o.Store
	rec := store.Task{Spec: spec, Stage: messages.StageQueued, Node: s.o.Node}
	go func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if spec.ReplyTo != 0 {
			existing, err := st.Tasks(c, store.Filter{UserID: spec.UserID})
			if err != nil {
				root.Send(self, &taskSaved{spec: spec, err: err})
				return
			}
			if id := duplicateOf(existing, spec.ChatID, spec.ReplyTo); id != "" {
				root.Send(self, &taskSaved{spec: spec, dup: id})
				return
			}
		}
		root.Send(self, &taskSaved{spec: spec, err: st.PutTask(c, rec)})
	}()
}

// duplicateOf returns the id of the task started by the command message
// (chat, msg), if there is one.
func duplicateOf(tasks []store.Task, chat int64, msg int) string {
	for _, t := range tasks {
		if t.Spec.ChatID == chat && t.Spec.ReplyTo == msg {
			return t.Spec.ID
		}
	}
	return ""
}

func (s *Session) spawn(ctx actor.Context, r task.Run) {
	id := r.Record.Spec.ID
	pid, err := ctx.SpawnNamed(task.Props(s.o.Task, r), "task-"+id)
	if err != nil {
		s.log.Error("spawning task", slog.String("task_id", id), slog.Any("err", err))
		return
	}
	s.tasks[id] = &entry{pid: pid, spec: r.Record.Spec}
	s.byPID[pid.Id] = id
}

// resume runs the unfinished tasks of the store that are not running yet and
// tells the user once, per chat, which tasks came back.
func (s *Session) resume(ctx actor.Context, m *tasksLoaded) {
	if m.err != nil {
		s.log.Error("loading unfinished tasks", slog.Any("err", m.err))
		return
	}
	byChat := map[int64][]string{}
	replyTo := map[int64]int{}
	for _, rec := range m.tasks {
		if _, running := s.tasks[rec.Spec.ID]; running {
			continue
		}
		s.spawn(ctx, task.Run{Record: rec, Dir: s.dir(rec.Spec.ID), Resumed: true})
		name := rec.Spec.Name
		if rec.Download != nil {
			name = rec.Download.Name
		}
		if name == "" {
			name = rec.Spec.ID
		}
		byChat[rec.Spec.ChatID] = append(byChat[rec.Spec.ChatID],
			fmt.Sprintf("• <code>%s</code> %s", rec.Spec.ID, html.EscapeString(name)))
		replyTo[rec.Spec.ChatID] = rec.Spec.ReplyTo
	}
	chats := make([]int64, 0, len(byChat))
	for c := range byChat {
		chats = append(chats, c)
	}
	sort.Slice(chats, func(i, j int) bool { return chats[i] < chats[j] })
	for _, c := range chats {
		lines := byChat[c]
		text := fmt.Sprintf("♻️ The bot restarted; your %d unfinished task(s) resumed where they stopped:\n%s",
			len(lines), strings.Join(lines, "\n"))
		ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: c, Text: text, HTML: true, ReplyTo: replyTo[c]})
	}
	if len(chats) > 0 {
		s.log.Info("resumed tasks", slog.Int("tasks", len(m.tasks)))
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

// ResumeAll asks the session of every user with unfinished tasks in the
// store to resume them; a node calls it once it is up. It returns the number
// of users asked.
func ResumeAll(ctx context.Context, st store.TaskStore, sender actor.SenderContext) (int, error) {
	tasks, err := st.Tasks(ctx, store.Filter{Unfinished: true})
	if err != nil {
		return 0, fmt.Errorf("listing unfinished tasks: %w", err)
	}
	users := map[int64]bool{}
	for _, t := range tasks {
		if !users[t.Spec.UserID] {
			users[t.Spec.UserID] = true
			grains.Send(sender, messages.SessionKind, strconv.FormatInt(t.Spec.UserID, 10), &messages.ResumeTasks{})
		}
	}
	return len(users), nil
}

// Describe reports the session for the actor tree.
func (s *Session) Describe() map[string]any {
	return map[string]any{"user_id": s.userID, "tasks": len(s.tasks), "saving": s.saving}
}
