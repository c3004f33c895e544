package outbox

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/mirrorleech/mirrorleech/internal/flood"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/tgtext"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Sender is the part of the Telegram client the outbox drives.
type Sender interface {
	SendText(ctx context.Context, t tgapi.Text) (int, error)
	EditText(ctx context.Context, chatID int64, msgID int, text string, html bool, kb tgapi.Keyboard) error
	DeleteMessage(ctx context.Context, chatID int64, msgID int) error
	AnswerCallback(ctx context.Context, id, text string, alert bool) error
	SendDocument(ctx context.Context, u tgapi.Upload, progress func(sent int64)) (int, error)
}

var _ Sender = (*tgapi.Client)(nil)

// Options configures the outbox.
type Options struct {
	Sender Sender
	Flood  flood.Config
	// MaxTextCalls bounds concurrent text calls. Default: 8.
	MaxTextCalls int
	// MaxUploads bounds concurrent document uploads. Default: 4.
	MaxUploads int
	// CallTimeout bounds one text call. Default: 30s.
	CallTimeout time.Duration
	Logger      *slog.Logger
	// Observe, if set, is told about every finished call (metrics).
	Observe func(method string, err error, waited time.Duration)
	// OnQueue, if set, is told the number of waiting calls after each change.
	OnQueue func(n int)
	// Shared, if set, is the cluster-wide flood limiter (flood.Shared):
	// every counted call also waits for a reservation there, because
	// Telegram's limits are per bot, not per node. A limiter that fails
	// lets the call go, held back by this node's own limiter.
	Shared Gate
}

// Gate reserves a send to a chat across the cluster, waiting as needed.
type Gate interface {
	Wait(ctx context.Context, chatID int64) error
}

const textRetries = 3

type opKind uint8

const (
	opText opKind = iota + 1
	opEdit
	opDelete
	opAnswer
	opDocument
)

func (k opKind) method() string {
	switch k {
	case opText:
		return "sendMessage"
	case opEdit:
		return "editMessageText"
	case opDelete:
		return "deleteMessage"
	case opAnswer:
		return "answerCallbackQuery"
	case opDocument:
		return "sendDocument"
	}
	return "unknown"
}

type op struct {
	id        uint64
	kind      opKind
	chat      int64
	msg       any
	replyTo   *actor.PID
	failures  int
	notBefore time.Time
	queued    time.Time
	cancel    context.CancelFunc
}

type laneKey struct {
	chat int64
	doc  bool
}

type lane struct {
	queue []*op
	busy  bool
}

type opDone struct {
	id    uint64
	msgID int
	err   error
}

type wake struct{}

// Outbox is the sender actor.
type Outbox struct {
	o       Options
	log     *slog.Logger
	limiter *flood.Limiter
	lanes   map[laneKey]*lane
	running map[uint64]*op
	nextID  uint64
	texts   int
	docs    int
	base    context.Context
	stop    context.CancelFunc
	timers  *scheduler.TimerScheduler
	wakeAt  time.Time
	cancelW scheduler.CancelFunc
	forget  time.Time
}

var _ actor.Actor = (*Outbox)(nil)

// Props returns the outbox's props.
func Props(o Options) *actor.Props {
	if o.MaxTextCalls <= 0 {
		o.MaxTextCalls = 8
	}
	if o.MaxUploads <= 0 {
		o.MaxUploads = 4
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &Outbox{o: o, log: o.Logger}
	})
}

// Receive implements actor.Actor.
func (b *Outbox) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		b.limiter = flood.New(b.o.Flood)
		b.lanes = map[laneKey]*lane{}
		b.running = map[uint64]*op{}
		b.base, b.stop = context.WithCancel(context.Background())
		b.timers = scheduler.NewTimerScheduler(ctx)
	case *actor.Stopping, *actor.Restarting:
		if b.stop != nil {
			b.stop()
		}
		if b.cancelW != nil {
			b.cancelW()
		}
	case *messages.SendText:
		b.enqueue(ctx, opText, m.ChatID, m)
	case *messages.EditText:
		if b.coalesce(ctx, m) {
			return
		}
		b.enqueue(ctx, opEdit, m.ChatID, m)
	case *messages.DeleteMessage:
		b.enqueue(ctx, opDelete, m.ChatID, m)
	case *messages.AnswerCallback:
		// Callback answers are not chat messages: they skip the chat limits
		// but still run one at a time per lane 0.
		b.enqueue(ctx, opAnswer, 0, m)
	case *messages.SendDocument:
		b.enqueue(ctx, opDocument, m.ChatID, m)
	case *messages.AbortSend:
		b.abort(m.RequestID)
	case *opDone:
		b.finish(ctx, m)
	case *wake:
		b.wakeAt = time.Time{}
	}
	b.pump(ctx)
}

func (b *Outbox) enqueue(ctx actor.Context, kind opKind, chat int64, msg any) {
	b.nextID++
	o := &op{id: b.nextID, kind: kind, chat: chat, msg: msg, replyTo: ctx.Sender(), queued: time.Now()}
	l := b.lane(o)
	l.queue = append(l.queue, o)
}

func (b *Outbox) lane(o *op) *lane {
	k := laneKey{chat: o.chat, doc: o.kind == opDocument}
	l := b.lanes[k]
	if l == nil {
		l = &lane{}
		b.lanes[k] = l
	}
	return l
}

// coalesce replaces a queued edit of the same message; the superseded
// requester gets the answer of the newer edit, since it asked for the same
// message to be current.
func (b *Outbox) coalesce(ctx actor.Context, m *messages.EditText) bool {
	l := b.lanes[laneKey{chat: m.ChatID}]
	if l == nil {
		return false
	}
	for _, o := range l.queue {
		if e, ok := o.msg.(*messages.EditText); ok && o.kind == opEdit && e.MessageID == m.MessageID {
			o.msg = m
			if s := ctx.Sender(); s != nil {
				o.replyTo = s
			}
			return true
		}
	}
	return false
}

func (b *Outbox) abort(requestID string) {
	for k, l := range b.lanes {
		if !k.doc {
			continue
		}
		for i, o := range l.queue {
			if d := o.msg.(*messages.SendDocument); d.RequestID == requestID {
				l.queue = append(l.queue[:i], l.queue[i+1:]...)
				return
			}
		}
	}
	for _, o := range b.running {
		if d, ok := o.msg.(*messages.SendDocument); ok && d.RequestID == requestID {
			o.cancel()
			return
		}
	}
}

// pump starts every call that may run now and arranges a wake-up for the
// earliest one that may run later.
func (b *Outbox) pump(ctx actor.Context) {
	now := time.Now()
	var earliest time.Time
	for k, l := range b.lanes {
		if l.busy {
			continue
		}
		if len(l.queue) == 0 {
			delete(b.lanes, k)
			continue
		}
		o := l.queue[0]
		if k.doc && b.docs >= b.o.MaxUploads || !k.doc && b.texts >= b.o.MaxTextCalls {
			continue // a finishing call pumps again
		}
		at := o.notBefore
		if o.kind != opAnswer {
			if next := b.limiter.Next(o.chat, now); next.After(at) {
				at = next
			}
		}
		if at.After(now) {
			if earliest.IsZero() || at.Before(earliest) {
				earliest = at
			}
			continue
		}
		if o.kind != opAnswer {
			b.limiter.Take(o.chat, now)
		}
		l.queue = l.queue[1:]
		l.busy = true
		b.start(ctx, o)
	}
	if b.o.OnQueue != nil {
		n := 0
		for _, l := range b.lanes {
			n += len(l.queue)
		}
		b.o.OnQueue(n)
	}
	if now.Sub(b.forget) > time.Minute {
		b.limiter.Forget(now)
		b.forget = now
	}
	if !earliest.IsZero() && (b.wakeAt.IsZero() || earliest.Before(b.wakeAt)) {
		if b.cancelW != nil {
			b.cancelW()
		}
		b.wakeAt = earliest
		b.cancelW = b.timers.SendOnce(time.Until(earliest)+time.Millisecond, ctx.Self(), &wake{})
	}
}

func (b *Outbox) start(ctx actor.Context, o *op) {
	var cctx context.Context
	if o.kind == opDocument {
		b.docs++
		cctx, o.cancel = context.WithCancel(b.base)
	} else {
		b.texts++
		cctx, o.cancel = context.WithCancel(b.base)
	}
	b.running[o.id] = o
	self, root, s, gate, log := ctx.Self(), ctx.ActorSystem().Root, b.o.Sender, b.o.Shared, b.log
	timeout := b.o.CallTimeout
	go func() {
		defer o.cancel()
		if gate != nil && o.kind != opAnswer {
			if err := gate.Wait(cctx, o.chat); err != nil && cctx.Err() == nil {
				log.Warn("cluster flood limiter unavailable; sending on this node's limits", slog.Any("err", err))
			}
		}
		callCtx := cctx
		if o.kind != opDocument {
			// A text's call timeout starts after the wait for its turn.
			var cancel context.CancelFunc
			callCtx, cancel = context.WithTimeout(cctx, timeout)
			defer cancel()
		}
		msgID, err := call(callCtx, s, root, o, log)
		root.Send(self, &opDone{id: o.id, msgID: msgID, err: err})
	}()
}

// call performs one Bot API call; it runs in a worker goroutine and touches
// nothing of the actor but the immutable op.
func call(ctx context.Context, s Sender, root *actor.RootContext, o *op, log *slog.Logger) (int, error) {
	switch m := o.msg.(type) {
	case *messages.SendText:
		return s.SendText(ctx, tgapi.Text{ChatID: m.ChatID, Text: fit(log, o, m.Text, m.HTML, tgtext.MaxText),
			HTML: m.HTML, ReplyTo: m.ReplyTo, Keyboard: keyboard(m.Keyboard), Silent: m.Silent, NoPreview: true})
	case *messages.EditText:
		return m.MessageID, s.EditText(ctx, m.ChatID, m.MessageID, fit(log, o, m.Text, m.HTML, tgtext.MaxText), m.HTML,
			keyboard(m.Keyboard))
	case *messages.DeleteMessage:
		return m.MessageID, s.DeleteMessage(ctx, m.ChatID, m.MessageID)
	case *messages.AnswerCallback:
		return 0, s.AnswerCallback(ctx, m.CallbackID, fit(log, o, m.Text, false, tgtext.MaxCallback), m.Alert)
	case *messages.SendDocument:
		to := o.replyTo
		progress := func(sent int64) {
			if to != nil {
				root.Send(to, &messages.DocumentProgressed{RequestID: m.RequestID, Sent: sent})
			}
		}
		return s.SendDocument(ctx, tgapi.Upload{ChatID: m.ChatID, Path: m.Path, Offset: m.Offset, Length: m.Length,
			FileName: m.FileName, Caption: fit(log, o, m.Caption, m.HTML, tgtext.MaxCaption), HTML: m.HTML,
			ReplyTo: m.ReplyTo}, progress)
	}
	return 0, errors.New("outbox: unknown operation")
}

// fit is the last guard against Telegram's length limits: a text or
// caption over its limit would be refused with 400 and never arrive, so it
// is shortened here, escape-aware. Composers shorten what they echo
// (tgtext.Name, tgtext.Echo); a text that still needs this is logged, as a
// composer to fix.
func fit(log *slog.Logger, o *op, text string, html bool, limit int) string {
	fitted := tgtext.Fit(text, html, limit)
	if len(fitted) != len(text) {
		log.Warn("text over telegram's limit shortened", slog.String("method", o.kind.method()),
			slog.Int("limit", limit), slog.Int("bytes", len(text)))
	}
	return fitted
}

func keyboard(k messages.Keyboard) tgapi.Keyboard {
	if len(k) == 0 {
		return nil
	}
	out := make(tgapi.Keyboard, len(k))
	for i, row := range k {
		out[i] = make([]tgapi.Button, len(row))
		for j, btn := range row {
			out[i][j] = tgapi.Button{Text: btn.Text, Data: btn.Data}
		}
	}
	return out
}

func (b *Outbox) finish(ctx actor.Context, d *opDone) {
	o := b.running[d.id]
	if o == nil {
		return
	}
	delete(b.running, d.id)
	if o.kind == opDocument {
		b.docs--
	} else {
		b.texts--
	}
	l := b.lane(o)
	l.busy = false
	now := time.Now()
	if b.o.Observe != nil {
		b.o.Observe(o.kind.method(), d.err, now.Sub(o.queued))
	}
	if d.err == nil {
		b.reply(ctx, o, d.msgID, nil)
		return
	}
	if errors.Is(d.err, context.Canceled) && b.base.Err() == nil && o.kind == opDocument {
		return // aborted by its requester, who is gone
	}
	if after, ok := tgapi.RetryAfter(d.err); ok {
		// Flood control: wait it out, then send the same call again. It is
		// not a failure of the call, so it is not counted.
		b.limiter.Park(o.chat, now.Add(after))
		b.log.Warn("telegram flood wait", slog.String("method", o.kind.method()), slog.Duration("retry_after", after))
		l.queue = append([]*op{o}, l.queue...)
		return
	}
	if o.kind != opDocument && o.kind != opAnswer && tgapi.IsTransient(d.err) && o.failures < textRetries {
		o.failures++
		o.notBefore = now.Add(time.Duration(500<<o.failures) * time.Millisecond)
		l.queue = append([]*op{o}, l.queue...)
		return
	}
	if !tgapi.IsMessageGone(d.err) {
		b.log.Warn("telegram call failed", slog.String("method", o.kind.method()), slog.Any("err", d.err))
	}
	b.reply(ctx, o, 0, d.err)
}

func (b *Outbox) reply(ctx actor.Context, o *op, msgID int, err error) {
	if o.replyTo == nil || o.kind == opDelete || o.kind == opAnswer {
		return
	}
	if err != nil {
		f := &messages.SendFailed{ChatID: o.chat, Err: err, Gone: tgapi.IsMessageGone(err)}
		switch m := o.msg.(type) {
		case *messages.SendDocument:
			f.RequestID = m.RequestID
		case *messages.EditText:
			f.MessageID = m.MessageID
		}
		ctx.Send(o.replyTo, f)
		return
	}
	switch m := o.msg.(type) {
	case *messages.SendText:
		ctx.Send(o.replyTo, &messages.TextSent{ChatID: m.ChatID, MessageID: msgID})
	case *messages.EditText:
		ctx.Send(o.replyTo, &messages.TextEdited{ChatID: m.ChatID, MessageID: m.MessageID})
	case *messages.SendDocument:
		ctx.Send(o.replyTo, &messages.DocumentSent{RequestID: m.RequestID, MessageID: msgID})
	}
}

// Describe reports the outbox for the actor tree.
func (b *Outbox) Describe() map[string]any {
	queued := 0
	for _, l := range b.lanes {
		queued += len(l.queue)
	}
	return map[string]any{"queued": queued, "text_calls": b.texts, "uploads": b.docs, "lanes": len(b.lanes)}
}
