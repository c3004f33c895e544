package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHealthAndReady(t *testing.T) {
	fail := true
	m := New(Options{Addr: "127.0.0.1:0", Registry: prometheus.NewRegistry(), Checks: []Check{
		{Name: "store", Fn: func(context.Context) error { return nil }},
		{Name: "telegram", Fn: func(context.Context) error {
			if fail {
				return errors.New("unreachable")
			}
			return nil
		}},
	}})
	require.Equal(t, http.StatusOK, get(t, m, "/healthz", "").Code)
	w := get(t, m, "/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Contains(t, w.Body.String(), "unreachable")
	fail = false
	require.Equal(t, http.StatusOK, get(t, m, "/readyz", "").Code)
	require.Equal(t, http.StatusOK, get(t, m, "/metrics", "").Code)
}

func TestOperatorAccess(t *testing.T) {
	loop := New(Options{Addr: "127.0.0.1:8080"})
	require.Equal(t, http.StatusOK, get(t, loop, "/debug/pprof/", "").Code)

	open := New(Options{Addr: "0.0.0.0:8080", APIToken: "s3cret"})
	require.Equal(t, http.StatusUnauthorized, get(t, open, "/debug/pprof/", "").Code)
	require.Equal(t, http.StatusUnauthorized, get(t, open, "/debug/pprof/", "wrong").Code)
	require.Equal(t, http.StatusOK, get(t, open, "/debug/pprof/", "s3cret").Code)
	require.Equal(t, http.StatusOK, get(t, open, "/healthz", "").Code, "probes need no token")

	closed := New(Options{Addr: "0.0.0.0:8080"})
	require.Equal(t, http.StatusForbidden, get(t, closed, "/debug/pprof/", "anything").Code)
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true,
		"0.0.0.0:1": false, ":8080": false, "10.0.0.1:1": false, "bad": false} {
		require.Equal(t, want, IsLoopback(addr), addr)
	}
}

// TestHealthReportsStateAndResources reads /health as a monitor would: the
// node's identity and resources, and the readiness checks' verdict on the
// store and Telegram, which it runs once per request like /readyz.
func TestHealthReportsStateAndResources(t *testing.T) {
	var telegramDown atomic.Bool
	var storeCalls atomic.Int32
	dir := t.TempDir()
	m := New(Options{Addr: "0.0.0.0:8080", APIToken: "s3cret-token-0123", Node: "n1", Version: "v9",
		Started: time.Now().Add(-time.Minute), DiskDir: dir, Checks: []Check{
			{Name: "store", Fn: func(context.Context) error { storeCalls.Add(1); return nil }},
			{Name: "telegram", Fn: func(context.Context) error {
				if telegramDown.Load() {
					return errors.New("unreachable")
				}
				return nil
			}},
		}})
	read := func(wantCode int) Health {
		t.Helper()
		w := get(t, m, "/health", "") // no token: a health endpoint, as open as /healthz
		require.Equal(t, wantCode, w.Code, w.Body.String())
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
		require.NotContains(t, w.Body.String(), "s3cret")
		var h Health
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &h))
		return h
	}
	h := read(http.StatusOK)
	require.Equal(t, HealthOK, h.Status)
	require.Equal(t, "n1", h.Node)
	require.Equal(t, "v9", h.Version)
	require.GreaterOrEqual(t, h.UptimeSeconds, 60.0)
	require.Positive(t, h.MemoryRSS)
	require.Positive(t, h.MemoryTotal)
	require.Positive(t, h.Goroutines)
	require.Positive(t, h.DiskTotal)
	require.Positive(t, h.DiskFree)
	require.GreaterOrEqual(t, h.CPUPercent, 0.0)
	require.True(t, h.StoreReachable)
	require.True(t, h.TelegramReachable)
	require.Empty(t, h.ResourceError)
	require.EqualValues(t, 1, storeCalls.Load(), "one request runs each check once")

	telegramDown.Store(true)
	h = read(http.StatusServiceUnavailable)
	require.Equal(t, HealthDegraded, h.Status)
	require.True(t, h.StoreReachable)
	require.False(t, h.TelegramReachable)
	require.Equal(t, "unreachable", h.Checks["telegram"].Error)
}
