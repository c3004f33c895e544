// Package bench holds the benchmarks that run the real bot; they are run by
// `make bench`, never by `make test` (they move gigabytes).
package bench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// rssKiB reads a field (VmRSS, VmHWM) of /proc/PID/status in KiB.
func rssKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not found", field)
}

// TestLeechPeakRSS leeches a 2 GiB file (default; BENCH_LEECH_SIZE in MiB)
// through the real binary into a local-mode Bot API fake and reports the
// bot's resident memory above idle. Target: under 64 MiB above idle.
func TestLeechPeakRSS(t *testing.T) {
	if os.Getenv("BENCH_LEECH_RSS") != "1" {
		t.Skip("a benchmark: set BENCH_LEECH_RSS=1 (make bench does)")
	}
	sizeMiB := int64(2048)
	if v, err := strconv.ParseInt(os.Getenv("BENCH_LEECH_SIZE"), 10, 64); err == nil && v > 0 {
		sizeMiB = v
	}
	size := sizeMiB << 20
	bin, cleanup, err := harness.Build()
	require.NoError(t, err)
	defer cleanup()

	tg := tgfake.New(t, tgfake.Options{Local: true})
	o := origin.New(t, origin.File{Path: "/big.bin", Size: size, Seed: 11})
	bot := harness.Start(t, bin, tg, "TELEGRAM_LOCAL=true", "LOG_LEVEL=info")
	pid := bot.Cmd.Process.Pid

	time.Sleep(2 * time.Second)
	idle, err := rssKiB(pid, "VmRSS")
	require.NoError(t, err)

	start := time.Now()
	tg.PushText(harness.UserID, harness.UserID, "/leech "+o.URL("/big.bin"))
	var peak int64
	done := false
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); {
		if rss, err := rssKiB(pid, "VmRSS"); err == nil && rss > peak {
			peak = rss
		}
		if _, ok := harness.MessageContaining(tg, harness.UserID, "✅"); ok {
			done = true
			break
		}
		if _, ok := harness.MessageContaining(tg, harness.UserID, "❌"); ok {
			t.Fatalf("the leech failed:\n%s", bot.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.True(t, done, "the leech did not finish in 10 minutes")
	took := time.Since(start)
	hwm, _ := rssKiB(pid, "VmHWM")
	docs := tg.Documents(harness.UserID)
	require.Equal(t, o.SHA256("/big.bin"), harness.JoinedSHA256(t, docs))

	report := fmt.Sprintf(`leech of %d MiB (%d parts) through the real bot, local Bot API fake
  wall time           %6.1f s  (%.0f MB/s download + upload)
  idle RSS            %6.1f MiB
  peak RSS (sampled)  %6.1f MiB
  VmHWM               %6.1f MiB
  peak above idle     %6.1f MiB   (target < 64 MiB)
`, sizeMiB, len(docs), took.Seconds(), float64(size)/1e6/took.Seconds(),
		float64(idle)/1024, float64(peak)/1024, float64(hwm)/1024, float64(peak-idle)/1024)
	fmt.Print(report)
	t.Log(report)
}
