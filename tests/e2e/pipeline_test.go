package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

const mib = 1 << 20

var cancelRe = regexp.MustCompile(`/cancel ([a-z0-9]{8})`)

func TestLeechSplitsIntoParts(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	size := int64(3*mib + 12345)
	o := origin.New(t, origin.File{Path: "/pub/big.bin", Size: size, Seed: 7})
	startBot(t, tg, "LEECH_SPLIT_SIZE=1MiB")

	tg.PushText(userID, userID, "/leech "+o.URL("/pub/big.bin"))
	done := waitMessage(t, tg, userID, "✅", 60*time.Second)
	require.Contains(t, done.Text, "big.bin")
	require.Contains(t, done.Text, "4 parts")

	docs := tg.Documents(userID)
	require.Len(t, docs, 4)
	for i, d := range docs {
		require.Equal(t, fmt.Sprintf("big.bin.%03d", i+1), d.FileName)
	}
	require.Equal(t, o.SHA256("/pub/big.bin"), joinedSHA256(t, docs), "the parts joined in order are the source")

	// The status board was shown with a cancel button, and removed at the end.
	var board *tgfake.SentMessage
	for _, m := range tg.Messages(userID) {
		if strings.Contains(m.ReplyMarkup, `"c:`) {
			m := m
			board = &m
			break
		}
	}
	require.NotNil(t, board, "a status message with a cancel button")
	waitFor(t, 10*time.Second, "the status message to be deleted", func() bool {
		for _, m := range tg.Messages(userID) {
			if m.MessageID == board.MessageID {
				return m.Deleted
			}
		}
		return false
	})
}

func TestMirrorRenamesIntoDestination(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/a/source.iso", Size: 2*mib + 1, Seed: 3})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/mirror "+o.URL("/a/source.iso")+" -n renamed.iso")
	done := waitMessage(t, tg, userID, "✅", 60*time.Second)
	require.Contains(t, done.Text, "renamed.iso")
	require.Equal(t, []string{"renamed.iso"}, dirEntries(t, bot.Mirror), "only the finished file is visible")
	require.Equal(t, o.SHA256("/a/source.iso"), fileSHA256(t, filepath.Join(bot.Mirror, "renamed.iso")))
	require.Empty(t, tg.Documents(userID), "a mirror sends no document")
	waitFor(t, 5*time.Second, "the task folder to be removed", func() bool { return len(dirEntries(t, bot.Download)) == 0 })
}

func TestLeechOfRepliedDocument(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	data := []byte(strings.Repeat("mirrorleech document ", 5000))
	startBot(t, tg)

	doc := tg.PushDocument(userID, userID, "notes.txt", data, "")
	tg.PushText(userID, userID, "/leech", tgfake.ReplyTo(doc.MessageID))
	waitMessage(t, tg, userID, "✅", 30*time.Second)
	docs := tg.Documents(userID)
	require.Len(t, docs, 1)
	require.Equal(t, "notes.txt", docs[0].FileName)
	b, err := os.ReadFile(docs[0].Path)
	require.NoError(t, err)
	require.Equal(t, data, b)
}

func TestReplyToLinkMessage(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/x/linked.bin", Size: 100_000, Seed: 9})
	startBot(t, tg)

	link := tg.PushText(userID, userID, "look at this: "+o.URL("/x/linked.bin"))
	tg.PushText(userID, userID, "/l", tgfake.ReplyTo(link.MessageID))
	waitMessage(t, tg, userID, "✅", 30*time.Second)
	docs := tg.Documents(userID)
	require.Len(t, docs, 1)
	require.Equal(t, "linked.bin", docs[0].FileName)
	require.Equal(t, o.SHA256("/x/linked.bin"), docs[0].SHA256)
}

func TestCancelStopsTransferAndDeletesData(t *testing.T) {
	for _, via := range []string{"command", "button"} {
		t.Run(via, func(t *testing.T) {
			tg := tgfake.New(t, tgfake.Options{})
			size := int64(50 * mib)
			o := origin.New(t, origin.File{Path: "/slow.bin", Size: size, Seed: 1, RateLimit: 256 << 10})
			bot := startBot(t, tg)

			tg.PushText(userID, userID, "/leech "+o.URL("/slow.bin"))
			board := waitMessage(t, tg, userID, "/cancel ", 30*time.Second)
			id := cancelRe.FindStringSubmatch(board.Text)[1]
			waitFor(t, 20*time.Second, "some bytes on disk", func() bool { return o.BytesServed() > 0 })

			if via == "command" {
				tg.PushText(userID, userID, "/cancel "+id)
			} else {
				tg.PushCallback(userID, userID, board.MessageID, fmt.Sprintf("c:%d:%s", userID, id))
			}
			waitMessage(t, tg, userID, "cancelled", 15*time.Second)
			served := o.BytesServed()
			time.Sleep(time.Second)
			require.LessOrEqual(t, o.BytesServed()-served, int64(512<<10), "the transfer stopped")
			require.Less(t, o.BytesServed(), size)
			require.Empty(t, tg.Documents(userID), "nothing delivered")
			waitFor(t, 5*time.Second, "the partial data to be deleted", func() bool { return len(dirEntries(t, bot.Download)) == 0 })
		})
	}
}

func TestUnauthorizedUserIsRefused(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/f.bin", Size: 1000, Seed: 1})
	startBot(t, tg)

	const stranger int64 = 777
	tg.PushText(stranger, stranger, "/leech "+o.URL("/f.bin"))
	waitMessage(t, tg, stranger, "not authorized", 15*time.Second)
	time.Sleep(500 * time.Millisecond)
	require.Zero(t, o.Requests(), "nothing is fetched for a stranger")
	require.Empty(t, tg.Documents(stranger))
}

func TestPrivateAddressIsBlocked(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/secret.txt", Size: 1000, Seed: 1})
	startBot(t, tg, "ALLOW_PRIVATE_URLS=false")

	tg.PushText(userID, userID, "/leech "+o.URL("/secret.txt"))
	failed := waitMessage(t, tg, userID, "❌", 30*time.Second)
	require.Contains(t, failed.Text, "127.0.0.1")
	require.Zero(t, o.Requests(), "the origin was never contacted")
}

func TestDroppedConnectionCompletes(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	size := int64(8 * mib)
	o := origin.New(t, origin.File{Path: "/flaky.bin", Size: size, Seed: 5, DropAfter: 3 * mib, DropTimes: 2})
	bot := startBot(t, tg, "HTTP_CONNECTIONS=1")

	tg.PushText(userID, userID, "/mirror "+o.URL("/flaky.bin"))
	waitMessage(t, tg, userID, "✅", 60*time.Second)
	require.Equal(t, o.SHA256("/flaky.bin"), fileSHA256(t, filepath.Join(bot.Mirror, "flaky.bin")))
	t.Logf("origin served %d bytes for a %d byte file (%.2fx)", o.BytesServed(), size, float64(o.BytesServed())/float64(size))
	require.Less(t, o.BytesServed(), 2*size, "resumed, not restarted")
	require.GreaterOrEqual(t, o.Requests(), int64(4), "the probe, two dropped responses and the rest")
}

func TestFloodWaitOnSendDocumentDeliversOnce(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/one.bin", Size: 300_000, Seed: 2})
	startBot(t, tg)

	tg.FailNext("sendDocument", 1, 429, "Too Many Requests: retry after 2", 2)
	tg.PushText(userID, userID, "/leech "+o.URL("/one.bin"))
	waitMessage(t, tg, userID, "✅", 60*time.Second)
	require.Len(t, tg.Documents(userID), 1, "exactly one document after the flood wait")

	var calls []tgfake.Call
	for _, c := range tg.Calls("sendDocument") {
		calls = append(calls, c)
	}
	require.Len(t, calls, 2, "one refused call and one retry")
	require.Equal(t, 429, calls[0].Status)
	gap := calls[1].Time.Sub(calls[0].Time)
	t.Logf("retry after %s", gap)
	require.GreaterOrEqual(t, gap, 2*time.Second, "never retried before retry_after")
}
