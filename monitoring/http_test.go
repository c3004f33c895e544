package monitoring

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

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
