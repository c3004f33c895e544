package e2e

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// Texts the bot sends stay within Telegram's limits whatever the user
// sends, echoed input is cleaned, and what -e leaves out or refuses is
// said. One bot; each case in a chat of its own (all users are neither
// owner nor sudo, so MAX_TASK_SIZE applies to them).
func TestHolesText(t *testing.T) {
	const (
		longInput = 3101
		longName  = 3102
		unsafeZip = 3103
		taskSize  = 3104
	)
	safeA, safeB := randomBytes(t, 300_000), randomBytes(t, 200_000)
	big := hexText(4 << 20) // 4 MiB that deflates to about half
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t,
		origin.File{Path: "/file.bin", Size: 100_000, Seed: 3},
		origin.File{Path: "/mixed.zip", Data: zipOf(t, []zipFile{
			{"safe/a.bin", safeA}, {"../../x", []byte("outside")}, {"safe/b.bin", safeB}})},
		origin.File{Path: "/big.zip", Data: zipOf(t, []zipFile{{"big/1.txt", big[:2<<20]}, {"big/2.txt", big[2<<20:]}})})
	bot := startBot(t, tg, "MAX_TASK_SIZE=3MiB",
		fmt.Sprintf("AUTHORIZED_CHATS=%d,%d,%d,%d,%d", userID, longInput, longName, unsafeZip, taskSize))

	// Every text and caption the fake accepted is within the limits (it
	// refuses longer ones with 400, as Telegram does); nothing was refused.
	t.Cleanup(func() {
		for _, c := range tg.Calls("sendMessage", "editMessageText", "sendDocument") {
			require.NotContains(t, c.Description, "too long", "%s refused", c.Method)
		}
	})

	t.Run("input of 4089 characters", func(t *testing.T) {
		tg.PushText(longInput, longInput, "/leech "+strings.Repeat("a", 4089))
		failed := waitMessage(t, tg, longInput, "❌", 30*time.Second)
		require.LessOrEqual(t, utf16Len(failed.Text), 4096)
		require.Contains(t, failed.Text, "links must start with http:// or https://")
		require.Contains(t, failed.Text, "…", "the echoed input is shortened")
	})

	t.Run("long name with bidi controls", func(t *testing.T) {
		name := "\u202e" + strings.Repeat("név&<x>_", 250) + "end.bin"
		tg.PushText(longName, longName, "/leech "+o.URL("/file.bin")+" -n "+name)
		done := waitMessage(t, tg, longName, "✅", 60*time.Second)
		require.Contains(t, done.Text, "név&<x>_név&<x>_", "the name, unescaped as the user reads it")
		require.Contains(t, done.Text, ".bin\n", "the name keeps its extension")
		docs := tg.Documents(longName)
		require.Len(t, docs, 1)
		require.Equal(t, o.SHA256("/file.bin"), docs[0].SHA256)
		require.Contains(t, docs[0].Caption, "név&<x>")
		for _, m := range tg.Messages(longName) {
			require.NotContains(t, m.Text, "\u202e", "no bidi override reaches the chat")
			require.LessOrEqual(t, utf16Len(m.Text), 4096)
		}
		require.NotContains(t, docs[0].Caption, "\u202e")
	})

	t.Run("unsafe entries are skipped and said", func(t *testing.T) {
		tg.PushText(unsafeZip, unsafeZip, "/leech -e "+o.URL("/mixed.zip"))
		done := waitMessage(t, tg, unsafeZip, "✅", 60*time.Second)
		require.Contains(t, done.Text, "⚠️ 1 entry skipped: unsafe path")
		got := map[string]string{}
		for _, d := range tg.Documents(unsafeZip) {
			got[d.FileName] = d.SHA256
		}
		require.Equal(t, map[string]string{"a.bin": sha(safeA), "b.bin": sha(safeB)}, got)
	})

	t.Run("MAX_TASK_SIZE bounds the extraction", func(t *testing.T) {
		tg.PushText(taskSize, taskSize, "/leech -e "+o.URL("/big.zip"))
		failed := waitMessage(t, tg, taskSize, "❌", 60*time.Second)
		require.Contains(t, failed.Text, "MAX_TASK_SIZE")
		require.Contains(t, failed.Text, "3.0 MiB")
		require.Empty(t, tg.Documents(taskSize))
		waitFor(t, 10*time.Second, "the task folder to be removed", func() bool { return len(dirEntries(t, bot.Download)) == 0 })
	})
}

type zipFile struct {
	name string
	data []byte
}

func zipOf(t *testing.T, files []zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		fw, err := w.Create(f.name)
		require.NoError(t, err)
		_, err = fw.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// hexText is n bytes of random hex digits: text that deflates to about half.
func hexText(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = "0123456789abcdef"[r.IntN(16)]
	}
	return b
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
