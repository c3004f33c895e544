package chat

import (
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"

	"github.com/mirrorleech/mirrorleech/actors/internal/repeat"
	"github.com/mirrorleech/mirrorleech/cluster/grains"
	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Options configures every board of the node.
type Options struct {
	Interval time.Duration
	PerPage  int
	Logger   *slog.Logger
}

type tick struct{}

// sendTimeout bounds how long a board waits for the outbox before it stops
// waiting and tries again; the outbox may sit out a long flood wait.
const sendTimeout = 2 * time.Minute

// Board is the chat board actor.
type Board struct {
	o       Options
	log     *slog.Logger
	chatID  int64
	tasks   map[string]messages.TaskSnapshot
	order   []string
	msgID   int
	last    string
	page    int
	sending time.Time // zero, or when the current send/edit was requested
	dirty   bool      // render as soon as stats arrive
	stats   messages.NodeStats
	cancelT repeat.Cancel
	replyTo int
}

var _ actor.Actor = (*Board)(nil)

// Kind returns the cluster kind of chat boards.
func Kind(o Options) *cluster.Kind {
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return cluster.NewKind(messages.ChatKind, actor.PropsFromProducer(func() actor.Actor {
		return &Board{o: o, log: o.Logger, tasks: map[string]messages.TaskSnapshot{}}
	}))
}

// Receive implements actor.Actor.
func (b *Board) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *cluster.ClusterInit:
		id, err := strconv.ParseInt(m.Identity.Identity, 10, 64)
		if err != nil {
			b.log.Error("chat board with a bad identity", slog.String("identity", m.Identity.Identity))
			ctx.Stop(ctx.Self())
			return
		}
		b.chatID = id
	case *actor.Stopping:
		if b.cancelT != nil {
			b.cancelT()
		}
	case *messages.TaskUpdated:
		if _, ok := b.tasks[m.Task.TaskID]; !ok {
			b.order = append(b.order, m.Task.TaskID)
			if b.msgID == 0 {
				// A new board shows up at once; later changes wait for the tick.
				b.requestRender(ctx)
			}
		}
		b.tasks[m.Task.TaskID] = m.Task
		b.ensureTicker(ctx)
	case *messages.TaskRemoved:
		if _, ok := b.tasks[m.TaskID]; !ok {
			return
		}
		delete(b.tasks, m.TaskID)
		for i, id := range b.order {
			if id == m.TaskID {
				b.order = append(b.order[:i], b.order[i+1:]...)
				break
			}
		}
		if len(b.tasks) == 0 {
			b.clear(ctx)
		}
	case *messages.RepostBoard:
		if len(b.tasks) == 0 {
			ctx.Send(b.outbox(ctx), &messages.SendText{ChatID: b.chatID, Text: "No active tasks.", ReplyTo: m.ReplyTo})
			return
		}
		if b.msgID != 0 {
			ctx.Send(b.outbox(ctx), &messages.DeleteMessage{ChatID: b.chatID, MessageID: b.msgID})
			b.msgID = 0
		}
		b.last = ""
		b.replyTo = m.ReplyTo
		b.requestRender(ctx)
		b.ensureTicker(ctx)
	case *messages.BoardButtonPressed:
		ctx.Send(b.outbox(ctx), &messages.AnswerCallback{CallbackID: m.CallbackID})
		switch {
		case m.Data == "s:r":
		case strings.HasPrefix(m.Data, "p:"):
			if p, err := strconv.Atoi(strings.TrimPrefix(m.Data, "p:")); err == nil {
				b.page = p
			}
		default:
			return
		}
		if m.MessageID != 0 && b.msgID == 0 {
			b.msgID = m.MessageID
		}
		b.requestRender(ctx)
	case *messages.CancelByReply:
		b.cancelByReply(ctx, m)
	case *tick:
		if len(b.tasks) == 0 && b.msgID == 0 {
			b.stopTicker()
			return
		}
		b.requestRender(ctx)
	case *messages.NodeStats:
		b.stats = *m
		if b.dirty {
			b.dirty = false
			b.render(ctx)
		}
	case *messages.TextSent:
		b.sending = time.Time{}
		if len(b.tasks) == 0 {
			// Every task ended while the message was on its way.
			ctx.Send(b.outbox(ctx), &messages.DeleteMessage{ChatID: b.chatID, MessageID: m.MessageID})
			return
		}
		b.msgID = m.MessageID
		b.replyTo = 0
	case *messages.TextEdited:
		b.sending = time.Time{}
	case *messages.SendFailed:
		b.sending = time.Time{}
		if m.Gone || m.MessageID == 0 {
			// Deleted by someone, or never posted: post afresh next time.
			b.msgID = 0
			b.last = ""
		}
	}
}

func (b *Board) outbox(ctx actor.Context) *actor.PID {
	return messages.Local(ctx.ActorSystem(), messages.OutboxName)
}

func (b *Board) ensureTicker(ctx actor.Context) {
	if b.cancelT == nil {
		b.cancelT = repeat.Send(ctx.ActorSystem().Root, b.o.Interval, b.o.Interval, ctx.Self(), &tick{})
	}
}

func (b *Board) stopTicker() {
	if b.cancelT != nil {
		b.cancelT()
		b.cancelT = nil
	}
}

// requestRender asks for fresh node statistics; the render happens when
// they arrive, so the footer is never older than one tick.
func (b *Board) requestRender(ctx actor.Context) {
	b.dirty = true
	ctx.Request(messages.Local(ctx.ActorSystem(), messages.CronName), &messages.GetNodeStats{})
}

func (b *Board) render(ctx actor.Context) {
	if !b.sending.IsZero() && time.Since(b.sending) < sendTimeout {
		b.dirty = true // the next answer or tick renders again
		return
	}
	if len(b.tasks) == 0 {
		return
	}
	tasks := make([]board.Task, 0, len(b.order))
	for _, id := range b.order {
		tasks = append(tasks, toBoard(b.tasks[id]))
	}
	st := b.stats
	page := board.Render(tasks, board.Footer{FreeDisk: st.DiskFree, CPUPercent: st.CPUPercent,
		MemPercent: st.MemPercent, Uptime: st.Uptime, Node: st.Node}, b.page, b.o.PerPage)
	b.page = page.Page
	kb := b.keyboard(page.Keyboard)
	if page.Text == b.last && b.msgID != 0 {
		return
	}
	b.last = page.Text
	b.sending = time.Now()
	if b.msgID == 0 {
		ctx.Request(b.outbox(ctx), &messages.SendText{ChatID: b.chatID, Text: page.Text, HTML: true,
			Keyboard: kb, Silent: true, ReplyTo: b.replyTo})
		return
	}
	ctx.Request(b.outbox(ctx), &messages.EditText{ChatID: b.chatID, MessageID: b.msgID, Text: page.Text,
		HTML: true, Keyboard: kb})
}

// keyboard maps the renderer's cancel buttons ("c:<task>") to callback data
// that also names the task's owner ("c:<user>:<task>"), so the gateway can
// route the press to the owner's session without any lookup.
func (b *Board) keyboard(rows [][]board.Button) messages.Keyboard {
	out := make(messages.Keyboard, 0, len(rows))
	for _, row := range rows {
		r := make([]messages.Button, 0, len(row))
		for _, btn := range row {
			data := btn.Data
			if id, ok := strings.CutPrefix(data, "c:"); ok {
				if t, ok := b.tasks[id]; ok {
					data = "c:" + strconv.FormatInt(t.UserID, 10) + ":" + id
				}
			}
			r = append(r, messages.Button{Text: btn.Text, Data: data})
		}
		out = append(out, r)
	}
	return out
}

func (b *Board) clear(ctx actor.Context) {
	if b.msgID != 0 {
		ctx.Send(b.outbox(ctx), &messages.DeleteMessage{ChatID: b.chatID, MessageID: b.msgID})
	}
	b.msgID = 0
	b.last = ""
	b.page = 0
	b.stopTicker()
}

// cancelByReply handles "/cancel" sent as a reply to a message of the bot:
// if it is the status message, the task meant goes to its user's session,
// which checks the right to cancel it again.
func (b *Board) cancelByReply(ctx actor.Context, m *messages.CancelByReply) {
	answer := func(text string) {
		ctx.Send(b.outbox(ctx), &messages.SendText{ChatID: m.ChatID, ReplyTo: m.ReplyTo, Text: text, HTML: true})
	}
	if b.msgID == 0 || m.MessageID != b.msgID {
		answer("That message is not the current status message. Send <code>/cancel TASK_ID</code>, " +
			"or reply with /cancel to the task's command or to the status message.")
		return
	}
	task, choices := replyTarget(b.shown(), m.ByUserID, m.Admin)
	switch {
	case task.TaskID != "":
		grains.Send(ctx, messages.SessionKind, strconv.FormatInt(task.UserID, 10), &messages.CancelTask{
			TaskID: task.TaskID, ByUserID: m.ByUserID, Admin: m.Admin, ChatID: m.ChatID, ReplyTo: m.ReplyTo})
	case len(choices) > 0:
		ids := make([]string, len(choices))
		for i, id := range choices {
			ids[i] = "<code>/cancel " + html.EscapeString(id) + "</code>"
		}
		answer(fmt.Sprintf("The status message shows %d tasks you may cancel; send one of:\n%s",
			len(choices), strings.Join(ids, "\n")))
	default:
		answer("None of the tasks on that status message is yours.")
	}
}

// shown returns the tasks on the page the status message shows, as render
// lays them out.
func (b *Board) shown() []messages.TaskSnapshot {
	per := b.o.PerPage
	if per <= 0 {
		per = board.DefaultPerPage
	}
	start := min(b.page*per, len(b.order))
	end := min(start+per, len(b.order))
	out := make([]messages.TaskSnapshot, 0, end-start)
	for _, id := range b.order[start:end] {
		out = append(out, b.tasks[id])
	}
	return out
}

// replyTarget picks the task that "/cancel" as a reply to a status message
// showing shown means: the replier's only task on it, else, for an admin,
// the only task on it. When that is ambiguous it returns the ids to choose
// from instead (the replier's tasks, or for an admin with none every task);
// neither means none of them is the replier's to cancel.
func replyTarget(shown []messages.TaskSnapshot, by int64, admin bool) (messages.TaskSnapshot, []string) {
	var mine, all []string
	var own messages.TaskSnapshot
	for _, t := range shown {
		all = append(all, t.TaskID)
		if t.UserID == by {
			mine = append(mine, t.TaskID)
			own = t
		}
	}
	switch {
	case len(mine) == 1:
		return own, nil
	case len(mine) > 1:
		return messages.TaskSnapshot{}, mine
	case admin && len(shown) == 1:
		return shown[0], nil
	case admin:
		return messages.TaskSnapshot{}, all
	}
	return messages.TaskSnapshot{}, nil
}

func toBoard(t messages.TaskSnapshot) board.Task {
	return board.Task{
		ID:       t.TaskID,
		Name:     t.Name,
		Stage:    board.Stage(t.Stage.String()),
		Engine:   t.Engine,
		Done:     t.Done,
		Total:    t.Total,
		Speed:    t.Speed,
		Elapsed:  time.Since(t.Started),
		Node:     t.Node,
		QueuePos: t.QueuePos,
		Attempt:  t.Attempt,
		Note:     t.Note,
		Peers:    t.Peers,
		Seeders:  t.Seeders,
		UpSpeed:  t.UpSpeed,
	}
}

// Describe reports the board for the actor tree.
func (b *Board) Describe() map[string]any {
	return map[string]any{"chat_id": b.chatID, "tasks": len(b.tasks), "message_id": b.msgID, "page": b.page}
}
