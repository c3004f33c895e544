package archive

import (
	"bytes"
	"flag"
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures in testdata/")

// rarFixtureFiles is the content of the ordinary fixtures.
func rarFixtureFiles(unicode bool) []rarFile {
	files := []rarFile{
		{name: "docs", dir: true},
		{name: "docs/readme.txt", data: textBytes(5000)},
		{name: "data/random.bin", data: pseudo(21, 20_000)},
		{name: "empty.txt"},
		{name: "bin/run.sh", data: []byte("#!/bin/sh\necho hi\n"), perm: 0o755},
	}
	if unicode {
		files = append(files, rarFile{name: "música/canción ñ.txt", data: []byte("hola\n")})
	}
	return files
}

// rarFixtures are the committed RAR archives: base name → spec.
var rarFixtures = map[string]rarSpec{
	"rar5":     {version: 5, files: rarFixtureFiles(true), seed: 1},
	"rar4":     {version: 4, files: rarFixtureFiles(false), seed: 2},
	"rar5-vol": {version: 5, files: rarFixtureFiles(true), volume: 8000, seed: 3},
	"rar4-vol": {version: 4, files: rarFixtureFiles(false), volume: 8000, seed: 4},
	"rar4-old": {version: 4, files: rarFixtureFiles(false), volume: 12000, oldNaming: true, seed: 5},
	"rar5-enc": {version: 5, files: rarFixtureFiles(true), password: "pa55", seed: 6},
	"rar4-enc": {version: 4, files: rarFixtureFiles(false), password: "pa55", seed: 7},
	"rar5-hostile": {version: 5, seed: 8, files: []rarFile{
		{name: "../evil.txt", data: []byte("escaped")},
		{name: "/abs.txt", data: []byte("absolute")},
		{name: `ok\..\..\win-evil.txt`, data: []byte("backslashes")},
		{name: "link", link: "../../../etc"},
		{name: "link/pwned.txt", data: []byte("through the link")},
		{name: "ok/good.txt", data: []byte("good")},
	}},
	"rar4-hostile": {version: 4, seed: 9, files: []rarFile{
		{name: `..\evil.txt`, data: []byte("escaped")},
		{name: "link", link: "/etc/passwd"},
		{name: `ok\good.txt`, data: []byte("good")},
	}},
}

// TestRARFixtures checks that testdata/rar holds exactly what the
// generator makes (so the fixtures are reviewable as code), or rewrites it
// with -update.
func TestRARFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "rar")
	var want []string
	for base, spec := range rarFixtures {
		names, vols := buildRAR(spec, base)
		for i, n := range names {
			want = append(want, n)
			p := filepath.Join(dir, n)
			if *update {
				require.NoError(t, os.MkdirAll(dir, 0o755))
				require.NoError(t, os.WriteFile(p, vols[i], 0o644))
				continue
			}
			got, err := os.ReadFile(p)
			require.NoError(t, err, "run with -update to create the fixtures")
			require.True(t, bytes.Equal(vols[i], got), "%s differs from the generator's output", n)
		}
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var have []string
	for _, e := range ents {
		have = append(have, e.Name())
	}
	sort.Strings(want)
	require.Equal(t, want, have, "no stray files in testdata/rar")
}

// rarWant is what extracting a spec must give.
func rarWant(spec rarSpec) map[string]string {
	out := map[string]string{}
	for _, f := range spec.files {
		if f.dir {
			out[f.name] = "dir"
			continue
		}
		out[f.name] = sha(f.data)
		for d := path.Dir(f.name); d != "."; d = path.Dir(d) {
			out[d] = "dir"
		}
	}
	return out
}

func TestExtractRAR(t *testing.T) {
	for _, base := range []string{"rar5", "rar4", "rar5-vol", "rar4-vol", "rar4-old", "rar5-enc", "rar4-enc"} {
		spec := rarFixtures[base]
		t.Run(base, func(t *testing.T) {
			names, _ := buildRAR(spec, base)
			first := filepath.Join("testdata", "rar", names[0])
			if base == "rar5-vol" || base == "rar4-vol" || base == "rar4-old" {
				require.Greater(t, len(names), 2, "a multi-volume fixture")
			}
			// The extraction reads the set from a copy, as a task would.
			src := t.TempDir()
			for _, n := range names {
				b, err := os.ReadFile(filepath.Join("testdata", "rar", n))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(src, n), b, 0o644))
			}
			got, res, err := extract(t, filepath.Join(src, filepath.Base(first)), ExtractOptions{Password: spec.password})
			require.NoError(t, err)
			require.Equal(t, rarWant(spec), sums(t, got))
			require.Equal(t, 1, res.Archives)
			st, err := os.Stat(filepath.Join(got, "bin/run.sh"))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o755), st.Mode().Perm())

			// The same set inside a folder: grouped, extracted once.
			folder, res, err := extract(t, src, ExtractOptions{Password: spec.password})
			require.NoError(t, err)
			require.Equal(t, 1, res.Archives)
			require.Equal(t, prefixed(base, rarWant(spec)), sums(t, folder))

			if spec.password != "" {
				_, _, err = extract(t, filepath.Join(src, names[0]), ExtractOptions{Password: "wrong"})
				require.ErrorIs(t, err, ErrWrongPassword)
				_, _, err = extract(t, filepath.Join(src, names[0]), ExtractOptions{})
				require.ErrorIs(t, err, ErrPasswordRequired)
			}
		})
	}
}

// Test7zReadsTheRARFixtures checks the generator against an independent
// reader: 7-Zip tests every fixture set, extracts the ordinary ones to the
// expected files, and refuses a wrong password.
func Test7zReadsTheRARFixtures(t *testing.T) {
	sevenZip := needTool(t, "7z")
	for base, spec := range rarFixtures {
		names, _ := buildRAR(spec, base)
		first, err := filepath.Abs(filepath.Join("testdata", "rar", names[0]))
		require.NoError(t, err)
		pw := "-p" + spec.password
		out := run(t, ".", sevenZip, "t", pw, first)
		require.Contains(t, out, "Everything is Ok", base)
		if spec.password != "" {
			_, err := runErr(".", sevenZip, "t", "-pwrong", first)
			require.Error(t, err, "%s with a wrong password", base)
		}
		if len(spec.files) > 0 && spec.files[0].name == "docs" {
			dst := t.TempDir()
			run(t, ".", sevenZip, "x", pw, "-o"+dst, first)
			require.Equal(t, rarWant(spec), sums(t, dst), base)
		}
	}
}

func TestExtractRARMissingVolumeOrTruncated(t *testing.T) {
	names, vols := buildRAR(rarFixtures["rar5-vol"], "set")
	src := t.TempDir()
	for i, n := range names {
		if i == 1 {
			continue // the second volume is lost
		}
		require.NoError(t, os.WriteFile(filepath.Join(src, n), vols[i], 0o644))
	}
	_, _, err := extract(t, filepath.Join(src, names[0]), ExtractOptions{})
	require.ErrorIs(t, err, ErrCorrupt)
	_, _, err = extract(t, src, ExtractOptions{})
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), "volume 2 is missing")

	_, one := buildRAR(rarFixtures["rar5"], "one")
	cut := filepath.Join(t.TempDir(), "cut.rar")
	require.NoError(t, os.WriteFile(cut, one[0][:len(one[0])/2], 0o644))
	_, _, err = extract(t, cut, ExtractOptions{})
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestExtractHostileRAR(t *testing.T) {
	for _, base := range []string{"rar5-hostile", "rar4-hostile"} {
		t.Run(base, func(t *testing.T) {
			parent := t.TempDir()
			src := filepath.Join(parent, "in")
			require.NoError(t, os.MkdirAll(src, 0o755))
			b, err := os.ReadFile(filepath.Join("testdata", "rar", base+".rar"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(src, base+".rar"), b, 0o644))
			dst := filepath.Join(parent, "deep", "out")
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			res, err := Extract(t.Context(), filepath.Join(src, base+".rar"), dst, ExtractOptions{})
			require.NoError(t, err)
			got := sums(t, dst)
			require.Equal(t, sha([]byte("good")), got["ok/good.txt"])
			for k := range got {
				require.NotContains(t, k, "evil")
			}
			require.NoFileExists(t, filepath.Join(parent, "evil.txt"))
			require.NoFileExists(t, filepath.Join(parent, "deep", "evil.txt"))
			require.NoFileExists(t, filepath.Join(parent, "win-evil.txt"))
			require.Positive(t, res.Skipped.Total())
			if base == "rar5-hostile" {
				// The link was not created, so "link/pwned.txt" is a plain
				// folder and file inside the output.
				require.Equal(t, "dir", got["link"])
				require.Equal(t, sha([]byte("through the link")), got["link/pwned.txt"])
				require.NotContains(t, got, "abs.txt", "an absolute name is refused, not made relative")
			}
		})
	}
}
