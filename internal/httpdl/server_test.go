package httpdl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serveCfg is what the test origin serves and how it misbehaves. Handlers
// take a copy at the start of each request, so a test may change it between
// (and during) downloads.
type serveCfg struct {
	data    []byte
	etag    string // complete header value; "" sends none
	modTime time.Time
	cd      string // Content-Disposition
	noRange bool   // ignore Range and If-Range: always 200 with the body
	// dropAfter cuts a response after this many body bytes while drops
	// are left (see origin.drops).
	dropAfter int64
	// rate caps each response at this many bytes per second.
	rate int64
	// pauseAt makes every body write block (until the request ends) once
	// the origin has served this many bytes in total, after calling
	// onPause once; origin.pauseArmed must be set.
	pauseAt int64
	onPause func()
	// hook runs first and may answer the request itself (returning true).
	hook func(w http.ResponseWriter, r *http.Request) bool
}

// origin is a loopback HTTP server built on http.ServeContent that counts
// what it serves.
type origin struct {
	srv *httptest.Server

	mu  sync.Mutex
	cfg serveCfg

	served      atomic.Int64 // body bytes of 200 and 206 responses
	requests    atomic.Int64
	inflight    atomic.Int32
	maxInflight atomic.Int32
	drops       atomic.Int32
	// pauseArmed lets the next crossing of pauseAt pause the origin; the
	// trigger disarms it, so a handler left over from a cancelled call
	// cannot pause the origin again after the test resumed it.
	pauseArmed atomic.Bool
	paused     atomic.Bool
}

func newOrigin(t *testing.T, cfg serveCfg) *origin {
	t.Helper()
	o := &origin{cfg: cfg}
	o.srv = httptest.NewServer(o)
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) url(path string) string { return o.srv.URL + path }

// set changes the configuration under the lock.
func (o *origin) set(f func(c *serveCfg)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(&o.cfg)
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	n := o.inflight.Add(1)
	defer o.inflight.Add(-1)
	for {
		m := o.maxInflight.Load()
		if n <= m || o.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	o.mu.Lock()
	hook := o.cfg.hook
	o.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	o.mu.Lock()
	cfg := o.cfg
	o.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	if cfg.etag != "" {
		h.Set("ETag", cfg.etag)
	}
	if cfg.cd != "" {
		h.Set("Content-Disposition", cfg.cd)
	}
	if cfg.noRange {
		r.Header.Del("Range")
		r.Header.Del("If-Range")
	}
	cw := &countingWriter{ResponseWriter: w, o: o, r: r, cfg: &cfg}
	http.ServeContent(cw, r, "", cfg.modTime, bytes.NewReader(cfg.data))
}

// countingWriter counts, paces, pauses and cuts one response's body.
type countingWriter struct {
	http.ResponseWriter
	o       *origin
	r       *http.Request
	cfg     *serveCfg
	status  int
	written int64
	decided bool
	drop    bool
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.status != http.StatusOK && c.status != http.StatusPartialContent {
		return c.ResponseWriter.Write(p)
	}
	total := 0
	for len(p) > 0 {
		if c.o.paused.Load() {
			<-c.r.Context().Done()
			return total, c.r.Context().Err()
		}
		chunk := p[:min(len(p), 16<<10)]
		if c.cfg.dropAfter > 0 && !c.decided && c.written+int64(len(chunk)) > c.cfg.dropAfter {
			c.decided = true
			c.drop = c.o.drops.Add(-1) >= 0
		}
		if c.drop {
			n, _ := c.ResponseWriter.Write(chunk[:c.cfg.dropAfter-c.written])
			c.o.served.Add(int64(n))
			_ = http.NewResponseController(c.ResponseWriter).Flush()
			panic(http.ErrAbortHandler)
		}
		n, err := c.ResponseWriter.Write(chunk)
		total += n
		c.written += int64(n)
		served := c.o.served.Add(int64(n))
		if c.cfg.pauseAt > 0 && served >= c.cfg.pauseAt && c.o.pauseArmed.CompareAndSwap(true, false) {
			c.o.paused.Store(true)
			if c.cfg.onPause != nil {
				c.cfg.onPause()
			}
		}
		if err != nil {
			return total, err
		}
		p = p[n:]
		if c.cfg.rate > 0 {
			_ = http.NewResponseController(c.ResponseWriter).Flush()
			t := time.NewTimer(time.Duration(int64(n) * int64(time.Second) / c.cfg.rate))
			select {
			case <-c.r.Context().Done():
				t.Stop()
				return total, c.r.Context().Err()
			case <-t.C:
			}
		}
	}
	return total, nil
}

// content returns n deterministic pseudo-random bytes.
func content(n int, seed byte) []byte {
	var key [32]byte
	key[0] = seed
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// testWriter sends log output to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// newTestDownloader returns a Downloader with test-sized defaults, logging
// to the test, and closes its idle connections at the end.
func newTestDownloader(t *testing.T, o Options) *Downloader {
	t.Helper()
	if o.SegmentSize == 0 {
		o.SegmentSize = 256 << 10
	}
	if o.Connections == 0 {
		o.Connections = 4
	}
	o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d := New(o)
	t.Cleanup(d.client.CloseIdleConnections)
	return d
}

// ctxTimeout bounds every download of a test.
func ctxTimeout(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
