package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// needTool finds a command the test drives; under CI a missing tool is a
// failure (make test-deps installs it), elsewhere the test skips.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required (make test-deps installs it): %v", name, err)
		}
		t.Skipf("%s not installed (make test-deps installs it)", name)
	}
	return p
}

// run runs a tool in dir and returns its combined output; it must succeed.
func run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	out, err := runErr(dir, name, args...)
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
	return out
}

func runErr(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// pseudo returns n deterministic pseudo-random bytes.
func pseudo(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// textBytes returns n bytes of compressible text.
func textBytes(n int) []byte {
	s := strings.Repeat("The quick brown fox jumps over the lazy dog. 0123456789\n", n/56+1)
	return []byte(s[:n])
}

// writeTree writes files (slash path → content) under dir. A path ending
// in / is an empty folder; a path starting with "x:" is executable.
func writeTree(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for p, b := range files {
		mode := fs.FileMode(0o644)
		if rest, ok := strings.CutPrefix(p, "x:"); ok {
			p, mode = rest, 0o755
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			require.NoError(t, os.MkdirAll(full, 0o755))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, b, mode))
		require.NoError(t, os.Chmod(full, mode))
	}
}

// sampleTree is a small mixed folder: text, random bytes, an empty file,
// an empty folder, nested folders, a non-ASCII name and an executable.
func sampleTree(t testing.TB, parent, name string) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	writeTree(t, dir, map[string][]byte{
		"readme.txt":            textBytes(20_000),
		"data/random.bin":       pseudo(1, 150_000),
		"data/deeper/notes.md":  textBytes(3_000),
		"empty.txt":             nil,
		"empty-dir/":            nil,
		"música/canción ñ.txt":  []byte("hola\n"),
		"x:bin/run.sh":          []byte("#!/bin/sh\necho hi\n"),
		"photos/already.jpg":    pseudo(2, 70_000),
		"data/zeros.img":        make([]byte, 200_000),
		"data/deeper/tiny.json": []byte(`{"a":1}`),
	})
	return dir
}

// sums returns every regular file under dir (slash path) with its SHA-256;
// a folder gets "dir", anything else fails the test.
func sums(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			out[rel] = "dir"
		case d.Type().IsRegular():
			out[rel] = fileSum(t, p)
		default:
			t.Fatalf("%s is neither a file nor a folder: %v", rel, d.Type())
		}
		return nil
	}))
	return out
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func fileSum(t testing.TB, p string) string {
	t.Helper()
	f, err := os.Open(p)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// prefixed returns m with every key under prefix/.
func prefixed(prefix string, m map[string]string) map[string]string {
	out := map[string]string{prefix: "dir"}
	for k, v := range m {
		out[prefix+"/"+k] = v
	}
	return out
}

// extract runs Extract into a new folder and returns it.
func extract(t testing.TB, src string, o ExtractOptions) (string, ExtractResult, error) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "out")
	res, err := Extract(context.Background(), src, dst, o)
	if err != nil {
		_, serr := os.Stat(dst)
		require.ErrorIs(t, serr, fs.ErrNotExist, "a failed extraction leaves nothing")
	}
	return dst, res, err
}
