package tgfake

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mymmrac/telego"
	ta "github.com/mymmrac/telego/telegoapi"
	tu "github.com/mymmrac/telego/telegoutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const chat int64 = 2002

// newBot returns a telego bot on net/http talking to s.
func newBot(t *testing.T, s *Server) *telego.Bot {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	bot, err := telego.NewBot(s.Token(), telego.WithAPIServer(s.URL()),
		telego.WithHTTPClient(&http.Client{Transport: tr}), telego.WithDiscardLogger())
	require.NoError(t, err)
	return bot
}

// apiErr extracts telego's *telegoapi.Error.
func apiErr(t *testing.T, err error) *ta.Error {
	t.Helper()
	require.Error(t, err)
	var e *ta.Error
	require.ErrorAs(t, err, &e)
	return e
}

// rawResult is a decoded envelope.
type rawResult struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// do sends a raw request and decodes the envelope.
func do(t *testing.T, req *http.Request) (*http.Response, rawResult) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var r rawResult
	require.NoError(t, json.Unmarshal(body, &r), "body %q", body)
	return resp, r
}

func post(t *testing.T, s *Server, method, contentType string, body io.Reader) (*http.Response, rawResult) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/bot"+s.Token()+"/"+method, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(t, req)
}

func postJSON(t *testing.T, s *Server, method string, params map[string]any) rawResult {
	t.Helper()
	b, err := json.Marshal(params)
	require.NoError(t, err)
	_, r := post(t, s, method, "application/json", bytes.NewReader(b))
	return r
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (s *Server) polling() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.poll != nil
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSendEditDelete(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	ctx := t.Context()
	user := s.PushText(chat, chat, "/start")
	require.Equal(t, 1, user.MessageID)

	kb := tu.InlineKeyboard(tu.InlineKeyboardRow(tu.InlineKeyboardButton("Cancel").WithCallbackData("c:1")))
	msg, err := bot.SendMessage(ctx, tu.Message(tu.ID(chat), "<b>Task</b> &amp; more\n").
		WithParseMode(telego.ModeHTML).WithReplyMarkup(kb))
	require.NoError(t, err)
	require.Equal(t, 2, msg.MessageID, "one id sequence for user and bot messages")
	require.Equal(t, chat, msg.Chat.ID)
	require.Equal(t, "private", msg.Chat.Type)
	require.True(t, msg.From.IsBot)
	require.Equal(t, "mirrorleech_test_bot", msg.From.Username)
	require.Equal(t, "Task & more", msg.Text, "tags stripped, entities decoded, trailing space trimmed")
	require.Equal(t, []telego.MessageEntity{{Type: "bold", Offset: 0, Length: 4}}, msg.Entities)
	require.NotNil(t, msg.ReplyMarkup)
	require.Equal(t, "c:1", msg.ReplyMarkup.InlineKeyboard[0][0].CallbackData)
	require.NotZero(t, msg.Date)

	sent := s.Messages(chat)
	require.Len(t, sent, 1, "only bot messages are listed")
	require.Equal(t, "Task & more", sent[0].Text)
	require.Equal(t, "<b>Task</b> &amp; more\n", sent[0].RawText)
	require.Equal(t, "HTML", sent[0].ParseMode)
	require.Contains(t, sent[0].ReplyMarkup, `"callback_data":"c:1"`)

	// Same content in other words is still "not modified".
	_, err = bot.EditMessageText(ctx, tu.EditMessageText(tu.ID(chat), msg.MessageID, "<strong>Task</strong> &amp; more").
		WithParseMode(telego.ModeHTML).WithReplyMarkup(kb))
	e := apiErr(t, err)
	require.Equal(t, 400, e.ErrorCode)
	require.Equal(t, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message", e.Description)

	edited, err := bot.EditMessageText(ctx, tu.EditMessageText(tu.ID(chat), msg.MessageID, "Done"))
	require.NoError(t, err)
	require.Equal(t, "Done", edited.Text)
	require.NotZero(t, edited.EditDate)
	require.Nil(t, edited.ReplyMarkup, "an edit without reply_markup removes the keyboard")
	sent = s.Messages(chat)
	require.Equal(t, "Done", sent[0].Text)
	require.Equal(t, 1, sent[0].Edits)
	require.Empty(t, sent[0].ReplyMarkup)

	_, err = bot.EditMessageText(ctx, tu.EditMessageText(tu.ID(chat), 99, "x"))
	require.Equal(t, "Bad Request: message to edit not found", apiErr(t, err).Description)
	_, err = bot.EditMessageText(ctx, tu.EditMessageText(tu.ID(chat), user.MessageID, "x"))
	require.Equal(t, "Bad Request: message can't be edited", apiErr(t, err).Description)

	require.NoError(t, bot.DeleteMessage(ctx, tu.Delete(tu.ID(chat), msg.MessageID)))
	require.True(t, s.Messages(chat)[0].Deleted)
	err = bot.DeleteMessage(ctx, tu.Delete(tu.ID(chat), msg.MessageID))
	require.Equal(t, "Bad Request: message to delete not found", apiErr(t, err).Description)
	_, err = bot.EditMessageText(ctx, tu.EditMessageText(tu.ID(chat), msg.MessageID, "again"))
	require.Equal(t, "Bad Request: message to edit not found", apiErr(t, err).Description)

	next := s.PushText(chat, chat, "hi")
	require.Equal(t, 3, next.MessageID)
}

func TestSendMessageValidation(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	tests := []struct {
		name   string
		params *telego.SendMessageParams
		err    string
	}{
		{name: "empty", params: tu.Message(tu.ID(chat), ""), err: "Bad Request: message text is empty"},
		{name: "empty after parsing", params: tu.Message(tu.ID(chat), "<b> </b>").WithParseMode(telego.ModeHTML),
			err: "Bad Request: message text is empty"},
		{name: "4096 characters", params: tu.Message(tu.ID(chat), strings.Repeat("a", 4096))},
		{name: "4097 characters", params: tu.Message(tu.ID(chat), strings.Repeat("a", 4097)), err: "Bad Request: message is too long"},
		{name: "length counted after parsing", params: tu.Message(tu.ID(chat), "<b>"+strings.Repeat("&amp;", 4096)+"</b>").
			WithParseMode(telego.ModeHTML)},
		{name: "4096 UTF-16 units", params: tu.Message(tu.ID(chat), strings.Repeat("😀", 2048))},
		{name: "4098 UTF-16 units", params: tu.Message(tu.ID(chat), strings.Repeat("😀", 2049)), err: "Bad Request: message is too long"},
		{name: "bad HTML", params: tu.Message(tu.ID(chat), "size < 5 MB").WithParseMode(telego.ModeHTML),
			err: `Bad Request: can't parse entities: Unsupported start tag "" at byte offset 5`},
		{name: "unclosed HTML", params: tu.Message(tu.ID(chat), "<b>x").WithParseMode(telego.ModeHTML),
			err: `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{name: "unsupported parse mode", params: tu.Message(tu.ID(chat), "x").WithParseMode("XML"),
			err: "Bad Request: unsupported parse_mode"},
		{name: "callback data 64 bytes", params: tu.Message(tu.ID(chat), "x").WithReplyMarkup(tu.InlineKeyboard(tu.InlineKeyboardRow(
			tu.InlineKeyboardButton("b").WithCallbackData(strings.Repeat("d", 64)))))},
		{name: "callback data 65 bytes", params: tu.Message(tu.ID(chat), "x").WithReplyMarkup(tu.InlineKeyboard(tu.InlineKeyboardRow(
			tu.InlineKeyboardButton("b").WithCallbackData(strings.Repeat("d", 65))))), err: "Bad Request: BUTTON_DATA_INVALID"},
		{name: "callback data counted in bytes", params: tu.Message(tu.ID(chat), "x").WithReplyMarkup(tu.InlineKeyboard(tu.InlineKeyboardRow(
			tu.InlineKeyboardButton("b").WithCallbackData(strings.Repeat("é", 33))))), err: "Bad Request: BUTTON_DATA_INVALID"},
		{name: "button without action", params: tu.Message(tu.ID(chat), "x").WithReplyMarkup(tu.InlineKeyboard(tu.InlineKeyboardRow(
			tu.InlineKeyboardButton("b")))), err: "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
		{name: "reply to missing message", params: tu.Message(tu.ID(chat), "x").WithReplyParameters(&telego.ReplyParameters{MessageID: 77}),
			err: "Bad Request: message to be replied not found"},
		{name: "reply to missing message allowed", params: tu.Message(tu.ID(chat), "x").
			WithReplyParameters(&telego.ReplyParameters{MessageID: 77, AllowSendingWithoutReply: true})},
		{name: "channel username", params: tu.Message(tu.Username("@nobody"), "x"), err: "Bad Request: chat not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bot.SendMessage(t.Context(), tt.params)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			e := apiErr(t, err)
			require.Equal(t, 400, e.ErrorCode)
			require.Equal(t, tt.err, e.Description)
		})
	}
}

func TestReplyIsNestedInMessage(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	link := s.PushText(chat, chat, "look: http://x/y")
	msg, err := bot.SendMessage(t.Context(), tu.Message(tu.ID(chat), "got it").
		WithReplyParameters(&telego.ReplyParameters{MessageID: link.MessageID}))
	require.NoError(t, err)
	require.NotNil(t, msg.ReplyToMessage)
	require.Equal(t, "look: http://x/y", msg.ReplyToMessage.Text)
	require.Equal(t, link.MessageID, s.Messages(chat)[0].ReplyTo)
}

func TestLongPollingReceivesPushedUpdates(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	updates, err := bot.UpdatesViaLongPolling(ctx, &telego.GetUpdatesParams{Timeout: 30,
		AllowedUpdates: []string{"message", "callback_query"}})
	require.NoError(t, err)
	next := func() telego.Update {
		t.Helper()
		select {
		case u := <-updates:
			return u
		case <-time.After(10 * time.Second):
			t.Fatal("no update within 10 s")
			return telego.Update{}
		}
	}

	first := s.PushText(chat, chat, "/leech@mirrorleech_test_bot http://example.com/a", FromName("Ann"))
	u := next()
	require.NotNil(t, u.Message)
	require.Equal(t, first.MessageID, u.Message.MessageID)
	require.Equal(t, "/leech@mirrorleech_test_bot http://example.com/a", u.Message.Text)
	require.Equal(t, []telego.MessageEntity{{Type: "bot_command", Offset: 0, Length: 27}}, u.Message.Entities)
	require.Equal(t, "Ann", u.Message.From.FirstName)
	require.False(t, u.Message.From.IsBot)

	data := []byte(strings.Repeat("document body ", 1000))
	doc := s.PushDocument(chat, chat, "notes.txt", data, "the notes")
	reply := s.PushText(chat, chat, "/leech", ReplyTo(doc.MessageID))
	u = next()
	require.NotNil(t, u.Message.Document)
	require.Equal(t, "notes.txt", u.Message.Document.FileName)
	require.Equal(t, int64(len(data)), u.Message.Document.FileSize)
	require.Equal(t, "the notes", u.Message.Caption)
	u = next()
	require.Equal(t, reply.MessageID, u.Message.MessageID)
	require.NotNil(t, u.Message.ReplyToMessage)
	require.Equal(t, doc.Document.FileID, u.Message.ReplyToMessage.Document.FileID)

	f, err := bot.GetFile(t.Context(), &telego.GetFileParams{FileID: doc.Document.FileID})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(f.FilePath, "documents/file_") && strings.HasSuffix(f.FilePath, ".txt"), f.FilePath)
	body := download(t, bot.FileDownloadURL(f.FilePath))
	require.Equal(t, data, body)

	board, err := bot.SendMessage(t.Context(), tu.Message(tu.ID(chat), "status").WithReplyMarkup(
		tu.InlineKeyboard(tu.InlineKeyboardRow(tu.InlineKeyboardButton("Cancel").WithCallbackData("c:2002:abc")))))
	require.NoError(t, err)
	qid := s.PushCallback(chat, chat, board.MessageID, "c:2002:abc")
	u = next()
	require.NotNil(t, u.CallbackQuery)
	require.Equal(t, qid, u.CallbackQuery.ID)
	require.Equal(t, "c:2002:abc", u.CallbackQuery.Data)
	require.NotEmpty(t, u.CallbackQuery.ChatInstance)
	require.True(t, u.CallbackQuery.Message.IsAccessible())
	require.Equal(t, "status", u.CallbackQuery.Message.Message().Text)

	require.NoError(t, bot.AnswerCallbackQuery(t.Context(), tu.CallbackQuery(qid).WithText("Cancelling")))
	ans, ok := s.Answer(qid)
	require.True(t, ok)
	require.Equal(t, "Cancelling", ans.Text)
	err = bot.AnswerCallbackQuery(t.Context(), tu.CallbackQuery(qid))
	require.Equal(t, "Bad Request: query is too old and response timeout expired or query ID is invalid", apiErr(t, err).Description)

	// The next poll confirms everything delivered so far.
	require.NoError(t, s.WaitFor(waitCtx(t), func(s *Server) bool { return s.PendingUpdates() == 0 }))
	cancel()
	for range updates {
	}
}

func download(t *testing.T, link string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
	require.NoError(t, err)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func TestGetUpdatesOffsetAndLimit(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	ctx := t.Context()
	for i := range 5 {
		s.PushText(chat, chat, fmt.Sprintf("m%d", i))
	}
	ups, err := bot.GetUpdates(ctx, &telego.GetUpdatesParams{Limit: 2})
	require.NoError(t, err)
	require.Len(t, ups, 2)
	require.Equal(t, "m0", ups[0].Message.Text)
	require.Equal(t, ups[0].UpdateID+1, ups[1].UpdateID)
	require.Equal(t, 5, s.PendingUpdates(), "returned updates stay until confirmed")

	ups, err = bot.GetUpdates(ctx, &telego.GetUpdatesParams{Offset: ups[1].UpdateID + 1})
	require.NoError(t, err)
	require.Len(t, ups, 3)
	require.Equal(t, "m2", ups[0].Message.Text)
	require.Equal(t, 3, s.PendingUpdates())

	ups, err = bot.GetUpdates(ctx, &telego.GetUpdatesParams{Offset: -1})
	require.NoError(t, err)
	require.Len(t, ups, 1)
	require.Equal(t, "m4", ups[0].Message.Text)
	require.Equal(t, 1, s.PendingUpdates(), "a negative offset forgets all but the last")

	for i := range 120 {
		s.PushText(chat, chat, fmt.Sprintf("n%d", i))
	}
	ups, err = bot.GetUpdates(ctx, &telego.GetUpdatesParams{Limit: 500})
	require.NoError(t, err)
	require.Len(t, ups, 100, "limit is clamped to 100")
	r := postJSON(t, s, "getUpdates", map[string]any{"limit": -3})
	var raw []json.RawMessage
	require.NoError(t, json.Unmarshal(r.Result, &raw))
	require.Len(t, raw, 1, "limit is clamped to 1")

	// allowed_updates stops callback queries from being created at all.
	_, err = bot.GetUpdates(ctx, &telego.GetUpdatesParams{Offset: -1, AllowedUpdates: []string{"message"}})
	require.NoError(t, err)
	before := s.PendingUpdates()
	s.PushCallback(chat, chat, 1, "x")
	require.Equal(t, before, s.PendingUpdates())
}

func TestLongPollWakesOnPush(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	type result struct {
		ups []telego.Update
		err error
	}
	got := make(chan result, 1)
	start := time.Now()
	go func() {
		ups, err := bot.GetUpdates(t.Context(), &telego.GetUpdatesParams{Timeout: 50})
		got <- result{ups, err}
	}()
	require.NoError(t, s.WaitFor(waitCtx(t), func(s *Server) bool { return s.polling() }))
	s.PushText(chat, chat, "wake up")
	select {
	case r := <-got:
		require.NoError(t, r.err)
		require.Len(t, r.ups, 1)
		require.Less(t, time.Since(start), 5*time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("the poll did not wake up")
	}
}

func TestConcurrentPollsOlderGets409(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	older := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(t.Context(), &telego.GetUpdatesParams{Timeout: 30})
		older <- err
	}()
	require.NoError(t, s.WaitFor(waitCtx(t), func(s *Server) bool { return s.polling() }))
	newer := make(chan []telego.Update, 1)
	go func() {
		ups, err := bot.GetUpdates(t.Context(), &telego.GetUpdatesParams{Timeout: 30})
		if err != nil {
			t.Errorf("the newer poll failed: %v", err)
		}
		newer <- ups
	}()
	select {
	case err := <-older:
		e := apiErr(t, err)
		require.Equal(t, 409, e.ErrorCode)
		require.Equal(t, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", e.Description)
	case <-time.After(10 * time.Second):
		t.Fatal("the older poll was not terminated")
	}
	s.PushText(chat, chat, "for the newer poll")
	select {
	case ups := <-newer:
		require.Len(t, ups, 1)
	case <-time.After(10 * time.Second):
		t.Fatal("the newer poll got nothing")
	}
	calls := s.Calls("getupdates")
	require.Len(t, calls, 2)
	require.Equal(t, 409, calls[0].Status)
	require.Equal(t, 200, calls[1].Status)
}

func TestPollClientDisconnect(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(ctx, &telego.GetUpdatesParams{Timeout: 50})
		done <- err
	}()
	require.NoError(t, s.WaitFor(waitCtx(t), func(s *Server) bool { return s.polling() }))
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.NoError(t, s.WaitFor(waitCtx(t), func(s *Server) bool { return len(s.Calls("getUpdates")) == 1 }))
	c := s.Calls("getUpdates")[0]
	require.Zero(t, c.Status, "nobody was answered")
	require.Less(t, c.Duration, 5*time.Second)
	require.False(t, s.polling())
}

func TestFailNext(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	ctx := t.Context()

	s.FailNext("sendMessage", 1, 429, "", 3)
	_, err := bot.SendMessage(ctx, tu.Message(tu.ID(chat), "x"))
	e := apiErr(t, err)
	require.Equal(t, 429, e.ErrorCode)
	require.Equal(t, "Too Many Requests: retry after 3", e.Description)
	require.NotNil(t, e.Parameters)
	require.Equal(t, 3, e.Parameters.RetryAfter)
	_, err = bot.SendMessage(ctx, tu.Message(tu.ID(chat), "x"))
	require.NoError(t, err, "only one call fails")

	s.FailNext("SENDMESSAGE", 1, 429, "", 7)
	resp, r := post(t, s, "sendMessage", "application/x-www-form-urlencoded", strings.NewReader("chat_id=2002&text=hi"))
	require.Equal(t, 429, resp.StatusCode)
	require.Equal(t, "7", resp.Header.Get("Retry-After"))
	require.Equal(t, 7, r.Parameters.RetryAfter)

	s.FailNext("sendMessage", 2, 500, "", 0)
	for range 2 {
		_, err = bot.SendMessage(ctx, tu.Message(tu.ID(chat), "x"))
		require.ErrorContains(t, err, "internal server error: 500")
		var te *ta.Error
		require.False(t, errors.As(err, &te), "a 5xx is not an API error")
	}

	s.FailNext("getMe", 1, 403, "Forbidden: bot was blocked by the user", 0)
	_, err = bot.GetMe(ctx)
	require.Equal(t, "Forbidden: bot was blocked by the user", apiErr(t, err).Description)

	calls := s.Calls("sendMessage")
	var statuses []int
	for _, c := range calls {
		statuses = append(statuses, c.Status)
	}
	require.Equal(t, []int{429, 200, 429, 500, 500}, statuses)
	require.Equal(t, "hi", calls[2].Params["text"], "a failed call is recorded with its parameters")
	require.Len(t, s.Messages(chat), 1)
}

func TestDropNext(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	s.DropNext("sendMessage", 1)
	_, err := bot.SendMessage(t.Context(), tu.Message(tu.ID(chat), "lost"))
	require.Error(t, err)
	var te *ta.Error
	require.False(t, errors.As(err, &te))
	_, err = bot.SendMessage(t.Context(), tu.Message(tu.ID(chat), "kept"))
	require.NoError(t, err)
	calls := s.Calls("sendMessage")
	require.Len(t, calls, 2)
	require.True(t, calls[0].Dropped)
	require.Equal(t, "lost", calls[0].Params["text"], "the body was read before the drop")
	require.Len(t, s.Messages(chat), 1)
}

func TestFloodEmulation(t *testing.T) {
	s := New(t, Options{Flood: &FloodOptions{PerChat: 1, PerGroup: 2}})
	bot := newBot(t, s)
	ctx := t.Context()
	_, err := bot.SendMessage(ctx, tu.Message(tu.ID(chat), "1"))
	require.NoError(t, err)
	_, err = bot.SendMessage(ctx, tu.Message(tu.ID(chat), "2"))
	e := apiErr(t, err)
	require.Equal(t, 429, e.ErrorCode)
	require.Equal(t, 1, e.Parameters.RetryAfter)
	require.Len(t, s.Messages(chat), 1)

	const group int64 = -100500
	for i := range 2 {
		_, err = bot.SendMessage(ctx, tu.Message(tu.ID(group), "g"))
		require.NoError(t, err, "group message %d", i)
		// Stay under the per-chat limit of one per second without sleeping:
		// shift the recorded send into the past.
		s.mu.Lock()
		for j := range s.flood.chats[group] {
			s.flood.chats[group][j] = s.flood.chats[group][j].Add(-2 * time.Second)
		}
		s.mu.Unlock()
	}
	_, err = bot.SendMessage(ctx, tu.Message(tu.ID(group), "g"))
	e = apiErr(t, err)
	require.Equal(t, 429, e.ErrorCode)
	require.Greater(t, e.Parameters.RetryAfter, 50, "the group window is a minute")
}

func TestSendDocumentMultipart(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	ctx := t.Context()
	data := randomBytes(t, 3<<20+123)
	msg, err := bot.SendDocument(ctx, tu.Document(tu.ID(chat), tu.File(tu.NameReader(bytes.NewReader(data), "big.bin.001"))).
		WithCaption("<b>part 1</b>").WithParseMode(telego.ModeHTML))
	require.NoError(t, err)
	require.NotNil(t, msg.Document)
	require.Equal(t, "big.bin.001", msg.Document.FileName)
	require.Equal(t, int64(len(data)), msg.Document.FileSize)
	require.Equal(t, "part 1", msg.Caption)

	docs := s.Documents(chat)
	require.Len(t, docs, 1)
	require.Equal(t, sha(data), docs[0].SHA256)
	require.Equal(t, "part 1", docs[0].Caption)
	require.Equal(t, msg.MessageID, docs[0].MessageID)
	stored, err := os.ReadFile(docs[0].Path)
	require.NoError(t, err)
	require.Equal(t, data, stored)

	c := s.Calls("sendDocument")[0]
	require.Equal(t, int64(-1), c.ContentLength, "telego streams uploads")
	require.Equal(t, []string{"chunked"}, c.TransferEncoding)
	require.Equal(t, FileInfo{FileName: "big.bin.001", Size: int64(len(data)), SHA256: sha(data)}, c.Files["document"])
	require.Equal(t, "2002", c.Params["chat_id"])

	// Re-sending by file_id reuses the stored file.
	again, err := bot.SendDocument(ctx, tu.Document(tu.ID(chat), tu.FileFromID(msg.Document.FileID)))
	require.NoError(t, err)
	require.Equal(t, msg.Document.FileID, again.Document.FileID)
	require.Equal(t, sha(data), s.Documents(chat)[1].SHA256)
	_, err = bot.SendDocument(ctx, tu.Document(tu.ID(chat), tu.FileFromID("nope")))
	require.Equal(t, "Bad Request: wrong file identifier/HTTP URL specified", apiErr(t, err).Description)

	_, err = bot.SendDocument(ctx, tu.Document(tu.ID(chat), tu.File(tu.NameReader(bytes.NewReader(data[:10]), "x"))).
		WithCaption(strings.Repeat("c", 1025)))
	require.Equal(t, "Bad Request: message caption is too long", apiErr(t, err).Description)
	_, err = bot.SendDocument(ctx, tu.Document(tu.ID(chat), tu.FileFromURL("file:///etc/hostname")))
	require.Equal(t, "Bad Request: wrong remote file identifier specified: Wrong character in the string", apiErr(t, err).Description)

	// The bot's own upload can be fetched back.
	f, err := bot.GetFile(ctx, &telego.GetFileParams{FileID: msg.Document.FileID})
	require.NoError(t, err)
	require.Equal(t, data, download(t, bot.FileDownloadURL(f.FilePath)))
	require.Len(t, s.Calls("file"), 1)
	requireNoLeftoverUploads(t, s)
}

func requireNoLeftoverUploads(t *testing.T, s *Server) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.dir, "uploads"))
	require.NoError(t, err)
	require.Empty(t, entries, "refused uploads are removed")
}

func TestCloudUploadLimit(t *testing.T) {
	s := New(t, Options{})
	s.SetUploadLimit(1 << 20)
	bot := newBot(t, s)
	data := randomBytes(t, 3<<20)
	_, err := bot.SendDocument(t.Context(), tu.Document(tu.ID(chat), tu.File(tu.NameReader(bytes.NewReader(data), "big.bin"))))
	e := apiErr(t, err)
	require.Equal(t, 413, e.ErrorCode)
	require.Equal(t, "Request Entity Too Large", e.Description)
	require.Empty(t, s.Documents(chat))

	// A declared Content-Length over the limit is refused before reading.
	resp, r := post(t, s, "sendDocument", "multipart/form-data; boundary=x", bytes.NewReader(data))
	require.Equal(t, 413, resp.StatusCode)
	require.Equal(t, "Request Entity Too Large", r.Description)
	require.True(t, resp.Close, "the connection is closed after a 413")

	// Just under the limit, multipart overhead included, passes.
	_, err = bot.SendDocument(t.Context(), tu.Document(tu.ID(chat), tu.File(tu.NameReader(bytes.NewReader(data[:1<<20-1000]), "ok.bin"))))
	require.NoError(t, err)
	requireNoLeftoverUploads(t, s)
}

func TestLocalMode(t *testing.T) {
	s := New(t, Options{Local: true})
	bot := newBot(t, s)
	ctx := t.Context()

	src := filepath.Join(t.TempDir(), "my file #1.bin")
	data := randomBytes(t, 200_000)
	require.NoError(t, os.WriteFile(src, data, 0o644))
	msg, err := bot.SendDocument(ctx, tu.Document(tu.ID(chat), tu.FileFromURL((&url.URL{Scheme: "file", Path: src}).String())))
	require.NoError(t, err)
	require.Equal(t, "my file #1.bin", msg.Document.FileName)
	docs := s.Documents(chat)
	require.Len(t, docs, 1)
	require.Equal(t, sha(data), docs[0].SHA256)
	require.NoError(t, os.Remove(src))
	stored, err := os.ReadFile(docs[0].Path)
	require.NoError(t, err, "the fake keeps its own copy")
	require.Equal(t, data, stored)

	f, err := bot.GetFile(ctx, &telego.GetFileParams{FileID: msg.Document.FileID})
	require.NoError(t, err)
	require.Equal(t, src, f.FilePath, "a file:// upload keeps its path")

	pushed := s.PushDocument(chat, chat, "in.txt", []byte("hello"), "")
	f, err = bot.GetFile(ctx, &telego.GetFileParams{FileID: pushed.Document.FileID})
	require.NoError(t, err)
	require.True(t, filepath.IsAbs(f.FilePath))
	b, err := os.ReadFile(f.FilePath)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, bot.FileDownloadURL(f.FilePath), nil)
	require.NoError(t, err)
	resp, _ := do(t, req)
	require.Equal(t, 404, resp.StatusCode, "a local server serves no files")

	// The local limit applies per file while the part streams.
	s.SetUploadLimit(100_000)
	_, err = bot.SendDocument(ctx, tu.Document(tu.ID(chat), tu.File(tu.NameReader(bytes.NewReader(data), "big.bin"))))
	e := apiErr(t, err)
	require.Equal(t, 413, e.ErrorCode)
	require.True(t, strings.HasPrefix(e.Description, "Request Entity Too Large: file of size "), e.Description)
	requireNoLeftoverUploads(t, s)
}

func TestGetFileLimit(t *testing.T) {
	s := New(t, Options{DownloadLimit: 1000})
	bot := newBot(t, s)
	big := s.PushDocument(chat, chat, "big.bin", randomBytes(t, 1001), "")
	_, err := bot.GetFile(t.Context(), &telego.GetFileParams{FileID: big.Document.FileID})
	e := apiErr(t, err)
	require.Equal(t, 400, e.ErrorCode)
	require.Equal(t, "Bad Request: file is too big", e.Description)

	small := randomBytes(t, 1000)
	ok := s.PushDocument(chat, chat, "small.bin", small, "")
	f, err := bot.GetFile(t.Context(), &telego.GetFileParams{FileID: ok.Document.FileID})
	require.NoError(t, err)
	require.Equal(t, int64(1000), f.FileSize)
	require.Equal(t, small, download(t, bot.FileDownloadURL(f.FilePath)))

	_, err = bot.GetFile(t.Context(), &telego.GetFileParams{FileID: "unknown"})
	require.Equal(t, "Bad Request: invalid file_id", apiErr(t, err).Description)

	path := filepath.Join(t.TempDir(), "pushed.iso")
	require.NoError(t, os.WriteFile(path, small[:10], 0o644))
	m := s.PushDocumentFile(chat, chat, path, "")
	require.Equal(t, "pushed.iso", m.Document.FileName)
	f, err = bot.GetFile(t.Context(), &telego.GetFileParams{FileID: m.Document.FileID})
	require.NoError(t, err)
	require.Equal(t, small[:10], download(t, bot.FileDownloadURL(f.FilePath)))
}

func TestSendDocumentByURL(t *testing.T) {
	pdf := randomBytes(t, 5000)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/doc.pdf" {
			w.Header().Set("Content-Type", "application/pdf")
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		_, _ = w.Write(pdf)
	}))
	defer origin.Close()
	s := New(t, Options{})
	bot := newBot(t, s)
	msg, err := bot.SendDocument(t.Context(), tu.Document(tu.ID(chat), tu.FileFromURL(origin.URL+"/doc.pdf")))
	require.NoError(t, err)
	require.Equal(t, "doc.pdf", msg.Document.FileName)
	require.Equal(t, sha(pdf), s.Documents(chat)[0].SHA256)
	_, err = bot.SendDocument(t.Context(), tu.Document(tu.ID(chat), tu.FileFromURL(origin.URL+"/x.bin")))
	require.Equal(t, "Bad Request: wrong type of the web page content", apiErr(t, err).Description)
}

func TestTransport(t *testing.T) {
	s := New(t, Options{})
	get := func(path string) (*http.Response, rawResult) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+path, nil)
		require.NoError(t, err)
		return do(t, req)
	}

	resp, r := get("/bot123456:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB/getMe")
	require.Equal(t, 401, resp.StatusCode)
	require.Equal(t, rawResult{ErrorCode: 401, Description: "Unauthorized"}, r)

	resp, r = get("/bot" + s.Token() + "/sendPhotoz")
	require.Equal(t, 404, resp.StatusCode)
	require.Equal(t, "Not Found: method not found", r.Description)

	resp, r = get("/bot" + s.Token() + "/GETME")
	require.Equal(t, 200, resp.StatusCode)
	require.True(t, r.OK)
	var me User
	require.NoError(t, json.Unmarshal(r.Result, &me))
	require.Equal(t, User{ID: 123456, IsBot: true, FirstName: "Mirrorleech Test", Username: "mirrorleech_test_bot", CanJoinGroups: true}, me)

	resp, r = get("/bot" + s.Token() + "/test/sendmessage?chat_id=2002&text=query")
	require.Equal(t, 200, resp.StatusCode, r.Description)
	_, r = post(t, s, "sendMessage", "application/x-www-form-urlencoded", strings.NewReader("chat_id=2002&text=form"))
	require.True(t, r.OK)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"chat_id":2002,"text":"gzip","disable_notification":true}`))
	require.NoError(t, zw.Close())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/bot"+s.Token()+"/sendMessage", &gz)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	_, r = do(t, req)
	require.True(t, r.OK, r.Description)

	// An io.Reader of unknown length makes net/http send a chunked body.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"chat_id":2002,`))
		_, _ = pw.Write([]byte(`"text":"chunked"}`))
		_ = pw.Close()
	}()
	_, r = post(t, s, "sendMessage", "application/json", pr)
	require.True(t, r.OK, r.Description)

	var texts []string
	for _, m := range s.Messages(chat) {
		texts = append(texts, m.Text)
	}
	require.Equal(t, []string{"query", "form", "gzip", "chunked"}, texts)
	calls := s.Calls("sendMessage")
	require.Equal(t, "true", calls[2].Params["disable_notification"], "JSON values keep their JSON text")
	require.Equal(t, "2002", calls[2].Params["chat_id"])
	require.Equal(t, []string{"chunked"}, calls[3].TransferEncoding)
	require.Len(t, s.Calls("getMe", "SENDMESSAGE"), 6)

	resp, _ = get("/nothing")
	require.Equal(t, 404, resp.StatusCode)
}

func TestCommands(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	cmds := []telego.BotCommand{{Command: "leech", Description: "Leech a link"}, {Command: "status", Description: "Show tasks"}}
	require.NoError(t, bot.SetMyCommands(t.Context(), &telego.SetMyCommandsParams{Commands: cmds}))
	got, err := bot.GetMyCommands(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, cmds, got)
	require.Equal(t, []BotCommand{{"leech", "Leech a link"}, {"status", "Show tasks"}}, s.Commands())
	err = bot.SetMyCommands(t.Context(), &telego.SetMyCommandsParams{Commands: []telego.BotCommand{{Command: "Bad-Cmd", Description: "x"}}})
	require.Equal(t, "Bad Request: BOT_COMMAND_INVALID", apiErr(t, err).Description)
	require.NoError(t, bot.DeleteWebhook(t.Context(), &telego.DeleteWebhookParams{DropPendingUpdates: true}))
}

func TestWaitFor(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	go func() {
		_, _ = bot.SendMessage(context.Background(), tu.Message(tu.ID(chat), "async"))
	}()
	require.NoError(t, s.WaitFor(waitCtx(t), func(s *Server) bool {
		m := s.Messages(chat)
		return len(m) == 1 && m[0].Text == "async"
	}))
	// Wait for the call record too, so the goroutine is done before goleak.
	require.NoError(t, s.WaitFor(waitCtx(t), func(s *Server) bool { return len(s.Calls("sendMessage")) == 1 }))

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := s.WaitFor(ctx, func(*Server) bool { return false })
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestCloseAnswersPendingPoll(t *testing.T) {
	s := New(t, Options{})
	bot := newBot(t, s)
	done := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(t.Context(), &telego.GetUpdatesParams{Timeout: 50})
		done <- err
	}()
	require.NoError(t, s.WaitFor(waitCtx(t), func(s *Server) bool { return s.polling() }))
	start := time.Now()
	s.Close()
	require.Less(t, time.Since(start), 5*time.Second)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the poll did not return after Close")
	}
}
