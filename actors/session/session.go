package session

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
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
	// Owner is this process's cluster member id (the actor system id): the
	// owner written into the records of the tasks it runs.
	Owner string
	// Alive tells whether a member id is a live member of the cluster; a
	// task held by a live member is never taken over. Nil: only Owner.
	Alive func(memberID string) bool
	// Releases, if set, counts the claim releases in flight when sessions
	// stop, so a node leaving the cluster can wait for them before it exits.
	Releases *sync.WaitGroup
}

type entry struct {
	pid  *actor.PID
	spec messages.TaskSpec
}

type taskSaved struct {
	spec  messages.TaskSpec
	err   error
	dup   string // id of an existing task started by the same command message
	limit int    // > 0: refused, the user already has this many unfinished tasks
}

type tasksLoaded struct {
	tasks  []store.Task // the unfinished tasks this session now holds
	reason messages.ResumeReason
	// handedOver marks the tasks a session released when it stopped (a
	// node leaving gracefully, or the cluster moving the user), as opposed
	// to tasks taken from a member that was lost.
	handedOver map[string]bool
	err        error
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
	// stopping is set once the session itself stops (node shutdown, or
	// the cluster moving the user to another member): its tasks then stop
	// with it, and their Terminated is not a crash.
	stopping bool
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
	case *actor.Stopping:
		s.stopping = true
	case *actor.Stopped:
		if s.o.OnActive != nil && s.userID != 0 {
			s.o.OnActive(-1)
		}
		s.release()
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
		if m.limit > 0 {
			ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: m.spec.ChatID, ReplyTo: m.spec.ReplyTo,
				Text: limitText(s.o.UserTaskLimit)})
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
		running := make(map[string]bool, len(s.tasks))
		for id := range s.tasks {
			running[id] = true
		}
		self, root, st, user, o, reason := ctx.Self(), ctx.ActorSystem().Root, s.o.Store, s.userID, s.o, m.Reason
		go func() {
			c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tasks, err := st.Tasks(c, store.Filter{UserID: user, Unfinished: true})
			if err != nil {
				root.Send(self, &tasksLoaded{err: err})
				return
			}
			// Claim each task before running it: a task another live node
			// holds stays there, so no task ever runs twice.
			var mine []store.Task
			handedOver := map[string]bool{}
			for _, t := range tasks {
				if running[t.Spec.ID] {
					continue
				}
				rec, err := store.ClaimTask(c, st, t.Spec.ID, o.Owner, o.Node, o.Alive)
				switch {
				case errors.Is(err, store.ErrOwned), errors.Is(err, store.ErrNotFound):
					continue
				case err != nil:
					root.Send(self, &tasksLoaded{err: err})
					return
				}
				if rec.Stage.Final() {
					continue
				}
				// The node name of the run it left, for the user's message.
				rec.Node = t.Node
				mine = append(mine, rec)
				if t.Owner == "" {
					handedOver[t.Spec.ID] = true
				}
			}
			root.Send(self, &tasksLoaded{tasks: mine, reason: reason, handedOver: handedOver})
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
		s.cancelAll(ctx, m)
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
		if s.stopping {
			// protoactor delivers the children's Terminated while the
			// parent stops: the task stopped because the session does.
			// It stays listed, so that release hands it over.
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
		ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: spec.ChatID, ReplyTo: spec.ReplyTo, Text: limitText(lim)})
		return
	}
	spec.ID = newTaskID()
	spec.UserID = s.userID
	if spec.Created.IsZero() {
		spec.Created = time.Now()
	}
	s.saving++
	self, root, st, lim := ctx.Self(), ctx.ActorSystem().Root, s.o.Store, s.o.UserTaskLimit
	rec := store.Task{Spec: spec, Stage: messages.StageQueued, Node: s.o.Node, Owner: s.o.Owner}
	go func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		existing, err := st.Tasks(c, store.Filter{UserID: spec.UserID})
		if err != nil {
			root.Send(self, &taskSaved{spec: spec, err: err})
			return
		}
		if id := duplicateOf(existing, spec.ChatID, spec.ReplyTo); spec.ReplyTo != 0 && id != "" {
			root.Send(self, &taskSaved{spec: spec, dup: id})
			return
		}
		// The store sees the user's tasks on every node, so the limit holds
		// cluster-wide even while a session is being moved.
		if open := unfinished(existing); lim > 0 && !spec.Privileged && open >= lim {
			root.Send(self, &taskSaved{spec: spec, limit: open})
			return
		}
		root.Send(self, &taskSaved{spec: spec, err: st.PutTask(c, rec)})
	}()
}

func limitText(lim int) string {
	return fmt.Sprintf("You already have %d task(s) running, the most this bot allows per user. "+
		"Wait for one to finish or cancel one.", lim)
}

func unfinished(tasks []store.Task) int {
	n := 0
	for _, t := range tasks {
		if !t.Stage.Final() {
			n++
		}
	}
	return n
}

// release gives up this session's claims on the tasks it ran, when it
// stops (node shutdown, or the cluster moved the user elsewhere), so the
// node that hosts the user next takes them over at once instead of after
// this member has gone. Its tasks have stopped by now: children stop
// before their parent's Stopped.
func (s *Session) release() {
	if len(s.tasks) == 0 || s.o.Owner == "" {
		return
	}
	ids := make([]string, 0, len(s.tasks))
	for id := range s.tasks {
		ids = append(ids, id)
	}
	st, owner, log, wg := s.o.Store, s.o.Owner, s.log, s.o.Releases
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		if wg != nil {
			defer wg.Done()
		}
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, id := range ids {
			if err := store.ReleaseTask(c, st, id, owner); err != nil {
				log.Warn("releasing a task", slog.String("task_id", id), slog.Any("err", err))
			}
		}
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
	from := map[int64]string{}
	lost := map[int64]bool{} // a task of the chat was on a member that was lost
	for _, rec := range m.tasks {
		if _, running := s.tasks[rec.Spec.ID]; running {
			continue
		}
		if rec.Node != "" && rec.Node != s.o.Node {
			from[rec.Spec.ChatID] = rec.Node
		}
		if !m.handedOver[rec.Spec.ID] {
			lost[rec.Spec.ChatID] = true
		}
		rec.Node = s.o.Node
		s.spawn(ctx, task.Run{Record: rec, Dir: s.dir(rec.Spec.ID), Resumed: true})
		name := rec.Spec.Name
		if rec.Download != nil {
			name = rec.Download.Name
		}
		if name == "" {
			name = task.SourceName(rec.Spec.Source)
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
		switch {
		case m.reason != messages.ResumeFailover:
		case lost[c]:
			node := "Its node"
			if n := from[c]; n != "" {
				node = "Node " + html.EscapeString(n)
			}
			text = fmt.Sprintf("♻️ %s left the cluster; your %d unfinished task(s) continue on node %s "+
				"(from the start where their data was on that node):\n%s",
				node, len(lines), html.EscapeString(s.o.Node), strings.Join(lines, "\n"))
		default:
			// Handed over: the node stopped gracefully, or the cluster
			// moved the user to a node that joined.
			node := "another node"
			if n := from[c]; n != "" {
				node = "node " + html.EscapeString(n)
			}
			text = fmt.Sprintf("♻️ Your %d unfinished task(s) moved from %s to node %s "+
				"(from the start where their data was on the other node):\n%s",
				len(lines), node, html.EscapeString(s.o.Node), strings.Join(lines, "\n"))
		}
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
		switch {
		case m.CallbackID != "":
			answer("Cancelling…", false)
		case m.ChatID != e.spec.ChatID:
			// The task's own chat gets its final message; an admin who
			// cancelled it from elsewhere is told here.
			answer(fmt.Sprintf("Cancelling task <code>%s</code> of user %d.", html.EscapeString(m.TaskID), s.userID), false)
		}
	}
}

// cancelAll cancels every task of the user, for the user or an admin.
func (s *Session) cancelAll(ctx actor.Context, m *messages.CancelAllTasks) {
	if m.ByUserID != s.userID && !m.Admin {
		// The gateway never sends this; a session still refuses it.
		s.log.Warn("refusing to cancel the tasks of another user", slog.Int64("by_user_id", m.ByUserID))
		return
	}
	n := 0
	for _, e := range s.tasks {
		ctx.Send(e.pid, &messages.CancelTask{TaskID: e.spec.ID, ByUserID: m.ByUserID, Admin: m.Admin})
		n++
	}
	if m.ReportNode != "" {
		ctx.Send(actor.NewPID(m.ReportNode, messages.GatewayName),
			&messages.TasksCancelled{RequestID: m.RequestID, UserID: s.userID, Count: n})
		return
	}
	text := "You have no running tasks."
	if n > 0 {
		text = fmt.Sprintf("Cancelling %d task(s).", n)
	}
	ctx.Send(s.outbox(ctx), &messages.SendText{ChatID: m.ChatID, ReplyTo: m.ReplyTo, Text: text})
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
