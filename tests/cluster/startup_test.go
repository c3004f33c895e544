package cluster

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/redistest"
	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// redisLateBy is how long after the node answers /healthz its Redis starts.
const redisLateBy = 3 * time.Second

// startupProbe is what the node's endpoints answered while Redis was down.
type startupProbe struct {
	healthz, readyz int
	readyBody       string
	err             error
}

// A node whose Redis is not up yet (compose starts everything at once; a
// host reboots) must not exit: it answers /healthz, reports not ready on
// /readyz, waits for Redis with backoff, and once Redis answers it joins
// the cluster and serves commands. One node keeps the test cheap.
func TestNodeWaitsForRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and Redis; skipped under -short")
	}
	tg := tgfake.New(t, tgfake.Options{})
	rs := redistest.Start(t)
	rs.Stop() // the port stays reserved for this test; Restart starts Redis on it
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpAddr := l.Addr().String()
	require.NoError(t, l.Close())

	// harness.Start returns once /readyz answers 200, so the probes while
	// Redis is down, and Redis's late start, run beside it.
	probed := make(chan startupProbe, 1)
	go func() {
		p := probeWhileWaiting(httpAddr)
		if p.err == nil {
			time.Sleep(redisLateBy)
			rs.Restart()
		}
		probed <- p
	}()
	env := []string{"REDIS_URL=" + rs.URL(), "NODE_NAME=n1", "CLUSTER_ADDR=127.0.0.1:0", "HTTP_ADDR=" + httpAddr}
	if os.Getenv("E2E_RACE") == "1" {
		env = append(env, "GORACE=halt_on_error=0 exitcode=0")
	}
	start := time.Now()
	bot := harness.Start(t, binary, tg, env...)
	ready := time.Since(start)
	p := <-probed
	require.NoError(t, p.err)
	require.Equal(t, http.StatusOK, p.healthz, "alive while Redis is down")
	require.Equal(t, http.StatusServiceUnavailable, p.readyz, "not ready while Redis is down")
	require.Contains(t, p.readyBody, "waiting for Redis")

	tg.PushText(harness.UserID, harness.UserID, "/ping")
	harness.WaitMessage(t, tg, harness.UserID, "Pong", 15*time.Second)

	// One warning per failed attempt, each naming its attempt and the
	// delay before the next; go-redis's own dial errors stay at debug.
	log := bot.Log()
	warned := regexp.MustCompile(`level=WARN msg="Redis does not answer yet; waiting for it" .*attempt=(\d+) next_attempt_in=`).
		FindAllStringSubmatch(log, -1)
	require.NotEmpty(t, warned, "the wait is logged")
	for i, m := range warned {
		require.Equal(t, fmt.Sprint(i+1), m[1], "attempts logged once each, in order")
	}
	require.Equal(t, 1, strings.Count(log, `msg="connected to Redis"`))
	t.Logf("ready %.1f s after start, Redis up %s after /healthz answered; %d failed attempts logged",
		ready.Seconds(), redisLateBy, len(warned))
}

// SIGTERM while the node waits for Redis ends it at once and cleanly.
func TestNodeStopsWhileWaitingForRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node; skipped under -short")
	}
	tg := tgfake.New(t, tgfake.Options{})
	rs := redistest.Start(t)
	rs.Stop() // nothing listens on its port for the rest of the test
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpAddr := l.Addr().String()
	require.NoError(t, l.Close())
	dir := t.TempDir()
	cmd := exec.Command(binary)
	cmd.Dir = dir
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "BOT_TOKEN=" + tg.Token(),
		"OWNER_ID=" + fmt.Sprint(harness.OwnerID), "TELEGRAM_API_URL=" + tg.URL(), "TELEGRAM_LOCAL=false",
		"DOWNLOAD_DIR=" + filepath.Join(dir, "downloads"), "STATE_DIR=" + filepath.Join(dir, "data"),
		"HTTP_ADDR=" + httpAddr, "REDIS_URL=" + rs.URL(), "NODE_NAME=n1", "CLUSTER_ADDR=127.0.0.1:0",
		"TORRENT_PORT=0", "TORRENT_DHT=false"}
	require.NoError(t, cmd.Start())
	p := probeWhileWaiting(httpAddr)
	require.NoError(t, p.err)
	require.Equal(t, http.StatusServiceUnavailable, p.readyz)

	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "a clean exit\n%s", log.String())
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("the node did not exit within 10 s of SIGTERM\n%s", log.String())
	}
	require.Contains(t, log.String(), "stopped while waiting for Redis")
	t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
}

// probeWhileWaiting waits for the node's /healthz, then reads /readyz.
func probeWhileWaiting(addr string) startupProbe {
	c := &http.Client{Timeout: 3 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	var p startupProbe
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _, err := get("/healthz")
		if err == nil {
			p.healthz = code
			break
		}
		if time.Now().After(deadline) {
			p.err = fmt.Errorf("/healthz never answered: %w", err)
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Until the first attempt fails /readyz says it is connecting; after,
	// it names the failed attempt.
	for {
		p.readyz, p.readyBody, p.err = get("/readyz")
		if p.err != nil || strings.Contains(p.readyBody, "waiting for Redis") || time.Now().After(deadline) {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
}
