package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/mirrorleech/mirrorleech/cluster/grains"
	"github.com/mirrorleech/mirrorleech/internal/command"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Cancelling by id or by reply needs the task's record: it names the user
// whose session runs the task, wherever in the cluster that session lives.
// The gateway reads it in a worker goroutine and routes the CancelTask to
// that session, which checks the right to cancel once more.

const (
	// StoreTimeout bounds one store read or write of the gateway's workers.
	StoreTimeout = 10 * time.Second
	// ConfirmTTL is how long an admin's /cancelall confirmation buttons
	// stay valid.
	ConfirmTTL = time.Minute
	// CancelAllWait bounds how long an admin's /cancelall waits for every
	// session to say how many tasks it cancelled before it reports what it
	// has (a grain on a lost node is found only after the cluster's lookup
	// timeout).
	CancelAllWait = 20 * time.Second
)

// cancelForm is what a /cancel command names.
type cancelForm int

const (
	cancelUsage     cancelForm = iota // nothing: answer the usage
	cancelByID                        // /cancel ID
	cancelByCommand                   // a reply to the task's command message
	cancelByBoard                     // a reply to a message of the bot (the status message)
)

type cancelTarget struct {
	form  cancelForm
	id    string // cancelByID
	msgID int    // the replied-to message
}

// parseCancel reads a /cancel command: an id argument wins over a reply.
func parseCancel(cmd command.Command, m *tgapi.Message) cancelTarget {
	if id := firstArg(cmd); id != "" {
		return cancelTarget{form: cancelByID, id: strings.ToLower(id)}
	}
	switch r := m.ReplyTo; {
	case r == nil:
		return cancelTarget{form: cancelUsage}
	case r.From.IsBot:
		return cancelTarget{form: cancelByBoard, msgID: r.ID}
	default:
		return cancelTarget{form: cancelByCommand, msgID: r.ID}
	}
}

// judgeCancel decides a cancel request from the task's record: route it to
// the session of user route, or answer text. A user may cancel their own
// tasks, an admin (owner, sudo) any task.
func judgeCancel(id string, rec store.Task, by int64, admin bool) (route int64, text string) {
	switch {
	case rec.Stage.Final():
		return 0, fmt.Sprintf("Task <code>%s</code> has already ended (%s).", html.EscapeString(id), rec.Stage)
	case rec.Spec.UserID != by && !admin:
		return 0, "That task is not yours: only its owner or an admin may cancel it."
	}
	return rec.Spec.UserID, ""
}

// cancelLooked reports a worker's lookup of the task a /cancel means.
type cancelLooked struct {
	chatID  int64
	replyTo int
	by      int64
	admin   bool
	target  cancelTarget
	rec     store.Task
	found   bool
	err     error
}

// cancelCommand starts /cancel in one of its forms.
func (g *Gateway) cancelCommand(ctx actor.Context, m *tgapi.Message, cmd command.Command) string {
	t := parseCancel(cmd, m)
	req := &cancelLooked{chatID: m.ChatID, replyTo: m.ID, by: m.From.ID, admin: g.admins[m.From.ID], target: t}
	switch t.form {
	case cancelUsage:
		g.reply(ctx, m, "Usage: /cancel TASK_ID (the id is shown on the status message), "+
			"or reply with /cancel to the task's command or to the status message.", false)
		return "invalid"
	case cancelByBoard:
		grains.Send(ctx, messages.ChatKind, strconv.FormatInt(m.ChatID, 10), &messages.CancelByReply{
			ChatID: m.ChatID, MessageID: t.msgID, ByUserID: req.by, Admin: req.admin, ReplyTo: m.ID})
		return "ok"
	}
	st := g.o.Store
	g.work(ctx, func(c context.Context) any {
		if t.form == cancelByID {
			rec, err := st.GetTask(c, t.id)
			if errors.Is(err, store.ErrNotFound) {
				return req
			}
			req.rec, req.found, req.err = rec, err == nil, err
			return req
		}
		tasks, err := st.Tasks(c, store.Filter{ChatID: req.chatID, Command: t.msgID, Unfinished: true})
		if len(tasks) > 0 {
			req.rec, req.found = tasks[0], true
		}
		req.err = err
		return req
	})
	return "ok"
}

func (g *Gateway) onCancelLooked(ctx actor.Context, r *cancelLooked) {
	answer := func(text string) {
		ctx.Send(g.outbox(ctx), &messages.SendText{ChatID: r.chatID, ReplyTo: r.replyTo, Text: text, HTML: true})
	}
	id := r.target.id
	if r.found {
		id = r.rec.Spec.ID
	}
	switch {
	case r.err != nil && r.target.form == cancelByID:
		// Without the record the owner is unknown: the asker's own session
		// still cancels the asker's own task.
		g.log.Warn("looking up a task to cancel", slog.String("task_id", id), slog.Any("err", r.err))
		grains.Send(ctx, messages.SessionKind, strconv.FormatInt(r.by, 10), &messages.CancelTask{TaskID: id,
			ByUserID: r.by, Admin: r.admin, ChatID: r.chatID, ReplyTo: r.replyTo})
		return
	case r.err != nil:
		g.log.Warn("looking up the task of a command message", slog.Any("err", r.err))
		answer("The task could not be looked up just now; send <code>/cancel TASK_ID</code> or try again.")
		return
	case !r.found && r.target.form == cancelByID:
		answer(fmt.Sprintf("No task <code>%s</code>: check the id on the status message.", html.EscapeString(id)))
		return
	case !r.found:
		answer("No running task was started by that message.")
		return
	}
	route, text := judgeCancel(id, r.rec, r.by, r.admin)
	if route == 0 {
		answer(text)
		return
	}
	grains.Send(ctx, messages.SessionKind, strconv.FormatInt(route, 10), &messages.CancelTask{TaskID: id,
		ByUserID: r.by, Admin: r.admin, ChatID: r.chatID, ReplyTo: r.replyTo})
}

// An admin's /cancelall asks first, with buttons whose data carries the
// deadline and the admin: "ca:<unix deadline>:<admin id>:<choice>". They
// hold all the press needs, so a press is honoured by whichever node polls
// by then.
const (
	confirmPrefix = "ca:"
	choiceAll     = "a" // every task of the cluster
	choiceMine    = "m" // the admin's own tasks
	choiceAbort   = "x"
)

type confirmData struct {
	deadline time.Time
	admin    int64
	choice   string
}

func (d confirmData) encode() string {
	return confirmPrefix + strconv.FormatInt(d.deadline.Unix(), 10) + ":" + strconv.FormatInt(d.admin, 10) + ":" + d.choice
}

func parseConfirm(data string) (confirmData, bool) {
	parts := strings.Split(strings.TrimPrefix(data, confirmPrefix), ":")
	if !strings.HasPrefix(data, confirmPrefix) || len(parts) != 3 {
		return confirmData{}, false
	}
	dl, err1 := strconv.ParseInt(parts[0], 10, 64)
	admin, err2 := strconv.ParseInt(parts[1], 10, 64)
	switch {
	case err1 != nil, err2 != nil:
		return confirmData{}, false
	case parts[2] != choiceAll && parts[2] != choiceMine && parts[2] != choiceAbort:
		return confirmData{}, false
	}
	return confirmData{deadline: time.Unix(dl, 0), admin: admin, choice: parts[2]}, true
}

// cancelAllCounted reports the unfinished tasks an admin's /cancelall would
// cancel, to ask for confirmation.
type cancelAllCounted struct {
	chatID  int64
	replyTo int
	by      int64
	tasks   []store.Task
	err     error
}

// cancelAllListed reports the users with unfinished tasks, once an admin
// confirmed; run is the cancel it belongs to.
type cancelAllListed struct {
	run   *cancelAllRun
	users []int64
	err   error
}

// cancelAllRun is one confirmed cancel of many users' tasks: the sessions
// asked and not yet answered, and the tasks they cancelled so far.
type cancelAllRun struct {
	id       string
	chatID   int64
	msgID    int   // the confirmation message, edited with the outcome
	by       int64 // the admin who confirmed
	mine     bool
	waiting  map[int64]bool
	users    int
	count    int
	stopWait scheduler.CancelFunc
}

type cancelAllTimedOut struct{ id string }

type confirmKey struct {
	chat int64
	msg  int
}

type confirmExpired struct{ key confirmKey }

func (g *Gateway) cancelAllCommand(ctx actor.Context, m *tgapi.Message) {
	if !g.admins[m.From.ID] {
		grains.Send(ctx, messages.SessionKind, strconv.FormatInt(m.From.ID, 10),
			&messages.CancelAllTasks{ByUserID: m.From.ID, ChatID: m.ChatID, ReplyTo: m.ID})
		return
	}
	st, req := g.o.Store, &cancelAllCounted{chatID: m.ChatID, replyTo: m.ID, by: m.From.ID}
	g.work(ctx, func(c context.Context) any {
		req.tasks, req.err = st.Tasks(c, store.Filter{Unfinished: true})
		return req
	})
}

// onCancelAllCounted asks the admin to confirm, with the count.
func (g *Gateway) onCancelAllCounted(ctx actor.Context, r *cancelAllCounted) {
	send := func(text string) {
		ctx.Send(g.outbox(ctx), &messages.SendText{ChatID: r.chatID, ReplyTo: r.replyTo, Text: text})
	}
	if r.err != nil {
		g.log.Warn("listing the tasks to cancel", slog.Any("err", r.err))
		send("The tasks could not be listed just now; please try again.")
		return
	}
	users, mine := map[int64]bool{}, 0
	for _, t := range r.tasks {
		users[t.Spec.UserID] = true
		if t.Spec.UserID == r.by {
			mine++
		}
	}
	if len(r.tasks) == 0 {
		send("There are no running tasks.")
		return
	}
	d := confirmData{deadline: time.Now().Add(ConfirmTTL), admin: r.by}
	btn := func(text, choice string) messages.Button {
		d.choice = choice
		return messages.Button{Text: text, Data: d.encode()}
	}
	kb := messages.Keyboard{{btn(fmt.Sprintf("🚫 Cancel all %d", len(r.tasks)), choiceAll)}}
	if mine > 0 {
		kb[0] = append(kb[0], btn(fmt.Sprintf("Only mine (%d)", mine), choiceMine))
	}
	kb[0] = append(kb[0], btn("Keep them", choiceAbort))
	text := fmt.Sprintf("Cancel all %d running task(s) of %d user(s) on every node? "+
		"The buttons expire in %s.", len(r.tasks), len(users), ConfirmTTL)
	chat := r.chatID
	// The message id comes back in the outbox's answer: a future keeps it
	// apart from the pings' answers.
	f := ctx.RequestFuture(g.outbox(ctx), &messages.SendText{ChatID: chat, ReplyTo: r.replyTo, Text: text,
		Keyboard: kb}, ConfirmTTL)
	ctx.ReenterAfter(f, func(res any, err error) {
		sent, ok := res.(*messages.TextSent)
		if err != nil || !ok {
			return // the buttons still expire: a press checks the deadline
		}
		key := confirmKey{chat: chat, msg: sent.MessageID}
		g.confirms[key] = g.timers.SendOnce(time.Until(d.deadline), ctx.Self(), &confirmExpired{key: key})
	})
}

func (g *Gateway) onConfirmExpired(ctx actor.Context, m *confirmExpired) {
	if _, ok := g.confirms[m.key]; !ok {
		return
	}
	delete(g.confirms, m.key)
	ctx.Send(g.outbox(ctx), &messages.EditText{ChatID: m.key.chat, MessageID: m.key.msg,
		Text: "⌛ This confirmation expired; nothing was cancelled."})
}

// onConfirmPressed handles a button of the confirmation.
func (g *Gateway) onConfirmPressed(ctx actor.Context, c *tgapi.Callback) {
	answer := func(text string, alert bool) {
		ctx.Send(g.outbox(ctx), &messages.AnswerCallback{CallbackID: c.ID, Text: text, Alert: alert})
	}
	edit := func(text string) {
		ctx.Send(g.outbox(ctx), &messages.EditText{ChatID: c.ChatID, MessageID: c.MessageID, Text: text})
	}
	d, ok := parseConfirm(c.Data)
	switch {
	case !ok:
		answer("This button is no longer valid.", true)
		return
	case c.From.ID != d.admin || !g.admins[c.From.ID]:
		answer("Only the admin who asked may answer this.", true)
		return
	}
	key := confirmKey{chat: c.ChatID, msg: c.MessageID}
	for _, run := range g.runs {
		if run.chatID == c.ChatID && run.msgID == c.MessageID {
			answer("Already cancelling.", false) // a second tap before the buttons went away
			return
		}
	}
	if stop, ok := g.confirms[key]; ok {
		stop()
		delete(g.confirms, key)
	}
	switch {
	case !time.Now().Before(d.deadline):
		answer("This confirmation expired; send /cancelall again.", true)
		edit("⌛ This confirmation expired; nothing was cancelled.")
		return
	case d.choice == choiceAbort:
		answer("Nothing was cancelled.", false)
		edit("Nothing was cancelled.")
		return
	}
	answer("Cancelling…", false)
	run := &cancelAllRun{id: newRequestID(), chatID: c.ChatID, msgID: c.MessageID, by: d.admin,
		mine: d.choice == choiceMine, waiting: map[int64]bool{}}
	g.runs[run.id] = run
	if run.mine {
		g.startCancelAll(ctx, &cancelAllListed{run: run, users: []int64{d.admin}})
		return
	}
	edit("Cancelling every task…")
	st := g.o.Store
	g.work(ctx, func(cc context.Context) any {
		tasks, err := st.Tasks(cc, store.Filter{Unfinished: true})
		seen := map[int64]bool{}
		var users []int64
		for _, t := range tasks {
			if !seen[t.Spec.UserID] {
				seen[t.Spec.UserID] = true
				users = append(users, t.Spec.UserID)
			}
		}
		return &cancelAllListed{run: run, users: users, err: err}
	})
}

// startCancelAll asks every listed user's session, wherever it runs, to
// cancel its tasks and to report the count to this node's gateway.
func (g *Gateway) startCancelAll(ctx actor.Context, m *cancelAllListed) {
	run := m.run
	if m.err != nil {
		delete(g.runs, run.id)
		g.log.Warn("listing the tasks to cancel", slog.Any("err", m.err))
		ctx.Send(g.outbox(ctx), &messages.EditText{ChatID: run.chatID, MessageID: run.msgID,
			Text: "The tasks could not be listed just now; nothing was cancelled. Please try again."})
		return
	}
	for _, u := range m.users {
		run.waiting[u] = true
	}
	run.users = len(m.users)
	if len(m.users) == 0 {
		g.finishCancelAll(ctx, run)
		return
	}
	node := ctx.ActorSystem().Address()
	for _, u := range m.users {
		grains.Send(ctx, messages.SessionKind, strconv.FormatInt(u, 10), &messages.CancelAllTasks{
			ByUserID: run.by, Admin: true, ChatID: run.chatID, RequestID: run.id, ReportNode: node})
	}
	run.stopWait = g.timers.SendOnce(CancelAllWait, ctx.Self(), &cancelAllTimedOut{id: run.id})
}

func (g *Gateway) onTasksCancelled(ctx actor.Context, m *messages.TasksCancelled) {
	run := g.runs[m.RequestID]
	if run == nil || !run.waiting[m.UserID] {
		return
	}
	delete(run.waiting, m.UserID)
	run.count += m.Count
	if len(run.waiting) == 0 {
		g.finishCancelAll(ctx, run)
	}
}

// finishCancelAll reports the outcome on the confirmation message.
func (g *Gateway) finishCancelAll(ctx actor.Context, run *cancelAllRun) {
	delete(g.runs, run.id)
	if run.stopWait != nil {
		run.stopWait()
	}
	ctx.Send(g.outbox(ctx), &messages.EditText{ChatID: run.chatID, MessageID: run.msgID, Text: cancelAllText(run)})
}

func cancelAllText(run *cancelAllRun) string {
	var text string
	if run.mine {
		text = fmt.Sprintf("🚫 Cancelled %d of your task(s).", run.count)
	} else {
		text = fmt.Sprintf("🚫 Cancelled %d task(s) of %d user(s).", run.count, run.users-len(run.waiting))
	}
	if n := len(run.waiting); n > 0 {
		text += fmt.Sprintf(" %d session(s) did not answer in time; their tasks may still run.", n)
	}
	return text
}

func newRequestID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// work runs fn in a goroutine the gateway owns, with a StoreTimeout
// context that stopping the gateway cancels, and sends fn's result to the
// gateway.
func (g *Gateway) work(ctx actor.Context, fn func(context.Context) any) {
	self, root, parent := ctx.Self(), ctx.ActorSystem().Root, g.workCtx
	g.workers.Add(1)
	go func() {
		defer g.workers.Done()
		c, cancel := context.WithTimeout(parent, StoreTimeout)
		defer cancel()
		res := fn(c)
		if parent.Err() == nil {
			root.Send(self, res)
		}
	}()
}
