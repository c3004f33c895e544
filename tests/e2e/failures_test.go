package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// A transient server failure restarts the download stage (a supervised
// restart with backoff) and the task completes once the server recovers.
func TestTransientFailureIsRetried(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/busy.bin", Size: 500_000, Seed: 4, Status: 503})
	bot := startBot(t, tg, "RETRY_INITIAL_DELAY=1s", "RETRY_MAX_ATTEMPTS=5")

	tg.PushText(userID, userID, "/mirror "+o.URL("/busy.bin"))
	waitFor(t, 15*time.Second, "the first failed attempts", func() bool { return o.Requests() >= 2 })
	o.Add(origin.File{Path: "/busy.bin", Size: 500_000, Seed: 4})
	done := waitMessage(t, tg, userID, "✅", 60*time.Second)
	require.Contains(t, done.Text, "busy.bin")
	require.Equal(t, o.SHA256("/busy.bin"), fileSHA256(t, filepath.Join(bot.Mirror, "busy.bin")))
	require.Contains(t, bot.Log(), "restarting stage", "the retry is a supervised restart")
}

// A permanent failure fails the task at once, in plain words.
func TestPermanentFailureFailsAtOnce(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/gone.bin", Size: 10, Seed: 1, Status: 404})
	startBot(t, tg, "RETRY_MAX_ATTEMPTS=5")

	tg.PushText(userID, userID, "/leech "+o.URL("/gone.bin"))
	failed := waitMessage(t, tg, userID, "❌", 30*time.Second)
	require.Contains(t, failed.Text, "does not exist")
	require.NotContains(t, failed.Text, "attempts", "a 404 is not retried")
	require.Equal(t, int64(1), o.Requests())
}

// After the last attempt the task fails with the last error.
func TestRetriesAreBounded(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/down.bin", Size: 10, Seed: 1, Status: 502})
	startBot(t, tg, "RETRY_MAX_ATTEMPTS=3", "RETRY_INITIAL_DELAY=100ms")

	tg.PushText(userID, userID, "/leech "+o.URL("/down.bin"))
	failed := waitMessage(t, tg, userID, "❌", 30*time.Second)
	require.Contains(t, failed.Text, "HTTP 502")
	require.Contains(t, failed.Text, "after 3 attempts")
	require.Equal(t, int64(3), o.Requests(), "one request per attempt")
}

func TestCloudDownloadLimitIsExplained(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	startBot(t, tg)

	doc := tg.PushDocument(userID, userID, "movie.mkv", make([]byte, 21<<20), "")
	tg.PushText(userID, userID, "/leech", tgfake.ReplyTo(doc.MessageID))
	msg := waitMessage(t, tg, userID, "20 MB", 15*time.Second)
	require.Contains(t, msg.Text, "telegram-bot-api")
	require.Empty(t, tg.Calls("getFile"), "nothing is fetched")
}

func TestCancelAll(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t,
		origin.File{Path: "/a.bin", Size: 20 * mib, Seed: 1, RateLimit: 128 << 10},
		origin.File{Path: "/b.bin", Size: 20 * mib, Seed: 2, RateLimit: 128 << 10})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/leech "+o.URL("/a.bin"))
	tg.PushText(userID, userID, "/mirror "+o.URL("/b.bin"))
	waitFor(t, 20*time.Second, "both tasks on the board", func() bool {
		for _, m := range tg.Messages(userID) {
			if !m.Deleted && strings.Count(m.Text, "/cancel ") == 2 {
				return true
			}
		}
		return false
	})
	tg.PushText(userID, userID, "/cancelall")
	waitMessage(t, tg, userID, "Cancelling 2 task(s)", 15*time.Second)
	waitFor(t, 15*time.Second, "two cancellations", func() bool {
		n := 0
		for _, m := range tg.Messages(userID) {
			if strings.Contains(m.Text, "was cancelled") {
				n++
			}
		}
		return n == 2
	})
	waitFor(t, 5*time.Second, "no partial data", func() bool { return len(dirEntries(t, bot.Download)) == 0 })
	require.Empty(t, dirEntries(t, bot.Mirror))
}
