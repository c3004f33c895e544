package archive

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// toolArchive is an archive built by a real tool from the sample tree.
type toolArchive struct {
	file string   // the archive, or the first volume
	tool string   // command
	args []string // its arguments; run in the folder that holds "pack"
	pw   string   // the password it was made with
}

// buildToolArchives makes every format the issue lists with zip, 7z, tar
// and the compressors, in work (which holds the "pack" folder).
func toolArchives(t *testing.T) []toolArchive {
	t.Helper()
	for _, tool := range []string{"zip", "7z", "tar", "gzip", "bzip2", "xz", "zstd"} {
		needTool(t, tool)
	}
	return []toolArchive{
		{file: "deflate.zip", tool: "zip", args: []string{"-qr", "deflate.zip", "pack"}},
		{file: "store.zip", tool: "zip", args: []string{"-qr0", "store.zip", "pack"}},
		{file: "zipcrypto.zip", tool: "zip", args: []string{"-qr", "-P", "pa55", "zipcrypto.zip", "pack"}, pw: "pa55"},
		{file: "aes.zip", tool: "7z", args: []string{"a", "-tzip", "-mem=AES256", "-ppa55", "aes.zip", "pack"}, pw: "pa55"},
		{file: "aes128.zip", tool: "7z", args: []string{"a", "-tzip", "-mem=AES128", "-ppa55", "aes128.zip", "pack"}, pw: "pa55"},
		{file: "bzip2.zip", tool: "7z", args: []string{"a", "-tzip", "-mm=BZip2", "bzip2.zip", "pack"}},
		{file: "lzma2.7z", tool: "7z", args: []string{"a", "lzma2.7z", "pack"}},
		{file: "bcj2.7z", tool: "7z", args: []string{"a", "-m0=BCJ2", "-m1=LZMA", "-m2=LZMA", "-m3=LZMA", "-mb0:1", "-mb0s1:2", "-mb0s2:3", "bcj2.7z", "pack"}},
		{file: "encdata.7z", tool: "7z", args: []string{"a", "-ppa55", "encdata.7z", "pack"}, pw: "pa55"},
		{file: "encheaders.7z", tool: "7z", args: []string{"a", "-ppa55", "-mhe=on", "encheaders.7z", "pack"}, pw: "pa55"},
		{file: "vol.7z.001", tool: "7z", args: []string{"a", "-v100k", "vol.7z", "pack"}},
		{file: "vol.zip.001", tool: "7z", args: []string{"a", "-tzip", "-v100k", "vol.zip", "pack"}},
		{file: "plain.tar", tool: "tar", args: []string{"-cf", "plain.tar", "pack"}},
		{file: "gz.tar.gz", tool: "tar", args: []string{"-czf", "gz.tar.gz", "pack"}},
		{file: "gz.tgz", tool: "tar", args: []string{"-czf", "gz.tgz", "pack"}},
		{file: "bz.tar.bz2", tool: "tar", args: []string{"-cjf", "bz.tar.bz2", "pack"}},
		{file: "xz.tar.xz", tool: "tar", args: []string{"-cJf", "xz.tar.xz", "pack"}},
		{file: "zst.tar.zst", tool: "tar", args: []string{"--zstd", "-cf", "zst.tar.zst", "pack"}},
	}
}

func TestExtractArchivesMadeByTools(t *testing.T) {
	archives := toolArchives(t)
	work := t.TempDir()
	src := sampleTree(t, work, "pack")
	want := prefixed("pack", sums(t, src))
	for _, a := range archives {
		run(t, work, a.tool, a.args...)
	}
	for _, a := range archives {
		t.Run(a.file, func(t *testing.T) {
			got, res, err := extract(t, filepath.Join(work, a.file), ExtractOptions{Password: a.pw})
			require.NoError(t, err)
			require.Equal(t, want, sums(t, got))
			require.Equal(t, 1, res.Archives)
			require.Equal(t, len(want)-countDirs(want), res.Files)
			st, err := os.Stat(filepath.Join(got, "pack/bin/run.sh"))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o755), st.Mode().Perm(), "the x bit survives, as 0755")
			if a.pw != "" {
				_, _, err = extract(t, filepath.Join(work, a.file), ExtractOptions{Password: "wrong"})
				require.ErrorIs(t, err, ErrWrongPassword)
				require.Contains(t, err.Error(), a.file)
				_, _, err = extract(t, filepath.Join(work, a.file), ExtractOptions{})
				require.ErrorIs(t, err, ErrPasswordRequired)
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestExtract7zPPMd: bodgit/sevenzip reads PPMd from v1.6.5 on; with an
// older one the archive must fail as unsupported, never as damaged.
func TestExtract7zPPMd(t *testing.T) {
	needTool(t, "7z")
	work := t.TempDir()
	src := sampleTree(t, work, "pack")
	run(t, work, "7z", "a", "-m0=PPMd", "ppmd.7z", "pack")
	got, _, err := extract(t, filepath.Join(work, "ppmd.7z"), ExtractOptions{})
	if err != nil {
		require.ErrorIs(t, err, ErrUnsupported)
		return
	}
	require.Equal(t, prefixed("pack", sums(t, src)), sums(t, got))
}

func countDirs(m map[string]string) int {
	n := 0
	for _, v := range m {
		if v == "dir" {
			n++
		}
	}
	return n
}

func TestExtractSingleCompressedFiles(t *testing.T) {
	for _, tool := range []string{"gzip", "bzip2", "xz", "zstd"} {
		needTool(t, tool)
	}
	work := t.TempDir()
	body := append(textBytes(300_000), pseudo(3, 50_000)...)
	for _, c := range []struct{ tool, ext string }{{"gzip", ".gz"}, {"bzip2", ".bz2"}, {"xz", ".xz"}, {"zstd", ".zst"}} {
		t.Run(c.tool, func(t *testing.T) {
			dir := filepath.Join(work, c.tool)
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "server.log"), body, 0o644))
			run(t, dir, c.tool, "-q", "server.log")
			if c.tool == "zstd" {
				require.NoError(t, os.Remove(filepath.Join(dir, "server.log")))
			}
			got, res, err := extract(t, filepath.Join(dir, "server.log"+c.ext), ExtractOptions{})
			require.NoError(t, err)
			require.Equal(t, []string{"server.log"}, keys(sums(t, got)))
			require.Equal(t, 1, res.Files)
			b, err := os.ReadFile(filepath.Join(got, "server.log"))
			require.NoError(t, err)
			require.Equal(t, body, b)
		})
	}
}

func TestExtractFolderGroupsVolumesAndCarriesTheRest(t *testing.T) {
	needTool(t, "7z")
	needTool(t, "zip")
	work := t.TempDir()
	pack := sampleTree(t, work, "pack")
	want := prefixed("pack", sums(t, pack))
	src := filepath.Join(work, "torrent")
	writeTree(t, src, map[string][]byte{
		"Movie.nfo":         []byte("release notes"),
		"Sample/sample.mkv": pseudo(9, 30_000),
		"Subs/":             nil,
	})
	run(t, work, "7z", "a", "-v100k", filepath.Join(src, "Movie.7z"), "pack")
	run(t, work, "zip", "-qr", filepath.Join(src, "Subs", "subs.zip"), "pack")
	// An archive inside an archive stays an archive.
	run(t, work, "zip", "-q", filepath.Join(work, "inner.zip"), "pack/readme.txt")
	run(t, work, "zip", "-qj", filepath.Join(src, "outer.zip"), filepath.Join(work, "inner.zip"))
	// A folder named like an archive's output is not overwritten.
	require.NoError(t, os.MkdirAll(filepath.Join(src, "outer"), 0o755))

	vols, err := filepath.Glob(filepath.Join(src, "Movie.7z.*"))
	require.NoError(t, err)
	require.Greater(t, len(vols), 2, "a multi-volume set")

	got, res, err := extract(t, src, ExtractOptions{})
	require.NoError(t, err)
	require.Equal(t, 3, res.Archives, "the volume set counts once")
	require.Equal(t, 2, res.Carried)
	all := sums(t, got)
	for k, v := range want {
		require.Equal(t, v, all["Movie/"+k], "Movie/%s", k)
		require.Equal(t, v, all["Subs/subs/"+k], "Subs/subs/%s", k)
	}
	require.Equal(t, "dir", all["outer"])
	require.Equal(t, fileSum(t, filepath.Join(work, "inner.zip")), all["outer (2)/inner.zip"])
	var names []string
	for k := range all {
		if filepath.Dir(k) == "." {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	require.Equal(t, []string{"Movie", "Movie.nfo", "Sample", "Subs", "outer", "outer (2)"}, names)

	// Carried files are hard links: no second copy on disk.
	a, err := os.Stat(filepath.Join(src, "Sample/sample.mkv"))
	require.NoError(t, err)
	b, err := os.Stat(filepath.Join(got, "Sample/sample.mkv"))
	require.NoError(t, err)
	require.True(t, os.SameFile(a, b))
}
