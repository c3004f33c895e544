package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// finalMessage waits for the task's last word (✅ or ❌) that mentions name.
func finalMessage(t *testing.T, tg *tgfake.Server, chat int64, name string) tgfake.SentMessage {
	t.Helper()
	var got tgfake.SentMessage
	waitFor(t, 60*time.Second, "the end of the task for "+name, func() bool {
		for _, m := range tg.Messages(chat) {
			if strings.Contains(m.Text, name) && (strings.HasPrefix(m.Text, "✅") || strings.HasPrefix(m.Text, "❌")) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// allocated returns the bytes of disk allocated to the files under dir
// (blocks, not sizes: a preallocated file is costly while still "empty").
func allocated(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			n += st.Blocks * 512
		}
		return nil
	})
	return n
}

// The download holes of one node with MAX_TASK_SIZE: sizes the server
// hides or inflates, a file that changes under the download, and names of
// the longest legal length. One bot serves every case.
func TestHolesDownload(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	longCD := strings.Repeat("a", 296) + ".bin" // 300 bytes, cut to 255
	o := origin.New(t,
		origin.File{Path: "/stream.bin", Size: 8 * mib, Seed: 1, NoLength: true},
		origin.File{Path: "/huge.bin", Size: 10_000_000_000, Seed: 2},
		origin.File{Path: "/moving.bin", Size: 900_000, Seed: 3, Unstable: true},
		origin.File{Path: "/long", Size: 50_000, Seed: 4, ContentDisposition: `attachment; filename="` + longCD + `"`})
	bot := startBot(t, tg, "MAX_TASK_SIZE=1MiB")

	t.Run("unknown length over the limit", func(t *testing.T) {
		tg.PushText(userID, userID, "/mirror "+o.URL("/stream.bin"))
		failed := finalMessage(t, tg, userID, "stream.bin")
		require.True(t, strings.HasPrefix(failed.Text, "❌"), failed.Text)
		require.Contains(t, failed.Text, "larger than the 1.0 MiB this bot accepts")
		require.Equal(t, int64(1), o.Requests(), "refused for good, not retried")
		waitFor(t, 10*time.Second, "the partial data removed", func() bool { return allocated(bot.Download) == 0 })
		require.Empty(t, dirEntries(t, bot.Mirror))

		// The owner is exempt from MAX_TASK_SIZE.
		tg.PushText(ownerID, ownerID, "/mirror "+o.URL("/stream.bin"))
		done := finalMessage(t, tg, ownerID, "stream.bin")
		require.True(t, strings.HasPrefix(done.Text, "✅"), done.Text)
		require.Equal(t, o.SHA256("/stream.bin"), fileSHA256(t, filepath.Join(bot.Mirror, "stream.bin")))
		require.NoError(t, os.Remove(filepath.Join(bot.Mirror, "stream.bin")))
	})

	t.Run("declared size over the limit reserves nothing", func(t *testing.T) {
		var (
			most int64
			mu   sync.Mutex
			stop = make(chan struct{})
			wg   sync.WaitGroup
		)
		wg.Go(func() {
			for {
				n := allocated(bot.Download)
				mu.Lock()
				most = max(most, n)
				mu.Unlock()
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
		})
		tg.PushText(userID, userID, "/mirror "+o.URL("/huge.bin"))
		failed := finalMessage(t, tg, userID, "huge.bin")
		close(stop)
		wg.Wait()
		require.True(t, strings.HasPrefix(failed.Text, "❌"), failed.Text)
		require.Contains(t, failed.Text, "the file is 9.3 GiB, larger than the 1.0 MiB this bot accepts")
		require.NotContains(t, failed.Text, "disk is full")
		require.LessOrEqual(t, most, int64(64<<10), "no space is reserved for a refused size")
	})

	t.Run("a file that changes on every response", func(t *testing.T) {
		before := o.Requests()
		tg.PushText(userID, userID, "/mirror "+o.URL("/moving.bin"))
		failed := finalMessage(t, tg, userID, "moving.bin")
		require.True(t, strings.HasPrefix(failed.Text, "❌"), "versions must not be spliced: "+failed.Text)
		require.Contains(t, failed.Text, "the file changed on the server")
		require.Equal(t, int64(4), o.Requests()-before, "probe and range, once more from zero, then no retry")
		require.Empty(t, dirEntries(t, bot.Mirror))
	})

	t.Run("the longest legal name", func(t *testing.T) {
		name := strings.Repeat("a", 251) + ".bin"
		variant := strings.Repeat("a", 247) + " (1).bin"
		// The name from Content-Disposition, then the same name from -n:
		// the second delivery needs a " (1)" variant of a 255-byte name.
		tg.PushText(userID, userID, "/mirror "+o.URL("/long"))
		waitFor(t, 60*time.Second, "the first long name delivered", func() bool {
			_, err := os.Stat(filepath.Join(bot.Mirror, name))
			return err == nil
		})
		tg.PushText(userID, userID, "/mirror "+o.URL("/long")+" -n "+longCD)
		waitFor(t, 60*time.Second, "the second long name delivered", func() bool {
			_, err := os.Stat(filepath.Join(bot.Mirror, variant))
			return err == nil
		})
		sha := o.SHA256("/long")
		require.Equal(t, sha, fileSHA256(t, filepath.Join(bot.Mirror, name)))
		require.Equal(t, sha, fileSHA256(t, filepath.Join(bot.Mirror, variant)))
		require.ElementsMatch(t, []string{name, variant}, dirEntries(t, bot.Mirror))
		for _, m := range tg.Messages(userID) {
			require.NotContains(t, m.Text, "network error")
		}
	})
}
