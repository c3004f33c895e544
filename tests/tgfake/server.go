package tgfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Limits of the real Bot API the fake enforces by default.
const (
	// CloudUploadLimit is the cloud request body limit: 50 MB, counted over
	// the whole multipart body.
	CloudUploadLimit int64 = 50_000_000
	// LocalUploadLimit is the per-file limit of telegram-bot-api --local
	// (TDLib's MAX_FILE_SIZE, 2000 MiB).
	LocalUploadLimit int64 = 2000 << 20
	// CloudDownloadLimit is the largest file getFile serves in cloud mode.
	CloudDownloadLimit int64 = 20 << 20

	maxTextLen    = 4096
	maxCaptionLen = 1024
	maxAnswerLen  = 200
	// maxParamsBody caps JSON and urlencoded bodies and each multipart
	// non-file field.
	maxParamsBody = 1 << 20
	maxPollWait   = 50 * time.Second
	stopWait      = 10 * time.Second
)

// Options configures a Server. The zero value is a cloud-mode server with a
// realistic token.
type Options struct {
	// Token is the only token the server accepts; other tokens get 401.
	// Default: "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi".
	Token string
	// Local emulates telegram-bot-api --local: 2000 MiB per uploaded file,
	// file:// uploads, absolute getFile paths with no size limit, and no
	// /file/ downloads. Otherwise the cloud limits apply.
	Local bool
	// Dir holds uploaded and pushed files. Default: t.TempDir().
	Dir string
	// Flood enables flood control emulation; nil disables it.
	Flood *FloodOptions
	// BotUsername is the bot's username in getMe. Default:
	// "mirrorleech_test_bot".
	BotUsername string
	// BotName is the bot's first_name. Default: "Mirrorleech Test".
	BotName string
	// UploadLimit overrides the mode's upload limit (see CloudUploadLimit and
	// LocalUploadLimit) when positive.
	UploadLimit int64
	// DownloadLimit overrides the cloud getFile limit (CloudDownloadLimit)
	// when positive; in local mode it limits getFile too when set.
	DownloadLimit int64
	// StrictChats makes sends to chats nobody pushed a message in fail with
	// 400 "Bad Request: chat not found", as for users who never started
	// the bot. By default every chat id is accepted.
	StrictChats bool
	// Logger receives one debug record per call. Default: discard.
	Logger *slog.Logger
}

// FloodOptions sets the emulated flood limits. A zero field disables that
// limit. Sends and edits count; a refused call does not.
type FloodOptions struct {
	// PerChat is the number of messages per second allowed in one chat.
	PerChat int
	// PerGroup is the number of messages per minute allowed in one group
	// (negative chat id).
	PerGroup int
	// Global is the number of messages per second allowed over all chats.
	Global int
}

// Call is one request the bot made, recorded when its answer was decided.
type Call struct {
	// Method is the canonical method name ("sendMessage"), whatever the
	// case in the URL; "file" for a GET /file/ download.
	Method string
	// Params are the non-file parameters from the query and the body.
	// JSON values other than strings are kept as their JSON text.
	Params map[string]string
	// Files are the uploaded file parts by form field name.
	Files map[string]FileInfo
	// Status is the HTTP status answered; 0 when the client went away or the
	// connection was dropped on purpose (Dropped).
	Status int
	// Description is the error description of a failed call.
	Description string
	// Time is when the request arrived; Duration how long it took.
	Time     time.Time
	Duration time.Duration
	// ContentLength and TransferEncoding are the request's, to check how a
	// client streamed its body (-1 and ["chunked"] for a streamed upload).
	ContentLength    int64
	TransferEncoding []string
	// Dropped is set when DropNext closed the connection without an answer.
	Dropped bool
}

// FileInfo describes one uploaded file part.
type FileInfo struct {
	// FileName is the part's filename exactly as sent.
	FileName string
	Size     int64
	SHA256   string
}

// SentMessage is a message the bot sent, in its current state.
type SentMessage struct {
	ChatID    int64
	MessageID int
	// Text is the current text as the user sees it: HTML tags removed and
	// entities decoded. Empty for media messages (see Document.Caption).
	Text string
	// RawText is the current text or caption exactly as the bot sent it.
	RawText   string
	ParseMode string
	// Entities are the formatting entities of Text (or of the caption).
	Entities []MessageEntity
	// ReplyMarkup is the current reply_markup JSON as sent, "" for none.
	ReplyMarkup string
	// ReplyTo is the id of the message this one replies to, 0 for none.
	ReplyTo  int
	Deleted  bool
	Edits    int
	Document *SentDocument
	Time     time.Time
	EditTime time.Time
}

// SentDocument is a file the bot sent (document, video, audio or
// animation).
type SentDocument struct {
	// Kind is "document", "video", "audio" or "animation".
	Kind      string
	MessageID int
	// FileName is the name as sent (the multipart filename or the URL's
	// last segment).
	FileName string
	MimeType string
	Size     int64
	SHA256   string
	// Path is the fake's copy of the content on disk.
	Path string
	// Caption is the current caption as the user sees it.
	Caption string
	FileID  string
}

// CallbackAnswer is what the bot answered to a callback query.
type CallbackAnswer struct {
	Text      string
	ShowAlert bool
	URL       string
	Time      time.Time
}

// Server is a fake Telegram Bot API server on a loopback port.
type Server struct {
	t     testing.TB
	opts  Options
	token string
	botID int64
	dir   string
	url   string
	log   *slog.Logger
	srv   *http.Server
	// fetcher downloads files sent by HTTP URL, as Telegram does.
	fetcher *http.Client
	done    chan struct{}

	mu            sync.Mutex
	closed        bool
	handlers      sync.WaitGroup
	changed       chan struct{}
	uploadLimit   int64
	downloadLimit int64
	chats         map[int64]*chatState
	queue         []Update
	nextUpdateID  int
	allowed       map[string]bool
	poll          *poller
	queries       map[string]*queryState
	nextQuery     int64
	files         map[string]*fileRecord
	cloudPaths    map[string]*fileRecord
	nextFile      int
	calls         []Call
	faults        map[string][]fault
	commands      map[string][]BotCommand
	flood         floodState
}

// chatState is one chat: its message id sequence is shared by user and bot
// messages, as in Telegram.
type chatState struct {
	chat   Chat
	nextID int
	msgs   map[int]*storedMsg
	order  []int
}

// storedMsg is a message with the bookkeeping around its wire form.
type storedMsg struct {
	msg       Message
	bot       bool
	raw       string
	parseMode string
	markup    string
	canon     string
	replyTo   int
	deleted   bool
	edits     int
	media     *SentDocument
	sentAt    time.Time
	editedAt  time.Time
}

type queryState struct {
	answered bool
	answer   CallbackAnswer
}

type poller struct {
	kicked chan struct{}
}

type fault struct {
	n          int
	code       int
	desc       string
	retryAfter int
	drop       bool
}

// apiError is a failed call. gone means the client disappeared and nothing
// is written; drop closes the connection without an answer.
type apiError struct {
	code       int
	desc       string
	retryAfter int
	gone       bool
	drop       bool
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

// described is a successful result that carries a description, as
// deleteWebhook's "Webhook is already deleted".
type described struct {
	result any
	desc   string
}

// New starts a fake Bot API server on 127.0.0.1 and stops it when the test
// ends. It fails the test if the server cannot start.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Token == "" {
		o.Token = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
	}
	if o.BotUsername == "" {
		o.BotUsername = "mirrorleech_test_bot"
	}
	if o.BotName == "" {
		o.BotName = "Mirrorleech Test"
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	// Local-mode file paths must be absolute, like the real server's.
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		t.Fatalf("tgfake: resolving the file folder: %v", err)
	}
	o.Dir = dir
	idText, _, _ := strings.Cut(o.Token, ":")
	botID, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		t.Fatalf("tgfake: the token does not start with a numeric bot id")
	}
	for _, sub := range []string{"uploads", "files"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, sub), 0o755); err != nil {
			t.Fatalf("tgfake: creating the file folder: %v", err)
		}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		t: t, opts: o, token: o.Token, botID: botID, dir: o.Dir, log: log,
		fetcher:    &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		done:       make(chan struct{}),
		changed:    make(chan struct{}),
		chats:      map[int64]*chatState{},
		queries:    map[string]*queryState{},
		files:      map[string]*fileRecord{},
		cloudPaths: map[string]*fileRecord{},
		faults:     map[string][]fault{},
		commands:   map[string][]BotCommand{},
		flood:      floodState{chats: map[int64][]time.Time{}, groups: map[int64][]time.Time{}},
		// Update ids start high like Telegram's, which never starts at 1.
		nextUpdateID:  850_000_000,
		uploadLimit:   CloudUploadLimit,
		downloadLimit: CloudDownloadLimit,
	}
	if o.Local {
		s.uploadLimit, s.downloadLimit = LocalUploadLimit, 0
	}
	if o.UploadLimit > 0 {
		s.uploadLimit = o.UploadLimit
	}
	if o.DownloadLimit > 0 {
		s.downloadLimit = o.DownloadLimit
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tgfake: listening: %v", err)
	}
	s.url = "http://" + l.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.t.Errorf("tgfake: serving: %v", err)
		}
	}()
	t.Cleanup(s.Close)
	return s
}

// URL is the base URL to use as the Bot API server (telego.WithAPIServer,
// TELEGRAM_API_URL), without a trailing slash.
func (s *Server) URL() string { return s.url }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// BotID is the bot's user id (the token's numeric prefix).
func (s *Server) BotID() int64 { return s.botID }

// Close stops the server: pending long polls answer with no updates, open
// connections are closed, and Close waits for the handlers to return. It is
// idempotent and also runs at the end of the test.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.notifyLocked()
	s.mu.Unlock()
	// Give answered long polls a moment to flush before the connections go.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_ = s.srv.Shutdown(ctx)
	cancel()
	_ = s.srv.Close()
	finished := make(chan struct{})
	go func() {
		s.handlers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(stopWait):
		s.t.Errorf("tgfake: handlers still running %s after Close", stopWait)
	}
	s.fetcher.CloseIdleConnections()
}

// enter registers a running handler unless the server is closed. Add runs
// under the lock and only before Close sets closed, so it never races with
// the Wait in Close.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

// notifyLocked wakes every WaitFor and long poll. Callers hold s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor calls cond until it returns true, again after every recorded
// change (a call, a message, an update), and returns ctx.Err() when ctx ends
// first. ctx.Err() is returned as is, so that callers can compare it with
// context.DeadlineExceeded. cond may call the Server's accessors.
func (s *Server) WaitFor(ctx context.Context, cond func(*Server) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// SetUploadLimit changes the upload limit: the whole request body in cloud
// mode, each file in local mode.
func (s *Server) SetUploadLimit(bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploadLimit = bytes
}

// SetDownloadLimit changes the largest file getFile serves (0 = no limit).
func (s *Server) SetDownloadLimit(bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downloadLimit = bytes
}

// FailNext makes the next n calls of method (any case) fail with code and
// description. 429 sets parameters.retry_after and the Retry-After header
// (description defaults to "Too Many Requests: retry after N"); a code of
// 500 or more answers a plain-text body, as Telegram's front end does. The
// request body is read first, so the call is recorded with its parameters.
func (s *Server) FailNext(method string, n int, code int, description string, retryAfter int) {
	if code < 400 || n <= 0 {
		s.t.Errorf("tgfake: FailNext(%q, %d, %d): n must be positive and code at least 400", method, n, code)
		return
	}
	if description == "" {
		switch code {
		case http.StatusTooManyRequests:
			description = fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
		default:
			description = http.StatusText(code)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	s.faults[key] = append(s.faults[key], fault{n: n, code: code, desc: description, retryAfter: retryAfter})
}

// DropNext makes the next n calls of method close the connection without an
// answer, after reading the request body.
func (s *Server) DropNext(method string, n int) {
	if n <= 0 {
		s.t.Errorf("tgfake: DropNext(%q, %d): n must be positive", method, n)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	s.faults[key] = append(s.faults[key], fault{n: n, drop: true})
}

// ClearFaults removes every fault still queued for method: the end of an
// outage that FailNext started with a large n.
func (s *Server) ClearFaults(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, strings.ToLower(method))
}

// takeFault consumes one injected fault for method, if any.
func (s *Server) takeFault(method string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	q := s.faults[key]
	if len(q) == 0 {
		return nil
	}
	f := q[0]
	if q[0].n--; q[0].n == 0 {
		s.faults[key] = q[1:]
	}
	if f.drop {
		return &apiError{drop: true}
	}
	return &apiError{code: f.code, desc: f.desc, retryAfter: f.retryAfter}
}

// Calls returns the recorded calls in the order they were answered, only
// those of the given methods (any case) when some are named.
func (s *Server) Calls(method ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(method) > 0 && !containsFold(method, c.Method) {
			continue
		}
		c.Params, c.Files = maps.Clone(c.Params), maps.Clone(c.Files)
		out = append(out, c)
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Messages returns the messages the bot sent to chatID in order, deleted
// ones included (Deleted set), each in its current state.
func (s *Server) Messages(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	var out []SentMessage
	for _, id := range c.order {
		if m := c.msgs[id]; m.bot {
			out = append(out, m.sent())
		}
	}
	return out
}

// Documents returns the files the bot sent to chatID, in send order.
func (s *Server) Documents(chatID int64) []SentDocument {
	var out []SentDocument
	for _, m := range s.Messages(chatID) {
		if m.Document != nil {
			out = append(out, *m.Document)
		}
	}
	return out
}

// Answer returns the bot's answer to a callback query and whether it
// answered.
func (s *Server) Answer(queryID string) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queries[queryID]
	if q == nil || !q.answered {
		return CallbackAnswer{}, false
	}
	return q.answer, true
}

// Commands returns the command list set for the default scope and no
// language.
func (s *Server) Commands() []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.commands[commandsKey("", "")]...)
}

// PendingUpdates is the number of updates not yet confirmed by an offset.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

func (m *storedMsg) sent() SentMessage {
	out := SentMessage{
		ChatID: m.msg.Chat.ID, MessageID: m.msg.MessageID, Text: m.msg.Text, RawText: m.raw,
		ParseMode: m.parseMode, ReplyMarkup: m.markup, ReplyTo: m.replyTo, Deleted: m.deleted,
		Edits: m.edits, Time: m.sentAt, EditTime: m.editedAt,
	}
	out.Entities = append(out.Entities, m.msg.Entities...)
	if m.media != nil {
		d := *m.media
		d.Caption = m.msg.Caption
		out.Document = &d
		out.Entities = append(out.Entities, m.msg.CaptionEntities...)
	}
	return out
}

// ServeHTTP serves the Bot API (/bot<token>/<method>) and, in cloud mode,
// file downloads (/file/bot<token>/<path>).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "tgfake: stopped", http.StatusServiceUnavailable)
		return
	}
	defer s.handlers.Done()
	switch {
	case strings.HasPrefix(r.URL.Path, "/file/bot"):
		s.serveFile(w, r)
	case strings.HasPrefix(r.URL.Path, "/bot"):
		s.serveAPI(w, r)
	default:
		writeEnvelope(w, http.StatusNotFound, envelope{ErrorCode: http.StatusNotFound, Description: "Not Found"})
	}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	call := Call{Time: time.Now(), ContentLength: r.ContentLength,
		TransferEncoding: append([]string(nil), r.TransferEncoding...)}
	token, method, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	method = strings.TrimPrefix(method, "test/")
	call.Method = method
	h, name := lookupMethod(method)
	if name != "" {
		call.Method = name
	}
	var (
		result any
		aerr   *apiError
	)
	switch {
	case token != s.token:
		aerr = &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"}
	case h == nil:
		aerr = &apiError{code: http.StatusNotFound, desc: "Not Found: method not found"}
	default:
		rq, perr := s.parseRequest(r)
		defer rq.cleanup()
		call.Params, call.Files = rq.params, rq.fileInfos()
		switch {
		case perr != nil:
			aerr = perr
		default:
			if aerr = s.takeFault(name); aerr == nil {
				if aerr = s.checkFlood(name, rq); aerr == nil {
					result, aerr = h(s, r.Context(), rq)
				}
			}
		}
	}
	s.answer(w, &call, result, aerr)
}

// answer writes the response and records the call.
func (s *Server) answer(w http.ResponseWriter, call *Call, result any, aerr *apiError) {
	switch {
	case aerr != nil && aerr.drop:
		call.Dropped = true
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
	case aerr != nil && aerr.gone:
	case aerr != nil && aerr.code >= 500:
		call.Status, call.Description = aerr.code, aerr.desc
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(aerr.code)
		_, _ = io.WriteString(w, http.StatusText(aerr.code)+"\n")
	case aerr != nil:
		call.Status, call.Description = aerr.code, aerr.desc
		env := envelope{ErrorCode: aerr.code, Description: aerr.desc}
		if aerr.retryAfter > 0 {
			env.Parameters = &responseParameters{RetryAfter: aerr.retryAfter}
			w.Header().Set("Retry-After", strconv.Itoa(aerr.retryAfter))
		}
		if aerr.code == http.StatusRequestEntityTooLarge {
			// Telegram's front end closes the connection after a 413; the
			// rest of the body is never read.
			w.Header().Set("Connection", "close")
		}
		writeEnvelope(w, aerr.code, env)
	default:
		call.Status = http.StatusOK
		env := envelope{OK: true, Result: result}
		if d, ok := result.(described); ok {
			env.Result, env.Description = d.result, d.desc
		}
		writeEnvelope(w, http.StatusOK, env)
	}
	s.record(call)
}

// record appends a finished call to the log.
func (s *Server) record(call *Call) {
	call.Duration = time.Since(call.Time)
	// The log keeps its own maps so callers of Calls cannot change a
	// handler's parameters or one another's copies.
	call.Params, call.Files = maps.Clone(call.Params), maps.Clone(call.Files)
	s.log.Debug("tgfake call", "method", call.Method, "status", call.Status, "duration", call.Duration)
	s.mu.Lock()
	s.calls = append(s.calls, *call)
	s.notifyLocked()
	s.mu.Unlock()
}

func writeEnvelope(w http.ResponseWriter, status int, env envelope) {
	body, err := json.Marshal(env)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: encoding the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// handler implements one Bot API method.
type handler func(s *Server, ctx context.Context, rq *request) (any, *apiError)

// lookupMethod finds the handler of a method name in any case and returns
// its canonical spelling.
func lookupMethod(name string) (handler, string) {
	switch strings.ToLower(name) {
	case "getme":
		return (*Server).getMe, "getMe"
	case "getupdates":
		return (*Server).getUpdates, "getUpdates"
	case "deletewebhook":
		return (*Server).deleteWebhook, "deleteWebhook"
	case "getwebhookinfo":
		return (*Server).getWebhookInfo, "getWebhookInfo"
	case "setmycommands":
		return (*Server).setMyCommands, "setMyCommands"
	case "getmycommands":
		return (*Server).getMyCommands, "getMyCommands"
	case "deletemycommands":
		return (*Server).deleteMyCommands, "deleteMyCommands"
	case "sendmessage":
		return (*Server).sendMessage, "sendMessage"
	case "editmessagetext":
		return (*Server).editMessageText, "editMessageText"
	case "editmessagecaption":
		return (*Server).editMessageCaption, "editMessageCaption"
	case "editmessagereplymarkup":
		return (*Server).editMessageReplyMarkup, "editMessageReplyMarkup"
	case "deletemessage":
		return (*Server).deleteMessage, "deleteMessage"
	case "answercallbackquery":
		return (*Server).answerCallbackQuery, "answerCallbackQuery"
	case "sendchataction":
		return (*Server).sendChatAction, "sendChatAction"
	case "senddocument":
		return mediaHandler("document"), "sendDocument"
	case "sendvideo":
		return mediaHandler("video"), "sendVideo"
	case "sendaudio":
		return mediaHandler("audio"), "sendAudio"
	case "sendanimation":
		return mediaHandler("animation"), "sendAnimation"
	case "getfile":
		return (*Server).getFile, "getFile"
	}
	return nil, ""
}
