package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

func countMessages(tg *tgfake.Server, chat int64, s string) int {
	n := 0
	for _, m := range tg.Messages(chat) {
		if strings.Contains(m.Text, s) {
			n++
		}
	}
	return n
}

// kill -9 in the middle of a download: the restarted node resumes from the
// bytes on disk, tells the user once, and delivers once.
func TestKillDuringDownloadResumes(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	size := int64(24 * mib)
	o := origin.New(t, origin.File{Path: "/resume.bin", Size: size, Seed: 21, RateLimit: 512 << 10})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/mirror "+o.URL("/resume.bin"))
	waitFor(t, 30*time.Second, "a third of the file", func() bool { return o.BytesServed() > size/3 })
	bot.Kill()
	before := o.BytesServed()
	bot.Restart()

	waitMessage(t, tg, userID, "resumed", 20*time.Second)
	waitMessage(t, tg, userID, "✅", 90*time.Second)
	require.Equal(t, o.SHA256("/resume.bin"), fileSHA256(t, filepath.Join(bot.Mirror, "resume.bin")))
	t.Logf("served %d bytes before the kill, %d in all, for a %d byte file (%.2fx)",
		before, o.BytesServed(), size, float64(o.BytesServed())/float64(size))
	require.Less(t, o.BytesServed(), 2*size, "resumed from disk, not from zero")
	require.Equal(t, 1, countMessages(tg, userID, "resumed"), "one resume notice")
	require.Equal(t, 1, countMessages(tg, userID, "✅"), "one delivery")
}

// kill -9 in the middle of a split leech: only the missing parts are sent
// after the restart.
func TestKillDuringUploadSendsOnlyMissingParts(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	size := int64(5*mib - 1000)
	o := origin.New(t, origin.File{Path: "/parts.bin", Size: size, Seed: 22})
	bot := startBot(t, tg, "LEECH_SPLIT_SIZE=1MiB")

	tg.PushText(userID, userID, "/leech "+o.URL("/parts.bin"))
	waitFor(t, 60*time.Second, "two parts delivered", func() bool { return len(tg.Documents(userID)) >= 2 })
	// The next part meets a long flood wait, so the kill lands mid-upload.
	tg.FailNext("sendDocument", 1, 429, "Too Many Requests: retry after 60", 60)
	waitFor(t, 10*time.Second, "the third part to be refused", func() bool {
		for _, c := range tg.Calls("sendDocument") {
			if c.Status == 429 {
				return true
			}
		}
		return false
	})
	delivered := len(tg.Documents(userID))
	bot.Kill()
	bot.Restart()

	waitMessage(t, tg, userID, "✅", 90*time.Second)
	docs := tg.Documents(userID)
	require.Len(t, docs, 5, "every part exactly once")
	seen := map[string]bool{}
	for i, d := range docs {
		require.Equal(t, fmt.Sprintf("parts.bin.%03d", i+1), d.FileName)
		require.False(t, seen[d.FileName], "part %s delivered twice", d.FileName)
		seen[d.FileName] = true
	}
	require.Equal(t, o.SHA256("/parts.bin"), joinedSHA256(t, docs))
	t.Logf("%d parts before the kill, %d after", delivered, len(docs)-delivered)
	require.Equal(t, int64(size+1), o.BytesServed(), "the download was not repeated")
}

// SIGTERM checkpoints; the next start resumes the same way.
func TestGracefulStopResumes(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	size := int64(16 * mib)
	o := origin.New(t, origin.File{Path: "/term.bin", Size: size, Seed: 23, RateLimit: 512 << 10})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/mirror "+o.URL("/term.bin"))
	waitFor(t, 30*time.Second, "some progress", func() bool { return o.BytesServed() > size/4 })
	bot.Stop()
	bot.Restart()
	waitMessage(t, tg, userID, "✅", 90*time.Second)
	require.Equal(t, o.SHA256("/term.bin"), fileSHA256(t, filepath.Join(bot.Mirror, "term.bin")))
	require.Less(t, o.BytesServed(), size+size/2)
}

var queueRe = regexp.MustCompile(`Queue position: (\d+)`)

func TestQueueRunsTasksInOrder(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	var files []origin.File
	for i := 1; i <= 3; i++ {
		files = append(files, origin.File{Path: fmt.Sprintf("/q%d.bin", i), Size: 2 * mib, Seed: uint64(i), RateLimit: 400 << 10})
	}
	o := origin.New(t, files...)
	bot := startBot(t, tg, "MAX_CONCURRENT_DOWNLOADS=1", "HTTP_CONNECTIONS=1", "STATUS_INTERVAL=3s")

	for i := 1; i <= 3; i++ {
		tg.PushText(userID, userID, "/mirror "+o.URL(fmt.Sprintf("/q%d.bin", i)))
		time.Sleep(200 * time.Millisecond) // a stable order of arrival
	}
	defer func() {
		if t.Failed() {
			for _, m := range tg.Messages(userID) {
				t.Logf("message %d (edits %d): %q", m.MessageID, m.Edits, m.Text)
			}
		}
	}()
	waitFor(t, 20*time.Second, "queue positions 1 and 2 on the board", func() bool {
		for _, m := range tg.Messages(userID) {
			pos := queueRe.FindAllStringSubmatch(m.Text, -1)
			if len(pos) == 2 && pos[0][1] == "1" && pos[1][1] == "2" {
				return true
			}
		}
		return false
	})
	waitFor(t, 90*time.Second, "three deliveries", func() bool { return countMessages(tg, userID, "✅") == 3 })
	var order []string
	for _, m := range tg.Messages(userID) {
		if strings.Contains(m.Text, "✅") {
			for i := 1; i <= 3; i++ {
				if strings.Contains(m.Text, fmt.Sprintf("q%d.bin", i)) {
					order = append(order, fmt.Sprintf("q%d", i))
				}
			}
		}
	}
	require.Equal(t, []string{"q1", "q2", "q3"}, order, "one after another, in order")
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("q%d.bin", i)
		require.Equal(t, o.SHA256("/"+name), fileSHA256(t, filepath.Join(bot.Mirror, name)))
	}
}

func TestLimits(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t,
		origin.File{Path: "/small.bin", Size: 100_000, Seed: 1},
		origin.File{Path: "/big.bin", Size: 3 * mib, Seed: 2},
		origin.File{Path: "/slow.bin", Size: 900_000, Seed: 3, RateLimit: 16 << 10})
	startBot(t, tg, "MAX_TASK_SIZE=1MiB", "USER_TASK_LIMIT=1", "USER_RATE_LIMIT=5")

	// Size: refused for a user, accepted for the owner.
	tg.PushText(userID, userID, "/mirror "+o.URL("/big.bin"))
	failed := waitMessage(t, tg, userID, "❌", 30*time.Second)
	require.Contains(t, failed.Text, "larger than the 1.0 MiB this bot accepts")
	tg.PushText(ownerID, ownerID, "/mirror "+o.URL("/big.bin"))
	waitMessage(t, tg, ownerID, "✅", 30*time.Second)

	// Tasks per user: the second one at once is refused; the owner is exempt.
	tg.PushText(userID, userID, "/mirror "+o.URL("/slow.bin"))
	harness.WaitMessage(t, tg, userID, "/cancel ", 20*time.Second)
	tg.PushText(userID, userID, "/mirror "+o.URL("/small.bin"))
	waitMessage(t, tg, userID, "You already have 1 task", 15*time.Second)
	tg.PushText(userID, userID, "/cancelall")
	waitMessage(t, tg, userID, "was cancelled", 15*time.Second)
	tg.PushText(userID, userID, "/mirror "+o.URL("/small.bin"))
	waitFor(t, 30*time.Second, "the small file after the cancel", func() bool { return countMessages(tg, userID, "✅") == 1 })

	// Commands per minute: five were sent, the sixth is refused.
	tg.PushText(userID, userID, "/ping")
	waitMessage(t, tg, userID, "Slow down", 15*time.Second)
	for i := 0; i < 3; i++ {
		tg.PushText(ownerID, ownerID, "/ping")
	}
	waitFor(t, 15*time.Second, "owner pings", func() bool { return countMessages(tg, ownerID, "Pong:") == 3 })
}

// A full disk fails the task cleanly, removes its data, and the next task
// works. A file whose size is declared is refused before anything is
// reserved, for the size; one of unknown length fills the disk and fails
// with ENOSPC.
func TestDiskFullFailsCleanly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "small")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })

	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t,
		origin.File{Path: "/huge.bin", Size: 8 * mib, Seed: 1},
		origin.File{Path: "/stream.bin", Size: 8 * mib, Seed: 3, NoLength: true},
		origin.File{Path: "/fits.bin", Size: mib, Seed: 2})
	bot := startBot(t, tg, "DOWNLOAD_DIR="+filepath.Join(dir, "dl"))

	tg.PushText(userID, userID, "/mirror "+o.URL("/huge.bin"))
	failed := waitMessage(t, tg, userID, "❌ huge.bin", 30*time.Second)
	require.Contains(t, failed.Text, "the file is 8.0 MiB, but the bot's disk has only")
	require.Empty(t, dirEntries(t, filepath.Join(dir, "dl")), "nothing reserved or left")

	tg.PushText(userID, userID, "/mirror "+o.URL("/stream.bin"))
	failed = waitMessage(t, tg, userID, "❌ stream.bin", 30*time.Second)
	require.Contains(t, failed.Text, "disk is full")
	require.Empty(t, dirEntries(t, filepath.Join(dir, "dl")), "partial data removed")

	tg.PushText(userID, userID, "/mirror "+o.URL("/fits.bin"))
	waitMessage(t, tg, userID, "✅", 30*time.Second)
	require.Equal(t, o.SHA256("/fits.bin"), fileSHA256(t, filepath.Join(bot.Mirror, "fits.bin")))
}

// MIN_FREE_DISK: a file that can never fit above the floor fails with a
// clear message; one that fits goes through.
func TestFreeDiskFloor(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "floor")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })

	tg := tgfake.New(t, tgfake.Options{})
	startBot(t, tg, "DOWNLOAD_DIR="+filepath.Join(dir, "dl"), "MIN_FREE_DISK=6MiB")

	big := tg.PushDocument(userID, userID, "big.bin", make([]byte, 3<<20), "")
	tg.PushText(userID, userID, "/leech", tgfake.ReplyTo(big.MessageID))
	failed := waitMessage(t, tg, userID, "❌", 30*time.Second)
	require.Contains(t, failed.Text, "can never fit")

	small := tg.PushDocument(userID, userID, "small.bin", make([]byte, 512<<10), "")
	tg.PushText(userID, userID, "/leech", tgfake.ReplyTo(small.MessageID))
	waitMessage(t, tg, userID, "✅", 30*time.Second)
	require.Len(t, tg.Documents(userID), 1)
}

// A 5xx on a document upload restarts the upload stage (a supervised retry)
// and the part arrives once.
func TestUploadServerErrorIsRetried(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/doc.bin", Size: 200_000, Seed: 8})
	bot := startBot(t, tg)

	tg.FailNext("sendDocument", 1, 502, "Bad Gateway", 0)
	tg.PushText(userID, userID, "/leech "+o.URL("/doc.bin"))
	waitMessage(t, tg, userID, "✅", 60*time.Second)
	require.Len(t, tg.Documents(userID), 1)
	require.Len(t, tg.Calls("sendDocument"), 2)
	require.Contains(t, bot.Log(), "restarting stage")
}
