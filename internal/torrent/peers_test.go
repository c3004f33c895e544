package torrent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	pp "github.com/anacrolix/torrent/peer_protocol"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/netguard"
	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// peerWatch is how long a test watches a listener for connections the
// client must not make: longer than redialEvery, so a direct peer the
// download offered the library again would be dialed in that time.
const peerWatch = 2*redialEvery + time.Second

// probe is a TCP listener standing in for a host on an internal network:
// it counts the connections it gets and the BitTorrent handshakes sent on
// them.
type probe struct {
	addr       string
	conns      atomic.Int32
	handshakes atomic.Int32
}

func newProbe(t *testing.T, host string) *probe {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	require.NoError(t, err)
	p := &probe{addr: l.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				b := make([]byte, 20)
				if _, err := io.ReadFull(c, b); err == nil && string(b) == pp.Protocol {
					p.handshakes.Add(1)
				}
			}()
		}
	}()
	return p
}

// refusals counts Config.PeerRefused calls by source.
type refusals struct {
	mu sync.Mutex
	by map[string]int
}

func (r *refusals) add(source string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = map[string]int{}
	}
	r.by[source]++
}

func (r *refusals) get(source string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.by[source]
}

// guardedClient is a test client whose peer rule is the network guard's.
func guardedClient(t *testing.T, allowPrivate bool, cfg Config) (*Client, *refusals) {
	var r refusals
	cfg.CheckPeer = netguard.New(allowPrivate).CheckAddr
	cfg.PeerRefused = r.add
	return newTestClient(t, cfg), &r
}

const unknownHash = "0123456789abcdef0123456789abcdef01234567"

// A magnet naming only a peer in a private network, with nothing else to
// find peers through, fails at once with the guard's reason; the peer is
// never dialed and the refusal is counted.
func TestPrivateLinkPeerRefused(t *testing.T) {
	p := newProbe(t, "127.0.0.1")
	c, refused := guardedClient(t, false, Config{})
	start := time.Now()
	_, err := c.Download(testContext(t, time.Minute), Request{
		Magnet: "magnet:?xt=urn:btih:" + unknownHash + "&x.pe=" + p.addr, Dir: t.TempDir(), StallTimeout: time.Minute})
	var blocked *netguard.BlockedError
	require.ErrorAs(t, err, &blocked)
	require.Equal(t, "refusing 127.0.0.1 (loopback address): links to private networks are not allowed on this bot", blocked.Error())
	require.Less(t, time.Since(start), 5*time.Second, "refused at once, not after the stall timeout")
	require.Equal(t, 1, refused.get(PeerFromLink))
	require.Empty(t, c.cl.Torrents())

	// Request.Peers are the link's peers too, IPv6 and IPv4-mapped forms
	// included.
	_, err = c.Download(testContext(t, time.Minute), Request{
		Magnet: "magnet:?xt=urn:btih:" + unknownHash, Peers: []string{"[::1]:6881", "[::ffff:10.0.0.1]:6881"},
		Dir: t.TempDir(), StallTimeout: time.Minute})
	require.ErrorAs(t, err, &blocked)
	require.Equal(t, 3, refused.get(PeerFromLink))

	time.Sleep(peerWatch)
	require.Zero(t, p.conns.Load(), "the private peer was dialed")
}

// With another way to find peers (here a tracker), the download goes on
// without the refused peer, never dials it, and its stall message says
// the link's peer was refused.
func TestPrivateLinkPeerNeverDialed(t *testing.T) {
	p := newProbe(t, "127.0.0.1")
	tracker := swarm.NewTracker(t)
	var d net.Dialer
	c, refused := guardedClient(t, false, Config{DialContext: d.DialContext})
	magnet := fmt.Sprintf("magnet:?xt=urn:btih:%s&x.pe=%s&tr=%s", unknownHash, p.addr, url.QueryEscape(tracker.URL))
	_, err := c.Download(testContext(t, time.Minute), Request{Magnet: magnet, Dir: t.TempDir(), StallTimeout: peerWatch})
	require.Zero(t, p.conns.Load(), "the private peer was dialed")
	require.ErrorIs(t, err, ErrStalled)
	require.ErrorContains(t, err, "no peer sent the torrent's metadata for "+peerWatch.String()+
		" (1 peer named by the link refused: private addresses are not allowed on this bot)")
	require.Equal(t, 1, refused.get(PeerFromLink))
	// The tracker is on loopback too: the same rule keeps it from being
	// contacted.
	require.Positive(t, refused.get(PeerFromSwarm))
	require.Zero(t, tracker.Announces())
	require.Zero(t, refused.get(PeerFromDial))
}

// A peer connecting from a private address is turned away before the
// handshake (the client listens on loopback, so a local process reaches
// it).
func TestPrivateIncomingPeerRefused(t *testing.T) {
	c, refused := guardedClient(t, false, Config{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Download(testContext(t, time.Minute), Request{
			Magnet: "magnet:?xt=urn:btih:" + unknownHash, Dir: t.TempDir(), StallTimeout: 3 * time.Second})
		done <- err
	}()
	require.Eventually(t, func() bool { return len(c.cl.Torrents()) == 1 }, 10*time.Second, 10*time.Millisecond)
	err := handshake(t, fmt.Sprintf("127.0.0.1:%d", c.Port()), unknownHash)
	require.Error(t, err, "a peer at a private address completed a handshake")
	require.Equal(t, 1, refused.get(PeerFromSwarm))
	require.ErrorIs(t, <-done, ErrStalled)
}

// Peers from a tracker's answer pass the same rule. The tracker is on
// 127.0.0.1, which this test's rule lets through so that it can answer;
// the peer it names is on 127.0.0.2 and is refused like any private peer.
func TestPrivateTrackerPeerRefused(t *testing.T) {
	guard := netguard.New(false)
	trackerIP := netip.MustParseAddr("127.0.0.1")
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowPrivate=%v", allow), func(t *testing.T) {
			p := newProbe(t, "127.0.0.2")
			tracker := swarm.NewTracker(t)
			ih := metainfo.NewHashFromHex(unknownHash)
			announceFrom(t, tracker.URL, "127.0.0.2", ih, p.addr)

			var refused refusals
			var d net.Dialer
			c := newTestClient(t, Config{DialContext: d.DialContext, PeerRefused: refused.add,
				CheckPeer: func(a netip.Addr) error {
					if allow || a == trackerIP {
						return nil
					}
					return guard.CheckAddr(a)
				}})
			magnet := fmt.Sprintf("magnet:?xt=urn:btih:%s&tr=%s", unknownHash, url.QueryEscape(tracker.URL))
			_, err := c.Download(testContext(t, time.Minute), Request{Magnet: magnet, Dir: t.TempDir(), StallTimeout: peerWatch})
			require.ErrorIs(t, err, ErrStalled)
			require.Positive(t, tracker.Announces())
			if allow {
				require.Positive(t, p.handshakes.Load(), "the tracker's peer was not dialed")
				require.Zero(t, refused.get(PeerFromSwarm))
				return
			}
			require.Zero(t, p.conns.Load(), "the tracker's private peer was dialed")
			require.Positive(t, refused.get(PeerFromSwarm))
			require.Zero(t, refused.get(PeerFromDial))
		})
	}
}

// With private addresses allowed (ALLOW_PRIVATE_URLS) a loopback peer
// named by the link is dialed and greeted with a handshake, and a local
// peer may connect to the client.
func TestPrivatePeersAllowed(t *testing.T) {
	p := newProbe(t, "127.0.0.1")
	c, refused := guardedClient(t, true, Config{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Download(testContext(t, time.Minute), Request{
			Magnet: "magnet:?xt=urn:btih:" + unknownHash + "&x.pe=" + p.addr, Dir: t.TempDir(), StallTimeout: 3 * time.Second})
		done <- err
	}()
	require.Eventually(t, func() bool { return p.handshakes.Load() > 0 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, handshake(t, fmt.Sprintf("127.0.0.1:%d", c.Port()), unknownHash))
	require.ErrorIs(t, <-done, ErrStalled)
	require.Zero(t, refused.get(PeerFromLink)+refused.get(PeerFromSwarm)+refused.get(PeerFromDial))
}

// The dialer refuses what the filters should have refused already.
func TestGuardedDialer(t *testing.T) {
	var refused refusals
	d := guardedDialer{Dialer: nil, rule: peerRule{check: netguard.New(false).CheckAddr, refused: refused.add}}
	for _, addr := range []string{"127.0.0.1:1", "[::ffff:192.168.1.1]:1", "localhost:1"} {
		_, err := d.Dial(context.Background(), addr)
		require.Error(t, err, addr)
	}
	require.Equal(t, 3, refused.get(PeerFromDial))
}

// handshake connects to addr as a peer of torrent ih and completes the
// BitTorrent handshake, or returns why it could not.
func handshake(t *testing.T, addr, ih string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	h := metainfo.NewHashFromHex(ih)
	var id [20]byte
	copy(id[:], "-MLTEST-peerguard---")
	_, err = pp.Handshake(testContext(t, 5*time.Second), conn, &h, id, pp.PeerExtensionBits{})
	return err
}

// announceFrom announces peer for ih to the tracker from local address
// from, so that the tracker names peer (it takes the IP from the
// connection) to whoever announces next.
func announceFrom(t *testing.T, trackerURL, from string, ih metainfo.Hash, peer string) {
	_, port, err := net.SplitHostPort(peer)
	require.NoError(t, err)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	q := url.Values{"info_hash": {string(ih[:])}, "peer_id": {"-MLTEST-announcer---"}, "port": {port}}
	resp, err := client.Get(trackerURL + "?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NotContains(t, string(b), "failure", "the tracker took the announce")
}
