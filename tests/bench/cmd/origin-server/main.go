package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mirrorleech/mirrorleech/internal/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "origin-server:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	sizeFlag := flag.String("size", "1GiB", "size of the served file (e.g. 64MiB, 1GiB)")
	capFlag := flag.String("cap", "", "per-connection rate cap in bytes per second (e.g. 50MB); empty = none")
	dir := flag.String("dir", "", "directory for the generated file (default: a temporary directory, removed at exit)")
	name := flag.String("name", "bench.bin", "file name in the URL path")
	seed := flag.Uint64("seed", 1, "seed of the generated content")
	flag.Parse()

	size, err := config.ParseSize(*sizeFlag)
	if err != nil {
		return fmt.Errorf("parsing -size: %w", err)
	}
	var rate int64
	if *capFlag != "" {
		if rate, err = config.ParseSize(*capFlag); err != nil || rate <= 0 {
			return fmt.Errorf("parsing -cap %q: want a positive size per second", *capFlag)
		}
	}
	if *name == "" || strings.ContainsAny(*name, "/\\") {
		return fmt.Errorf("-name %q: want a plain file name", *name)
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "origin-server-")
		if err != nil {
			return fmt.Errorf("creating temporary directory: %w", err)
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		*dir = tmp
	}

	path, sum, err := ensureFile(*dir, size, *seed)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("checking generated file: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	h := &handler{path: path, urlPath: "/" + *name, etag: `"` + sum[:32] + `"`, modTime: st.ModTime(), rate: rate}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			// One pacer per TCP connection: the cap applies to the
			// connection, whatever number of requests it carries.
			return context.WithValue(ctx, pacerKey{}, &pacer{rate: rate})
		},
		ErrorLog: slog.NewLogLogger(slog.NewTextHandler(os.Stderr, nil), slog.LevelWarn),
	}
	fmt.Printf("url=http://%s/%s\nsize=%d\nsha256=%s\nready\n", ln.Addr(), *name, size, sum)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	// Close, not Shutdown: throttled transfers would hold a graceful stop.
	_ = srv.Close()
	<-errc
	return nil
}

// ensureFile returns the generated file for size and seed in dir and its
// SHA-256, generating it unless a previous run left it complete (a sidecar
// .sha256 file is written only after the data is synced).
func ensureFile(dir string, size int64, seed uint64) (string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("creating %s: %w", dir, err)
	}
	base := fmt.Sprintf("origin-%d-%d", size, seed)
	path := filepath.Join(dir, base+".bin")
	sumPath := filepath.Join(dir, base+".sha256")
	if b, err := os.ReadFile(sumPath); err == nil {
		if st, err := os.Stat(path); err == nil && st.Size() == size && len(strings.TrimSpace(string(b))) == 64 {
			return path, strings.TrimSpace(string(b)), nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("reading %s: %w", sumPath, err)
	}

	f, err := os.Create(path)
	if err != nil {
		return "", "", fmt.Errorf("creating %s: %w", path, err)
	}
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, rand.NewChaCha8(key), size); err != nil {
		_ = f.Close()
		return "", "", fmt.Errorf("generating %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return "", "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return "", "", fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", "", fmt.Errorf("closing %s: %w", path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := os.WriteFile(sumPath, []byte(sum+"\n"), 0o644); err != nil {
		return "", "", fmt.Errorf("writing %s: %w", sumPath, err)
	}
	return path, sum, nil
}

// handler serves the one file.
type handler struct {
	path    string
	urlPath string
	etag    string
	modTime time.Time
	rate    int64
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.urlPath {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(h.path)
	if err != nil {
		http.Error(w, "cannot open file", http.StatusInternalServerError)
		return
	}
	defer func() { _ = f.Close() }()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", h.etag)
	if h.rate > 0 {
		if p, ok := r.Context().Value(pacerKey{}).(*pacer); ok {
			w = &pacedWriter{ResponseWriter: w, p: p, ctx: r.Context()}
		}
	}
	// With the plain ResponseWriter and an *os.File, ServeContent's copy
	// ends in sendfile(2).
	http.ServeContent(w, r, "", h.modTime, f)
}

type pacerKey struct{}

// pacer spaces the bytes of one connection to rate bytes per second.
// Pacing against a schedule (next) rather than sleeping per write corrects
// for oversleeping and slow writes; a connection that fell behind by more
// than paceSlack (it was idle between requests) starts a new schedule, so
// idling gathers no credit for a later burst.
type pacer struct {
	mu   sync.Mutex
	rate int64
	next time.Time
}

// wait blocks until n more bytes are due, or ctx ends.
func (p *pacer) wait(ctx context.Context, n int) error {
	p.mu.Lock()
	now := time.Now()
	if now.Sub(p.next) > paceSlack {
		p.next = now
	}
	p.next = p.next.Add(time.Duration(int64(n) * int64(time.Second) / p.rate))
	d := p.next.Sub(now)
	p.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pacedWriter writes a response body in paced chunks.
type pacedWriter struct {
	http.ResponseWriter
	p   *pacer
	ctx context.Context
}

// paceSlack is how far behind its schedule a connection may fall and still
// catch up.
const paceSlack = 50 * time.Millisecond

// paceChunk is small enough to keep the pace smooth at a few MB/s.
const paceChunk = 64 << 10

func (w *pacedWriter) Write(b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		c := b[:min(len(b), paceChunk)]
		n, err := w.ResponseWriter.Write(c)
		total += n
		if err != nil {
			return total, err
		}
		if err := w.p.wait(w.ctx, n); err != nil {
			return total, err
		}
		b = b[n:]
	}
	return total, nil
}
