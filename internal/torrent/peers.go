package torrent

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"

	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/iplist"
)

// Where a refused peer address came from, as passed to Config.PeerRefused.
// The set is fixed, so a metric labelled by it stays bounded.
const (
	// PeerFromLink: a peer named by the magnet (x.pe) or Request.Peers,
	// refused by Download before the library sees it.
	PeerFromLink = "link"
	// PeerFromSwarm: an address the library learned or was offered: peers
	// from tracker answers, PEX and the DHT, DHT nodes, incoming
	// connections, and tracker addresses. The library's address filter
	// does not say which of these it is checking.
	PeerFromSwarm = "swarm"
	// PeerFromDial: an address that reached the peer dialer, the last
	// check before connect(2). The filters above should leave none.
	PeerFromDial = "dial"
)

// PeerSources lists every source Config.PeerRefused may be called with.
func PeerSources() []string { return []string{PeerFromLink, PeerFromSwarm, PeerFromDial} }

// peerRule applies Config.CheckPeer and counts what it refuses.
type peerRule struct {
	check   func(netip.Addr) error
	refused func(source string)
}

// refuse returns the rule's error for addr (nil = allowed) and counts a
// refusal under source.
func (r peerRule) refuse(addr netip.Addr, source string) error {
	if r.check == nil {
		return nil
	}
	err := r.check(addr.Unmap())
	if err != nil && r.refused != nil {
		r.refused(source)
	}
	return err
}

// blocklist is the rule as the library's IP block list (an iplist.Ranger).
// The library consults it for every peer it is about to add from any
// source (even "trusted" ones), for every incoming connection, for tracker
// addresses, and its DHT server for every node: that is the one hook that
// sees all of them.
type blocklist struct{ rule peerRule }

// Lookup implements iplist.Ranger: a refused address is its own range.
func (b blocklist) Lookup(ip net.IP) (iplist.Range, bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		// The library passes nil for an address it could not parse; it
		// treats those as bad itself.
		return iplist.Range{}, false
	}
	if err := b.rule.refuse(addr, PeerFromSwarm); err != nil {
		return iplist.Range{First: ip, Last: ip, Description: err.Error()}, true
	}
	return iplist.Range{}, false
}

// NumRanges implements iplist.Ranger; the rule is not a list of ranges.
func (blocklist) NumRanges() int { return 0 }

// guardedDialer wraps one of the library's peer sockets and checks the
// address before every outgoing peer connection. The library only dials
// numeric addresses it has already passed through the blocklist, so this
// is the backstop for a path that skips it (peers marked trusted skip the
// check before dialing; only the one when they are added covers them).
type guardedDialer struct {
	atorrent.Dialer
	rule peerRule
}

// Dial implements atorrent.Dialer.
func (d guardedDialer) Dial(ctx context.Context, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		// Not numeric: the rule cannot judge what it would resolve to.
		if d.rule.refused != nil {
			d.rule.refused(PeerFromDial)
		}
		return nil, fmt.Errorf("refusing to dial peer %q: not a numeric address", addr)
	}
	if err := d.rule.refuse(ap.Addr(), PeerFromDial); err != nil {
		return nil, fmt.Errorf("dialing peer %s: %w", addr, err)
	}
	return d.Dialer.Dial(ctx, addr)
}

// vetDirect splits the peers a link names ("ip:port" or "host:port") into
// those the rule allows and the number it refused, with the first refusal.
// A host name is kept: the library never dials one (it drops such peers).
func (r peerRule) vetDirect(peers []string) (kept []string, refused int, first error) {
	for _, p := range peers {
		ap, err := netip.ParseAddrPort(p)
		if err != nil {
			kept = append(kept, p)
			continue
		}
		if err := r.refuse(ap.Addr(), PeerFromLink); err != nil {
			refused++
			if first == nil {
				first = err
			}
			continue
		}
		kept = append(kept, p)
	}
	return kept, refused, first
}

// otherPeerSources reports whether the client can find peers for spec
// without the peers it names: the DHT, trackers, web seeds or metainfo
// sources.
func (c *Client) otherPeerSources(spec *atorrent.TorrentSpec) bool {
	trackers := slices.ContainsFunc(spec.Trackers, func(tier []string) bool { return len(tier) > 0 })
	return !c.noDHT || (!c.noTrackers && trackers) || len(spec.Webseeds) > 0 || len(spec.Sources) > 0
}
