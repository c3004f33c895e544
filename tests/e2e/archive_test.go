package e2e

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// needTool finds a command the test drives; under CI a missing tool is a
// failure (make test-deps installs it), elsewhere the test skips.
func needTool(t *testing.T, name string) string {
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

// tree writes files (path → content) under a new folder and returns it.
func tree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, b, 0o644))
	}
	return dir
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// listTree returns every regular file under dir (slash paths) with its sha256.
func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = fileSHA256(t, p)
		return nil
	}))
	return out
}

func runTool(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
	return string(out)
}

func TestLeechExtractsAZipIntoItsFiles(t *testing.T) {
	zipTool := needTool(t, "zip")
	src := tree(t, map[string][]byte{
		"album/01 intro.flac": randomBytes(t, 300_000),
		"album/02 song.flac":  randomBytes(t, 1_500_000),
		"album/notes.txt":     []byte(strings.Repeat("liner notes ", 2000)),
	})
	work := t.TempDir()
	runTool(t, src, zipTool, "-q", "-r", filepath.Join(work, "album.zip"), "album")
	zipped, err := os.ReadFile(filepath.Join(work, "album.zip"))
	require.NoError(t, err)

	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/album.zip", Data: zipped})
	startBot(t, tg, "LEECH_SPLIT_SIZE=1MiB")

	tg.PushText(userID, userID, "/leech -e "+o.URL("/album.zip"))
	done := waitMessage(t, tg, userID, "✅", 90*time.Second)
	require.Contains(t, done.Text, "album")

	// One upload per file, the large one split; joined parts equal the source.
	got := map[string][]tgfake.SentDocument{}
	for _, d := range tg.Documents(userID) {
		base := d.FileName
		if i := strings.LastIndex(base, ".00"); i > 0 {
			base = base[:i]
		}
		got[base] = append(got[base], d)
	}
	require.Len(t, got, 3, "three files: %v", got)
	require.Len(t, got["02 song.flac"], 2, "the 1.5 MB file in two parts")
	want := listTree(t, src)
	for name, docs := range got {
		sort.Slice(docs, func(i, j int) bool { return docs[i].FileName < docs[j].FileName })
		require.Equal(t, want["album/"+name], joinedSHA256(t, docs), name)
	}
}

func TestMirrorZipsWithAPasswordThat7zipOpens(t *testing.T) {
	sevenZip := needTool(t, "7z")
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/data/report.bin", Size: 3*mib + 7, Seed: 11})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/mirror -z s3cret "+o.URL("/data/report.bin"))
	done := waitMessage(t, tg, userID, "✅", 90*time.Second)
	require.Contains(t, done.Text, "report.bin.zip")
	require.Equal(t, []string{"report.bin.zip"}, dirEntries(t, bot.Mirror))
	zipPath := filepath.Join(bot.Mirror, "report.bin.zip")

	// 7-Zip reads the AES-256 entry with the password and refuses without it.
	out := t.TempDir()
	runTool(t, out, sevenZip, "x", "-ps3cret", "-y", "-o"+out, zipPath)
	require.Equal(t, o.SHA256("/data/report.bin"), fileSHA256(t, filepath.Join(out, "report.bin")))
	info := runTool(t, out, sevenZip, "l", "-slt", "-ps3cret", zipPath)
	require.Contains(t, info, "AES-256")
	bad := exec.Command(sevenZip, "t", "-pwrong", zipPath)
	require.Error(t, bad.Run(), "a wrong password must not open the zip")
}

func TestHostileArchiveFailsClearlyAndLeavesNothing(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	// A file named .zip that is not a zip.
	o := origin.New(t, origin.File{Path: "/fake.zip", Data: []byte(strings.Repeat("not a zip at all ", 100))})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/mirror -e "+o.URL("/fake.zip"))
	failed := waitMessage(t, tg, userID, "❌", 60*time.Second)
	require.Contains(t, strings.ToLower(failed.Text), "zip", "the reason names the problem: %s", failed.Text)
	require.Empty(t, dirEntries(t, bot.Mirror), "nothing delivered")
	waitFor(t, 5*time.Second, "the task folder to be removed", func() bool { return len(dirEntries(t, bot.Download)) == 0 })
}
