package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("a", 300) + ".mkv"
	for _, c := range []struct {
		in, out string
		bad     bool
	}{
		{in: "a/b.txt", out: "a/b.txt"},
		{in: "./a//b/./c.txt", out: "a/b/c.txt"},
		{in: `dir\sub\file.txt`, out: "dir/sub/file.txt"},
		{in: "dir/", out: "dir"},
		{in: "../evil", bad: true},
		{in: "a/../../evil", bad: true},
		{in: "a/..", bad: true},
		{in: `..\evil`, bad: true},
		{in: "/etc/passwd", bad: true},
		{in: `\\server\share\x`, bad: true},
		{in: "C:/Windows/x", bad: true},
		{in: "c:x", bad: true},
		{in: "./C:/x", bad: true},
		{in: "a\x00b", bad: true},
		{in: "", bad: true},
		{in: "./", bad: true},
		{in: "bad\xffname", out: "bad_name"},
		{in: "tab\there", out: "tab_here"},
		{in: "CON", out: "_CON"},
		{in: "nul.tar.gz", out: "_nul.tar.gz"},
		{in: "dir/LPT9", out: "dir/_LPT9"},
		{in: "COM10", out: "COM10"},
		{in: "console", out: "console"},
		{in: "end. . .", out: "end"},
		{in: "...", out: "_"},
		{in: "a/ /b", out: "a/_/b"},
		{in: long, out: strings.Repeat("a", 251) + ".mkv"},
		{in: "time: 12:00.txt", out: "time: 12:00.txt"},
	} {
		got, err := SanitizeName(c.in)
		if c.bad {
			require.Error(t, err, "%q", c.in)
			continue
		}
		require.NoError(t, err, "%q", c.in)
		require.Equal(t, c.out, got, "%q", c.in)
	}
	require.Equal(t, "a (2).txt", variant("a.txt", 2))
	require.Equal(t, "d/.env (3)", variant("d/.env", 3))
	v := variant(strings.Repeat("b", 255), 2)
	require.Len(t, v, 255)
	require.True(t, strings.HasSuffix(v, " (2)"))
}

func TestIsArchiveAndStem(t *testing.T) {
	for name, want := range map[string]bool{
		"a.zip": true, "A.ZIP": true, "a.7z": true, "a.rar": true, "a.tar": true, "a.tar.gz": true, "a.tgz": true,
		"a.tar.zst": true, "a.gz": true, "a.bz2": true, "a.xz": true, "a.zst": true,
		"a.7z.001": true, "a.zip.002": true, "a.part1.rar": true, "a.part02.rar": true, "a.r00": true,
		"a.tar.gz.003": true, "movie.mkv.001": false, "a.mkv": false, "zip": false, ".zip": false,
		"a.z01": false, "notes.txt": false, "a.docx": false,
	} {
		require.Equal(t, want, IsArchive(name), name)
	}
	for name, want := range map[string]string{
		"album.zip": "album", "a.tar.gz": "a", "a.part1.rar": "a", "a.7z.001": "a", "x.r00": "x",
		"data.gz": "data", "v1.2.zip": "v1.2", ".zip": ".zip", "a.tar.gz.001": "a",
	} {
		require.Equal(t, want, Stem(name), name)
	}
}

// checkSanitized asserts everything SanitizeName promises of its output.
func checkSanitized(t *testing.T, in, out string) {
	t.Helper()
	require.NotEmpty(t, out)
	require.True(t, utf8.ValidString(out), "%q → %q: valid UTF-8", in, out)
	require.True(t, filepath.IsLocal(filepath.FromSlash(out)), "%q → %q: local", in, out)
	require.NotContains(t, out, "\x00")
	require.NotContains(t, out, `\`)
	require.False(t, hasDriveLetter(out), "%q → %q", in, out)
	for _, c := range strings.Split(out, "/") {
		require.NotContains(t, []string{"", ".", ".."}, c, "%q → %q", in, out)
		require.LessOrEqual(t, len(c), maxComponent, "%q → %q", in, out)
		require.False(t, strings.HasSuffix(c, ".") || strings.HasSuffix(c, " "), "%q → %q", in, out)
		require.False(t, isReserved(c), "%q → %q", in, out)
		for _, r := range c {
			require.False(t, r < 0x20 || r == 0x7f, "%q → %q: control character", in, out)
		}
	}
	again, err := SanitizeName(out)
	require.NoError(t, err)
	require.Equal(t, out, again, "idempotent")
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"a/b.txt", "../x", `a\..\b`, "/abs", "C:/x", "CON.txt", "bad\xff", "a\x00b",
		strings.Repeat("é", 200), "x/./y/", " . ", "a/b/../c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		out, err := SanitizeName(name)
		if err != nil {
			return
		}
		checkSanitized(t, name, out)
	})
}

// fuzzExtract runs Extract on data saved under name and checks that only
// files and folders were created, all inside the output, and that a failure
// left nothing behind.
func fuzzExtract(t *testing.T, name string, data []byte) {
	parent := t.TempDir()
	in := filepath.Join(parent, "in")
	require.NoError(t, os.Mkdir(in, 0o755))
	src := filepath.Join(in, name)
	require.NoError(t, os.WriteFile(src, data, 0o644))
	dst := filepath.Join(parent, "out")
	// noSync spares the fuzzer a syncfs(2) per input, which stalls it for
	// seconds whenever the disk is busy.
	_, err := Extract(context.Background(), src, dst, ExtractOptions{Password: "pw",
		Limits: Limits{MaxTotal: 4 << 20, MaxEntries: 200}, noSync: true})
	ents, rerr := os.ReadDir(parent)
	require.NoError(t, rerr)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if err != nil {
		require.Equal(t, []string{"in"}, names, "a failed extraction leaves nothing: %v", err)
		return
	}
	require.Equal(t, []string{"in", "out"}, names)
	require.NoError(t, filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		require.True(t, d.IsDir() || d.Type().IsRegular(), "%s: %v", p, d.Type())
		rel, err := filepath.Rel(dst, p)
		require.NoError(t, err)
		if rel != "." {
			checkSanitized(t, rel, filepath.ToSlash(rel))
		}
		if d.Type().IsRegular() {
			st, err := d.Info()
			require.NoError(t, err)
			require.Contains(t, []fs.FileMode{0o644, 0o755}, st.Mode().Perm())
		}
		return nil
	}))
}

func zipBytes(t testing.TB, entries ...zipEntry) []byte {
	p := filepath.Join(t.TempDir(), "z.zip")
	makeZip(t, p, entries...)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func FuzzExtractZip(f *testing.F) {
	f.Add(zipBytes(f, zipEntry{name: "a/b.txt", data: []byte("hello")}, zipEntry{name: "c/", mode: fs.ModeDir | 0o755}))
	f.Add(zipBytes(f, zipEntry{name: "../evil", data: []byte("x")}, zipEntry{name: "lnk", data: []byte("/etc"),
		mode: fs.ModeSymlink | 0o777}, zipEntry{name: "lnk/x", data: []byte("y")}))
	f.Add(zipBytes(f, zipEntry{name: "dup", data: []byte("1")}, zipEntry{name: "dup", data: []byte("2")},
		zipEntry{name: "dup/x", data: []byte("3")}))
	var enc bytes.Buffer
	zw := zip.NewWriter(&enc)
	fh := &zip.FileHeader{Name: "secret.txt", Method: methodAES, Flags: 1, Extra: aesExtraField(0)}
	w, err := zw.CreateRaw(fh)
	require.NoError(f, err)
	aw, err := newAESWriter(w, "pw", make([]byte, 16))
	require.NoError(f, err)
	_, err = aw.Write([]byte("top secret"))
	require.NoError(f, err)
	require.NoError(f, aw.Close())
	fh.CompressedSize64, fh.UncompressedSize64 = uint64(aw.n), 10
	require.NoError(f, zw.Close())
	f.Add(enc.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.zip", data) })
}

func tarBytes(t testing.TB, hdrs ...*tar.Header) []byte {
	p := filepath.Join(t.TempDir(), "t.tar")
	makeTar(t, p, false, hdrs...)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func FuzzExtractTar(f *testing.F) {
	f.Add(tarBytes(f, &tar.Header{Name: "a/b.txt", Size: 10}, &tar.Header{Name: "d/", Typeflag: tar.TypeDir}))
	f.Add(tarBytes(f, &tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "../../x"},
		&tar.Header{Name: "l/p", Size: 3}, &tar.Header{Name: "p", Typeflag: tar.TypeFifo},
		&tar.Header{Name: "/abs", Size: 1}, &tar.Header{Name: "CON", Size: 1}))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.tar", data) })
}

// TestSevenZipDictionaryCap: the LZMA decoders registered for 7z refuse a
// dictionary over MaxDictionary unless the stream is smaller.
func TestSevenZipDictionaryCap(t *testing.T) {
	in := []io.ReadCloser{io.NopCloser(bytes.NewReader(nil))}
	_, err := newLZMA2([]byte{40}, 1<<40, in)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	_, err = newLZMA2([]byte{40}, 1<<20, in)
	require.NoError(t, err, "4 GiB declared, 1 MiB of output: a 1 MiB dictionary")
	props := []byte{0x5d, 0, 0, 0, 0x80} // 2 GiB
	_, err = newLZMA(props, 1<<40, in)
	require.ErrorAs(t, err, &le)
}
