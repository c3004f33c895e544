package torrent

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// needTool returns the path of a command the test drives as a real peer.
// Without it the test skips, but fails under CI=true (make test-deps
// installs it).
func needTool(t *testing.T, name, debianPackage string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: apt-get install %s (make test-deps)", name, debianPackage)
		}
		t.Skipf("%s is missing: apt-get install %s", name, debianPackage)
	}
	return p
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// An independent client seeds: aria2c checks the data against a .torrent
// built here and serves it; our client downloads it from aria2c alone.
func TestInteropAria2Seeder(t *testing.T) {
	aria2c := needTool(t, "aria2c", "aria2")
	files := map[string][]byte{
		"video/part1.bin": swarm.Random(21, 6<<20+333),
		"video/part2.bin": swarm.Random(22, 3<<20),
		"readme.txt":      []byte("seeded by aria2c\n"),
	}
	parent := t.TempDir()
	root := filepath.Join(parent, "aria2 set")
	for p, b := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, p), b, 0o644))
	}
	mi, err := swarm.BuildMetaInfo(root, 256<<10, "")
	require.NoError(t, err)
	torrentFile := filepath.Join(t.TempDir(), "set.torrent")
	require.NoError(t, os.WriteFile(torrentFile, mi, 0o644))

	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, aria2c,
		"--dir="+parent, "--check-integrity=true", "--bt-hash-check-seed=true", "--seed-ratio=0.0",
		fmt.Sprintf("--listen-port=%d", port), "--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false", "--enable-peer-exchange=false", "--file-allocation=none",
		"--summary-interval=0", "--console-log-level=warn", torrentFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("aria2c output:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "aria2c listens")

	c := newTestClient(t, Config{})
	var log progressLog
	res, err := c.Download(testContext(t, time.Minute), Request{MetaInfo: mi, Peers: []string{addr}, Dir: t.TempDir(), Progress: log.add})
	require.NoError(t, err)
	requireTree(t, res.Path, files)
	require.Equal(t, 3, res.Files)
	t.Logf("downloaded %d bytes from aria2c %s", log.last().Downloaded, addr)
}
