package cluster

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An outage every node sees (the Bot API's getMe failing) is announced to
// the owner once for the whole cluster, not once per node; the claim in
// Redis decides which node tells.
func TestHealthNoticeOncePerCluster(t *testing.T) {
	const interval = 10 * time.Second // HEALTH_INTERVAL's minimum
	tg, _, c := startCluster(t, nil, "HEALTH_INTERVAL=10s")

	tg.FailNext("getMe", 1<<20, http.StatusBadGateway, "", 0)
	waitFor(t, 3*interval, "every node to find the Bot API unreachable", func() bool {
		for _, n := range c.Running() {
			if !strings.Contains(n.Log(), "the Bot API is unreachable") {
				return false
			}
		}
		return true
	})
	tg.ClearFaults("getMe")

	const recovered = "the Telegram Bot API was unreachable for"
	notices := func() int { return len(messagesWith(tg, ownerID, "✅ Node", recovered)) }
	waitFor(t, 3*interval, "the owner to hear of the outage", func() bool { return notices() > 0 })
	// Every node runs its next check within an interval of the recovery;
	// give each that long to (wrongly) announce it too.
	time.Sleep(interval + 2*time.Second)
	for _, n := range c.Running() {
		require.Contains(t, n.Log(), "health check recovered", "node %s saw the recovery", n.Name)
	}
	require.Equal(t, 1, notices(), "one notice for the cluster, not one per node")
}
