package monitoring

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mirrorleech/mirrorleech/internal/sysstat"
)

// Check is one readiness condition.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Options configures the handler.
type Options struct {
	// Addr is HTTP_ADDR; it decides whether operator endpoints need a token.
	Addr     string
	APIToken string
	Registry *prometheus.Registry
	Checks   []Check
	// CheckTimeout bounds one readiness check. Default: 3s.
	CheckTimeout time.Duration
	Logger       *slog.Logger
	// Node, Version and Started identify the node in /health.
	Node    string
	Version string
	Started time.Time
	// DiskDir is the directory whose file system /health reports
	// (DOWNLOAD_DIR). Default: the working directory.
	DiskDir string
}

// New returns the node's HTTP handler. Operator routes (under /api/ and
// /debug/) can be added to the returned mux with HandleOperator.
func New(o Options) *Mux {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 3 * time.Second
	}
	if o.DiskDir == "" {
		o.DiskDir = "."
	}
	m := &Mux{ServeMux: http.NewServeMux(), o: o, open: IsLoopback(o.Addr),
		sampler: sysstat.NewSampler(o.DiskDir, o.Started)}
	if !m.open && o.APIToken == "" {
		o.Logger.Warn("operator endpoints /api and /debug are disabled: HTTP_ADDR is not loopback and API_TOKEN is not set",
			slog.String("addr", o.Addr))
	}
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	m.HandleFunc("GET /readyz", m.ready)
	m.HandleFunc("GET /health", m.health)
	if o.Registry != nil {
		m.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	}
	m.HandleOperator("/debug/pprof/", http.HandlerFunc(pprof.Index))
	m.HandleOperator("/debug/pprof/cmdline", http.HandlerFunc(pprof.Cmdline))
	m.HandleOperator("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
	m.HandleOperator("/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
	m.HandleOperator("/debug/pprof/trace", http.HandlerFunc(pprof.Trace))
	return m
}

// Mux is the node's HTTP mux.
type Mux struct {
	*http.ServeMux
	o    Options
	open bool

	// sampler reads the resources /health shows; it is not safe for
	// concurrent use, so sampleMu serialises the requests that use it.
	sampleMu sync.Mutex
	sampler  *sysstat.Sampler
}

// HandleOperator registers an operator endpoint behind the access rule.
func (m *Mux) HandleOperator(pattern string, h http.Handler) {
	m.Handle(pattern, m.guard(h))
}

func (m *Mux) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.open {
			if m.o.APIToken == "" {
				http.Error(w, "operator endpoints are disabled: set API_TOKEN", http.StatusForbidden)
				return
			}
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(m.o.APIToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mirrorleech"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

type checkResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func (m *Mux) ready(w http.ResponseWriter, r *http.Request) {
	results, ok := m.runChecks(r.Context())
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": ok, "checks": results})
}

// runChecks runs the readiness checks side by side, each bounded by
// CheckTimeout, and reports whether all passed.
func (m *Mux) runChecks(ctx context.Context) (map[string]checkResult, bool) {
	results := make(map[string]checkResult, len(m.o.Checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range m.o.Checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, m.o.CheckTimeout)
			defer cancel()
			err := c.Fn(ctx)
			res := checkResult{OK: err == nil}
			if err != nil {
				res.Error = err.Error()
			}
			mu.Lock()
			results[c.Name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	ok := true
	for _, res := range results {
		ok = ok && res.OK
	}
	return results, ok
}

// IsLoopback reports whether addr (host:port) binds only loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Cached wraps a check so it runs at most once per ttl; probes can then hit
// /readyz often without each one reaching Telegram.
func Cached(ttl time.Duration, fn func(ctx context.Context) error) func(ctx context.Context) error {
	var (
		mu   sync.Mutex
		at   time.Time
		last error
	)
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if !at.IsZero() && time.Since(at) < ttl {
			return last
		}
		last = fn(ctx)
		at = time.Now()
		return last
	}
}
