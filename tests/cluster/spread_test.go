package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/origin"
)

// Twelve users each leech a small file: every file arrives exactly once,
// and the users' tasks (and sessions) are spread, not all on one node.
func TestSessionsSpreadOverNodes(t *testing.T) {
	users := userIDs(3001, 12)
	var files []origin.File
	for i, u := range users {
		// About 4 s each at this rate over one connection, long enough
		// to see every task running.
		files = append(files, origin.File{Path: fmt.Sprintf("/spread/u%d.bin", u), Size: mib + int64(i)*1000,
			Seed: uint64(u), RateLimit: 256 << 10})
	}
	o := origin.New(t, files...)
	tg, _, c := startCluster(t, users, "HTTP_CONNECTIONS=1")

	tg.PushText(ownerID, ownerID, "/nodes")
	waitFor(t, 20*time.Second, "/nodes to list n1, n2 and n3", func() bool {
		for _, m := range tg.Messages(ownerID) {
			if strings.Contains(m.Text, "n1") && strings.Contains(m.Text, "n2") && strings.Contains(m.Text, "n3") {
				return true
			}
		}
		return false
	})

	start := time.Now()
	for _, u := range users {
		tg.PushText(u, u, fmt.Sprintf("/leech %s", o.URL(fmt.Sprintf("/spread/u%d.bin", u))))
	}
	host := map[int64]string{}
	var moved []string
	maxSessions := map[string]int{}
	allDone := func() bool {
		for _, u := range users {
			if !done(tg, u, fmt.Sprintf("u%d.bin", u)) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(120 * time.Second)
	for !allDone() {
		if time.Now().After(deadline) {
			for _, u := range users {
				logChat(t, tg, u)
			}
			t.Fatalf("not every leech finished within 120 s; tasks seen on %v", host)
		}
		for _, task := range c.Tasks() {
			if h, ok := host[task.UserID]; ok && h != task.Host {
				moved = append(moved, fmt.Sprintf("user %d: %s → %s", task.UserID, h, task.Host))
			}
			host[task.UserID] = task.Host
			require.Equal(t, task.Host, task.Node, "task %s: the node field names the node that lists it", task.ID)
		}
		for _, n := range c.Running() {
			if s, err := n.Sessions(); err == nil {
				maxSessions[n.Name] = max(maxSessions[n.Name], s)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("12 leeches finished in %.1f s", time.Since(start).Seconds())
	time.Sleep(2 * time.Second) // late duplicates would show now
	for i, u := range users {
		name := fmt.Sprintf("u%d.bin", u)
		requireDeliveredOnce(t, tg, u, name, o.SHA256(files[i].Path), 1)
	}

	perNode := map[string]int{}
	for _, h := range host {
		perNode[h]++
	}
	t.Logf("tasks per node: %v; most sessions seen per node: %v", perNode, maxSessions)
	require.Empty(t, moved, "no task moved while every node was up")
	require.Len(t, host, len(users), "every user's task was seen running on some node")
	require.GreaterOrEqual(t, len(perNode), 2, "tasks ran on at least two nodes")
	for n, k := range perNode {
		require.Less(t, k, len(users), "node %s ran every task", n)
	}
	hosting := 0
	for n, s := range maxSessions {
		require.Less(t, s, len(users), "node %s hosts every session", n)
		if s > 0 {
			hosting++
		}
	}
	require.GreaterOrEqual(t, hosting, 2, "sessions on at least two nodes (mirrorleech_sessions)")
}
