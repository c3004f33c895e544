package harness

// Views of what the bot said in a chat, shared by the multi-node suites
// (processes on loopback, containers).

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// MessagesWith returns the bot's messages in chat whose text starts with
// prefix and contains every one of subs.
func MessagesWith(tg *tgfake.Server, chat int64, prefix string, subs ...string) []tgfake.SentMessage {
	var out []tgfake.SentMessage
	for _, m := range tg.Messages(chat) {
		if !strings.HasPrefix(m.Text, prefix) {
			continue
		}
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(m.Text, s)
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// Finished reports whether the chat got a final "✅" message about name.
func Finished(tg *tgfake.Server, chat int64, name string) bool {
	return len(MessagesWith(tg, chat, "✅", name)) > 0
}

// RequireDeliveredOnce checks a leech of name to chat: one "✅" message,
// no "❌" (a failure the chat was told of, even if the task went on), every
// part (name.001… when parts > 1) exactly once, in order, and the parts
// joined are the source.
func RequireDeliveredOnce(t testing.TB, tg *tgfake.Server, chat int64, name, sha string, parts int) {
	t.Helper()
	require.Len(t, MessagesWith(tg, chat, "✅", name), 1, "user %d: one final message for %s", chat, name)
	require.Empty(t, MessagesWith(tg, chat, "❌"), "user %d: no failure reported", chat)
	docs := tg.Documents(chat)
	seen := map[string]int{}
	var names []string
	for _, d := range docs {
		seen[d.FileName]++
		names = append(names, d.FileName)
	}
	for part, n := range seen {
		require.Equal(t, 1, n, "user %d: %s delivered %d times (documents: %v)", chat, part, n, names)
	}
	want := []string{name}
	if parts > 1 {
		want = nil
		for i := 1; i <= parts; i++ {
			want = append(want, fmt.Sprintf("%s.%03d", name, i))
		}
	}
	require.Equal(t, want, names, "user %d: every part once, in order", chat)
	require.Equal(t, sha, JoinedSHA256(t, docs), "user %d: the parts joined are the source", chat)
}

// LogChat writes a chat's bot messages to the test log, for failures.
func LogChat(t testing.TB, tg *tgfake.Server, chat int64) {
	for _, m := range tg.Messages(chat) {
		text := m.Text
		if m.Document != nil {
			text = "[document " + m.Document.FileName + "]"
		}
		t.Logf("chat %d message %d (reply to %d, edits %d, deleted %v, %s): %q", chat, m.MessageID, m.ReplyTo, m.Edits,
			m.Deleted, m.Time.Format("15:04:05.000"), text)
	}
}
