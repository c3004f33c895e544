package tgapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// testToken has the shape telego insists on: digits, a colon, 35 characters.
const testToken = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"

// fakeAPI is a minimal Bot API server: it checks the token in the path and
// hands each method to a handler registered by the test; the file endpoint
// serves registered blobs.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	files    map[string][]byte
	calls    []string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, handlers: map[string]http.HandlerFunc{}, files: map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if path, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+testToken+"/"); ok {
		f.mu.Lock()
		data, found := f.files[path]
		f.calls = append(f.calls, "file:"+path)
		f.mu.Unlock()
		if !found {
			writeError(w, http.StatusNotFound, "Not Found", 0)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(data)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+testToken+"/")
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	f.mu.Lock()
	h := f.handlers[method]
	f.calls = append(f.calls, method)
	f.mu.Unlock()
	if h == nil {
		writeError(w, http.StatusNotFound, "Not Found: method not found", 0)
		return
	}
	h(w, r)
}

// handle registers h for a Bot API method.
func (f *fakeAPI) handle(method string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[method] = h
}

// reply registers a handler that always answers with result.
func (f *fakeAPI) reply(method string, result any) {
	f.handle(method, func(w http.ResponseWriter, _ *http.Request) { writeOK(w, result) })
}

// fail registers a handler that always answers with a Bot API error.
func (f *fakeAPI) fail(method string, code int, desc string, retryAfter int) {
	f.handle(method, func(w http.ResponseWriter, _ *http.Request) { writeError(w, code, desc, retryAfter) })
}

func (f *fakeAPI) file(path string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[path] = data
}

func (f *fakeAPI) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// client returns a Client for the fake server with the package's own
// default transport.
func (f *fakeAPI) client(local bool) *Client {
	f.t.Helper()
	c, err := New(Options{Token: testToken, APIURL: f.srv.URL, Local: local})
	require.NoError(f.t, err)
	f.t.Cleanup(c.Close)
	return c
}

func writeOK(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func writeError(w http.ResponseWriter, code int, desc string, retryAfter int) {
	body := map[string]any{"ok": false, "error_code": code, "description": desc}
	if retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// readJSON decodes a JSON request body.
func readJSON(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	var m map[string]any
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(r.Body).Decode(&m))
	return m
}

// sentMessage is a minimal Message result.
func sentMessage(id int, chatID int64) map[string]any {
	return map[string]any{"message_id": id, "date": 1700000000, "chat": map[string]any{"id": chatID, "type": "private"}}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// requireNoToken checks err's text and the text of every error in its
// chain for the token.
func requireNoToken(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	_, secret, _ := strings.Cut(testToken, ":")
	var walk func(e error)
	walk = func(e error) {
		if e == nil {
			return
		}
		require.NotContains(t, e.Error(), secret, "error %T leaks the token", e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
}
