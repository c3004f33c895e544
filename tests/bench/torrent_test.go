package bench

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/config"
	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// TorrentBench is what a leecher of the torrent benchmark is given.
type TorrentBench struct {
	Torrent string // the .torrent file (its announce URL is Tracker)
	Magnet  string // magnet link with the seeder as x.pe
	Peer    string // the seeder, "127.0.0.1:port"
	Tracker string // HTTP tracker that knows the seeder
	Name    string // file name inside the output directory
	Size    int64
}

// Runner returns the command of one leecher process that downloads the
// benchmark torrent into the empty folder out and exits when it is
// complete, and the path where the downloaded file will be. Each leecher is
// a separate process so that its CPU time (getrusage of the child) and peak
// RSS are its own.
type Runner func(ctx context.Context, b TorrentBench, out string) (cmd *exec.Cmd, result string, err error)

// runnerEntry is a named Runner; the first one is the reference the ratios
// divide by.
type runnerEntry struct {
	name string
	run  Runner
	// measure, when set, replaces run: a leecher that is not one process
	// per download (the bot, which keeps running between downloads).
	measure func(t *testing.T, seed torrentSeeder, out string) leechResult
}

// aria2cRunner: aria2c finds the seeder through the tracker (it has no
// option for a peer address) and stops when the download is complete.
func aria2cRunner(aria2c string) Runner {
	return func(ctx context.Context, b TorrentBench, out string) (*exec.Cmd, string, error) {
		port, err := freeTCPPort()
		if err != nil {
			return nil, "", err
		}
		return exec.CommandContext(ctx, aria2c, "--dir="+out, "--seed-time=0",
			"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
			"--file-allocation=none", "--summary-interval=0", "--console-log-level=warn", "--quiet=true",
			fmt.Sprintf("--listen-port=%d", port), b.Torrent), filepath.Join(out, b.Name), nil
	}
}

// bareRunner: internal/torrent.Client used directly (cmd/torrent-get),
// announcing to the same tracker and also given the seeder's address, the
// way the bot gets it from a magnet's x.pe. The engine writes the data
// under out/data (its state goes to out/.torrent).
func bareRunner(torrentGet string) Runner {
	return func(ctx context.Context, b TorrentBench, out string) (*exec.Cmd, string, error) {
		args := []string{"-torrent", b.Torrent, "-trackers", "-peer", b.Peer, "-o", out}
		if os.Getenv("BENCH_TORRENT_VERBOSE") == "1" {
			args = append(args, "-v")
		}
		return exec.CommandContext(ctx, torrentGet, args...), filepath.Join(out, "data", b.Name), nil
	}
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// leechResult is one measured download.
type leechResult struct {
	wall, cpu, seederCPU time.Duration
	rssKiB               int64
	ok                   bool
}

// TestTorrentThroughput compares leechers of one torrent from one seeder on
// loopback: aria2c, the engine used directly, and (added by the bot's
// end-to-end code) the bot. Set BENCH_TORRENT=1 to run it.
//
// Knobs: BENCH_TORRENT_SIZE (default 512MiB), BENCH_TORRENT_RUNS (3),
// BENCH_TORRENT_ONLY (one leecher by name), BENCH_TORRENT_VERBOSE=1 (the
// bare client logs and prints its progress every second),
// BENCH_TORRENT_PIECE (1MiB), BENCH_DIR (work directory, kept when set;
// the payload is generated once and reused), BENCH_OUT (where leechers
// write, default BENCH_DIR/out; /dev/shm takes the disk out).
func TestTorrentThroughput(t *testing.T) {
	if os.Getenv("BENCH_TORRENT") != "1" {
		t.Skip("a benchmark: set BENCH_TORRENT=1")
	}
	size := envSize(t, "BENCH_TORRENT_SIZE", "512MiB")
	piece := envSize(t, "BENCH_TORRENT_PIECE", "1MiB")
	runs := 3
	if v, err := strconv.Atoi(os.Getenv("BENCH_TORRENT_RUNS")); err == nil && v > 0 {
		runs = v
	}
	work := os.Getenv("BENCH_DIR")
	if work == "" {
		work = t.TempDir()
	}
	outRoot := os.Getenv("BENCH_OUT")
	if outRoot == "" {
		outRoot = filepath.Join(work, "out")
	}
	aria2c, err := exec.LookPath("aria2c")
	require.NoError(t, err, "aria2c is needed: apt-get install aria2")

	bin := filepath.Join(work, "bin")
	for _, cmd := range []string{"torrent-seed", "torrent-get"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, cmd), "github.com/mirrorleech/mirrorleech/tests/bench/cmd/"+cmd)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		require.NoError(t, build.Run(), "building %s", cmd)
	}

	tracker := swarm.NewTracker(t)
	seed := startTorrentSeeder(t, filepath.Join(bin, "torrent-seed"), work, size, piece, tracker.URL)
	t.Logf("seeder %s, %d bytes in %d-byte pieces, sha256 %s", seed.bench.Peer, size, piece, seed.sha256)

	runners := []runnerEntry{
		{name: "aria2c", run: aria2cRunner(aria2c)},
		{name: "bare client", run: bareRunner(filepath.Join(bin, "torrent-get"))},
		{name: "bot", measure: botLeecher(t, filepath.Join(outRoot, "bot"))},
	}
	if only := os.Getenv("BENCH_TORRENT_ONLY"); only != "" {
		runners = slices.DeleteFunc(runners, func(r runnerEntry) bool { return r.name != only })
		require.NotEmpty(t, runners, "BENCH_TORRENT_ONLY names no leecher")
	}
	results := make([][]leechResult, len(runners))
	for run := 0; run < runs; run++ {
		// Interleaved, so slow drift of the machine hits every leecher alike.
		for i, r := range runners {
			res := leechOnce(t, r, seed, filepath.Join(outRoot, strconv.Itoa(i)))
			t.Logf("run %d %-12s %6.2f s %7.1f MB/s cpu %5.2f s rss %4d MiB seeder cpu %5.2f s sha256 ok=%v",
				run+1, r.name, res.wall.Seconds(), mbps(size, res.wall), res.cpu.Seconds(), res.rssKiB>>10, res.seederCPU.Seconds(), res.ok)
			results[i] = append(results[i], res)
		}
	}
	fmt.Print(torrentTable(runners, results, size))
	for i, rs := range results {
		for _, r := range rs {
			require.True(t, r.ok, "%s produced a file that does not match the seeder's", runners[i].name)
		}
	}
}

func envSize(t *testing.T, name, def string) int64 {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	n, err := config.ParseSize(v)
	require.NoError(t, err, name)
	return n
}

type torrentSeeder struct {
	bench  TorrentBench
	sha256 string
	pid    int
}

// startTorrentSeeder runs cmd/torrent-seed until the test ends.
func startTorrentSeeder(t *testing.T, exe, work string, size, piece int64, trackerURL string) torrentSeeder {
	cmd := exec.Command(exe, "-dir", work, "-size", strconv.FormatInt(size, 10),
		"-piece", strconv.FormatInt(piece, 10), "-announce", trackerURL)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close() // the seeder exits when its input closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	s := torrentSeeder{pid: cmd.Process.Pid, bench: TorrentBench{Tracker: trackerURL}}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		k, v, _ := strings.Cut(lines.Text(), "=")
		switch k {
		case "addr":
			s.bench.Peer = v
		case "torrent":
			s.bench.Torrent = v
		case "name":
			s.bench.Name = v
		case "size":
			s.bench.Size, _ = strconv.ParseInt(v, 10, 64)
		case "sha256":
			s.sha256 = v
		case "magnet":
			s.bench.Magnet = v
		}
		if k == "ready" {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return s
		}
	}
	t.Fatalf("the seeder exited before it was ready: %v", lines.Err())
	return s
}

// leechOnce runs one leecher into a fresh out and measures it.
func leechOnce(t *testing.T, r runnerEntry, seed torrentSeeder, out string) leechResult {
	require.NoError(t, os.RemoveAll(out))
	require.NoError(t, os.MkdirAll(out, 0o755))
	// Flush the previous run's writeback so it does not slow this one.
	require.NoError(t, exec.Command("sync").Run())
	if r.measure != nil {
		return r.measure(t, seed, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd, result, err := r.run(ctx, seed.bench, out)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	cpu0 := procCPU(t, seed.pid)
	start := time.Now()
	require.NoError(t, cmd.Run(), "%s failed", r.name)
	res := leechResult{wall: time.Since(start), seederCPU: procCPU(t, seed.pid) - cpu0}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		res.rssKiB = ru.Maxrss
	}
	res.ok = fileSHA256(t, result) == seed.sha256
	require.NoError(t, os.RemoveAll(out))
	return res
}

// procCPU returns user+system time of a running process (/proc/PID/stat).
func procCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 14th and 15th fields overall.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	require.NoError(t, err)
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	require.NoError(t, err)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

func fileSHA256(t *testing.T, path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "missing: " + err.Error()
	}
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

func mbps(size int64, d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// torrentTable renders the results: medians per leecher and ratios to the
// first (aria2c).
func torrentTable(runners []runnerEntry, results [][]leechResult, size int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\ntorrent benchmark: %d MiB over loopback, %d run(s) per leecher\n\n", size>>20, len(results[0]))
	fmt.Fprintf(&b, "| %-12s | %-22s | %8s | %-10s | %7s | %7s | %9s | %-6s |\n",
		"leecher", "wall s per run", "MB/s", "CPU s", "CPU med", "RSS MiB", "seeder s", "sha256")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 14), strings.Repeat("-", 24),
		strings.Repeat("-", 10), strings.Repeat("-", 12), strings.Repeat("-", 9), strings.Repeat("-", 9),
		strings.Repeat("-", 11), strings.Repeat("-", 8))
	speed := make([]float64, len(runners))
	cpu := make([]float64, len(runners))
	for i, rs := range results {
		var walls, rates, cpus, seeders []float64
		var rss int64
		ok := "ok"
		for _, r := range rs {
			walls = append(walls, r.wall.Seconds())
			rates = append(rates, mbps(size, r.wall))
			cpus = append(cpus, r.cpu.Seconds())
			seeders = append(seeders, r.seederCPU.Seconds())
			rss = max(rss, r.rssKiB)
			if !r.ok {
				ok = "MISMATCH"
			}
		}
		speed[i], cpu[i] = median(rates), median(cpus)
		fmt.Fprintf(&b, "| %-12s | %-22s | %8.1f | %-10s | %7.2f | %7d | %9.2f | %-6s |\n",
			runners[i].name, joinFloats(walls, 2), speed[i], rangeOf(cpus), cpu[i], rss>>10, median(seeders), ok)
	}
	b.WriteString("\n")
	for i := 1; i < len(runners); i++ {
		fmt.Fprintf(&b, "%s / %s: speed %.2fx, CPU %.2fx\n", runners[i].name, runners[0].name,
			speed[i]/speed[0], cpu[i]/cpu[0])
	}
	// The bot against the engine alone: what the actors cost.
	for i, r := range runners {
		if r.name != "bot" {
			continue
		}
		for j, bare := range runners {
			if bare.name == "bare client" {
				fmt.Fprintf(&b, "bot / bare client: speed %.2fx, CPU %.2fx\n", speed[i]/speed[j], cpu[i]/cpu[j])
			}
		}
	}
	return b.String()
}

func joinFloats(v []float64, prec int) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'f', prec, 64)
	}
	return strings.Join(s, "/")
}

func rangeOf(v []float64) string {
	lo, hi := slices.Min(v), slices.Max(v)
	if lo == hi {
		return strconv.FormatFloat(lo, 'f', 2, 64)
	}
	return fmt.Sprintf("%.2f-%.2f", lo, hi)
}

// botLeecher starts the real bot once (built like the end-to-end tests,
// against the Bot API fake) and measures each download as the time from
// "/mirror MAGNET" to the done message, and the bot process's CPU over that
// time (/proc, so its start-up is not counted). The magnet carries the
// seeder's address as x.pe, as a user's magnet would carry peers; the
// result is mirrored to out. RSS is the bot's peak over its whole life.
func botLeecher(t *testing.T, root string) func(*testing.T, torrentSeeder, string) leechResult {
	bin, cleanup, err := harness.Build()
	require.NoError(t, err)
	t.Cleanup(cleanup)
	tg := tgfake.New(t, tgfake.Options{})
	var bot *harness.Bot
	runs := 0
	return func(t *testing.T, seed torrentSeeder, out string) leechResult {
		if bot == nil {
			// MIRROR_DEST is fixed at start: every run mirrors into the
			// same out folder, which leechOnce empties between runs.
			bot = harness.Start(t, bin, tg, "LOG_LEVEL=warn", "MIRROR_DEST="+out,
				"DOWNLOAD_DIR="+filepath.Join(root, "work"), "STATE_DIR="+filepath.Join(root, "state"))
		}
		runs++
		pid := bot.Cmd.Process.Pid
		cpu0 := procCPU(t, pid)
		seedCPU0 := procCPU(t, seed.pid)
		start := time.Now()
		tg.PushText(harness.UserID, harness.UserID, "/mirror "+seed.bench.Magnet)
		// The download ends when the result appears in MIRROR_DEST (it is
		// renamed there complete and synced); the chat's final message
		// follows at the outbox's per-chat pace, which is not download time.
		result := filepath.Join(out, seed.bench.Name)
		for {
			if _, err := os.Stat(result); err == nil {
				break
			}
			for _, m := range tg.Messages(harness.UserID) {
				require.False(t, strings.HasPrefix(m.Text, "❌"), "the bot failed: %s", m.Text)
			}
			require.Less(t, time.Since(start), 20*time.Minute, "the bot did not finish")
			time.Sleep(10 * time.Millisecond)
		}
		res := leechResult{wall: time.Since(start), cpu: procCPU(t, pid) - cpu0, seederCPU: procCPU(t, seed.pid) - seedCPU0}
		waitDone := time.Now()
		for {
			n := 0
			for _, m := range tg.Messages(harness.UserID) {
				if strings.HasPrefix(m.Text, "✅") {
					n++
				}
			}
			if n >= runs {
				break
			}
			require.Less(t, time.Since(waitDone), time.Minute, "no final message")
			time.Sleep(20 * time.Millisecond)
		}
		res.rssKiB, _ = rssKiB(pid, "VmHWM")
		res.ok = fileSHA256(t, result) == seed.sha256
		return res
	}
}
