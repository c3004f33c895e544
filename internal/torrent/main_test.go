package torrent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// TestMain re-executes the test binary with classic file I/O (the library
// reads the variable in an init function, before any test could set it),
// and runs the child processes some tests start.
func TestMain(m *testing.M) {
	// Children get their file I/O from the parent, which may ask for mmap.
	if child := os.Getenv(childEnv); child != "" {
		os.Exit(runChild(child))
	}
	if err := EnsureClassicFileIO(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testLogger sends the client's records to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newTestClient starts a loopback-only client closed when the test ends.
func newTestClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	cfg.ListenHost = "127.0.0.1"
	cfg.NoDHT = true
	cfg.DisablePEX = true
	if !cfg.DisableTrackers && cfg.DialContext == nil {
		cfg.DisableTrackers = true
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

// testFiles returns a multi-file payload with folders, a file that is not
// a multiple of the piece length, and an empty file.
func testFiles() map[string][]byte {
	return map[string][]byte{
		"a.bin":              swarm.Random(1, 3<<20+12345),
		"sub/b.bin":          swarm.Random(2, 2<<20+777),
		"sub/deep/c.txt":     []byte("hello from a torrent\n"),
		"sub/deep/empty.dat": {},
		"z.bin":              swarm.Random(3, 1<<20),
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// requireTree asserts that root holds exactly files (by path and sha256).
func requireTree(t testing.TB, root string, files map[string][]byte) {
	t.Helper()
	want := map[string]string{}
	for p, b := range files {
		want[p] = sum(b)
	}
	got := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		got[filepath.ToSlash(rel)] = sum(b)
		return err
	})
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// progressLog records Progress reports.
type progressLog struct {
	mu  sync.Mutex
	all []Progress
}

func (l *progressLog) add(p Progress) {
	l.mu.Lock()
	l.all = append(l.all, p)
	l.mu.Unlock()
}

func (l *progressLog) last() Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.all) == 0 {
		return Progress{}
	}
	return l.all[len(l.all)-1]
}

func (l *progressLog) phases() map[Phase]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[Phase]bool{}
	for _, p := range l.all {
		out[p.Phase] = true
	}
	return out
}

// testContext is cancelled when the test ends or after d.
func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
