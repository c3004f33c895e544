package sysstat

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// burnCPU keeps one core busy for about d.
func burnCPU(d time.Duration) {
	sum := sha256.Sum256(nil)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 1000 {
			sum = sha256.Sum256(sum[:])
		}
	}
}

func TestSampleThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs a Linux /proc file system: ", err)
	}
	dir := t.TempDir()
	started := time.Now().Add(-90 * time.Second)
	s := NewSampler(dir, started)

	first, err := s.Sample()
	require.NoError(t, err)
	require.Positive(t, first.MemTotal)
	require.Positive(t, first.MemAvailable)
	require.LessOrEqual(t, first.MemAvailable, first.MemTotal)
	require.Positive(t, first.DiskTotal)
	require.LessOrEqual(t, first.DiskFree, first.DiskTotal)
	require.Positive(t, first.ProcRSS)
	require.Positive(t, first.Goroutines)
	require.GreaterOrEqual(t, first.Uptime, 90*time.Second)
	require.Less(t, first.Uptime, 90*time.Second+time.Minute)
	require.GreaterOrEqual(t, first.Load1, 0.0)
	require.InDelta(t, 50, first.MemPercent(), 50)
	require.GreaterOrEqual(t, first.CPUPercent, 0.0)
	require.LessOrEqual(t, first.CPUPercent, 100.0)

	burnCPU(200 * time.Millisecond)

	second, err := s.Sample()
	require.NoError(t, err)
	// 200 ms of busy work spans about 20 clock ticks: the host was not idle.
	require.Positive(t, second.CPUPercent)
	require.LessOrEqual(t, second.CPUPercent, 100.0)
	require.Greater(t, second.ProcCPU, first.ProcCPU)
	require.GreaterOrEqual(t, second.ProcCPU, 100*time.Millisecond)
}

func TestDiskFree(t *testing.T) {
	dir := t.TempDir()
	free, total, err := DiskFree(dir)
	require.NoError(t, err)
	require.Positive(t, total)
	require.GreaterOrEqual(t, free, int64(0))
	require.LessOrEqual(t, free, total)

	missing := filepath.Join(dir, "missing")
	_, _, err = DiskFree(missing)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "missing")
}

// fakeProc writes a proc tree with the given files (relative path → content).
func fakeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return root
}

func TestSampleFakeProc(t *testing.T) {
	const meminfo = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"
	root := fakeProc(t, map[string]string{
		"stat":        "cpu  60 0 40 800 100 0 0 0 0 0\ncpu0 60 0 40 800 100 0 0 0 0 0\nintr 1\n",
		"meminfo":     meminfo,
		"self/status": "Name:\tx\nVmPeak:\t 9999 kB\nVmRSS:\t    2048 kB\n",
	})
	started := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewSampler(t.TempDir(), started)
	s.proc = root
	s.now = func() time.Time { return started.Add(time.Hour) }

	st, err := s.Sample()
	require.NoError(t, err)
	require.Equal(t, time.Hour, st.Uptime)
	require.InDelta(t, 10.0, st.CPUPercent, 1e-9, "100 busy of 1000 ticks since boot")
	require.Equal(t, int64(16000000*1024), st.MemTotal)
	require.Equal(t, int64(8000000*1024), st.MemAvailable)
	require.InDelta(t, 50.0, st.MemPercent(), 1e-9)
	require.Equal(t, int64(2048*1024), st.ProcRSS)

	// Between two samples: 150 more busy ticks out of 200.
	require.NoError(t, os.WriteFile(filepath.Join(root, "stat"), []byte("cpu  160 0 90 850 100 0 0 0 0 0\n"), 0o644))
	st, err = s.Sample()
	require.NoError(t, err)
	require.InDelta(t, 75.0, st.CPUPercent, 1e-9)
}

func TestSamplePartialFailure(t *testing.T) {
	root := fakeProc(t, map[string]string{"stat": "garbage\n"}) // no meminfo, no self/status
	missing := filepath.Join(t.TempDir(), "gone")
	s := NewSampler(missing, time.Now())
	s.proc = root

	st, err := s.Sample()
	require.Error(t, err)
	require.ErrorIs(t, err, fs.ErrNotExist, "the missing directory is reported")
	require.ErrorContains(t, err, "no cpu line")
	require.ErrorContains(t, err, "gone")
	// The rest is filled from the fallbacks: sysinfo for memory, rusage for RSS.
	require.Positive(t, st.MemTotal)
	require.Positive(t, st.ProcRSS)
	require.Positive(t, st.Goroutines)
	require.Zero(t, st.DiskTotal)
	require.Zero(t, st.CPUPercent)
}

func TestParseCPU(t *testing.T) {
	tests := []struct {
		name, in    string
		busy, total uint64
		bad         bool
	}{
		{name: "full", in: "cpu  10 1 5 100 4 2 3 1 7 7\n", busy: 22, total: 126},
		{name: "old kernel", in: "cpu 10 1 5 100\n", busy: 16, total: 116},
		{name: "after per-cpu lines", in: "cpu0 1 1 1 1\ncpu  1 2 3 4 5 6 7 8\n", busy: 27, total: 36},
		{name: "missing", in: "intr 5\n", bad: true},
		{name: "short", in: "cpu 1 2\n", bad: true},
		{name: "not a number", in: "cpu 1 2 x 4\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseCPU(strings.NewReader(tt.in))
			if tt.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, cpuTimes{busy: tt.busy, total: tt.total}, c)
		})
	}
}

func TestBusyPercentSince(t *testing.T) {
	require.InDelta(t, 25.0, cpuTimes{busy: 35, total: 140}.busyPercentSince(cpuTimes{busy: 10, total: 40}), 1e-9)
	require.Zero(t, cpuTimes{busy: 10, total: 40}.busyPercentSince(cpuTimes{busy: 10, total: 40}), "no ticks elapsed")
	require.Zero(t, cpuTimes{busy: 5, total: 50}.busyPercentSince(cpuTimes{busy: 10, total: 40}), "counters went back")
}

func TestParseMeminfo(t *testing.T) {
	total, avail, err := parseMeminfo(strings.NewReader("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n"))
	require.NoError(t, err)
	require.Equal(t, int64(100*1024), total)
	require.Equal(t, int64(35*1024), avail, "without MemAvailable: free + buffers + cached")

	_, _, err = parseMeminfo(strings.NewReader("MemFree: 10 kB\n"))
	require.ErrorContains(t, err, "no MemTotal")
	_, _, err = parseMeminfo(strings.NewReader("MemTotal: lots kB\n"))
	require.Error(t, err)
}

func TestParseRSS(t *testing.T) {
	rss, err := parseRSS(strings.NewReader("VmHWM:\t 10 kB\nVmRSS:\t 7 kB\n"))
	require.NoError(t, err)
	require.Equal(t, int64(7*1024), rss)
	_, err = parseRSS(strings.NewReader("Name: kthreadd\n"))
	require.ErrorContains(t, err, "no VmRSS")
}
