package outbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/flood"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/tgtext"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

type sentCall struct {
	method string
	chat   int64
	text   string
	at     time.Time
}

// fakeSender records calls and fails them as scripted.
type fakeSender struct {
	mu      sync.Mutex
	calls   []sentCall
	fail    map[string][]error // method → errors for the next calls
	block   chan struct{}      // SendDocument waits on it (or ctx)
	nextID  int
	started chan struct{}
}

func (f *fakeSender) record(method string, chat int64, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, sentCall{method: method, chat: chat, text: text, at: time.Now()})
	if errs := f.fail[method]; len(errs) > 0 {
		f.fail[method] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeSender) id() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	return f.nextID
}

func (f *fakeSender) SendText(_ context.Context, t tgapi.Text) (int, error) {
	if err := f.record("sendMessage", t.ChatID, t.Text); err != nil {
		return 0, err
	}
	return f.id(), nil
}

func (f *fakeSender) EditText(_ context.Context, chat int64, _ int, text string, _ bool, _ tgapi.Keyboard) error {
	if f.started != nil {
		f.started <- struct{}{}
		<-f.block
	}
	return f.record("editMessageText", chat, text)
}

func (f *fakeSender) DeleteMessage(_ context.Context, chat int64, _ int) error {
	return f.record("deleteMessage", chat, "")
}

func (f *fakeSender) AnswerCallback(context.Context, string, string, bool) error {
	return f.record("answerCallbackQuery", 0, "")
}

func (f *fakeSender) SendDocument(ctx context.Context, u tgapi.Upload, progress func(int64)) (int, error) {
	if f.block != nil && f.started != nil {
		f.started <- struct{}{}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-f.block:
		}
	}
	progress(u.Length)
	if err := f.record("sendDocument", u.ChatID, u.FileName); err != nil {
		return 0, err
	}
	return f.id(), nil
}

func (f *fakeSender) methodCalls(method string) []sentCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentCall
	for _, c := range f.calls {
		if c.method == method {
			out = append(out, c)
		}
	}
	return out
}

// client is a test actor that forwards every answer to a channel.
func client(t *testing.T, sys *actor.ActorSystem) (*actor.PID, chan any) {
	ch := make(chan any, 64)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *messages.TextSent, *messages.TextEdited, *messages.DocumentSent, *messages.SendFailed:
			ch <- m
		case *messages.DocumentProgressed:
		case request:
			ctx.Request(m.to, m.msg)
		}
	}))
	return pid, ch
}

type request struct {
	to  *actor.PID
	msg any
}

func await(t *testing.T, ch chan any) any {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no answer from the outbox")
		return nil
	}
}

func setup(t *testing.T, f *fakeSender, fc flood.Config) (*actor.ActorSystem, *actor.PID) {
	t.Helper()
	sys := actor.NewActorSystem()
	if f.fail == nil {
		f.fail = map[string][]error{}
	}
	box, err := sys.Root.SpawnNamed(Props(Options{Sender: f, Flood: fc}), messages.OutboxName)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = sys.Root.PoisonFuture(box).Wait()
		sys.Shutdown()
	})
	return sys, box
}

func TestPerChatSpacing(t *testing.T) {
	f := &fakeSender{}
	sys, box := setup(t, f, flood.Config{PerChat: 300 * time.Millisecond})
	c, ch := client(t, sys)
	for i := 0; i < 3; i++ {
		sys.Root.Send(c, request{to: box, msg: &messages.SendText{ChatID: 5, Text: "x"}})
	}
	for i := 0; i < 3; i++ {
		require.IsType(t, &messages.TextSent{}, await(t, ch))
	}
	calls := f.methodCalls("sendMessage")
	require.Len(t, calls, 3)
	for i := 1; i < 3; i++ {
		require.GreaterOrEqual(t, calls[i].at.Sub(calls[i-1].at), 290*time.Millisecond)
	}
}

func TestFloodWaitRetriesOnceAfterRetryAfter(t *testing.T) {
	f := &fakeSender{fail: map[string][]error{
		"sendDocument": {&tgapi.APIError{Method: "sendDocument", Code: 429, Description: "Too Many Requests: retry after 1", RetryAfter: time.Second}},
	}}
	sys, box := setup(t, f, flood.Config{Jitter: -1})
	c, ch := client(t, sys)
	sys.Root.Send(c, request{to: box, msg: &messages.SendDocument{RequestID: "r1", ChatID: 7, Path: "p", Length: 10, FileName: "a.bin"}})
	sent := await(t, ch).(*messages.DocumentSent)
	require.Equal(t, "r1", sent.RequestID)
	calls := f.methodCalls("sendDocument")
	require.Len(t, calls, 2, "the refused call and exactly one retry")
	require.GreaterOrEqual(t, calls[1].at.Sub(calls[0].at), time.Second, "never earlier than retry_after")
}

func TestTransientTextErrorsAreRetriedThenReported(t *testing.T) {
	boom := &tgapi.TransportError{Method: "sendMessage", Status: 502, Err: errors.New("bad gateway")}
	f := &fakeSender{fail: map[string][]error{"sendMessage": {boom, boom, boom, boom}}}
	sys, box := setup(t, f, flood.Config{PerChat: time.Millisecond})
	c, ch := client(t, sys)
	sys.Root.Send(c, request{to: box, msg: &messages.SendText{ChatID: 1, Text: "hi"}})
	failed := await(t, ch).(*messages.SendFailed)
	require.ErrorAs(t, failed.Err, new(*tgapi.TransportError))
	require.Len(t, f.methodCalls("sendMessage"), 1+textRetries)
}

func TestPendingEditsCoalesce(t *testing.T) {
	f := &fakeSender{block: make(chan struct{}), started: make(chan struct{}, 8)}
	sys, box := setup(t, f, flood.Config{PerChat: time.Millisecond})
	c, ch := client(t, sys)
	sys.Root.Send(c, request{to: box, msg: &messages.EditText{ChatID: 3, MessageID: 9, Text: "v0"}})
	<-f.started // v0 is in flight; the next ones queue behind it
	for _, v := range []string{"v1", "v2", "v3"} {
		sys.Root.Send(c, request{to: box, msg: &messages.EditText{ChatID: 3, MessageID: 9, Text: v}})
	}
	time.Sleep(100 * time.Millisecond)
	f.block <- struct{}{}
	<-f.started
	f.block <- struct{}{}
	require.IsType(t, &messages.TextEdited{}, await(t, ch))
	require.IsType(t, &messages.TextEdited{}, await(t, ch))
	calls := f.methodCalls("editMessageText")
	require.Len(t, calls, 2, "three queued edits of one message collapse into one")
	require.Equal(t, "v3", calls[1].text, "the newest text wins")
}

func TestAbortSendCancelsUpload(t *testing.T) {
	f := &fakeSender{block: make(chan struct{}), started: make(chan struct{}, 1)}
	sys, box := setup(t, f, flood.Config{})
	c, _ := client(t, sys)
	sys.Root.Send(c, request{to: box, msg: &messages.SendDocument{RequestID: "up", ChatID: 2, Length: 1, FileName: "x"}})
	<-f.started
	sys.Root.Send(box, &messages.AbortSend{RequestID: "up"})
	require.Eventually(t, func() bool {
		res, err := sys.Root.RequestFuture(box, &messages.SendText{ChatID: 99, Text: "after"}, 5*time.Second).Result()
		return err == nil && res != nil
	}, 10*time.Second, 50*time.Millisecond, "the outbox keeps serving")
	require.Empty(t, f.methodCalls("sendDocument"), "the aborted upload was never completed")
}

// gate is a cluster limiter that holds every send for a fixed time and
// records who asked.
type gate struct {
	mu    sync.Mutex
	chats []int64
	hold  time.Duration
	err   error
}

func (g *gate) Wait(ctx context.Context, chatID int64) error {
	g.mu.Lock()
	g.chats = append(g.chats, chatID)
	g.mu.Unlock()
	select {
	case <-time.After(g.hold):
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.err
}

// Counted calls wait for the cluster-wide reservation; callback answers
// (not counted by Telegram's limits) do not; a failing gate does not stop
// the send.
func TestSharedGateHoldsCountedCalls(t *testing.T) {
	for _, failing := range []bool{false, true} {
		f := &fakeSender{fail: map[string][]error{}}
		g := &gate{hold: 300 * time.Millisecond}
		if failing {
			g.err = errors.New("redis down")
		}
		sys := actor.NewActorSystem()
		box, err := sys.Root.SpawnNamed(Props(Options{Sender: f, Shared: g, Flood: flood.Config{PerChat: -1}}), messages.OutboxName)
		require.NoError(t, err)
		c, ch := client(t, sys)
		start := time.Now()
		sys.Root.Send(box, &messages.AnswerCallback{CallbackID: "q"})
		sys.Root.Send(c, request{to: box, msg: &messages.SendText{ChatID: 9, Text: "x"}})
		require.IsType(t, &messages.TextSent{}, await(t, ch))
		require.GreaterOrEqual(t, time.Since(start), 290*time.Millisecond, "the text waited for the gate")
		g.mu.Lock()
		require.Equal(t, []int64{9}, g.chats, "only the counted call asked the gate")
		g.mu.Unlock()
		require.Len(t, f.methodCalls("answerCallbackQuery"), 1)
		_ = sys.Root.PoisonFuture(box).Wait()
		sys.Shutdown()
	}
}

// A text over Telegram's limit is fitted before it is sent, so the Bot API
// accepts it (tgfake refuses > 4096 characters after entity parsing, as
// Telegram does) instead of the message being lost; so is a caption.
func TestLongTextsAreSentFitted(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	api, err := tgapi.New(tgapi.Options{Token: tg.Token(), APIURL: tg.URL()})
	require.NoError(t, err)
	t.Cleanup(api.Close)
	sys := actor.NewActorSystem()
	box, err := sys.Root.SpawnNamed(Props(Options{Sender: api, Flood: flood.Config{PerChat: -1}}), messages.OutboxName)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = sys.Root.PoisonFuture(box).Wait()
		sys.Shutdown()
	})
	c, ch := client(t, sys)

	// 5,000 characters of HTML, escapes and tags included, cut amid an entity.
	text := "<b>❌ " + strings.Repeat("a&amp;b", 1500) + "</b> failed: <code>" + strings.Repeat("&lt;x&gt;", 200) + "</code>"
	require.Greater(t, tgtext.HTMLLen(text), 5000)
	sys.Root.Send(c, request{to: box, msg: &messages.SendText{ChatID: 11, Text: text, HTML: true}})
	ans := await(t, ch)
	require.IsType(t, &messages.TextSent{}, ans, "the text was refused: %+v", ans)
	sent := ans.(*messages.TextSent)
	msgs := tg.Messages(11)
	require.Len(t, msgs, 1)
	require.Equal(t, sent.MessageID, msgs[0].MessageID)
	require.Equal(t, tgtext.MaxText, utf16Len(msgs[0].Text), "fitted to the limit exactly")
	require.True(t, strings.HasPrefix(msgs[0].Text, "❌ a&ba&b"))
	require.True(t, strings.HasSuffix(msgs[0].Text, tgtext.Ellipsis))

	// An edit too.
	sys.Root.Send(c, request{to: box, msg: &messages.EditText{ChatID: 11, MessageID: sent.MessageID, Text: "<i>edited</i> " + text, HTML: true}})
	require.IsType(t, &messages.TextEdited{}, await(t, ch))

	// A caption: 1024.
	file := filepath.Join(t.TempDir(), "f.bin")
	require.NoError(t, os.WriteFile(file, []byte("data"), 0o644))
	caption := "<code>" + strings.Repeat("n&amp;", 700) + "</code>\npart 1 of 2"
	sys.Root.Send(c, request{to: box, msg: &messages.SendDocument{RequestID: "d", ChatID: 11, Path: file, Length: 4,
		FileName: "f.bin", Caption: caption, HTML: true}})
	require.IsType(t, &messages.DocumentSent{}, await(t, ch))
	docs := tg.Documents(11)
	require.Len(t, docs, 1)
	require.LessOrEqual(t, utf16Len(docs[0].Caption), tgtext.MaxCaption)
	require.Greater(t, utf16Len(docs[0].Caption), tgtext.MaxCaption-5)
	for _, c := range tg.Calls("sendMessage", "editMessageText", "sendDocument") {
		require.Equal(t, 200, c.Status, "%s accepted", c.Method)
	}
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
