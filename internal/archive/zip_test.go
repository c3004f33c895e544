package archive

import (
	"archive/zip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestZipFolderReadableByUnzipAnd7z(t *testing.T) {
	unzip, sevenZip := needTool(t, "unzip"), needTool(t, "7z")
	work := t.TempDir()
	src := sampleTree(t, work, "album")
	want := prefixed("album", sums(t, src))
	dst := filepath.Join(work, "album.zip")

	var calls int
	size, err := Zip(context.Background(), src, dst, ZipOptions{Progress: func(done, total int64) {
		calls++
		require.LessOrEqual(t, done, total)
	}})
	require.NoError(t, err)
	fi, err := os.Stat(dst)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), size)
	require.NoFileExists(t, dst+".part")
	require.Positive(t, calls)

	run(t, work, unzip, "-tq", dst)
	run(t, work, sevenZip, "t", dst)
	out := filepath.Join(work, "unzipped")
	run(t, work, unzip, "-q", dst, "-d", out)
	require.Equal(t, want, sums(t, out))
	st, err := os.Stat(filepath.Join(out, "album/bin/run.sh"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o755), st.Mode().Perm(), "the x bit survives")

	// Stored, not deflated: the JPEG by extension, the random bytes by probe.
	zr, err := zip.OpenReader(dst)
	require.NoError(t, err)
	defer zr.Close()
	methods := map[string]uint16{}
	for _, f := range zr.File {
		methods[f.Name] = f.Method
	}
	require.Equal(t, zip.Store, methods["album/photos/already.jpg"])
	require.Equal(t, zip.Store, methods["album/data/random.bin"])
	require.Equal(t, zip.Deflate, methods["album/readme.txt"])

	got, res, err := extract(t, dst, ExtractOptions{})
	require.NoError(t, err)
	require.Equal(t, want, sums(t, got))
	require.Equal(t, 1, res.Archives)
}

func TestZipWithPasswordIsAES256For7z(t *testing.T) {
	sevenZip := needTool(t, "7z")
	work := t.TempDir()
	src := sampleTree(t, work, "secret")
	want := prefixed("secret", sums(t, src))
	dst := filepath.Join(work, "secret.zip")
	_, err := Zip(context.Background(), src, dst, ZipOptions{Password: "s3cret pass"})
	require.NoError(t, err)

	run(t, work, sevenZip, "t", "-ps3cret pass", dst)
	info := run(t, work, sevenZip, "l", "-slt", "-ps3cret pass", dst)
	require.Contains(t, info, "AES-256")
	_, err = runErr(work, sevenZip, "t", "-pwrong", dst)
	require.Error(t, err, "7z must refuse a wrong password")
	out := filepath.Join(work, "x")
	run(t, work, sevenZip, "x", "-ps3cret pass", "-y", "-o"+out, dst)
	require.Equal(t, want, sums(t, out))

	got, _, err := extract(t, dst, ExtractOptions{Password: "s3cret pass"})
	require.NoError(t, err)
	require.Equal(t, want, sums(t, got))

	_, _, err = extract(t, dst, ExtractOptions{Password: "nope"})
	require.ErrorIs(t, err, ErrWrongPassword)
	_, _, err = extract(t, dst, ExtractOptions{})
	require.ErrorIs(t, err, ErrPasswordRequired)
}

func TestZipSingleFileAndName(t *testing.T) {
	unzip := needTool(t, "unzip")
	work := t.TempDir()
	src := filepath.Join(work, "report.bin")
	require.NoError(t, os.WriteFile(src, textBytes(100_000), 0o644))
	dst := filepath.Join(work, "renamed.zip")
	_, err := Zip(context.Background(), src, dst, ZipOptions{Name: "renamed.bin"})
	require.NoError(t, err)
	list := run(t, work, unzip, "-Z1", dst)
	require.Equal(t, "renamed.bin\n", list)

	_, err = Zip(context.Background(), src, dst, ZipOptions{})
	require.ErrorIs(t, err, fs.ErrExist, "an existing zip is never replaced")
}

func TestZipCancelledRemovesPart(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join(work, "big.txt")
	require.NoError(t, os.WriteFile(src, textBytes(8<<20), 0o644))
	dst := filepath.Join(work, "big.zip")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Zip(ctx, src, dst, ZipOptions{Progress: func(done, total int64) { cancel() }})
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	require.NoFileExists(t, dst)
	require.NoFileExists(t, dst+".part")
}

// TestZip64WithAES writes a 4 GiB + 1 byte file (sparse, stored by its
// extension) through the AES path, whose sizes only fit Zip64, and has 7z
// test it. It moves 8 GiB through the disk, so it runs only with
// ARCHIVE_ZIP64=1.
func TestZip64WithAES(t *testing.T) {
	if os.Getenv("ARCHIVE_ZIP64") != "1" {
		t.Skip("writes 4 GiB: set ARCHIVE_ZIP64=1")
	}
	sevenZip := needTool(t, "7z")
	work := t.TempDir()
	src := filepath.Join(work, "big.mkv")
	f, err := os.Create(src)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(4<<30+1))
	_, err = f.WriteAt([]byte("end"), 4<<30-2)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	dst := filepath.Join(work, "big.zip")
	_, err = Zip(context.Background(), src, dst, ZipOptions{Password: "pw"})
	require.NoError(t, err)
	out := run(t, work, sevenZip, "l", "-slt", "-ppw", dst)
	require.Contains(t, out, "Size = 4294967297")
	require.Contains(t, out, "AES-256")
	run(t, work, sevenZip, "t", "-ppw", dst)
	zr, err := zip.OpenReader(dst)
	require.NoError(t, err)
	require.Equal(t, uint64(4<<30+1), zr.File[0].UncompressedSize64)
	require.NoError(t, zr.Close())
	require.NoError(t, os.Remove(src))

	got, _, err := extract(t, dst, ExtractOptions{Password: "pw"})
	require.NoError(t, err)
	g, err := os.Open(filepath.Join(got, "big.mkv"))
	require.NoError(t, err)
	defer g.Close()
	st, err := g.Stat()
	require.NoError(t, err)
	require.Equal(t, int64(4<<30+1), st.Size())
	end := make([]byte, 3)
	_, err = g.ReadAt(end, 4<<30-2)
	require.NoError(t, err)
	require.Equal(t, "end", string(end))
}
