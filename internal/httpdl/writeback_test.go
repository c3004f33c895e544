package httpdl

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStartWriteback checks that the writeback hint and datasync leave the
// file's bytes alone, and that a closed file is reported (Linux) or
// ignored (the no-op elsewhere) rather than crashing.
func TestStartWriteback(t *testing.T) {
	const size = 3<<20 + 17
	data := content(size, 7)
	tests := []struct {
		name   string
		off, n int64
	}{
		{"whole file", 0, size},
		{"inner range", 1 << 20, 1<<20 + 5},
		{"empty range", 4096, 0},
		{"negative length", 4096, -1},
		{"past the end", size - 10, 1 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.part")
			f, err := os.Create(p)
			require.NoError(t, err)
			_, err = f.WriteAt(data, 0)
			require.NoError(t, err)
			require.NoError(t, startWriteback(f, tc.off, tc.n))
			require.NoError(t, datasync(f))
			require.NoError(t, f.Close())
			require.Equal(t, sum(data), fileSum(t, p))

			// A closed file has no descriptor to hint about.
			err = startWriteback(f, 0, size)
			if runtime.GOOS == "linux" {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			require.Error(t, datasync(f))
		})
	}
}

// TestCopyBodyWriteback copies a body that crosses several writeback
// boundaries into the middle of a file and checks the bytes, the reported
// counts and the untouched bytes around them.
func TestCopyBodyWriteback(t *testing.T) {
	const off = 4096
	body := content(2*writebackEvery+writebackEvery/2+123, 9)
	d := newTestDownloader(t, Options{})
	p := filepath.Join(t.TempDir(), "f.part")
	f, err := os.Create(p)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(off+int64(len(body))+off))

	a := d.newAttempt(ctxTimeout(t))
	defer a.end()
	var advanced int64
	n, err := d.copyBody(a, bytes.NewReader(body), f, off, int64(len(body)), func(n int64) { advanced += n })
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), n)
	require.Equal(t, n, advanced)
	require.NoError(t, datasync(f))
	require.NoError(t, f.Close())

	got, err := os.ReadFile(p)
	require.NoError(t, err)
	want := append(append(make([]byte, off), body...), make([]byte, off)...)
	require.Equal(t, sum(want), sum(got))
}
