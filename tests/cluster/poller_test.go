package cluster

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kill -9 of the node that polls Telegram: another node polls within the
// lease, and every /ping sent before, during and after gets exactly one
// answer (pings sent while nobody polls are answered late).
func TestPollerFailover(t *testing.T) {
	tg, _, c := startCluster(t, nil)
	poller := c.WaitPoller(30 * time.Second)
	t.Logf("%s polls", poller.Name)

	p := startPinger(tg, 300*time.Millisecond)
	defer p.Stop()
	waitFor(t, 20*time.Second, "five pings answered before the kill", func() bool { return p.report(time.Time{}).answered >= 5 })

	killAt := time.Now()
	poller.Kill()
	var next string
	var byStatus, membersGone time.Duration
	waitFor(t, 45*time.Second, "another node to take the poller lease and the killed node to leave the member lists", func() bool {
		if ps := c.Pollers(); byStatus == 0 && len(ps) == 1 {
			next, byStatus = ps[0].Name, time.Since(killAt)
		}
		if membersGone == 0 && c.MembersAgree(2) {
			membersGone = time.Since(killAt)
		}
		return byStatus > 0 && membersGone > 0
	})
	waitFor(t, 30*time.Second, "an answer to a ping sent after the kill", func() bool {
		return !p.report(killAt).firstAfter.IsZero()
	})
	firstAnswer := p.report(killAt).firstAfter.Sub(killAt)
	var firstPoll time.Duration
	for _, call := range tg.Calls("getUpdates") {
		if call.Time.After(killAt) {
			firstPoll = call.Time.Sub(killAt)
			break
		}
	}
	time.Sleep(3 * time.Second) // pings after the failover
	r := p.settle(t, 60*time.Second)

	t.Logf("poller failover: %.1f s until %s reports polling, first getUpdates after %.1f s, first answer to a new ping after %.1f s (target ~15 s)",
		byStatus.Seconds(), next, firstPoll.Seconds(), firstAnswer.Seconds())
	t.Logf("%d pings, %d answered more than once; longest wait for an answer %.1f s; %d getUpdates refused with 409 (two pollers at once)",
		r.sent, len(r.twice()), r.maxDelay.Seconds(), conflicts(tg, time.Time{}))
	t.Logf("the killed node left every member list %.1f s after the kill", membersGone.Seconds())
	p.requireOnce(t, r)
	require.NotEqual(t, poller.Name, next)
	require.Len(t, c.Pollers(), 1, "one poller after the failover")
}
