// Package harness runs the real mirrorleech binary for end-to-end tests and
// benchmarks: it builds the binary once, starts it as a separate process
// against a tgfake Bot API server, waits until it is ready, and stops it with
// SIGTERM at the end of the test, failing the test unless it exits cleanly
// within 15 s and without ever logging its token.
package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// Users every bot started here knows.
const (
	OwnerID int64 = 1001
	UserID  int64 = 2002 // authorized through AUTHORIZED_CHATS
)

// Build compiles the bot into a temporary folder and returns the binary's
// path and a cleanup function. Call it from TestMain.
func Build() (string, func(), error) {
	dir, err := os.MkdirTemp("", "mirrorleech-e2e")
	if err != nil {
		return "", nil, err
	}
	binary := filepath.Join(dir, "mirrorleech")
	args := []string{"build", "-o", binary}
	if os.Getenv("E2E_RACE") == "1" {
		// make test runs the bot itself under the race detector, so the
		// actors are checked in the real pipeline, not only in unit tests.
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/mirrorleech/mirrorleech/cmd/mirrorleech")...)
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building the bot: %w", err)
	}
	return binary, func() { _ = os.RemoveAll(dir) }, nil
}

// syncBuffer collects the bot's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// Bot is one running node.
type Bot struct {
	t        testing.TB
	Cmd      *exec.Cmd
	log      *syncBuffer
	exited   chan error
	stopped  bool
	HTTP     string
	Download string
	State    string
	Mirror   string
	TG       *tgfake.Server
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// Start runs binary against tg with env overriding the defaults. The bot is
// stopped with SIGTERM at the end of the test, and the test fails if it does
// not exit cleanly within 15 s.
func Start(t testing.TB, binary string, tg *tgfake.Server, env ...string) *Bot {
	t.Helper()
	root := t.TempDir()
	b := &Bot{t: t, log: &syncBuffer{}, HTTP: freeAddr(t), TG: tg,
		Download: filepath.Join(root, "downloads"), State: filepath.Join(root, "data"), Mirror: filepath.Join(root, "mirror")}
	b.Cmd = exec.Command(binary)
	b.Cmd.Dir = root
	b.Cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + root,
		"BOT_TOKEN=" + tg.Token(),
		"OWNER_ID=" + fmt.Sprint(OwnerID),
		"AUTHORIZED_CHATS=" + fmt.Sprint(UserID),
		"TELEGRAM_API_URL=" + tg.URL(),
		"TELEGRAM_LOCAL=false",
		"DOWNLOAD_DIR=" + b.Download,
		"STATE_DIR=" + b.State,
		"MIRROR_DEST=" + b.Mirror,
		"HTTP_ADDR=" + b.HTTP,
		"NODE_NAME=e2e",
		"STATUS_INTERVAL=3s",
		"ALLOW_PRIVATE_URLS=true",
		// Torrents stay on loopback: no DHT, trackers or peer exchange, and
		// a free port so bots of parallel tests do not collide.
		"TORRENT_PORT=0",
		"TORRENT_DHT=false",
		"TORRENT_TRACKERS=false",
		"TORRENT_PEX=false",
		"RETRY_INITIAL_DELAY=200ms",
		"LOG_LEVEL=debug",
	}, env...)
	// A test may move the HTTP endpoints (say, to 0.0.0.0:PORT to test the
	// access rule): connect to what the bot will listen on.
	for _, kv := range env {
		if addr, ok := strings.CutPrefix(kv, "HTTP_ADDR="); ok {
			b.HTTP = strings.Replace(addr, "0.0.0.0", "127.0.0.1", 1)
		}
	}
	b.launch()
	t.Cleanup(func() { b.Stop() })
	return b
}

func (b *Bot) launch() {
	b.t.Helper()
	b.Cmd.Stdout, b.Cmd.Stderr = b.log, b.log
	require.NoError(b.t, b.Cmd.Start())
	exited := make(chan error, 1)
	b.exited = exited
	cmd := b.Cmd
	go func() { exited <- cmd.Wait() }()
	b.stopped = false
	b.waitHealthy()
}

// Kill ends the bot with SIGKILL, as a crash or power loss would.
func (b *Bot) Kill() {
	b.t.Helper()
	if b.stopped {
		return
	}
	b.stopped = true
	require.NoError(b.t, b.Cmd.Process.Kill())
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		b.t.Fatal("the killed bot did not exit")
	}
}

// Restart starts the bot again on the same folders and settings, after a
// Stop or a Kill.
func (b *Bot) Restart() {
	b.t.Helper()
	require.True(b.t, b.stopped, "restart a stopped bot")
	old := b.Cmd
	b.Cmd = exec.Command(old.Path)
	b.Cmd.Dir, b.Cmd.Env = old.Dir, old.Env
	b.launch()
}

func (b *Bot) waitHealthy() {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-b.exited:
			b.t.Fatalf("the bot exited at start: %v\n%s", err, b.log.String())
		default:
		}
		resp, err := http.Get("http://" + b.HTTP + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("the bot did not become ready:\n%s", b.log.String())
}

// Log returns what the bot has logged so far.
func (b *Bot) Log() string { return b.log.String() }

// Stop sends SIGTERM and requires a clean exit within 15 s.
func (b *Bot) Stop() {
	if b.stopped {
		return
	}
	b.stopped = true
	start := time.Now()
	_ = b.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.exited:
		took := time.Since(start)
		b.t.Logf("bot stopped in %s", took.Round(time.Millisecond))
		if err != nil {
			b.t.Errorf("bot exited with %v\n%s", err, b.log.String())
		}
		if took > 15*time.Second {
			b.t.Errorf("graceful stop took %s, more than 15 s", took)
		}
	case <-time.After(20 * time.Second):
		_ = b.Cmd.Process.Kill()
		b.t.Errorf("bot did not stop within 20 s\n%s", b.log.String())
	}
	if b.t.Failed() {
		b.t.Logf("bot log:\n%s", b.log.String())
	}
	require.NotContains(b.t, b.log.String(), b.TG.Token(), "the bot token must never be logged")
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if cond() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// MessageContaining returns the first bot message in chat whose text holds s.
func MessageContaining(tg *tgfake.Server, chat int64, s string) (tgfake.SentMessage, bool) {
	for _, m := range tg.Messages(chat) {
		if strings.Contains(m.Text, s) {
			return m, true
		}
	}
	return tgfake.SentMessage{}, false
}

// WaitMessage waits for a bot message in chat whose text holds s.
func WaitMessage(t testing.TB, tg *tgfake.Server, chat int64, s string, timeout time.Duration) tgfake.SentMessage {
	t.Helper()
	var got tgfake.SentMessage
	WaitFor(t, timeout, fmt.Sprintf("a message containing %q", s), func() bool {
		m, ok := MessageContaining(tg, chat, s)
		got = m
		return ok
	})
	return got
}

// FileSHA256 hashes a file.
func FileSHA256(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// JoinedSHA256 hashes the stored documents in order, as "cat name.*" would.
func JoinedSHA256(t testing.TB, docs []tgfake.SentDocument) string {
	t.Helper()
	h := sha256.New()
	for _, d := range docs {
		b, err := os.ReadFile(d.Path)
		require.NoError(t, err)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DirEntries lists what is left in dir (missing dir = nothing).
func DirEntries(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
