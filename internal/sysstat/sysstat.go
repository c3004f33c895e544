package sysstat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Stats is one sample of the node's statistics.
type Stats struct {
	Uptime     time.Duration // process uptime
	CPUPercent float64       // host CPU busy % (0..100) since the previous Sample
	ProcCPU    time.Duration // process user+system CPU time
	ProcRSS    int64         // process resident set size, bytes

	MemTotal, MemAvailable int64 // host memory, bytes
	Load1, Load5, Load15   float64

	DiskFree, DiskTotal int64 // of the sampled directory, bytes; free = available to this user

	Goroutines int
}

// MemPercent returns the share of host memory in use (0..100), or 0 when the
// total is unknown.
func (s Stats) MemPercent() float64 {
	if s.MemTotal <= 0 {
		return 0
	}
	return 100 * float64(s.MemTotal-s.MemAvailable) / float64(s.MemTotal)
}

// Sampler samples Stats. It is not safe for concurrent use.
type Sampler struct {
	dir     string
	started time.Time
	proc    string // root of the proc file system
	now     func() time.Time

	prev cpuTimes // /proc/stat at the previous Sample; zero before the first
}

// NewSampler returns a Sampler for the disk holding dir and a process started
// at started.
func NewSampler(dir string, started time.Time) *Sampler {
	return &Sampler{dir: dir, started: started, proc: "/proc", now: time.Now}
}

// Sample reads the current statistics. On partial failure it returns what it
// could read and the joined errors (see the package comment).
func (s *Sampler) Sample() (Stats, error) {
	st := Stats{
		Uptime:     s.now().Sub(s.started),
		Goroutines: runtime.NumGoroutine(),
	}
	var errs []error

	if cpu, err := readCPU(filepath.Join(s.proc, "stat")); err != nil {
		errs = append(errs, err)
	} else {
		st.CPUPercent = cpu.busyPercentSince(s.prev)
		s.prev = cpu
	}

	var ru unix.Rusage
	rusageErr := unix.Getrusage(unix.RUSAGE_SELF, &ru)
	if rusageErr != nil {
		errs = append(errs, fmt.Errorf("reading process resource usage: %w", rusageErr))
	} else {
		st.ProcCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if rss, err := readRSS(filepath.Join(s.proc, "self", "status")); err == nil {
		st.ProcRSS = rss
	} else if rusageErr == nil {
		// Without /proc the peak RSS (ru_maxrss, KiB on Linux) is the best
		// available figure.
		st.ProcRSS = ru.Maxrss * 1024
	} else {
		errs = append(errs, err)
	}

	var si unix.Sysinfo_t
	sysinfoErr := unix.Sysinfo(&si)
	if sysinfoErr != nil {
		errs = append(errs, fmt.Errorf("reading sysinfo: %w", sysinfoErr))
	} else {
		// Loads are fixed-point with SI_LOAD_SHIFT = 16 fractional bits.
		const scale = 1 << 16
		st.Load1 = float64(si.Loads[0]) / scale
		st.Load5 = float64(si.Loads[1]) / scale
		st.Load15 = float64(si.Loads[2]) / scale
	}
	if total, avail, err := readMeminfo(filepath.Join(s.proc, "meminfo")); err == nil {
		st.MemTotal, st.MemAvailable = total, avail
	} else if sysinfoErr == nil {
		// sysinfo has no "available" figure; free + buffers is the closest.
		unit := int64(max(si.Unit, 1))
		st.MemTotal = int64(si.Totalram) * unit
		st.MemAvailable = (int64(si.Freeram) + int64(si.Bufferram)) * unit
	} else {
		errs = append(errs, err)
	}

	if free, total, err := DiskFree(s.dir); err != nil {
		errs = append(errs, err)
	} else {
		st.DiskFree, st.DiskTotal = free, total
	}
	return st, errors.Join(errs...)
}

// DiskFree returns the bytes available to this (unprivileged) user and the
// total size of the file system holding dir.
func DiskFree(dir string) (free, total int64, err error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, 0, fmt.Errorf("reading disk usage of %q: %w", dir, err)
	}
	bsize := int64(fs.Bsize)
	return int64(fs.Bavail) * bsize, int64(fs.Blocks) * bsize, nil
}

// cpuTimes are the host-wide CPU counters of /proc/stat, in clock ticks.
type cpuTimes struct {
	busy, total uint64
}

// busyPercentSince is the busy share of the ticks elapsed since prev (the zero
// value means since boot), 0..100.
func (c cpuTimes) busyPercentSince(prev cpuTimes) float64 {
	if c.total <= prev.total || c.busy < prev.busy {
		return 0
	}
	p := 100 * float64(c.busy-prev.busy) / float64(c.total-prev.total)
	return min(max(p, 0), 100)
}

func readCPU(path string) (cpuTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("reading cpu times: %w", err)
	}
	defer f.Close()
	c, err := parseCPU(f)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("parsing %s: %w", path, err)
	}
	return c, nil
}

// parseCPU reads the aggregate "cpu" line of /proc/stat: user nice system
// idle iowait irq softirq steal guest guest_nice. Guest time is already
// counted in user and nice, so only the first eight fields add up to the
// total; idle and iowait are the idle part.
func parseCPU(r io.Reader) (cpuTimes, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "cpu" {
			continue
		}
		if len(fields) < 5 {
			return cpuTimes{}, fmt.Errorf("short cpu line %q", sc.Text())
		}
		var c cpuTimes
		var idle uint64
		for i, f := range fields[1:min(len(fields), 9)] {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return cpuTimes{}, fmt.Errorf("parsing cpu field %d: %w", i+1, err)
			}
			c.total += v
			if i == 3 || i == 4 { // idle, iowait
				idle += v
			}
		}
		c.busy = c.total - idle
		return c, nil
	}
	if err := sc.Err(); err != nil {
		return cpuTimes{}, err
	}
	return cpuTimes{}, errors.New("no cpu line")
}

func readMeminfo(path string) (total, available int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("reading memory info: %w", err)
	}
	defer f.Close()
	total, available, err = parseMeminfo(f)
	if err != nil {
		return 0, 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	return total, available, nil
}

// parseMeminfo returns MemTotal and MemAvailable of /proc/meminfo in bytes.
// Kernels before 3.14 lack MemAvailable; MemFree + Buffers + Cached stands in.
func parseMeminfo(r io.Reader) (total, available int64, err error) {
	kv, err := kibFields(r, "MemTotal:", "MemAvailable:", "MemFree:", "Buffers:", "Cached:")
	if err != nil {
		return 0, 0, err
	}
	total, ok := kv["MemTotal:"]
	if !ok {
		return 0, 0, errors.New("no MemTotal")
	}
	available, ok = kv["MemAvailable:"]
	if !ok {
		available = kv["MemFree:"] + kv["Buffers:"] + kv["Cached:"]
	}
	return total, available, nil
}

func readRSS(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading process status: %w", err)
	}
	defer f.Close()
	rss, err := parseRSS(f)
	if err != nil {
		return 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	return rss, nil
}

// parseRSS returns VmRSS of /proc/<pid>/status in bytes.
func parseRSS(r io.Reader) (int64, error) {
	kv, err := kibFields(r, "VmRSS:")
	if err != nil {
		return 0, err
	}
	rss, ok := kv["VmRSS:"]
	if !ok {
		return 0, errors.New("no VmRSS")
	}
	return rss, nil
}

// kibFields reads "Key:   123 kB" lines and returns the wanted keys in bytes.
func kibFields(r io.Reader, keys ...string) (map[string]int64, error) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	out := make(map[string]int64, len(keys))
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !want[fields[0]] {
			continue
		}
		v, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", fields[0], err)
		}
		mult := int64(1)
		if len(fields) >= 3 && fields[2] == "kB" {
			mult = 1024
		}
		out[fields[0]] = v * mult
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
