package torrent

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// deletedMappings counts this process's memory mappings of deleted files
// under dir (/proc/self/maps marks them "(deleted)").
func deletedMappings(dir string) (int, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.Contains(s.Text(), dir) && strings.HasSuffix(s.Text(), "(deleted)") {
			n++
		}
	}
	return n, s.Err()
}

// handlesUnder lists this process's mappings and open files under dir.
func handlesUnder(t *testing.T, dir string) []string {
	var out []string
	maps, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	for _, l := range strings.Split(string(maps), "\n") {
		if strings.Contains(l, dir) {
			out = append(out, l)
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, dir) {
			out = append(out, "fd "+fd.Name()+" -> "+target)
		}
	}
	return out
}

// Rule 3: after a download the engine holds no file of it, so removing the
// folder frees its space at once. With the library's default mmap I/O
// (shown in a child process started with it) deleted files stay mapped
// until the process exits.
func TestClassicFileIO(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	require.Equal(t, "classic", os.Getenv(fileIOEnv), "TestMain re-executed the tests with classic I/O")
	// No empty file: with mmap I/O a piece that spans one fails to write
	// (EINVAL) and the library silently stops downloading.
	seeder := swarm.NewSeeder(t, map[string][]byte{"a.bin": swarm.Random(1, 3<<20), "b/c.bin": swarm.Random(2, 1<<20)}, swarm.Options{})
	c := newTestClient(t, Config{})
	dir := t.TempDir()
	_, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir})
	require.NoError(t, err)
	require.Empty(t, handlesUnder(t, dir))
	require.NoError(t, os.RemoveAll(dir))
	n, err := deletedMappings(dir)
	require.NoError(t, err)
	require.Zero(t, n)

	mmapDir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=mapped", fileIOEnv+"=mmap", "CHILD_MAGNET="+seeder.Magnet, "CHILD_DIR="+mmapDir)
	cmd.WaitDelay = time.Second
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(t, err)
	n, err = strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err)
	t.Logf("with mmap I/O, %d deleted files stayed mapped after the download", n)
	require.Positive(t, n)
}

func TestEnsureClassicFileIO(t *testing.T) {
	t.Setenv(fileIOEnv, "classic")
	require.NoError(t, EnsureClassicFileIO())
	t.Setenv(fileIOEnv, "mmap")
	require.ErrorContains(t, EnsureClassicFileIO(), `only "classic" is supported`)
}

// A chunk that cannot be written fails the download with the disk's error
// (the library would otherwise stop downloading without a word).
func TestWriteError(t *testing.T) {
	seeder := swarm.NewSeeder(t, map[string][]byte{"f.bin": swarm.Random(3, 1<<20)}, swarm.Options{})
	c := newTestClient(t, Config{})
	dir := t.TempDir()
	// A folder where the file should go: every write fails with EISDIR.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data", "f.bin"), 0o755))
	_, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir})
	require.ErrorIs(t, err, syscall.EISDIR)
	require.ErrorContains(t, err, "writing the torrent's data")
}
