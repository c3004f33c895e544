package bench

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/config"
)

// TestArchiveThroughput zips and extracts a mixed folder (default 1 GiB,
// BENCH_ARCHIVE_SIZE) with the engine (tests/bench/cmd/archive-run, a child
// process so its CPU time is its own) and with zip/unzip and 7z on the same
// data in the same run, and prints a table: wall seconds of the process,
// wall seconds including a sync(1) after it (the engine syncs its output,
// the tools do not, so this is the comparable figure), CPU seconds (user +
// system of the process), output size, and each tool's wall+sync and CPU
// divided by the engine's. BENCH_RUNS (default 1) repeats every command and
// keeps the median; BENCH_DIR keeps the work files there.
func TestArchiveThroughput(t *testing.T) {
	if os.Getenv("BENCH_ARCHIVE") != "1" {
		t.Skip("a benchmark: set BENCH_ARCHIVE=1")
	}
	size := int64(1 << 30)
	if v := os.Getenv("BENCH_ARCHIVE_SIZE"); v != "" {
		n, err := config.ParseSize(v)
		require.NoError(t, err)
		size = n
	}
	runs := 1
	if v, err := strconv.Atoi(os.Getenv("BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	for _, tool := range []string{"zip", "unzip", "7z", "sync"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s is needed (apt-get install zip unzip p7zip-full)", tool)
	}
	work := os.Getenv("BENCH_DIR")
	if work == "" {
		work = t.TempDir()
	}
	bin := filepath.Join(work, "archive-run")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/archive-run").CombinedOutput()
	require.NoError(t, err, "%s", out)

	src := filepath.Join(work, "src")
	start := time.Now()
	files, total := mixedTree(t, filepath.Join(src, "mixed"), size)
	fmt.Printf("generated %d files, %.1f MiB in %s\n", files, float64(total)/(1<<20), time.Since(start).Round(time.Millisecond))
	want := treeSums(t, filepath.Join(src, "mixed"))

	b := &bench{t: t, runs: runs, work: work, mib: float64(total) / (1 << 20)}
	z := func(name string) string { return filepath.Join(work, name) }
	const pw = "bench-pa55"

	// Zip. The outputs stay: some are the inputs of the extractions below.
	fmt.Println("\nzip of the folder:")
	ours := b.row("engine (flate L5, stores compressed files)", "", z("ours.zip"), bin, "zip", "mixed", z("ours.zip"))
	b.row("engine, every file deflated (-nostore)", "", z("nostore.zip"), bin, "zip", "-nostore", "mixed", z("nostore.zip"))
	b.row("engine, flate L1", "", z("l1.zip"), bin, "zip", "-level", "1", "mixed", z("l1.zip"))
	b.row("archive/zip + compress/flate (stdlib)", "", z("stdlib.zip"), bin, "zip", "-stdlib", "mixed", z("stdlib.zip"))
	b.row("engine AES-256", "", z("ours-aes.zip"), bin, "zip", "-password", pw, "mixed", z("ours-aes.zip"))
	b.row("zip -r (level 6)", "", z("zip.zip"), "zip", "-q", "-r", z("zip.zip"), "mixed")
	b.row("7z a -tzip (deflate, mx5, all cores)", "", z("7z.zip"), "7z", "a", "-tzip", "-bd", "-bso0", z("7z.zip"), "mixed")
	b.row("7z a -tzip -mem=AES256", "", z("7z-aes.zip"), "7z", "a", "-tzip", "-mem=AES256", "-p"+pw, "-bd", "-bso0", z("7z-aes.zip"), "mixed")
	b.row("7z a -mx1 (7z format, LZMA2)", "", z("mx1.7z"), "7z", "a", "-mx1", "-bd", "-bso0", z("mx1.7z"), "mixed")
	b.print(ours)

	// Extract the zip that zip -r made, then the engine's AES zip, then a 7z.
	fmt.Println("\nextraction of the zip made by zip -r:")
	ex := func(label string, name string, args ...string) *result {
		return b.row(label, filepath.Join(work, "x"), "", name, args...)
	}
	eng := ex("engine", bin, "extract", z("zip.zip"), filepath.Join(work, "x"))
	ex("unzip -q", "unzip", "-q", z("zip.zip"), "-d", filepath.Join(work, "x"))
	ex("7z x", "7z", "x", "-bd", "-bso0", "-y", "-o"+filepath.Join(work, "x"), z("zip.zip"))
	b.print(eng)

	fmt.Println("\nextraction of the engine's AES-256 zip:")
	b.rows = nil
	engAES := ex("engine", bin, "extract", "-password", pw, z("ours-aes.zip"), filepath.Join(work, "x"))
	ex("7z x -p", "7z", "x", "-p"+pw, "-bd", "-bso0", "-y", "-o"+filepath.Join(work, "x"), z("ours-aes.zip"))
	b.print(engAES)

	fmt.Println("\nextraction of a 7z (LZMA2, 7z a -mx1):")
	b.rows = nil
	eng7z := ex("engine", bin, "extract", z("mx1.7z"), filepath.Join(work, "x"))
	ex("7z x", "7z", "x", "-bd", "-bso0", "-y", "-o"+filepath.Join(work, "x"), z("mx1.7z"))
	b.print(eng7z)

	// Every extraction gave the source back.
	for _, r := range b.checked {
		require.Equal(t, want, r, "an extraction did not give the source back")
	}
}

// bench runs and records the rows of one table.
type bench struct {
	t       *testing.T
	runs    int
	work    string
	mib     float64
	rows    []*result
	checked []map[string]string
}

type result struct {
	label             string
	wall, synced, cpu time.Duration
	size              int64
}

// row runs a command runs times (in work, after a sync) and records the
// median. An extraction row (dir set) checks and removes its output folder;
// a zip row (file set) measures the file's size.
func (b *bench) row(label, dir, file, name string, args ...string) *result {
	t := b.t
	var rs []result
	for i := 0; i < b.runs; i++ {
		if file != "" && i > 0 {
			require.NoError(t, os.Remove(file))
		}
		require.NoError(t, exec.Command("sync").Run())
		cmd := exec.Command(name, args...)
		cmd.Dir = filepath.Join(b.work, "src")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		require.NoError(t, err, "%s: %s", label, out)
		require.NoError(t, exec.Command("sync").Run())
		r := result{label: label, wall: wall, synced: time.Since(start),
			cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
		if file != "" {
			st, err := os.Stat(file)
			require.NoError(t, err)
			r.size = st.Size()
		}
		if dir != "" {
			got := treeSums(t, filepath.Join(dir, "mixed"))
			if i == 0 {
				b.checked = append(b.checked, got)
			}
			require.NoError(t, os.RemoveAll(dir))
		}
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].synced < rs[j].synced })
	m := rs[len(rs)/2]
	b.rows = append(b.rows, &m)
	return &m
}

func (b *bench) print(base *result) {
	fmt.Printf("| %-44s | %7s | %9s | %7s | %9s | %8s | %12s | %11s |\n",
		"command", "wall s", "+sync s", "CPU s", "MiB/s", "size MiB", "wall÷engine", "CPU÷engine")
	fmt.Printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 46), strings.Repeat("-", 9), strings.Repeat("-", 11),
		strings.Repeat("-", 9), strings.Repeat("-", 11), strings.Repeat("-", 10), strings.Repeat("-", 14), strings.Repeat("-", 13))
	for _, r := range b.rows {
		size := "-"
		if r.size > 0 {
			size = fmt.Sprintf("%.1f", float64(r.size)/(1<<20))
		}
		fmt.Printf("| %-44s | %7.2f | %9.2f | %7.2f | %9.1f | %8s | %11.2fx | %10.2fx |\n", r.label,
			r.wall.Seconds(), r.synced.Seconds(), r.cpu.Seconds(), b.mib/r.synced.Seconds(), size,
			r.synced.Seconds()/base.synced.Seconds(), r.cpu.Seconds()/base.cpu.Seconds())
	}
	b.rows = nil
}

// mixedTree writes about size bytes: a third compressible text, a third
// random bytes under neutral names, a third random bytes under media
// names; each third is many small files, some medium ones and one large.
func mixedTree(t *testing.T, dir string, size int64) (int, int64) {
	third := size / 3
	r := rand.New(rand.NewChaCha8([32]byte{42}))
	vocab := make([]string, 4000)
	for i := range vocab {
		w := make([]byte, 2+r.IntN(9))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		vocab[i] = string(w)
	}
	files := 0
	var total int64
	write := func(p string, n int64, text bool) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		f, err := os.Create(full)
		require.NoError(t, err)
		bw := bufio.NewWriterSize(f, 1<<20)
		if text {
			var line int
			for written := int64(0); written < n; {
				w := vocab[r.IntN(r.IntN(len(vocab))+1)]
				k, _ := bw.WriteString(w)
				written += int64(k)
				line++
				sep := byte(' ')
				if line%12 == 0 {
					sep = '\n'
				}
				bw.WriteByte(sep)
				written++
			}
		} else {
			buf := make([]byte, 1<<20)
			for left := n; left > 0; {
				k := min(left, int64(len(buf)))
				for i := 0; i < int(k); i += 8 {
					v := r.Uint64()
					for j := 0; j < 8 && i+j < int(k); j++ {
						buf[i+j] = byte(v >> (8 * j))
					}
				}
				bw.Write(buf[:k])
				left -= k
			}
		}
		require.NoError(t, bw.Flush())
		st, err := f.Stat()
		require.NoError(t, err)
		require.NoError(t, f.Close())
		files++
		total += st.Size()
	}
	for _, part := range []struct {
		dir  string
		exts []string
		text bool
	}{
		{"docs", []string{".txt", ".csv", ".log", ".html"}, true},
		{"data", []string{".bin", ".dat", ".db"}, false},
		{"media", []string{".mkv", ".jpg", ".mp3", ".png"}, false},
	} {
		left := third
		for i := 0; i < 600 && left > 0; i++ { // small files, 1-64 KiB
			n := min(int64(1+r.IntN(64))<<10, left)
			write(fmt.Sprintf("%s/small/%03d/f%04d%s", part.dir, i/100, i, part.exts[i%len(part.exts)]), n, part.text)
			left -= n
		}
		for i := 0; i < 12 && left > 0; i++ { // medium files, 1-8 MiB
			n := min(int64(1+r.IntN(8))<<20, left)
			write(fmt.Sprintf("%s/medium/m%02d%s", part.dir, i, part.exts[i%len(part.exts)]), n, part.text)
			left -= n
		}
		if left > 0 {
			write(fmt.Sprintf("%s/large%s", part.dir, part.exts[0]), left, part.text)
		}
	}
	return files, total
}

// treeSums maps every file under dir to its SHA-256.
func treeSums(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(h.Sum(nil))
		return nil
	}))
	return out
}
