package httpdl

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("я", 200) // 400 bytes
	tests := []struct {
		in, want string
	}{
		{"", "download"},
		{"file.bin", "file.bin"},
		{"файл.bin", "файл.bin"},
		{".", "download"},
		{"..", "download"},
		{"...", "download"},
		{"/", "download"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\me\report.pdf`, "report.pdf"},
		{`..\..\boot.ini`, "boot.ini"},
		{"dir/", "download"},
		{".bashrc", "bashrc"},
		{"  name.txt  ", "name.txt"},
		{"name.txt...", "name.txt"},
		{"a\x00b\x01c\x7f.bin", "abc.bin"},
		{"line\nbreak\r.txt", "linebreak.txt"},
		{"evil\u202egnp.exe", "evilgnp.exe"},
		{"bad\xff\xfeutf8.bin", "bad_utf8.bin"},
		{"\u0085x", "x"}, // C1 control
		{long + ".mkv", strings.Repeat("я", 125) + ".mkv"},
		{strings.Repeat("a", 300), strings.Repeat("a", 255)},
		{strings.Repeat("a", 250) + ".verylongextension-that-is-not-one", strings.Repeat("a", 250) + ".very"},
		{strings.Repeat(" ", 10), "download"},
	}
	for _, tc := range tests {
		got := SanitizeName(tc.in)
		require.Equal(t, tc.want, got, "SanitizeName(%q)", tc.in)
		requireSafeName(t, got)
	}
}

// requireSafeName checks the properties every sanitized name has.
func requireSafeName(t *testing.T, name string) {
	t.Helper()
	require.NotEmpty(t, name)
	require.True(t, utf8.ValidString(name), "valid UTF-8: %q", name)
	require.LessOrEqual(t, len(name), 255)
	require.NotContains(t, []string{".", ".."}, name)
	require.False(t, strings.ContainsAny(name, "/\\\x00"), "separator or NUL in %q", name)
	require.Equal(t, name, filepath.Base(name))
	require.True(t, filepath.IsLocal(name), "local: %q", name)
	for _, r := range name {
		require.False(t, r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0), "control %U in %q", r, name)
	}
	require.Equal(t, name, SanitizeName(name), "idempotent")
	// The helper files must fit in a directory entry too.
	require.LessOrEqual(t, len(partName(name)), 255)
	require.LessOrEqual(t, len(controlName(name)), 255)
	require.LessOrEqual(t, len(controlTmpName(name)), 255)
	require.True(t, utf8.ValidString(partName(name)))
	require.True(t, utf8.ValidString(controlName(name)))
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a/b", `a\b`, "файл.bin", "\x00", "\xff", strings.Repeat("é", 200) + ".tar.gz", " . ", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		requireSafeName(t, SanitizeName(s))
	})
}

func TestAuxNames(t *testing.T) {
	require.Equal(t, "a.bin.part", partName("a.bin"))
	require.Equal(t, ".a.bin.httpdl", controlName("a.bin"))
	n1 := strings.Repeat("x", 255)
	n2 := strings.Repeat("x", 254) + "y"
	require.NotEqual(t, partName(n1), partName(n2), "shortened helper names stay distinct")
	require.NotEqual(t, controlName(n1), controlName(n2))
	require.Len(t, partName(n1), 255)
}

func TestLongNameDownloads(t *testing.T) {
	data := content(3<<20, 5)
	o := newOrigin(t, serveCfg{data: data, etag: `"l"`})
	d := newTestDownloader(t, Options{})
	dir := t.TempDir()
	name := strings.Repeat("ж", 127) + ".b" // 256 bytes before sanitizing
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := Request{URL: o.url("/x"), Dir: dir, Name: name}
	// Interrupted, a long name still gets its .part and control files.
	pausedFirstCall(t, o, d, req, 2<<20)
	require.Len(t, listDir(t, dir), 2)
	res, err := d.Download(ctx, req)
	require.NoError(t, err)
	require.Positive(t, res.Resumed)
	require.Equal(t, []string{res.Name}, listDir(t, dir))
	require.LessOrEqual(t, len(res.Name), 255)
	require.True(t, strings.HasSuffix(res.Name, ".b"))
	require.Equal(t, sum(data), fileSum(t, res.Path))
}

func TestNameSources(t *testing.T) {
	cd := []struct{ in, want string }{
		{`attachment; filename="a.bin"`, "a.bin"},
		{`attachment; filename*=UTF-8''%E2%82%AC%20rates.txt`, "€ rates.txt"},
		{`attachment; filename=plain.bin; size=3`, "plain.bin"},
		{`attachment; filename="unterminated`, "unterminated"},
		{`inline`, ""},
		{``, ""},
	}
	for _, tc := range cd {
		require.Equal(t, tc.want, nameFromContentDisposition(tc.in), tc.in)
	}
	urls := []struct{ in, want string }{
		{"http://h/a/b/c.bin", "c.bin"},
		{"http://h/a/b/c.bin?x=1#f", "c.bin"},
		{"http://h/a/%E2%82%AC.bin", "€.bin"},
		{"http://h/", ""},
		{"http://h", ""},
		{"http://h/a%5Cb", "a_b"},
	}
	for _, tc := range urls {
		u, err := url.Parse(tc.in)
		require.NoError(t, err)
		require.Equal(t, tc.want, nameFromURL(u), tc.in)
	}
	require.Equal(t, "x.bin", chooseName("", "", "x.bin"))
	require.Equal(t, "download", chooseName("", "..", "/"))
	require.Equal(t, "o.bin", chooseName("o.bin", "c.bin", "u.bin"))
}
