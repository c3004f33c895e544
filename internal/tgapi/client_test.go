package tgapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", testToken, true},
		{"empty", "", false},
		{"malformed", "not-a-token", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Options{Token: tc.token})
			if !tc.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, DefaultAPIURL, c.apiURL)
			require.Equal(t, CloudMaxUpload, c.MaxUploadSize())
			c.Close()
		})
	}
	c, err := New(Options{Token: testToken, APIURL: "http://127.0.0.1:8081/", Local: true})
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8081", c.apiURL)
	require.Equal(t, int64(2000<<20), c.MaxUploadSize())
}

func TestSendText(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Text
		want map[string]any
		gone []string
	}{
		{
			name: "html with keyboard and reply",
			in: Text{ChatID: 77, Text: "<b>hi</b>", HTML: true, ReplyTo: 5, Silent: true, NoPreview: true,
				Keyboard: Keyboard{{{Text: "Cancel", Data: "c:1"}, {Text: "Info", Data: "i:1"}}, {{Text: "Refresh", Data: "r"}}}},
			want: map[string]any{
				"chat_id":              float64(77),
				"text":                 "<b>hi</b>",
				"parse_mode":           "HTML",
				"disable_notification": true,
				"link_preview_options": map[string]any{"is_disabled": true},
				"reply_parameters":     map[string]any{"message_id": float64(5), "chat_id": float64(77), "allow_sending_without_reply": true},
				"reply_markup": map[string]any{"inline_keyboard": []any{
					[]any{
						map[string]any{"text": "Cancel", "callback_data": "c:1"},
						map[string]any{"text": "Info", "callback_data": "i:1"},
					},
					[]any{map[string]any{"text": "Refresh", "callback_data": "r"}},
				}},
			},
		},
		{
			name: "plain",
			in:   Text{ChatID: -100123, Text: "plain"},
			want: map[string]any{"chat_id": float64(-100123), "text": "plain"},
			gone: []string{"parse_mode", "reply_markup", "reply_parameters", "disable_notification", "link_preview_options"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			got := make(chan map[string]any, 1)
			api.handle("sendMessage", func(w http.ResponseWriter, r *http.Request) {
				got <- readJSON(t, r)
				writeOK(w, sentMessage(42, tc.in.ChatID))
			})
			id, err := api.client(false).SendText(context.Background(), tc.in)
			require.NoError(t, err)
			require.Equal(t, 42, id)
			params := <-got
			for k, v := range tc.want {
				require.Equal(t, v, params[k], "param %s", k)
			}
			for _, k := range tc.gone {
				require.NotContains(t, params, k)
			}
		})
	}
}

func TestSendTextRejectsBadCallbackData(t *testing.T) {
	api := newFakeAPI(t)
	api.reply("sendMessage", sentMessage(1, 1))
	c := api.client(false)
	for _, data := range []string{"", strings.Repeat("x", 65)} {
		_, err := c.SendText(context.Background(), Text{ChatID: 1, Text: "x", Keyboard: Keyboard{{{Text: "b", Data: data}}}})
		require.ErrorContains(t, err, "callback data")
		require.False(t, IsTransient(err))
	}
	require.Empty(t, api.callLog())
	_, err := c.SendText(context.Background(), Text{ChatID: 1, Text: "x", Keyboard: Keyboard{{{Text: "b", Data: strings.Repeat("x", 64)}}}})
	require.NoError(t, err)
}

func TestEditText(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int
		desc    string
		wantErr bool
		gone    bool
	}{
		{"ok", 0, "", false, false},
		{"not modified", 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message", false, false},
		{"not found", 400, "Bad Request: message to edit not found", true, true},
		{"can't be edited", 400, "Bad Request: message can't be edited", true, true},
		{"chat not found", 400, "Bad Request: chat not found", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			got := make(chan map[string]any, 1)
			api.handle("editMessageText", func(w http.ResponseWriter, r *http.Request) {
				got <- readJSON(t, r)
				if tc.code != 0 {
					writeError(w, tc.code, tc.desc, 0)
					return
				}
				writeOK(w, sentMessage(9, 3))
			})
			err := api.client(false).EditText(context.Background(), 3, 9, "<i>x</i>", true, Keyboard{{{Text: "a", Data: "a"}}})
			params := <-got
			require.Equal(t, float64(3), params["chat_id"])
			require.Equal(t, float64(9), params["message_id"])
			require.Equal(t, "HTML", params["parse_mode"])
			require.Equal(t, map[string]any{"is_disabled": true}, params["link_preview_options"])
			require.Equal(t, map[string]any{"inline_keyboard": []any{[]any{map[string]any{"text": "a", "callback_data": "a"}}}}, params["reply_markup"])
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, "editMessageText", ae.Method)
			require.Equal(t, tc.gone, IsMessageGone(err))
			require.False(t, IsTransient(err))
		})
	}
}

func TestEditTextWithoutKeyboardOmitsMarkup(t *testing.T) {
	api := newFakeAPI(t)
	got := make(chan map[string]any, 1)
	api.handle("editMessageText", func(w http.ResponseWriter, r *http.Request) {
		got <- readJSON(t, r)
		writeOK(w, true)
	})
	require.NoError(t, api.client(false).EditText(context.Background(), 3, 9, "x", false, nil))
	params := <-got
	require.NotContains(t, params, "reply_markup")
	require.NotContains(t, params, "parse_mode")
}

func TestDeleteMessage(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		wantErr bool
	}{
		{"", false},
		{"Bad Request: message to delete not found", false},
		{"Bad Request: message can't be deleted", true},
	} {
		api := newFakeAPI(t)
		api.handle("deleteMessage", func(w http.ResponseWriter, r *http.Request) {
			p := readJSON(t, r)
			require.Equal(t, float64(5), p["chat_id"])
			require.Equal(t, float64(6), p["message_id"])
			if tc.desc != "" {
				writeError(w, 400, tc.desc, 0)
				return
			}
			writeOK(w, true)
		})
		err := api.client(false).DeleteMessage(context.Background(), 5, 6)
		if tc.wantErr {
			require.Error(t, err)
			require.True(t, IsMessageGone(err))
		} else {
			require.NoError(t, err)
		}
	}
}

func TestAnswerCallbackGetMeSetCommands(t *testing.T) {
	api := newFakeAPI(t)
	answered := make(chan map[string]any, 1)
	api.handle("answerCallbackQuery", func(w http.ResponseWriter, r *http.Request) {
		answered <- readJSON(t, r)
		writeOK(w, true)
	})
	commands := make(chan map[string]any, 1)
	api.handle("setMyCommands", func(w http.ResponseWriter, r *http.Request) {
		commands <- readJSON(t, r)
		writeOK(w, true)
	})
	api.reply("getMe", map[string]any{"id": 123456, "is_bot": true, "first_name": "Leech", "username": "leech_bot"})
	c := api.client(false)

	require.NoError(t, c.AnswerCallback(context.Background(), "q1", "Not yours!", true))
	require.Equal(t, map[string]any{"callback_query_id": "q1", "text": "Not yours!", "show_alert": true}, <-answered)

	require.NoError(t, c.SetCommands(context.Background(), []BotCommand{{"leech", "Leech a link"}, {"status", "Show tasks"}}))
	require.Equal(t, []any{
		map[string]any{"command": "leech", "description": "Leech a link"},
		map[string]any{"command": "status", "description": "Show tasks"},
	}, (<-commands)["commands"])

	me, err := c.GetMe(context.Background())
	require.NoError(t, err)
	require.Equal(t, User{ID: 123456, Username: "leech_bot", FirstName: "Leech", IsBot: true}, me)
}

func TestAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		handler    http.HandlerFunc
		code       int // APIError code; 0 = TransportError expected
		status     int // TransportError status
		retryAfter time.Duration
		migrateTo  int64
		transient  bool
	}{
		{
			name: "429 with parameters",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeError(w, 429, "Too Many Requests: retry after 3", 3)
			},
			code: 429, retryAfter: 3 * time.Second, transient: true,
		},
		{
			name: "429 text only",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeError(w, 429, "Too Many Requests: retry after 7", 0)
			},
			code: 429, retryAfter: 7 * time.Second, transient: true,
		},
		{
			name: "429 with Retry-After header only",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "11")
				writeError(w, 429, "Too Many Requests", 0)
			},
			code: 429, retryAfter: 11 * time.Second, transient: true,
		},
		{
			name: "400 media group flood",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeError(w, 400, `Bad Request: failed to send message #1 with the error message "Too Many Requests: retry after 8"`, 0)
			},
			code: 400, retryAfter: 8 * time.Second, transient: true,
		},
		{
			name:    "400 chat not found",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeError(w, 400, "Bad Request: chat not found", 0) },
			code:    400,
		},
		{
			name: "403 blocked",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeError(w, 403, "Forbidden: bot was blocked by the user", 0)
			},
			code: 403,
		},
		{
			name: "migrated group",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(400)
				_, _ = w.Write([]byte(`{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}}`))
			},
			code: 400, migrateTo: -1001234,
		},
		{
			name: "413 html page",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(413)
				_, _ = w.Write([]byte("<html><body>413 Request Entity Too Large</body></html>"))
			},
			code: 413,
		},
		{
			name:      "500",
			handler:   func(w http.ResponseWriter, _ *http.Request) { writeError(w, 500, "Internal Server Error", 0) },
			status:    500,
			transient: true,
		},
		{
			name: "502 html",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(502)
				_, _ = w.Write([]byte("<html>Bad Gateway</html>"))
			},
			status:    502,
			transient: true,
		},
		{
			name: "garbage 200",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte("not json"))
			},
			status:    200,
			transient: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			api.handle("sendMessage", tc.handler)
			_, err := api.client(false).SendText(context.Background(), Text{ChatID: 1, Text: "x"})
			requireNoToken(t, err)
			require.Equal(t, tc.transient, IsTransient(err))
			after, ok := RetryAfter(err)
			require.Equal(t, tc.retryAfter, after)
			require.Equal(t, tc.retryAfter > 0, ok)
			if tc.code != 0 {
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, tc.code, ae.Code)
				require.Equal(t, "sendMessage", ae.Method)
				require.Equal(t, tc.migrateTo, ae.MigrateTo)
				return
			}
			var te *TransportError
			require.ErrorAs(t, err, &te)
			require.Equal(t, tc.status, te.Status)
			require.Equal(t, "sendMessage", te.Method)
		})
	}
}

func TestNetworkErrorIsRedactedTransportError(t *testing.T) {
	api := newFakeAPI(t)
	c := api.client(false)
	api.srv.Close()

	_, err := c.SendText(context.Background(), Text{ChatID: 1, Text: "x"})
	requireNoToken(t, err)
	require.Contains(t, err.Error(), "<redacted>")
	var te *TransportError
	require.ErrorAs(t, err, &te)
	require.Zero(t, te.Status)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.True(t, IsTransient(err))
}

func TestCanceledContext(t *testing.T) {
	api := newFakeAPI(t)
	release := make(chan struct{})
	api.handle("getMe", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := api.client(false)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.GetMe(ctx)
	require.Less(t, time.Since(start), 2*time.Second)
	requireNoToken(t, err)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, IsTransient(err))
	_, ok := RetryAfter(err)
	require.False(t, ok)
}

func TestLoggerNeverPrintsToken(t *testing.T) {
	api := newFakeAPI(t)
	api.reply("getMe", map[string]any{"id": 1, "is_bot": true, "first_name": "b"})
	var logs syncBuffer
	c, err := New(Options{Token: testToken, APIURL: api.srv.URL, Logger: debugLogger(&logs)})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.GetMe(context.Background())
	require.NoError(t, err)
	_, err = c.SendText(context.Background(), Text{ChatID: 1, Text: "x"}) // 404 from the fake
	require.Error(t, err)
	api.srv.Close()
	_, err = c.GetMe(context.Background())
	require.Error(t, err)

	out := logs.String()
	require.Contains(t, out, "getMe", "telego's debug lines reach the logger")
	_, secret, _ := strings.Cut(testToken, ":")
	require.NotContains(t, out, secret)
}

func TestClassifiers(t *testing.T) {
	api429 := &APIError{Method: "m", Code: 429}
	for _, tc := range []struct {
		name                    string
		err                     error
		transient, notMod, gone bool
		retry                   time.Duration
		retryOK                 bool
	}{
		{name: "nil", err: nil},
		{name: "429 without wait", err: api429, transient: true, retry: defaultRetryAfter, retryOK: true},
		{name: "wrapped 429", err: errors.Join(errors.New("x"), &APIError{Code: 429, RetryAfter: time.Second}), transient: true, retry: time.Second, retryOK: true},
		{name: "not modified", err: &APIError{Code: 400, Description: "Bad Request: message is not modified: x"}, notMod: true},
		{name: "gone", err: &APIError{Code: 400, Description: "Bad Request: MESSAGE_ID_INVALID"}, gone: true},
		{name: "transport", err: &TransportError{Status: 503}, transient: true},
		{name: "deadline", err: context.DeadlineExceeded, transient: true},
		{name: "canceled transport", err: &TransportError{Err: context.Canceled}},
		{name: "plain", err: errors.New("x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.transient, IsTransient(tc.err))
			require.Equal(t, tc.notMod, IsNotModified(tc.err))
			require.Equal(t, tc.gone, IsMessageGone(tc.err))
			d, ok := RetryAfter(tc.err)
			require.Equal(t, tc.retry, d)
			require.Equal(t, tc.retryOK, ok)
		})
	}
}

func TestRedact(t *testing.T) {
	_, secret, _ := strings.Cut(testToken, ":")
	for _, tc := range []struct{ in, want string }{
		{"https://api.telegram.org/bot" + testToken + "/getMe", "https://api.telegram.org/bot<redacted>/getMe"},
		{"secret alone " + secret, "secret alone <redacted>"},
		{"escaped /bot123456%3A" + secret + "/x", "escaped /bot123456%3A<redacted>/x"},
		{"nothing here", "nothing here"},
	} {
		require.Equal(t, tc.want, Redact(tc.in, testToken))
	}
	require.Equal(t, "unchanged", Redact("unchanged", ""))
}
