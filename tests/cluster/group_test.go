package cluster

import (
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

// A group whose members' tasks run on different nodes: /status in the
// group shows every task with its node's name, and the owner's /cancel from
// the group stops a member's task that runs on another node than the poller.
func TestGroupStatusAndCancelAcrossNodes(t *testing.T) {
	const group int64 = -100777
	users := userIDs(3501, 12)
	var files []origin.File
	for _, u := range users {
		files = append(files, origin.File{Path: fmt.Sprintf("/group/g%d.bin", u), Size: 4 * mib, Seed: uint64(u),
			RateLimit: 128 << 10})
	}
	o := origin.New(t, files...)
	ids := []string{fmt.Sprint(group)}
	for _, u := range append(users, pingChats...) {
		ids = append(ids, fmt.Sprint(u))
	}
	tg, _, c := startCluster(t, users, "HTTP_CONNECTIONS=1", "AUTHORIZED_CHATS="+strings.Join(ids, " "))

	// Placement depends on the members' random ids: add users' tasks one
	// by one until they run on two nodes, keeping at most one page (four)
	// on the status message by cancelling the oldest.
	var tasks []harness.Task
	hostsOf := func() map[string]bool {
		h := map[string]bool{}
		for _, task := range tasks {
			h[task.Host] = true
		}
		return h
	}
	for _, u := range users {
		if len(tasks) >= 2 && len(hostsOf()) >= 2 {
			break
		}
		if len(tasks) == 4 {
			old := tasks[0]
			tg.PushText(group, old.UserID, "/cancel "+old.ID)
			waitFor(t, 30*time.Second, "the oldest task cancelled", func() bool { return !taskListed(c, old.ID) })
			tasks = tasks[1:]
		}
		tg.PushText(group, u, "/leech "+o.URL(fmt.Sprintf("/group/g%d.bin", u)))
		waitFor(t, 30*time.Second, "the new task running", func() bool {
			for _, task := range c.Tasks() {
				if task.UserID == u {
					tasks = append(tasks, task)
					return true
				}
			}
			return false
		})
	}
	hosts := hostsOf()
	t.Logf("the group's %d tasks run on %d node(s): %v", len(tasks), len(hosts), hosts)
	require.GreaterOrEqual(t, len(hosts), 2, "the users' tasks spread over at least two nodes")

	status := tg.PushText(group, users[0], "/status")
	var board string
	waitFor(t, 30*time.Second, "/status to show every task with its node", func() bool {
		for _, m := range tg.Messages(group) {
			if m.ReplyTo != status.MessageID || m.Deleted {
				continue
			}
			ok := true
			for _, task := range tasks {
				ok = ok && strings.Contains(m.Text, task.ID)
			}
			for h := range hosts {
				ok = ok && strings.Contains(m.Text, "Node: "+h)
			}
			if ok {
				board = m.Text
				return true
			}
		}
		return false
	})
	t.Logf("status message:\n%s", board)

	// The owner cancels, from the group, a member's task that does not run
	// on the poller.
	poller := c.WaitPoller(30 * time.Second)
	var victim harness.Task
	for _, task := range tasks {
		if task.Host != poller.Name {
			victim = task
			break
		}
	}
	require.NotEmpty(t, victim.ID, "a task runs off the poller")
	tg.PushText(group, harness.OwnerID, "/cancel "+victim.ID)
	waitFor(t, 30*time.Second, "the cancelled task's final message", func() bool {
		return len(messagesWith(tg, group, "🚫", victim.ID, "was cancelled")) == 1 && !taskListed(c, victim.ID)
	})
	t.Logf("task %s on %s cancelled from the group while %s polls", victim.ID, victim.Host, poller.Name)
	for _, task := range tasks {
		if task.ID != victim.ID {
			require.True(t, taskListed(c, task.ID), "task %s goes on", task.ID)
			require.Empty(t, messagesWith(tg, group, "🚫", task.ID), "only the named task is cancelled")
		}
	}

	// The owner's confirmed /cancelall stops the rest; the sessions report
	// their counts to the poller's gateway from whichever node they are on.
	rest := map[string]bool{}
	for _, task := range tasks {
		if task.ID != victim.ID {
			rest[task.Host] = true
		}
	}
	ask := tg.PushText(group, harness.OwnerID, "/cancelall")
	var confirm tgfake.SentMessage
	waitFor(t, 30*time.Second, "the confirmation", func() bool {
		for _, m := range tg.Messages(group) {
			if m.ReplyTo == ask.MessageID && strings.Contains(m.ReplyMarkup, `:a"`) {
				confirm = m
				return true
			}
		}
		return false
	})
	data := regexp.MustCompile(`ca:[0-9]+:[0-9]+:a`).FindString(confirm.ReplyMarkup)
	tg.PushCallback(group, harness.OwnerID, confirm.MessageID, data)
	want := fmt.Sprintf("🚫 Cancelled %d task(s) of %d user(s).", len(tasks)-1, len(tasks)-1)
	waitFor(t, 60*time.Second, "every task cancelled and counted", func() bool {
		return len(c.Tasks()) == 0 && len(messagesWith(tg, group, want)) == 1
	})
	t.Logf("/cancelall counted %d task(s) on %v while %s polls", len(tasks)-1, rest, poller.Name)
}

func taskListed(c *harness.Cluster, id string) bool {
	for _, task := range c.Tasks() {
		if task.ID == id {
			return true
		}
	}
	return false
}
