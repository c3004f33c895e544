package torrent

import (
	"sync"
	"time"

	atorrent "github.com/anacrolix/torrent"
	pp "github.com/anacrolix/torrent/peer_protocol"
)

// The request window: how many chunk requests are outstanding to a peer.
//
// The library keeps up to ~960 requests (15 MiB) in flight to any peer, and
// peers like itself serve them in random order, so at any moment dozens of
// pieces are partly received. The piece database records whole pieces only:
// whatever is partial when the process stops is fetched again. Capping each
// peer's window at what it delivers in windowTime bounds that loss to about
// windowTime of the peer's rate, and lets a stopping download complete its
// partial pieces within the settle budget. As long as windowTime exceeds the
// round trip, the window grows with the rate, so throughput is not capped.
const (
	windowTime   = 300 * time.Millisecond
	minWindow    = 32 // requests (512 KiB): the floor for slow or new peers
	chunkSize    = 16 << 10
	windowSample = 250 * time.Millisecond
)

// requestWindows adapts the request windows of every peer connection. Its
// methods are library callbacks, called with the library's client lock
// held, which is what makes writing PeerConn.PeerMaxRequests safe.
type requestWindows struct {
	mu    sync.Mutex
	peers map[*atorrent.Peer]*peerWindow
}

type peerWindow struct {
	advertised int // the peer's own limit (reqq), never exceeded
	since      time.Time
	bytes      int64   // useful bytes since since
	rate       float64 // bytes per second, smoothed
}

func newRequestWindows() *requestWindows {
	return &requestWindows{peers: map[*atorrent.Peer]*peerWindow{}}
}

func (w *requestWindows) install(cb *atorrent.Callbacks) {
	cb.ReadExtendedHandshake = w.onHandshake
	cb.ReceivedUsefulData = append(cb.ReceivedUsefulData, w.onUseful)
	cb.PeerClosed = append(cb.PeerClosed, w.onClosed)
}

// onHandshake runs before the library copies the peer's reqq into
// PeerMaxRequests: a connection starts at the floor and grows with its rate.
func (w *requestWindows) onHandshake(pc *atorrent.PeerConn, m *pp.ExtendedHandshakeMessage) {
	advertised := m.Reqq
	if advertised <= 0 {
		advertised = pc.PeerMaxRequests
	}
	w.mu.Lock()
	w.peers[&pc.Peer] = &peerWindow{advertised: advertised, since: time.Now()}
	w.mu.Unlock()
	m.Reqq = min(advertised, minWindow)
}

func (w *requestWindows) onUseful(ev atorrent.ReceivedUsefulDataEvent) {
	pc, ok := ev.Peer.TryAsPeerConn()
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	pw := w.peers[ev.Peer]
	if pw == nil {
		// No extended handshake: the library's default limit applies.
		pw = &peerWindow{advertised: pc.PeerMaxRequests, since: time.Now()}
		w.peers[ev.Peer] = pw
	}
	pw.bytes += int64(len(ev.Message.Piece))
	elapsed := time.Since(pw.since)
	if elapsed < windowSample {
		return
	}
	rate := float64(pw.bytes) / elapsed.Seconds()
	if pw.rate == 0 {
		pw.rate = rate
	} else {
		pw.rate = (pw.rate + rate) / 2
	}
	pw.bytes, pw.since = 0, time.Now()
	want := int(pw.rate * windowTime.Seconds() / chunkSize)
	pc.PeerMaxRequests = max(min(want, pw.advertised), min(minWindow, pw.advertised))
}

func (w *requestWindows) onClosed(p *atorrent.Peer) {
	w.mu.Lock()
	delete(w.peers, p)
	w.mu.Unlock()
}
