package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// The per-user limits are the cluster's, not a node's: the commands a user
// sent before the poller was killed still count on the node that polls
// next, and a second task is refused wherever the first one runs.
func TestUserLimitsSurvivePollerMove(t *testing.T) {
	const user int64 = 3601
	o := origin.New(t, origin.File{Path: "/limits/a.bin", Size: 8 * mib, Seed: 1, RateLimit: 256 << 10},
		origin.File{Path: "/limits/b.bin", Size: mib, Seed: 2})
	tg, _, c := startCluster(t, []int64{user}, "USER_RATE_LIMIT=4", "USER_TASK_LIMIT=1", "HTTP_CONNECTIONS=1")
	poller := c.WaitPoller(30 * time.Second)

	// Command 1: a long task. Command 2: a second task, refused by the
	// task limit (the store counts the user's unfinished tasks).
	tg.PushText(user, user, "/leech "+o.URL("/limits/a.bin"))
	waitFor(t, 30*time.Second, "the first task running", func() bool { return len(c.Tasks()) == 1 })
	second := tg.PushText(user, user, "/leech "+o.URL("/limits/b.bin"))
	waitFor(t, 30*time.Second, "the second task refused", func() bool {
		return replied(tg, user, second.MessageID, "the most this bot allows per user")
	})
	// Command 3, then the poller dies; command 4 is the last one allowed
	// in the minute, command 5 is refused by the node polling now.
	third := tg.PushText(user, user, "/ping")
	waitFor(t, 30*time.Second, "the third command answered", func() bool { return replied(tg, user, third.MessageID, "Pong") })
	if c.TaskNode(c.Tasks()[0].ID) == poller {
		t.Logf("the task runs on the poller %s too", poller.Name)
	}
	killAt := time.Now()
	poller.Kill()
	waitFor(t, 45*time.Second, "another node polling", func() bool { return len(c.Pollers()) == 1 })
	time.Sleep(1100 * time.Millisecond) // the chat's one-message-a-second window
	fourth := tg.PushText(user, user, "/ping")
	waitFor(t, 30*time.Second, "the fourth command answered", func() bool { return replied(tg, user, fourth.MessageID, "Pong") })
	time.Sleep(1100 * time.Millisecond)
	fifth := tg.PushText(user, user, "/ping")
	waitFor(t, 30*time.Second, "the fifth command refused", func() bool {
		return replied(tg, user, fifth.MessageID, "Slow down")
	})
	require.Less(t, time.Since(killAt), 50*time.Second, "the five commands fell in one minute, or the test proves nothing")
	require.False(t, replied(tg, user, fifth.MessageID, "Pong"), "the fifth command was not run")
	t.Logf("rate and task limits held across the poller move from %s (%.1f s after the kill)", poller.Name,
		time.Since(killAt).Seconds())
}

// replied reports whether the bot answered message msg in chat with a text
// containing s.
func replied(tg *tgfake.Server, chat int64, msg int, s string) bool {
	for _, m := range tg.Messages(chat) {
		if m.ReplyTo == msg && strings.Contains(m.Text, s) {
			return true
		}
	}
	return false
}
