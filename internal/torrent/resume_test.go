package torrent

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// childEnv names the job of a child process started from the test binary.
const childEnv = "TORRENT_TEST_CHILD"

// resumeSeeder seeds 24 MiB in 256 KiB pieces. The leechers are throttled
// to resumeRate (Config.DownloadRateLimit), slow enough to stop them
// midway; their socket buffers then hold data in flight too, the harder
// case for the settle step.
func resumeSeeder(t *testing.T) (*swarm.Seeder, []byte) {
	data := swarm.Random(42, 24<<20)
	return swarm.NewSeeder(t, map[string][]byte{"big.bin": data}, swarm.Options{}), data
}

const resumeRate = 8e6

// A download stopped midway (context cancelled, client closed: a node
// stop) and started again in the same Dir by a new client fetches again
// only the pieces that were partial at the stop. Without the bolt piece
// database (rule 2) the second run starts over; without the settle step the
// pieces in flight at the stop are lost (about 10 MiB here).
func TestResumeAfterStop(t *testing.T) {
	seeder, data := resumeSeeder(t)
	dir := t.TempDir()
	size := int64(len(data))

	c1 := newTestClient(t, Config{DownloadRateLimit: resumeRate})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log1 progressLog
	_, err := c1.Download(ctx, Request{Magnet: seeder.Magnet, Dir: dir, Progress: func(p Progress) {
		log1.add(p)
		if p.Done >= size/2 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, c1.Close())
	first := log1.last()
	require.Less(t, first.Done, size, "stopped before the end")

	c2 := newTestClient(t, Config{DownloadRateLimit: resumeRate})
	var log2 progressLog
	res, err := c2.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir, Progress: log2.add})
	require.NoError(t, err)
	b, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	require.Equal(t, sum(data), sum(b))

	second := log2.last()
	again := first.Downloaded + second.Downloaded - size
	// The settle step has 700 ms: on a starved machine (race detector, two
	// busy processes beside it) up to 5 pieces were still partial. The
	// faults this guards against bring back 10 MiB or more (40 pieces).
	bound := 16 * seeder.PieceLength
	t.Logf("run 1: %d verified, %d received; run 2: %d received; re-downloaded %d (bound %d); seeder sent %d",
		first.Done, first.Downloaded, second.Downloaded, again, bound, seeder.Uploaded())
	require.Less(t, again, bound, "re-downloaded bytes stay under 16 pieces")
	require.False(t, log2.phases()[PhaseMetadata] && second.Downloaded == size, "the info came from Dir")
}

// The same after SIGKILL of the process in the middle of the download.
// Everything verified before the kill is kept; what was in flight is lost.
func TestResumeAfterKill(t *testing.T) {
	seeder, data := resumeSeeder(t)
	dir := t.TempDir()
	size := int64(len(data))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=download", "CHILD_MAGNET="+seeder.Magnet, "CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	before := seeder.Uploaded()
	var last Progress
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		require.NoError(t, json.Unmarshal(lines.Bytes(), &last))
		if last.Done >= size/2 {
			break
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	require.Error(t, cmd.Wait())
	require.Less(t, last.Done, size)
	sentToChild := seeder.Uploaded() - before

	c := newTestClient(t, Config{DownloadRateLimit: resumeRate})
	var log progressLog
	res, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir, Progress: log.add})
	require.NoError(t, err)
	b, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	require.Equal(t, sum(data), sum(b))
	second := log.last()
	// The child's last report is up to 250 ms old (a lower bound of what it
	// got); the seeder's count includes what sat unread in its socket.
	t.Logf("killed at %d verified, %d received; run 2 received %d; re-downloaded between %d and %d (the seeder sent the child %d)",
		last.Done, last.Downloaded, second.Downloaded, last.Downloaded+second.Downloaded-size,
		sentToChild+second.Downloaded-size, sentToChild)
	require.LessOrEqual(t, second.Downloaded, size-last.Done, "every piece verified before the kill was kept")
}

// runChild runs the job a parent test started this process for: it
// downloads CHILD_MAGNET into CHILD_DIR and then, for "download", reports
// progress on stdout until killed, or, for "mapped", removes the folder
// and prints how many of its files are still mapped.
func runChild(kind string) int {
	c, err := New(Config{ListenHost: "127.0.0.1", NoDHT: true, DisableTrackers: true, DisablePEX: true, DownloadRateLimit: resumeRate,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir := os.Getenv("CHILD_DIR")
	// A child whose parent died must not run forever.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req := Request{Magnet: os.Getenv("CHILD_MAGNET"), Dir: dir, StallTimeout: 30 * time.Second}
	switch kind {
	case "download":
		enc := json.NewEncoder(os.Stdout)
		req.Progress = func(p Progress) { _ = enc.Encode(p) }
		_, err = c.Download(ctx, req)
		fmt.Fprintln(os.Stderr, "the child's download ended:", err)
		return 1
	case "mapped":
		if _, err := c.Download(ctx, req); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		n, err := deletedMappings(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(n)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown child job", kind)
	return 2
}
