package gateway

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/mirrorleech/mirrorleech/cluster/grains"
	"github.com/mirrorleech/mirrorleech/internal/command"
	"github.com/mirrorleech/mirrorleech/internal/lease"
	"github.com/mirrorleech/mirrorleech/internal/ratelimit"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/tgtext"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Poller is the part of the Telegram client the gateway uses.
type Poller interface {
	GetMe(ctx context.Context) (tgapi.User, error)
	GetUpdates(ctx context.Context, offset int, timeout time.Duration) ([]tgapi.Update, error)
}

// Options configures the gateway.
type Options struct {
	Client     Poller
	Store      store.Store
	OwnerID    int64
	Sudo       []int64
	Authorized []int64
	// MirrorDest is the default mirror destination ("" = mirror disabled).
	MirrorDest string
	SplitSize  int64
	// Seed is the node's default seeding of torrents (TORRENT_SEED_RATIO,
	// TORRENT_SEED_TIME); -d overrides it per task.
	Seed messages.SeedLimits
	// MaxDownloadFile is the largest document the Bot API lets the bot fetch
	// (20 MiB on the cloud API, 0 = no limit).
	MaxDownloadFile int64
	PollTimeout     time.Duration
	// RateLimit caps commands per user per minute (0 = no limit); owner and
	// sudo users are exempt.
	RateLimit int
	// Limiter counts the commands for RateLimit; in a cluster it lives in
	// Redis, so a user's budget survives the poller moving to another node.
	// Default: in memory.
	Limiter ratelimit.Limiter
	// Lease decides whether this node polls Telegram and where polling
	// resumes (the update offset). Default: a lone node's lease, always held.
	Lease lease.Lease
	// LeaseTTL is the poller lease's TTL (renewed every third of it).
	LeaseTTL time.Duration
	// OnPolling is told when this node starts (true) or stops polling.
	OnPolling func(bool)
	// Nodes lists the cluster's members for /nodes; nil = this node only.
	Nodes  func() []Node
	Logger *slog.Logger
	// Observe is told about every command: name and outcome
	// ("ok", "refused", "invalid").
	Observe func(cmd, outcome string)
}

// Node is one cluster member as /nodes shows it.
type Node struct {
	Name    string
	Address string
	Self    bool
}

// updatesReceived carries one batch from the poller. limited marks the
// updates over their user's rate limit; done is closed once the batch is
// dispatched, and only then does the poller commit the offset past it.
type updatesReceived struct {
	updates []tgapi.Update
	limited map[int]bool
	done    chan struct{}
}

type botIdentified struct{ username string }

type authSaved struct {
	chatID  int64
	replyTo int
	id      int64
	on      bool
	err     error
}

// Gateway is the gateway actor.
type Gateway struct {
	o          Options
	log        *slog.Logger
	admins     map[int64]bool
	authorized map[int64]bool
	username   string
	cancel     context.CancelFunc
	done       chan struct{}
	pings      map[int64][]time.Time // per chat, in send order (the outbox keeps a chat's order)
	polling    bool
	timers     *scheduler.TimerScheduler
	// workCtx is cancelled when the gateway stops; workers are the store
	// reads and writes running under it (see work).
	workCtx    context.Context
	workCancel context.CancelFunc
	workers    sync.WaitGroup
	// confirms are the admins' /cancelall confirmations still open, to
	// mark them expired; runs are the confirmed ones awaiting the sessions.
	confirms map[confirmKey]scheduler.CancelFunc
	runs     map[string]*cancelAllRun
}

var _ actor.Actor = (*Gateway)(nil)

// Props returns the gateway's props.
func Props(o Options) *actor.Props {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 30 * time.Second
	}
	if o.Observe == nil {
		o.Observe = func(string, string) {}
	}
	if o.Lease == nil {
		o.Lease = lease.NewLocal()
	}
	if o.Limiter == nil {
		o.Limiter = ratelimit.NewMemory()
	}
	return actor.PropsFromProducer(func() actor.Actor {
		g := &Gateway{o: o, log: o.Logger, admins: map[int64]bool{o.OwnerID: true},
			authorized: map[int64]bool{}, pings: map[int64][]time.Time{},
			confirms: map[confirmKey]scheduler.CancelFunc{}, runs: map[string]*cancelAllRun{}}
		for _, id := range o.Sudo {
			g.admins[id] = true
		}
		for _, id := range o.Authorized {
			g.authorized[id] = true
		}
		return g
	})
}

// Receive implements actor.Actor.
func (g *Gateway) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.timers = scheduler.NewTimerScheduler(ctx)
		g.workCtx, g.workCancel = context.WithCancel(context.Background())
		g.startPoller(ctx)
	case *actor.Stopping, *actor.Restarting:
		g.stopPoller()
		g.stopWork()
	case *botIdentified:
		g.username = m.username
	case *pollingChanged:
		g.polling = m.held
		g.log.Info("telegram polling", slog.Bool("held", m.held))
	case *updatesReceived:
		for i := range m.updates {
			u := &m.updates[i]
			switch {
			case u.Message != nil:
				g.onMessage(ctx, u.Message, m.limited[u.ID])
			case u.Callback != nil:
				g.onCallback(ctx, u.Callback)
			}
		}
		if m.done != nil {
			close(m.done)
		}
	case *messages.TextSent:
		if q := g.pings[m.ChatID]; len(q) > 0 {
			start := q[0]
			if len(q) == 1 {
				delete(g.pings, m.ChatID)
			} else {
				g.pings[m.ChatID] = q[1:]
			}
			ctx.Send(g.outbox(ctx), &messages.EditText{ChatID: m.ChatID, MessageID: m.MessageID,
				Text: fmt.Sprintf("🏓 Pong: %d ms", time.Since(start).Milliseconds())})
		}
	case *messages.SendFailed:
		// Only pings are sent with Request: drop the failed one's start.
		if q := g.pings[m.ChatID]; len(q) > 0 {
			g.pings[m.ChatID] = q[1:]
		}
	case *authSaved:
		g.onAuthSaved(ctx, m)
	case *cancelLooked:
		g.onCancelLooked(ctx, m)
	case *cancelAllCounted:
		g.onCancelAllCounted(ctx, m)
	case *confirmExpired:
		g.onConfirmExpired(ctx, m)
	case *cancelAllListed:
		g.startCancelAll(ctx, m)
	case *messages.TasksCancelled:
		g.onTasksCancelled(ctx, m)
	case *cancelAllTimedOut:
		if run := g.runs[m.id]; run != nil {
			g.finishCancelAll(ctx, run)
		}
	}
}

// stopWork cancels the workers and the timers, and waits for the workers,
// bounded: their stores honour the cancelled context.
func (g *Gateway) stopWork() {
	if g.workCancel == nil {
		return
	}
	g.workCancel()
	g.workCancel = nil
	for _, stop := range g.confirms {
		stop()
	}
	for _, run := range g.runs {
		if run.stopWait != nil {
			run.stopWait()
		}
	}
	done := make(chan struct{})
	go func() {
		g.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(StoreTimeout):
		g.log.Warn("gateway store workers did not stop in time")
	}
}

func (g *Gateway) outbox(ctx actor.Context) *actor.PID {
	return messages.Local(ctx.ActorSystem(), messages.OutboxName)
}

func (g *Gateway) reply(ctx actor.Context, m *tgapi.Message, text string, html bool) {
	ctx.Send(g.outbox(ctx), &messages.SendText{ChatID: m.ChatID, ReplyTo: m.ID, Text: text, HTML: html})
}

// startPoller runs the long poll in a worker goroutine, only while this
// node holds the poller lease. The goroutine owns the offset: it starts
// from the lease's stored offset and commits a batch's end once the actor
// has dispatched it, so a node that takes over polling neither skips nor
// repeats updates (a node killed mid-batch repeats at most that batch, and
// a repeated /leech is recognised by its command message).
func (g *Gateway) startPoller(ctx actor.Context) {
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	g.cancel, g.done = cancel, done
	self, root, o, log := ctx.Self(), ctx.ActorSystem().Root, g.o, g.log
	admins := make(map[int64]bool, len(g.admins))
	for id := range g.admins {
		admins[id] = true
	}
	go func() {
		defer close(done)
		_ = lease.Hold(pctx, o.Lease, lease.HoldOptions{TTL: o.LeaseTTL, Logger: log, OnChange: func(held bool) {
			root.Send(self, &pollingChanged{held: held})
			if o.OnPolling != nil {
				o.OnPolling(held)
			}
		}}, func(lctx context.Context, tok lease.Token) error {
			return poll(lctx, o, admins, log, tok, func(m any) { root.Send(self, m) })
		})
	}()
}

type pollingChanged struct{ held bool }

// poll is the long-poll loop of one holding of the lease.
func poll(ctx context.Context, o Options, admins map[int64]bool, log *slog.Logger, tok lease.Token, deliver func(any)) error {
	delay := time.Second
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(delay):
			delay = min(delay*2, 30*time.Second)
			return true
		}
	}
	for {
		me, err := o.Client.GetMe(ctx)
		if err == nil {
			deliver(&botIdentified{username: me.Username})
			log.Info("connected to telegram", slog.String("bot", me.Username))
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("telegram getMe failed", slog.Any("err", err))
		if !wait() {
			return ctx.Err()
		}
	}
	var offset int64
	for {
		off, err := o.Lease.Offset(ctx)
		if err == nil {
			offset = off
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("reading the update offset", slog.Any("err", err))
		if !wait() {
			return ctx.Err()
		}
	}
	delay = time.Second
	// Telegram forgets an update only when getUpdates is called with a
	// higher offset. A holding that ends after dispatching a batch (lease
	// lost, Redis emptied, shutdown) confirms it with one last call, so the
	// next poller cannot receive it again even if the stored offset is gone.
	asked := offset
	defer func() {
		if offset > asked {
			c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if _, err := o.Client.GetUpdates(c, int(offset), 0); err != nil {
				log.Warn("confirming the last updates", slog.Any("err", err))
			}
		}
	}()
	for ctx.Err() == nil {
		asked = offset
		updates, err := o.Client.GetUpdates(ctx, int(offset), o.PollTimeout)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Warn("telegram getUpdates failed", slog.Any("err", err))
			if !wait() {
				return ctx.Err()
			}
			continue
		}
		delay = time.Second
		if len(updates) == 0 {
			continue
		}
		batch := &updatesReceived{updates: updates, limited: limits(ctx, o, admins, log, updates), done: make(chan struct{})}
		deliver(batch)
		select {
		case <-batch.done:
		case <-ctx.Done():
			// The holding ended mid-batch: a dispatched batch is still
			// confirmed on the way out; one never dispatched is not.
			select {
			case <-batch.done:
			case <-time.After(2 * time.Second):
				return ctx.Err()
			}
		}
		offset = int64(updates[len(updates)-1].ID) + 1
		if err := o.Lease.CommitOffset(ctx, tok, offset); err != nil {
			if errors.Is(err, lease.ErrLost) {
				return err
			}
			// The next commit carries it; a takeover meanwhile repeats
			// this batch at most.
			log.Warn("saving the update offset", slog.Any("err", err))
		}
	}
	return ctx.Err()
}

// limits asks the rate limiter about every command of the batch that is not
// an admin's. A limiter that does not answer lets the command through: a
// dead Redis must not silence the bot.
func limits(ctx context.Context, o Options, admins map[int64]bool, log *slog.Logger, updates []tgapi.Update) map[int]bool {
	if o.RateLimit <= 0 {
		return nil
	}
	out := map[int]bool{}
	for _, u := range updates {
		m := u.Message
		if m == nil || m.From.IsBot || admins[m.From.ID] {
			continue
		}
		text := m.Text
		if text == "" && m.Document != nil {
			text = m.Caption
		}
		if !strings.HasPrefix(text, "/") {
			continue
		}
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, _, err := o.Limiter.Allow(c, "user:"+strconv.FormatInt(m.From.ID, 10), o.RateLimit, time.Minute)
		cancel()
		if err != nil {
			log.Warn("rate limiter unavailable", slog.Any("err", err))
			continue
		}
		if !ok {
			out[u.ID] = true
		}
	}
	return out
}

func (g *Gateway) stopPoller() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	// net/http aborts the poll at once; the wait is bounded anyway.
	select {
	case <-g.done:
	case <-time.After(5 * time.Second):
		g.log.Warn("telegram poller did not stop in time")
	}
	g.cancel = nil
}

func (g *Gateway) isAuthorized(userID, chatID int64) bool {
	return g.admins[userID] || g.authorized[chatID] || g.authorized[userID]
}

func (g *Gateway) onMessage(ctx actor.Context, m *tgapi.Message, limited bool) {
	text := m.Text
	if text == "" && m.Document != nil {
		text = m.Caption
	}
	if !strings.HasPrefix(text, "/") || m.From.IsBot {
		return
	}
	cmd, err := command.Parse(text)
	mention := cmd.Mention
	var ue *command.UsageError
	if errors.As(err, &ue) {
		mention = ue.Mention
	}
	if mention != "" && g.username != "" && !strings.EqualFold(strings.TrimPrefix(mention, "@"), g.username) {
		return // addressed to another bot
	}
	if err != nil {
		if errors.Is(err, command.ErrUnknownCommand) && m.ChatID < 0 && mention == "" {
			return // groups see many commands meant for other bots
		}
		if !g.isAuthorized(m.From.ID, m.ChatID) {
			return
		}
		g.o.Observe("unknown", "invalid")
		g.reply(ctx, m, tgtext.Echo(err.Error(), tgtext.EchoLen), true)
		return
	}
	name := string(cmd.Name)
	if !g.isAuthorized(m.From.ID, m.ChatID) {
		g.o.Observe(name, "refused")
		g.reply(ctx, m, "⛔ You are not authorized to use this bot.", false)
		return
	}
	if limited {
		g.o.Observe(name, "refused")
		g.reply(ctx, m, fmt.Sprintf("⏳ Slow down: at most %d commands per minute.", g.o.RateLimit), false)
		return
	}
	if spec, ok := command.Lookup(name); ok && spec.AdminOnly && !g.admins[m.From.ID] {
		g.o.Observe(name, "refused")
		g.reply(ctx, m, "⛔ Only the owner and sudo users may do that.", false)
		return
	}
	outcome := g.dispatch(ctx, m, cmd)
	g.o.Observe(name, outcome)
}

// dispatch runs an authorized command and returns its outcome.
func (g *Gateway) dispatch(ctx actor.Context, m *tgapi.Message, cmd command.Command) string {
	user := strconv.FormatInt(m.From.ID, 10)
	switch cmd.Name {
	case command.Start:
		g.reply(ctx, m, "👋 mirrorleech is ready. Send a link with /leech or /mirror; /help lists every command.", false)
	case command.Help:
		g.reply(ctx, m, command.HelpText(), true)
	case command.Ping:
		g.pings[m.ChatID] = append(g.pings[m.ChatID], time.Now())
		ctx.Request(g.outbox(ctx), &messages.SendText{ChatID: m.ChatID, ReplyTo: m.ID, Text: "🏓 Pong"})
	case command.Stats:
		ctx.Send(messages.Local(ctx.ActorSystem(), messages.CronName), &messages.ShowStats{ChatID: m.ChatID, ReplyTo: m.ID})
	case command.Status:
		grains.Send(ctx, messages.ChatKind, strconv.FormatInt(m.ChatID, 10), &messages.RepostBoard{ChatID: m.ChatID, ReplyTo: m.ID})
	case command.Cancel:
		return g.cancelCommand(ctx, m, cmd)
	case command.CancelAll:
		g.cancelAllCommand(ctx, m)
	case command.Authorize, command.Unauthorize:
		return g.authorize(ctx, m, cmd)
	case command.Nodes:
		g.reply(ctx, m, g.nodesText(), true)
	case command.Mirror, command.Leech:
		if cmd.Flags.Force && !g.admins[m.From.ID] {
			g.reply(ctx, m, "Only the owner and sudo users may skip the queue with -f.", false)
			return "refused"
		}
		spec, problem := g.buildSpec(m, cmd)
		if problem != "" {
			g.reply(ctx, m, problem, false)
			return "invalid"
		}
		grains.Send(ctx, messages.SessionKind, user, &messages.StartTask{Spec: spec})
	default:
		g.reply(ctx, m, "Unknown command; /help lists them.", false)
		return "invalid"
	}
	return "ok"
}

// buildSpec turns a /mirror or /leech command into a task, or explains why
// it cannot.
func (g *Gateway) buildSpec(m *tgapi.Message, cmd command.Command) (messages.TaskSpec, string) {
	f := cmd.Flags
	spec := messages.TaskSpec{ChatID: m.ChatID, ReplyTo: m.ID, Name: f.Name, SplitSize: g.o.SplitSize,
		Force: f.Force, Privileged: g.admins[m.From.ID], Created: time.Now(),
		Zip: f.Zip, ZipPassword: f.ZipPassword, Extract: f.Extract, ExtractPassword: f.ExtractPassword}
	if cmd.Name == command.Mirror {
		spec.Kind = messages.Mirror
		// The configuration refuses destinations other than a directory.
		if g.o.MirrorDest == "" {
			return spec, "Mirror is not configured on this bot: the owner must set MIRROR_DEST."
		}
		spec.Dest = g.o.MirrorDest
	} else {
		spec.Kind = messages.Leech
	}
	link := cmd.Link
	var doc *tgapi.Document
	if link == "" && m.Document != nil {
		doc = m.Document
	}
	if link == "" && doc == nil && m.ReplyTo != nil {
		link = firstLink(m.ReplyTo.Text + " " + m.ReplyTo.Caption)
		if link == "" {
			doc = m.ReplyTo.Document
		}
	}
	switch {
	case link != "":
		spec.Source = messages.Source{URL: link}
	case doc != nil:
		if g.o.MaxDownloadFile > 0 && doc.Size > g.o.MaxDownloadFile {
			return spec, fmt.Sprintf("That file is %.1f MB, but the cloud Bot API lets bots download at most 20 MB. "+
				"Run a local telegram-bot-api server and point TELEGRAM_API_URL at it to lift the limit.",
				float64(doc.Size)/1e6)
		}
		spec.Source = messages.Source{File: &messages.TelegramFile{FileID: doc.FileID, Name: doc.FileName,
			Size: doc.Size, MIME: doc.MimeType}}
		if spec.Source.File.Name == "" {
			spec.Source.File.Name = "file-" + strconv.Itoa(m.ID)
		}
	default:
		return spec, fmt.Sprintf("Send a link after /%s, or reply with /%s to a message that holds a link or a file.", cmd.Name, cmd.Name)
	}
	if !spec.Source.IsTorrent() {
		switch {
		case f.Select:
			return spec, "-s (select files) applies to torrents: magnet links and .torrent files."
		case f.Seed:
			return spec, "-d (seed) applies to torrents: magnet links and .torrent files."
		}
		return spec, ""
	}
	spec.Select = f.Select
	spec.Seed = g.o.Seed
	if f.Seed {
		lim, err := command.ParseSeedSpec(f.SeedSpec)
		if err != nil {
			// The parser already checked the value; this is a safety net.
			return spec, "Invalid seeding limits: want RATIO, RATIO:MINUTES or :MINUTES, such as 2.0:60."
		}
		if lim.Ratio > 0 {
			spec.Seed.Ratio = lim.Ratio
		}
		if lim.Time > 0 {
			spec.Seed.Time = lim.Time
		}
		if !spec.Seed.Enabled() {
			// -d alone on a node without seeding defaults: seed to ratio 1.
			spec.Seed.Ratio = 1
		}
	}
	return spec, ""
}

// allow applies the per-user command rate limit (a sliding minute). The
// window of a user who stopped sending is dropped on their next command or
// when the map is swept, so the map stays bounded by the active users.
// firstArg is the first positional argument of a command that takes no link.
func firstArg(cmd command.Command) string {
	if len(cmd.Args) > 0 {
		return cmd.Args[0]
	}
	return cmd.Link
}

func firstLink(text string) string {
	for _, w := range strings.Fields(text) {
		if command.IsLink(w) {
			return w
		}
	}
	return ""
}

func (g *Gateway) authorize(ctx actor.Context, m *tgapi.Message, cmd command.Command) string {
	on := cmd.Name == command.Authorize
	id := m.ChatID
	arg := firstArg(cmd)
	if arg == "" && m.ReplyTo != nil {
		id = m.ReplyTo.From.ID
	} else if arg != "" {
		v, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			g.reply(ctx, m, fmt.Sprintf("Usage: /%s [CHAT_OR_USER_ID] (or reply to a user's message)", cmd.Name), false)
			return "invalid"
		}
		id = v
	}
	st, chat, replyTo := g.o.Store, m.ChatID, m.ID
	g.work(ctx, func(c context.Context) any {
		err := st.SetAuthorized(c, id, on)
		return &authSaved{chatID: chat, replyTo: replyTo, id: id, on: on, err: err}
	})
	return "ok"
}

func (g *Gateway) onAuthSaved(ctx actor.Context, m *authSaved) {
	send := func(text string) {
		ctx.Send(g.outbox(ctx), &messages.SendText{ChatID: m.chatID, ReplyTo: m.replyTo, Text: text})
	}
	if m.err != nil {
		g.log.Error("saving authorization", slog.Any("err", m.err))
		send("Could not save the change, please try again.")
		return
	}
	if m.on {
		g.authorized[m.id] = true
		send(fmt.Sprintf("✅ %d is authorized.", m.id))
		return
	}
	delete(g.authorized, m.id)
	send(fmt.Sprintf("%d is no longer authorized.", m.id))
}

func (g *Gateway) onCallback(ctx actor.Context, c *tgapi.Callback) {
	answer := func(text string) {
		ctx.Send(g.outbox(ctx), &messages.AnswerCallback{CallbackID: c.ID, Text: text, Alert: true})
	}
	if !g.isAuthorized(c.From.ID, c.ChatID) {
		g.o.Observe("button", "refused")
		answer("You are not authorized to use this bot.")
		return
	}
	switch {
	case strings.HasPrefix(c.Data, "c:"):
		parts := strings.Split(c.Data, ":")
		if len(parts) != 3 {
			answer("This button is no longer valid.")
			return
		}
		if _, err := strconv.ParseInt(parts[1], 10, 64); err != nil {
			answer("This button is no longer valid.")
			return
		}
		grains.Send(ctx, messages.SessionKind, parts[1], &messages.CancelTask{TaskID: parts[2], ByUserID: c.From.ID,
			Admin: g.admins[c.From.ID], ChatID: c.ChatID, CallbackID: c.ID})
	case strings.HasPrefix(c.Data, "f:"):
		// f:<user>:<task>:<action>, the file selection of a torrent (-s).
		parts := strings.SplitN(c.Data, ":", 4)
		if len(parts) != 4 {
			answer("This button is no longer valid.")
			return
		}
		if _, err := strconv.ParseInt(parts[1], 10, 64); err != nil {
			answer("This button is no longer valid.")
			return
		}
		grains.Send(ctx, messages.SessionKind, parts[1], &messages.SelectionPressed{TaskID: parts[2],
			ByUserID: c.From.ID, ChatID: c.ChatID, MessageID: c.MessageID, Data: parts[3], CallbackID: c.ID})
	case strings.HasPrefix(c.Data, confirmPrefix):
		g.onConfirmPressed(ctx, c)
	case c.Data == "s:r" || strings.HasPrefix(c.Data, "p:"):
		grains.Send(ctx, messages.ChatKind, strconv.FormatInt(c.ChatID, 10), &messages.BoardButtonPressed{
			ChatID: c.ChatID, MessageID: c.MessageID, Data: c.Data, CallbackID: c.ID})
	default:
		answer("This button is no longer valid.")
		return
	}
	g.o.Observe("button", "ok")
}

// nodesText lists the members for /nodes. The node answering is the one
// that polls Telegram: only the poller sees commands.
func (g *Gateway) nodesText() string {
	nodes := []Node{{Name: "this node", Self: true}}
	if g.o.Nodes != nil {
		nodes = g.o.Nodes()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<b>%d node(s)</b>\n", len(nodes))
	for _, n := range nodes {
		fmt.Fprintf(&b, "🟢 <b>%s</b>", html.EscapeString(n.Name))
		if n.Address != "" {
			fmt.Fprintf(&b, " <code>%s</code>", html.EscapeString(n.Address))
		}
		if n.Self {
			b.WriteString(" · 📡 polls Telegram")
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Describe reports the gateway for the actor tree.
func (g *Gateway) Describe() map[string]any {
	return map[string]any{"bot": g.username, "polling": g.polling, "authorized": len(g.authorized)}
}
