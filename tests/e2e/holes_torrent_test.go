package e2e

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// connCounter is a TCP listener on 127.0.0.1 standing in for a host on the
// node's internal network; it counts the connections it receives.
type connCounter struct {
	addr  string
	conns atomic.Int32
}

func newConnCounter(t *testing.T) *connCounter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &connCounter{addr: l.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			_ = conn.Close()
		}
	}()
	return c
}

// Without ALLOW_PRIVATE_URLS a magnet's peers (x.pe) in private networks
// are never connected to, so a user cannot make the node scan internal
// hosts. A magnet with nothing but private peers (DHT off, no tracker) is
// refused at once with the reason; one that names a tracker goes on
// without its private peer and its stall message says the peer was
// refused. The refusals show in /metrics.
func TestHolesTorrentPrivatePeers(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	bot := startBot(t, tg, "ALLOW_PRIVATE_URLS=false", "TORRENT_TRACKERS=true", "TORRENT_STALL_TIMEOUT=3s")
	// Longer than two of the engine's 3 s redials of a magnet's peers: a
	// peer that was offered to the library would be dialed in that time.
	const watch = 7 * time.Second
	start := time.Now()

	only := newConnCounter(t)
	t.Run("only private peers: refused at once", func(t *testing.T) {
		tg.PushText(userID, userID, fmt.Sprintf("/mirror magnet:?xt=urn:btih:%s&dn=scan-a&x.pe=%s",
			strings.Repeat("ab", 20), only.addr))
		failed := waitMessage(t, tg, userID, "refusing 127.0.0.1 (loopback address)", 30*time.Second)
		require.Contains(t, failed.Text, "❌")
		require.Contains(t, failed.Text, "links to private networks are not allowed on this bot")
	})

	withTracker := newConnCounter(t)
	t.Run("a tracker besides: the private peer is skipped", func(t *testing.T) {
		// The tracker is on loopback too, so the guard keeps the node from
		// it as well: the task can only stall.
		tr := swarm.NewTracker(t)
		tg.PushText(userID, userID, fmt.Sprintf("/mirror magnet:?xt=urn:btih:%s&dn=scan-b&x.pe=%s&tr=%s",
			strings.Repeat("cd", 20), withTracker.addr, url.QueryEscape(tr.URL)))
		failed := waitMessage(t, tg, userID, "1 peer named by the link refused", 30*time.Second)
		require.Contains(t, failed.Text, "❌")
		require.Contains(t, failed.Text, "no peer sent the torrent's metadata for 3s")
		require.Zero(t, tr.Announces(), "the loopback tracker was contacted")
	})

	time.Sleep(time.Until(start.Add(watch)))
	require.Zero(t, only.conns.Load(), "the node connected to the private peer of the first magnet")
	require.Zero(t, withTracker.conns.Load(), "the node connected to the private peer of the second magnet")
	fams := scrape(t, bot)
	require.GreaterOrEqual(t, value(fams, "mirrorleech_torrent_peers_refused_total", map[string]string{"source": "link"}), 2.0)
	require.Zero(t, value(fams, "mirrorleech_torrent_peers_refused_total", map[string]string{"source": "dial"}))
}
