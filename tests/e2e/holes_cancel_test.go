package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// Cancelling someone else's task: the owner may, by id, by reply or all at
// once after confirming; another member may not. Every task downloads a
// throttled file, so it is still running when it is cancelled. One bot
// serves every case; each case cancels what it started.
func TestHolesCancel(t *testing.T) {
	const member2 int64 = 3003
	tg := tgfake.New(t, tgfake.Options{})
	var files []origin.File
	for i := 1; i <= 6; i++ {
		files = append(files, origin.File{Path: fmt.Sprintf("/slow/c%d.bin", i), Size: 32 * mib, Seed: uint64(i),
			RateLimit: 128 << 10})
	}
	o := origin.New(t, files...)
	startBot(t, tg, fmt.Sprintf("AUTHORIZED_CHATS=%d %d", userID, member2))

	// start runs /leech of file n for user in their own chat and returns the
	// command message and the task's id, read off the status message.
	start := func(t *testing.T, user int64, n int) (*tgfake.Message, string) {
		t.Helper()
		name := fmt.Sprintf("c%d.bin", n)
		cmd := tg.PushText(user, user, "/leech "+o.URL("/slow/"+name))
		return cmd, taskOnBoard(t, tg, user, name)
	}
	cancelled := func(t *testing.T, chat int64, id string) {
		t.Helper()
		waitFor(t, 30*time.Second, "task "+id+"'s final message in chat "+fmt.Sprint(chat), func() bool {
			return len(harness.MessagesWith(tg, chat, "🚫", id, "was cancelled")) == 1
		})
	}

	t.Run("owner cancels a member's task by id; another member cannot", func(t *testing.T) {
		_, id := start(t, userID, 1)

		ask := tg.PushText(member2, member2, "/cancel "+id)
		refusal := waitReply(t, tg, member2, ask.MessageID)
		require.Contains(t, refusal.Text, "not yours")
		time.Sleep(time.Second)
		require.Empty(t, harness.MessagesWith(tg, userID, "🚫", id), "a member cannot cancel another's task")
		boardShowing(t, tg, userID, id) // still running

		ask = tg.PushText(ownerID, ownerID, "/cancel "+id)
		cancelled(t, userID, id) // the member is told, under their command
		ack := waitReply(t, tg, ownerID, ask.MessageID)
		require.Contains(t, ack.Text, "Cancelling task "+id)
		requireStopped(t, o)
	})

	t.Run("a reply to the command message or to the status message", func(t *testing.T) {
		cmd, id := start(t, userID, 2)
		tg.PushText(userID, userID, "/cancel", tgfake.ReplyTo(cmd.MessageID))
		cancelled(t, userID, id)

		_, id = start(t, userID, 3)
		board := boardShowing(t, tg, userID, id)
		tg.PushText(userID, userID, "/cancel", tgfake.ReplyTo(board.MessageID))
		cancelled(t, userID, id)
		requireStopped(t, o)
	})

	t.Run("owner cancels every task after confirming", func(t *testing.T) {
		_, a := start(t, userID, 4)
		_, b := start(t, member2, 5)

		// Keeping them cancels nothing.
		ask := tg.PushText(ownerID, ownerID, "/cancelall")
		confirm := waitReply(t, tg, ownerID, ask.MessageID)
		tg.PushCallback(ownerID, ownerID, confirm.MessageID, keyboard(t, confirm)["Keep them"])
		waitFor(t, 10*time.Second, "the confirmation to say so", func() bool {
			m, ok := messageByID(tg, ownerID, confirm.MessageID)
			return ok && m.Text == "Nothing was cancelled."
		})
		time.Sleep(time.Second)
		require.Empty(t, harness.MessagesWith(tg, userID, "🚫", a))
		require.Empty(t, harness.MessagesWith(tg, member2, "🚫", b))

		ask = tg.PushText(ownerID, ownerID, "/cancelall")
		confirm = waitReply(t, tg, ownerID, ask.MessageID)
		require.Contains(t, confirm.Text, "Cancel all 2 running task(s) of 2 user(s)")
		buttons := keyboard(t, confirm)
		require.Len(t, buttons, 2, "confirm and abort (the owner has no task of their own)")

		// Only the admin who asked may answer.
		q := tg.PushCallback(ownerID, member2, confirm.MessageID, buttons["🚫 Cancel all 2"])
		waitFor(t, 10*time.Second, "the refusal", func() bool {
			ans, ok := tg.Answer(q)
			return ok && strings.Contains(ans.Text, "Only the admin who asked")
		})

		tg.PushCallback(ownerID, ownerID, confirm.MessageID, buttons["🚫 Cancel all 2"])
		cancelled(t, userID, a)
		cancelled(t, member2, b)
		waitFor(t, 30*time.Second, "the count on the confirmation message", func() bool {
			m, ok := messageByID(tg, ownerID, confirm.MessageID)
			return ok && m.Text == "🚫 Cancelled 2 task(s) of 2 user(s)." && m.ReplyMarkup == ""
		})
		requireStopped(t, o)
	})
}

// taskOnBoard waits for the status message of chat to show the task named
// name and returns its id.
func taskOnBoard(t *testing.T, tg *tgfake.Server, chat int64, name string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(name) + `[\s\S]*?/cancel ([a-z0-9]{8})`)
	var id string
	waitFor(t, 30*time.Second, name+" on the status message", func() bool {
		for _, m := range tg.Messages(chat) {
			if g := re.FindStringSubmatch(m.Text); !m.Deleted && g != nil {
				id = g[1]
				return true
			}
		}
		return false
	})
	return id
}

// boardShowing returns the status message of chat that shows task id.
func boardShowing(t *testing.T, tg *tgfake.Server, chat int64, id string) tgfake.SentMessage {
	t.Helper()
	var board tgfake.SentMessage
	waitFor(t, 30*time.Second, "the status message showing "+id, func() bool {
		for _, m := range tg.Messages(chat) {
			if !m.Deleted && strings.Contains(m.Text, "/cancel "+id) {
				board = m
				return true
			}
		}
		return false
	})
	return board
}

// waitReply waits for the bot's reply to message msg in chat.
func waitReply(t *testing.T, tg *tgfake.Server, chat int64, msg int) tgfake.SentMessage {
	t.Helper()
	var got tgfake.SentMessage
	waitFor(t, 30*time.Second, fmt.Sprintf("a reply to message %d", msg), func() bool {
		for _, m := range tg.Messages(chat) {
			if m.ReplyTo == msg {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

func messageByID(tg *tgfake.Server, chat int64, id int) (tgfake.SentMessage, bool) {
	for _, m := range tg.Messages(chat) {
		if m.MessageID == id {
			return m, true
		}
	}
	return tgfake.SentMessage{}, false
}

// keyboard maps the texts of a message's inline buttons to their data.
func keyboard(t *testing.T, m tgfake.SentMessage) map[string]string {
	t.Helper()
	var kb struct {
		InlineKeyboard [][]struct {
			Text string `json:"text"`
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	require.NoError(t, json.Unmarshal([]byte(m.ReplyMarkup), &kb))
	out := map[string]string{}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			out[b.Text] = b.Data
		}
	}
	return out
}

// requireStopped checks that no task downloads any more.
func requireStopped(t *testing.T, o *origin.Origin) {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // bytes already in flight
	served := o.BytesServed()
	time.Sleep(time.Second)
	require.LessOrEqual(t, o.BytesServed()-served, int64(256<<10), "the transfers stopped")
}
