package deliver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestToDirMovesFileAndNeverOverwrites(t *testing.T) {
	src := t.TempDir()
	dst := filepath.Join(t.TempDir(), "mirror")
	for i, want := range []string{"a.bin", "a (1).bin"} {
		p := filepath.Join(src, "a.bin")
		require.NoError(t, os.WriteFile(p, []byte{byte(i)}, 0o644))
		got, err := ToDir(context.Background(), p, dst, "a.bin", nil)
		require.NoError(t, err)
		require.Equal(t, filepath.Join(dst, want), got)
		b, err := os.ReadFile(got)
		require.NoError(t, err)
		require.Equal(t, []byte{byte(i)}, b)
	}
	entries, err := os.ReadDir(dst)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary entry may remain")
}

func TestCopyTreeKeepsStructure(t *testing.T) {
	src := filepath.Join(t.TempDir(), "folder")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "sub", "x.txt"), []byte("hello"), 0o644))
	dst := filepath.Join(t.TempDir(), "out")
	var last int64
	require.NoError(t, copyTree(context.Background(), src, dst, func(done, total int64) {
		require.Equal(t, int64(5), total)
		last = done
	}, true))
	require.Equal(t, int64(5), last)
	b, err := os.ReadFile(filepath.Join(dst, "sub", "x.txt"))
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
	_, err = os.Stat(src)
	require.True(t, os.IsNotExist(err), "the source is removed after a copy")
}

func TestKeepToDirLinksAndLeavesTheSource(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "work", "Album")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "disc1"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "disc1", "a.flac"), []byte("track"), 0o644))
	dest := filepath.Join(root, "mirror")

	got, err := KeepToDir(context.Background(), src, dest, "Album", nil)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dest, "Album"), got)
	b, err := os.ReadFile(filepath.Join(got, "disc1", "a.flac"))
	require.NoError(t, err)
	require.Equal(t, "track", string(b))
	srcInfo, err := os.Stat(filepath.Join(src, "disc1", "a.flac"))
	require.NoError(t, err, "the source stays for the seeder")
	dstInfo, err := os.Stat(filepath.Join(got, "disc1", "a.flac"))
	require.NoError(t, err)
	require.True(t, os.SameFile(srcInfo, dstInfo), "same filesystem: a hard link, no copy")
}

func TestCopyCancelled(t *testing.T) {
	src := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(src, make([]byte, 1<<20), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := copyFile(ctx, src, filepath.Join(t.TempDir(), "g"), func(int64) {})
	require.ErrorIs(t, err, context.Canceled)
}

// A name of the longest legal length is delivered, twice: its temporary
// name and its " (1)" variant both fit the file system.
func TestToDirLongestName(t *testing.T) {
	src := t.TempDir()
	dst := filepath.Join(t.TempDir(), "mirror")
	name := strings.Repeat("ж", 125) + ".mkv" // 254 bytes
	var got []string
	for i := range 2 {
		p := filepath.Join(src, name)
		require.NoError(t, os.WriteFile(p, []byte{byte(i)}, 0o644))
		final, err := ToDir(context.Background(), p, dst, name, nil)
		require.NoError(t, err)
		got = append(got, filepath.Base(final))
	}
	require.Equal(t, name, got[0])
	require.LessOrEqual(t, len(got[1]), 255)
	require.True(t, utf8.ValidString(got[1]))
	require.True(t, strings.HasSuffix(got[1], " (1).mkv"), got[1])
	entries, err := os.ReadDir(dst)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary entry may remain")
}
