package netguard

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MaxRedirects is how many redirects CheckRedirect follows before it stops.
const MaxRedirects = 10

// Dial timeouts, as in http.DefaultTransport.
const (
	dialTimeout   = 30 * time.Second
	dialKeepAlive = 30 * time.Second
)

// LookupFunc resolves a host name to its addresses. It must honour ctx.
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// Option configures a Guard.
type Option func(*Guard)

// WithResolver makes both the early check and the dialer use r instead of
// net.DefaultResolver, for example one that talks to a chosen DNS server.
func WithResolver(r *net.Resolver) Option {
	return func(g *Guard) { g.resolver = r }
}

// WithLookup replaces name resolution for both CheckURL and DialContext.
// DialContext then dials the answers one after another (no Happy Eyeballs),
// each through the connected-address check. It exists so that tests can
// answer arbitrary addresses for arbitrary names, including answers that
// change between the early check and the dial (DNS rebinding).
func WithLookup(fn LookupFunc) Option {
	return func(g *Guard) { g.lookup = fn }
}

// Guard refuses connections to non-global addresses unless private addresses
// are allowed. It is immutable after New and safe for concurrent use.
type Guard struct {
	allowPrivate bool
	resolver     *net.Resolver
	lookup       LookupFunc
	dialer       *net.Dialer
}

// New returns a Guard. With allowPrivate every address is allowed and CheckURL
// only validates the link's syntax.
func New(allowPrivate bool, opts ...Option) *Guard {
	g := &Guard{allowPrivate: allowPrivate, resolver: net.DefaultResolver}
	for _, o := range opts {
		o(g)
	}
	g.dialer = &net.Dialer{Timeout: dialTimeout, KeepAlive: dialKeepAlive, Resolver: g.resolver}
	if !allowPrivate {
		g.dialer.ControlContext = g.control
	}
	return g
}

// AllowPrivate reports whether the guard lets private addresses through.
func (g *Guard) AllowPrivate() bool { return g.allowPrivate }

// CheckURL validates a user's link before anything is fetched: http or https,
// a host, a port in 1..65535. Unless private addresses are allowed it then
// resolves the host and refuses the link if any answer is blocked, since a
// later connection may pick any of them. This check is for early, clear
// feedback only; DialContext enforces the rule on the connected address.
//
// Errors are *InvalidURLError or *BlockedError, both safe to show the user, or
// the context's error wrapped when ctx ends during resolution.
func (g *Guard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error would quote the raw link, credentials included; drop it.
		return nil, &InvalidURLError{URL: redactRaw(raw), Reason: "it is not a valid link"}
	}
	switch u.Scheme {
	case "http", "https":
	case "":
		return nil, &InvalidURLError{URL: redactURL(u), Reason: "links must start with http:// or https://"}
	default:
		// The reason does not name the scheme: in "user:secret@host" the
		// "scheme" is a user name.
		return nil, &InvalidURLError{URL: redactURL(u), Reason: "only http:// and https:// links are supported"}
	}
	host := u.Hostname()
	if u.Opaque != "" || host == "" {
		return nil, &InvalidURLError{URL: redactURL(u), Reason: "it has no host"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, &InvalidURLError{URL: redactURL(u), Reason: fmt.Sprintf("port %s is out of range", shorten(p))}
		}
	}
	if g.allowPrivate {
		return u, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if reason, blocked := Blocked(ip); blocked {
			return nil, &BlockedError{Host: host, Addr: ip, Reason: reason}
		}
		return u, nil
	}
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("resolving %s: %w", host, ctx.Err())
		}
		return nil, &InvalidURLError{URL: redactURL(u), Reason: fmt.Sprintf("its host %s could not be resolved", host), Err: err}
	}
	if len(addrs) == 0 {
		return nil, &InvalidURLError{URL: redactURL(u), Reason: fmt.Sprintf("its host %s has no addresses", host)}
	}
	for _, a := range addrs {
		if reason, blocked := Blocked(a); blocked {
			return nil, &BlockedError{Host: host, Addr: a, Reason: reason}
		}
	}
	return u, nil
}

// LookupIP resolves host for a connection the guard cannot dial itself (a
// UDP tracker, say) and refuses it with a *BlockedError when any answer is a
// blocked address, unless private addresses are allowed.
func (g *Guard) LookupIP(ctx context.Context, host string) ([]net.IP, error) {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = g.resolve(ctx, host); err != nil {
		return nil, err
	}
	out := make([]net.IP, 0, len(addrs))
	for _, a := range addrs {
		if reason, blocked := Blocked(a); blocked && !g.allowPrivate {
			return nil, &BlockedError{Host: host, Addr: a, Reason: reason}
		}
		out = append(out, net.IP(a.Unmap().AsSlice()))
	}
	return out, nil
}

// resolve looks host up with the injected lookup or the resolver.
func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if g.lookup != nil {
		return g.lookup(ctx, host)
	}
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", host, err)
	}
	return addrs, nil
}

// dialHostKey carries the host name of a dial into the Control hook, which
// only sees the numeric address, so that BlockedError can name both.
type dialHostKey struct{}

// DialContext connects like net.Dialer.DialContext. Unless private addresses
// are allowed, every socket's destination is checked in the dialer's Control
// hook, right before connect(2): whatever DNS answered, and whichever address
// of several is tried, a blocked one is refused with a *BlockedError (wrapped
// in a *net.OpError). Checking there rather than after resolving is what
// defeats DNS rebinding.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("splitting dial address %q: %w", addr, err)
	}
	ctx = context.WithValue(ctx, dialHostKey{}, host)
	if g.lookup == nil {
		return g.dialer.DialContext(ctx, network, addr)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return g.dialer.DialContext(ctx, network, addr)
	}
	return g.dialLookup(ctx, network, host, port)
}

// dialLookup resolves host with the injected lookup and dials the answers in
// order, returning the first connection or the first error.
func (g *Guard) dialLookup(ctx context.Context, network, host, port string) (net.Conn, error) {
	addrs, err := g.lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", host, err)
	}
	var firstErr error
	tried := 0
	for _, a := range addrs {
		if !familyMatches(network, a) {
			continue
		}
		tried++
		c, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if tried == 0 {
		return nil, fmt.Errorf("resolving %s: no %s addresses", host, network)
	}
	return nil, firstErr
}

// familyMatches reports whether a suits the network ("tcp", "tcp4", "tcp6").
func familyMatches(network string, a netip.Addr) bool {
	switch {
	case strings.HasSuffix(network, "4"):
		return a.Unmap().Is4()
	case strings.HasSuffix(network, "6"):
		return a.Is6() && !a.Is4In6()
	}
	return true
}

// control is the net.Dialer Control hook: address is the numeric destination
// of the socket about to connect.
func (g *Guard) control(ctx context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("parsing dialed address %q: %w", address, err)
	}
	if reason, blocked := Blocked(ap.Addr()); blocked {
		host, _ := ctx.Value(dialHostKey{}).(string)
		return &BlockedError{Host: host, Addr: ap.Addr(), Reason: reason}
	}
	return nil
}

// Transport returns a new *http.Transport that dials through DialContext.
//
// Proxy is nil on purpose: with a proxy the dialer would connect to the proxy,
// not to the link's host, so the address check would not protect anything
// (and the proxy could reach the private network for us). Compression is off
// so that byte ranges and sizes refer to the file itself, and HTTP/2 is off
// (an empty TLSNextProto map) so that parallel segments use separate TCP
// connections.
func (g *Guard) Transport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           g.DialContext,
		DisableCompression:    true,
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost:   64,
		ResponseHeaderTimeout: 30 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// CheckRedirect is an http.Client.CheckRedirect function: it follows at most
// MaxRedirects redirects and only to http and https. A target whose host is a
// blocked IP literal is refused at once; host names are left to the dial
// check, which sees the address actually connected.
func (g *Guard) CheckRedirect(req *http.Request, via []*http.Request) error {
	// via holds the original request and every redirect so far, so the
	// MaxRedirects-th redirect arrives with len(via) == MaxRedirects.
	if len(via) > MaxRedirects {
		return ErrTooManyRedirects
	}
	switch req.URL.Scheme {
	case "http", "https":
	default:
		return &InvalidURLError{URL: redactURL(req.URL), Reason: "it redirects to a scheme other than http or https"}
	}
	if g.allowPrivate {
		return nil
	}
	host := req.URL.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if reason, blocked := Blocked(ip); blocked {
			return &BlockedError{Host: host, Addr: ip, Reason: reason}
		}
	}
	return nil
}

// CheckAddr refuses addr with a *BlockedError unless it is allowed, for
// connections made by code that takes an address filter rather than a
// dialer (the BitTorrent client's peers). Unlike DialContext it sees only
// the address a library is about to use, so callers must pass every
// address they will connect to.
func (g *Guard) CheckAddr(addr netip.Addr) error {
	if g.allowPrivate {
		return nil
	}
	if reason, blocked := Blocked(addr); blocked {
		return &BlockedError{Addr: addr, Reason: reason}
	}
	return nil
}
