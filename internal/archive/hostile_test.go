package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"
)

// zipEntry is one entry of a hand-made zip.
type zipEntry struct {
	name string
	data []byte
	mode fs.FileMode // 0 = 0644
	raw  bool        // write name bytes as they are, no UTF-8 flag
}

func makeZip(t testing.TB, path string, entries ...zipEntry) {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		fh.SetMode(mode)
		if e.raw {
			fh.NonUTF8 = true
		}
		f, err := w.CreateHeader(fh)
		require.NoError(t, err)
		_, err = f.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func makeTar(t testing.TB, path string, gz bool, hdrs ...*tar.Header) {
	t.Helper()
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		body := []byte(h.Linkname)
		if h.Typeflag == tar.TypeReg {
			body = make([]byte, h.Size)
			copy(body, h.Name)
		} else {
			h.Size = 0
		}
		require.NoError(t, w.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := w.Write(body)
			require.NoError(t, err)
		}
	}
	require.NoError(t, w.Close())
	out := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := kgzip.NewWriter(&z)
		_, err := zw.Write(out)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		out = z.Bytes()
	}
	require.NoError(t, os.WriteFile(path, out, 0o644))
}

// escapeLayout gives an archive path inside parent/in and an output
// folder parent/deep/out, so that an escape by one or two levels lands in
// a place the test checks.
func escapeLayout(t *testing.T) (parent, in, dst string) {
	parent = t.TempDir()
	in = filepath.Join(parent, "in")
	require.NoError(t, os.MkdirAll(in, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(parent, "deep"), 0o755))
	return parent, in, filepath.Join(parent, "deep", "out")
}

// onlyInside checks that the parent folder holds nothing but the input,
// the output and what the output holds.
func onlyInside(t *testing.T, parent string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(parent, p)
		rel = filepath.ToSlash(rel)
		ok := rel == "." || rel == "in" || strings.HasPrefix(rel, "in/") || rel == "deep" || rel == "deep/out" ||
			strings.HasPrefix(rel, "deep/out/")
		require.True(t, ok, "%s was written outside the output folder", rel)
		if strings.HasPrefix(rel, "deep/out/") {
			require.True(t, d.IsDir() || d.Type().IsRegular(), "%s is %v: only files and folders are created", rel, d.Type())
		}
		return nil
	}))
}

func TestZipSlipIsRefused(t *testing.T) {
	parent, in, dst := escapeLayout(t)
	arc := filepath.Join(in, "slip.zip")
	makeZip(t, arc,
		zipEntry{name: "../evil.txt", data: []byte("x")},
		zipEntry{name: "../../evil2.txt", data: []byte("x")},
		zipEntry{name: "/abs.txt", data: []byte("x")},
		zipEntry{name: `ok\..\..\win-evil.txt`, data: []byte("x")},
		zipEntry{name: "C:/drive.txt", data: []byte("x")},
		zipEntry{name: "a/../../up.txt", data: []byte("x")},
		zipEntry{name: "lnk", data: []byte("../.."), mode: fs.ModeSymlink | 0o777},
		zipEntry{name: "lnk/through.txt", data: []byte("through")},
		zipEntry{name: "ok/good.txt", data: []byte("good")},
		zipEntry{name: "ok/setuid", data: []byte("s"), mode: fs.ModeSetuid | 0o4777},
	)
	res, err := Extract(context.Background(), arc, dst, ExtractOptions{})
	require.NoError(t, err)
	onlyInside(t, parent)
	got := sums(t, dst)
	require.Equal(t, map[string]string{
		"ok": "dir", "ok/good.txt": sha([]byte("good")), "ok/setuid": sha([]byte("s")),
		"lnk": "dir", "lnk/through.txt": sha([]byte("through")),
	}, got)
	require.Equal(t, Skips{UnsafePath: 6, Link: 1}, res.Skipped)
	require.Equal(t, "7 entries skipped: 6 unsafe paths, 1 link", res.Skipped.String())
	st, err := os.Stat(filepath.Join(dst, "ok/setuid"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o755), st.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}

func TestTarLinksDevicesAndDuplicates(t *testing.T) {
	parent, in, dst := escapeLayout(t)
	arc := filepath.Join(in, "evil.tar.gz")
	makeTar(t, arc, true,
		&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "../../.."},
		&tar.Header{Name: "link/pwned.txt", Size: 20},
		&tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"},
		&tar.Header{Name: "tty", Typeflag: tar.TypeChar, Devmajor: 5, Devminor: 0},
		&tar.Header{Name: "disk", Typeflag: tar.TypeBlock, Devmajor: 8, Devminor: 0},
		&tar.Header{Name: "pipe", Typeflag: tar.TypeFifo},
		&tar.Header{Name: "/etc/abs.txt", Size: 3},
		&tar.Header{Name: "../up.txt", Size: 3},
		&tar.Header{Name: "dir/suid", Size: 4, Mode: 0o4755},
		&tar.Header{Name: "dir/dup.txt", Size: 5},
		&tar.Header{Name: "dir/dup.txt", Size: 6},
	)
	res, err := Extract(context.Background(), arc, dst, ExtractOptions{})
	require.NoError(t, err)
	onlyInside(t, parent)
	got := sums(t, dst)
	require.Equal(t, []string{"dir", "dir/dup (2).txt", "dir/dup.txt", "dir/suid", "link", "link/pwned.txt"}, keys(got))
	require.Equal(t, Skips{UnsafePath: 2, Link: 2, Special: 3}, res.Skipped)
	require.Equal(t, 1, res.Renamed)
	b, err := os.ReadFile(filepath.Join(dst, "dir/dup (2).txt"))
	require.NoError(t, err)
	require.Len(t, b, 6, "the second entry, under a new name: nothing is overwritten")
	st, err := os.Lstat(filepath.Join(dst, "link"))
	require.NoError(t, err)
	require.True(t, st.IsDir(), "no symlink is created")
	st, err = os.Stat(filepath.Join(dst, "dir/suid"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o755), st.Mode()&(fs.ModePerm|fs.ModeSetuid))
}

func TestNamesAreSanitised(t *testing.T) {
	_, in, dst := escapeLayout(t)
	long := strings.Repeat("é", 150) + ".txt" // 304 bytes
	arc := filepath.Join(in, "names.tar")
	makeTar(t, arc, false,
		&tar.Header{Name: "bad\xff\xfename.txt", Size: 1},
		&tar.Header{Name: "CON.txt", Size: 1},
		&tar.Header{Name: "sub/aux", Size: 1},
		&tar.Header{Name: "trailing. . ", Size: 1},
		&tar.Header{Name: "ctl\x01\x7fname", Size: 1},
		&tar.Header{Name: long, Size: 1},
		&tar.Header{Name: "com1.log", Size: 1},
	)
	_, err := Extract(context.Background(), arc, dst, ExtractOptions{})
	require.NoError(t, err)
	got := keys(sums(t, dst))
	short := strings.Repeat("é", 125) + ".txt" // 254 bytes: a rune is never cut
	require.ElementsMatch(t, []string{"bad__name.txt", "_CON.txt", "sub", "sub/_aux", "trailing", "ctl__name", short, "_com1.log"}, got)

	// Zip names without the UTF-8 flag are IBM 437.
	arc = filepath.Join(in, "legacy.zip")
	makeZip(t, arc, zipEntry{name: "caf\x82.txt", data: []byte("x"), raw: true})
	dst2 := filepath.Join(filepath.Dir(dst), "out2")
	_, err = Extract(context.Background(), arc, dst2, ExtractOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"café.txt"}, keys(sums(t, dst2)))
}

func TestBombsAreStopped(t *testing.T) {
	work := t.TempDir()
	zeros := make([]byte, 32<<20)

	// Total size: a zip whose claims exceed the limit fails before writing;
	// a tar.gz (no claims) fails on the real bytes.
	z := filepath.Join(work, "total.zip")
	makeZip(t, z, zipEntry{name: "a.bin", data: zeros[:4<<20]}, zipEntry{name: "b.bin", data: zeros[:4<<20]})
	_, _, err := extract(t, z, ExtractOptions{Limits: Limits{MaxTotal: 6 << 20, MaxRatio: 1e6}})
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitTotal, le.Limit)
	require.ErrorIs(t, err, ErrLimit)
	require.Contains(t, err.Error(), "6.0 MiB")

	tgz := filepath.Join(work, "total.tar.gz")
	makeTar(t, tgz, true, &tar.Header{Name: "a.bin", Size: 4 << 20}, &tar.Header{Name: "b.bin", Size: 4 << 20})
	_, _, err = extract(t, tgz, ExtractOptions{Limits: Limits{MaxTotal: 6 << 20, MaxRatio: 1e6}})
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitTotal, le.Limit)

	_, _, err = extract(t, tgz, ExtractOptions{Limits: Limits{MaxTotal: 100 << 20, MaxFile: 1 << 20, MaxRatio: 1e6}})
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitFile, le.Limit)

	// Ratio: 32 MiB of zeros in ~32 KiB.
	bomb := filepath.Join(work, "ratio.tar.gz")
	makeTar(t, bomb, true, &tar.Header{Name: "zeros.img", Size: int64(len(zeros))})
	_, _, err = extract(t, bomb, ExtractOptions{})
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitRatio, le.Limit)
	require.Contains(t, err.Error(), "200 times")
	_, _, err = extract(t, bomb, ExtractOptions{Limits: Limits{MaxRatio: 1e6}})
	require.NoError(t, err, "allowed with a larger ratio")

	// Entries, from the zip directory and from a tar stream.
	var many []zipEntry
	var hdrs []*tar.Header
	for i := 0; i < 150; i++ {
		many = append(many, zipEntry{name: "f" + time.Duration(i).String()})
		hdrs = append(hdrs, &tar.Header{Name: "f" + time.Duration(i).String()})
	}
	mz := filepath.Join(work, "many.zip")
	makeZip(t, mz, many...)
	_, _, err = extract(t, mz, ExtractOptions{Limits: Limits{MaxEntries: 100}})
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitEntries, le.Limit)
	mt := filepath.Join(work, "many.tar")
	makeTar(t, mt, false, hdrs...)
	_, _, err = extract(t, mt, ExtractOptions{Limits: Limits{MaxEntries: 100}})
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitEntries, le.Limit)
}

func TestNotArchivesAndTruncatedArchives(t *testing.T) {
	needTool(t, "7z")
	work := t.TempDir()
	junk := []byte(strings.Repeat("not an archive at all ", 100))
	for _, name := range []string{"fake.zip", "fake.7z", "fake.rar", "fake.tar.gz", "fake.tar", "fake.7z.001"} {
		p := filepath.Join(work, name)
		require.NoError(t, os.WriteFile(p, junk, 0o644))
		_, _, err := extract(t, p, ExtractOptions{})
		require.ErrorIs(t, err, ErrNotArchive, name)
		require.Contains(t, err.Error(), name)
	}
	_, _, err := extract(t, filepath.Join(work, "fake.zip"), ExtractOptions{})
	require.Contains(t, err.Error(), "not zip data")

	// A plain file is not an archive; a folder without one neither.
	plain := filepath.Join(work, "plain")
	writeTree(t, plain, map[string][]byte{"a.txt": []byte("a")})
	_, _, err = extract(t, filepath.Join(plain, "a.txt"), ExtractOptions{})
	require.ErrorIs(t, err, ErrNotArchive)
	_, _, err = extract(t, plain, ExtractOptions{})
	require.ErrorIs(t, err, ErrNotArchive)

	src := sampleTree(t, work, "pack")
	run(t, work, "7z", "a", "t.7z", "pack")
	run(t, work, "7z", "a", "-tzip", "t.zip", "pack")
	run(t, work, "tar", "-czf", "t.tar.gz", "pack")
	run(t, work, "tar", "-cf", "t.tar", "pack")
	_ = src
	for _, name := range []string{"t.7z", "t.zip", "t.tar.gz", "t.tar"} {
		b, err := os.ReadFile(filepath.Join(work, name))
		require.NoError(t, err)
		cut := filepath.Join(work, "cut-"+name)
		require.NoError(t, os.WriteFile(cut, b[:len(b)*2/3], 0o644))
		_, _, err = extract(t, cut, ExtractOptions{})
		require.ErrorIs(t, err, ErrCorrupt, name)
		// One flipped byte in the middle: a checksum catches it.
		b[len(b)/2] ^= 0x55
		flipped := filepath.Join(work, "flip-"+name)
		require.NoError(t, os.WriteFile(flipped, b, 0o644))
		_, _, err = extract(t, flipped, ExtractOptions{})
		if name != "t.tar" { // a plain tar has no checksum over data
			require.ErrorIs(t, err, ErrCorrupt, name)
		}
	}

	// A split zip (zip -s) is recognised and refused with advice.
	needTool(t, "zip")
	run(t, work, "zip", "-qr", "-s", "64k", "split.zip", "pack")
	require.FileExists(t, filepath.Join(work, "split.z01"))
	sp := filepath.Join(work, "splitdir")
	require.NoError(t, os.MkdirAll(sp, 0o755))
	for _, n := range []string{"split.zip", "split.z01"} {
		require.NoError(t, os.Rename(filepath.Join(work, n), filepath.Join(sp, n)))
	}
	_, _, err = extract(t, sp, ExtractOptions{})
	require.ErrorIs(t, err, ErrUnsupported)
	require.Contains(t, err.Error(), "zip -s 0")
}

// TestXzDictionaryGuard: an .xz whose block declares a 4 GiB dictionary is
// refused before the decoder allocates it; multi-block and multi-stream
// files pass the guard.
func TestXzDictionaryGuard(t *testing.T) {
	needTool(t, "xz")
	work := t.TempDir()
	body := append(textBytes(200_000), pseudo(5, 100_000)...)
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.log"), body, 0o644))
	run(t, work, "xz", "-k", "--block-size=32KiB", "a.log")
	one, err := os.ReadFile(filepath.Join(work, "a.log.xz"))
	require.NoError(t, err)
	// Two streams with stream padding between them.
	two := append(append(append([]byte{}, one...), 0, 0, 0, 0), one...)
	require.NoError(t, os.WriteFile(filepath.Join(work, "two.log.xz"), two, 0o644))
	got, _, err := extract(t, filepath.Join(work, "two.log.xz"), ExtractOptions{})
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(got, "two.log"))
	require.NoError(t, err)
	require.Equal(t, append(append([]byte{}, body...), body...), b)

	// Patch the first block's LZMA2 property to 4 GiB (40) and fix its CRC.
	evil := append([]byte{}, one...)
	hsize := (int(evil[12]) + 1) * 4
	hdr := evil[12 : 12+hsize]
	i := bytes.Index(hdr, []byte{0x21, 0x01})
	require.Positive(t, i, "an LZMA2 filter")
	hdr[i+2] = 40
	binary.LittleEndian.PutUint32(hdr[hsize-4:], crc32.ChecksumIEEE(hdr[:hsize-4]))
	p := filepath.Join(work, "evil.log.xz")
	require.NoError(t, os.WriteFile(p, evil, 0o644))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err = extract(t, p, ExtractOptions{})
	runtime.ReadMemStats(&after)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitDictionary, le.Limit)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "the dictionary was never allocated")
}

func TestExtractCancelledRemovesOutput(t *testing.T) {
	work := t.TempDir()
	arc := filepath.Join(work, "big.tar.gz")
	makeTar(t, arc, true, &tar.Header{Name: "a.bin", Size: 64 << 20}, &tar.Header{Name: "b.bin", Size: 64 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dst := filepath.Join(work, "out")
	_, err := Extract(ctx, arc, dst, ExtractOptions{Limits: Limits{MaxRatio: 1e6},
		Progress: func(done, total int64) { cancel() }})
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	require.NoDirExists(t, dst)

	// The destination must not exist.
	require.NoError(t, os.MkdirAll(dst, 0o755))
	_, err = Extract(context.Background(), arc, dst, ExtractOptions{Limits: Limits{MaxRatio: 1e6}})
	require.ErrorIs(t, err, fs.ErrExist)
	require.DirExists(t, dst, "an existing folder is left alone")
}

func Test7zLinksAreSkipped(t *testing.T) {
	needTool(t, "7z")
	work := t.TempDir()
	writeTree(t, work, map[string][]byte{"pack/real.txt": []byte("real")})
	require.NoError(t, os.Symlink("../../../etc/passwd", filepath.Join(work, "pack", "link")))
	run(t, work, "7z", "a", "-snl", "links.7z", "pack")
	got, res, err := extract(t, filepath.Join(work, "links.7z"), ExtractOptions{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"pack": "dir", "pack/real.txt": sha([]byte("real"))}, sums(t, got))
	require.Equal(t, Skips{Link: 1}, res.Skipped)
	require.Equal(t, "1 entry skipped: link", res.Skipped.String())
}

// TestZstdWindowLimit: a zstd frame asking for a 2 GiB window is refused.
func TestZstdWindowLimit(t *testing.T) {
	zstdTool := needTool(t, "zstd")
	work := t.TempDir()
	cmd := exec.Command(zstdTool, "-q", "--long=31", "-c")
	cmd.Stdin = bytes.NewReader(pseudo(6, 100_000))
	out, err := cmd.Output()
	require.NoError(t, err)
	p := filepath.Join(work, "wide.bin.zst")
	require.NoError(t, os.WriteFile(p, out, 0o644))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err = extract(t, p, ExtractOptions{})
	runtime.ReadMemStats(&after)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitDictionary, le.Limit)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20))
}

// The skips are reported by reason, in words the final message can carry;
// a tar's own "./" entry is the output folder itself, not a skip.
func TestSkipsAreReportedByReason(t *testing.T) {
	_, in, dst := escapeLayout(t)
	arc := filepath.Join(in, "mixed.zip")
	makeZip(t, arc,
		zipEntry{name: "safe/a.txt", data: []byte("a")},
		zipEntry{name: "../../x", data: []byte("x")},
		zipEntry{name: "safe/b.txt", data: []byte("b")},
	)
	res, err := Extract(context.Background(), arc, dst, ExtractOptions{})
	require.NoError(t, err)
	require.Equal(t, Skips{UnsafePath: 1}, res.Skipped)
	require.Equal(t, "1 entry skipped: unsafe path", res.Skipped.String())
	require.Equal(t, 2, res.Files)

	tarArc := filepath.Join(in, "dot.tar")
	makeTar(t, tarArc, false,
		&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "./f.txt", Size: 3})
	res, err = Extract(context.Background(), tarArc, filepath.Join(filepath.Dir(dst), "out2"), ExtractOptions{})
	require.NoError(t, err)
	require.Zero(t, res.Skipped.Total())
	require.Empty(t, res.Skipped.String())

	require.Equal(t, "4 entries skipped: 1 unsafe path, 1 link, 1 special file, 1 name conflict",
		Skips{UnsafePath: 1, Link: 1, Special: 1, Conflict: 1}.String())
}
