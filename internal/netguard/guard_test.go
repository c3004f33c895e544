package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeDNS answers from a fixed table and counts lookups.
type fakeDNS struct {
	answers map[string][]string
	calls   atomic.Int64
}

func (f *fakeDNS) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	f.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	answers, ok := f.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	addrs := make([]netip.Addr, 0, len(answers))
	for _, a := range answers {
		addrs = append(addrs, netip.MustParseAddr(a))
	}
	return addrs, nil
}

func newFakeDNS() *fakeDNS {
	return &fakeDNS{answers: map[string][]string{
		"public.test":  {"93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"},
		"mixed.test":   {"8.8.8.8", "10.0.0.1"},
		"private.test": {"10.0.0.1"},
		"mapped.test":  {"::ffff:127.0.0.1"},
		"meta.test":    {"169.254.169.254"},
		"empty.test":   {},
	}}
}

func TestCheckURLInvalid(t *testing.T) {
	dns := newFakeDNS()
	g := New(false, WithLookup(dns.lookup))
	tests := []struct {
		name   string
		raw    string
		reason string
	}{
		{"ftp", "ftp://files.example/a.bin", "only http:// and https:// links are supported"},
		{"javascript", "javascript:alert(1)", "only http:// and https:// links are supported"},
		{"mailto", "mailto:bob@example.com", "only http:// and https:// links are supported"},
		{"file", "file:///etc/passwd", "only http:// and https:// links are supported"},
		{"no scheme", "example.com/file.bin", "links must start with http:// or https://"},
		{"empty", "   ", "links must start with http:// or https://"},
		{"no host", "http:///file.bin", "it has no host"},
		{"only port", "http://:8080/file.bin", "it has no host"},
		{"opaque", "http:example.com", "it has no host"},
		{"port zero", "http://public.test:0/", "port 0 is out of range"},
		{"port too big", "https://public.test:65536/", "port 65536 is out of range"},
		{"unparseable", "http://exa mple.com/", "it is not a valid link"},
		{"bad escape", "http://%zz/", "it is not a valid link"},
		{"escaped host", "http://%31%30.0.0.1/", "it is not a valid link"},
		{"unresolvable", "http://nowhere.test/", "its host nowhere.test could not be resolved"},
		{"no answers", "http://empty.test/", "its host empty.test has no addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := g.CheckURL(t.Context(), tt.raw)
			require.Nil(t, u)
			var ie *InvalidURLError
			require.ErrorAs(t, err, &ie)
			require.Equal(t, tt.reason, ie.Reason)
			require.Contains(t, err.Error(), tt.reason)
		})
	}
}

func TestCheckURLUnresolvableKeepsCause(t *testing.T) {
	g := New(false, WithLookup(newFakeDNS().lookup))
	_, err := g.CheckURL(t.Context(), "http://nowhere.test/")
	var de *net.DNSError
	require.ErrorAs(t, err, &de)
	require.True(t, de.IsNotFound)
}

func TestCheckURLRedactsUserinfo(t *testing.T) {
	g := New(false, WithLookup(newFakeDNS().lookup))
	tests := []struct {
		name string
		raw  string
		want string // must appear in the error text
	}{
		{"bad scheme", "ftp://alice:hunter2@files.example/a.bin", `"ftp://xxxxx@files.example/a.bin"`},
		{"bad port", "http://alice:hunter2@public.test:99999/", `"http://xxxxx@public.test:99999/"`},
		{"unparseable", "http://alice:hunter2@exa mple.com/", `"http://xxxxx@exa mple.com/"`},
		{"opaque userinfo", "alice:hunter2@files.example", `"xxxxx@files.example"`},
		{"blocked literal", "http://alice:hunter2@10.0.0.5/a", "refusing 10.0.0.5 (private address)"},
		{"blocked name", "https://alice:hunter2@private.test/a", "refusing private.test (10.0.0.1, private address)"},
		{"unresolvable", "https://alice:hunter2@nowhere.test/a", `"https://xxxxx@nowhere.test/a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.CheckURL(t.Context(), tt.raw)
			require.Error(t, err)
			msg := err.Error()
			require.Contains(t, msg, tt.want)
			require.NotContains(t, msg, "hunter2")
			require.NotContains(t, msg, "alice")
		})
	}
}

func TestCheckURLShortensLongLinks(t *testing.T) {
	g := New(false)
	_, err := g.CheckURL(t.Context(), "ftp://example.com/"+strings.Repeat("é", 500))
	var ie *InvalidURLError
	require.ErrorAs(t, err, &ie)
	require.LessOrEqual(t, len(ie.URL), maxShownURL+len("…"))
	require.True(t, strings.HasSuffix(ie.URL, "…"))
}

func TestCheckURLAddresses(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		host   string
		addr   string // "" = allowed
		reason string
	}{
		{"public name", "https://public.test/file.bin", "", "", ""},
		{"public literal v4", "http://8.8.8.8/x", "", "", ""},
		{"public literal v6", "http://[2001:4860::8888]:8080/x", "", "", ""},
		{"mixed answers", "http://mixed.test/x", "mixed.test", "10.0.0.1", reasonPrivate},
		{"private answer", "http://private.test/x", "private.test", "10.0.0.1", reasonPrivate},
		{"mapped answer", "http://mapped.test/x", "mapped.test", "::ffff:127.0.0.1", reasonLoopback},
		{"metadata answer", "http://meta.test/latest", "meta.test", "169.254.169.254", reasonLinkLocal},
		{"loopback literal", "http://127.0.0.1:8080/", "127.0.0.1", "127.0.0.1", reasonLoopback},
		{"loopback v6 literal", "http://[::1]/", "::1", "::1", reasonLoopback},
		{"mapped literal", "http://[::ffff:192.168.0.1]/", "::ffff:192.168.0.1", "::ffff:192.168.0.1", reasonPrivate},
		{"link-local zone literal", "http://[fe80::1%25eth0]/", "fe80::1%eth0", "fe80::1%eth0", reasonLinkLocal},
		{"unspecified literal", "http://0.0.0.0:80/", "0.0.0.0", "0.0.0.0", reasonUnspecified},
		{"ula literal", "https://[fd00::5]/", "fd00::5", "fd00::5", reasonPrivate},
		{"cgnat literal", "http://100.64.1.2/", "100.64.1.2", "100.64.1.2", reasonCGNAT},
		{"multicast literal", "http://224.0.0.1/", "224.0.0.1", "224.0.0.1", reasonMulticast},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(false, WithLookup(newFakeDNS().lookup))
			u, err := g.CheckURL(t.Context(), tt.raw)
			if tt.addr == "" {
				require.NoError(t, err)
				require.Equal(t, strings.TrimSpace(tt.raw), u.String())
				return
			}
			require.Nil(t, u)
			var be *BlockedError
			require.ErrorAs(t, err, &be)
			require.Equal(t, tt.host, be.Host)
			require.Equal(t, netip.MustParseAddr(tt.addr), be.Addr)
			require.Equal(t, tt.reason, be.Reason)
		})
	}
}

func TestCheckURLAllowPrivateSkipsResolution(t *testing.T) {
	dns := newFakeDNS()
	g := New(true, WithLookup(dns.lookup))
	for _, raw := range []string{"http://10.0.0.5/a", "http://private.test/a", "http://[::1]:8080/", "http://nowhere.test/"} {
		u, err := g.CheckURL(t.Context(), raw)
		require.NoError(t, err, raw)
		require.Equal(t, raw, u.String())
	}
	require.Zero(t, dns.calls.Load())

	// Syntax is still checked.
	_, err := g.CheckURL(t.Context(), "ftp://10.0.0.5/a")
	var ie *InvalidURLError
	require.ErrorAs(t, err, &ie)
}

func TestCheckURLContextCanceled(t *testing.T) {
	g := New(false, WithLookup(newFakeDNS().lookup))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := g.CheckURL(ctx, "https://public.test/a")
	require.ErrorIs(t, err, context.Canceled)
	var ie *InvalidURLError
	require.False(t, errors.As(err, &ie))
}

func TestCheckURLDefaultResolver(t *testing.T) {
	// "localhost" resolves from /etc/hosts (or the Go resolver's built-in
	// answer) without a network; the default resolver path must refuse it.
	g := New(false)
	_, err := g.CheckURL(t.Context(), "http://localhost:8080/")
	var be *BlockedError
	require.ErrorAs(t, err, &be)
	require.Equal(t, "localhost", be.Host)
	require.Equal(t, reasonLoopback, be.Reason)
}

// newClient returns an http.Client wired like the downloader's.
func newClient(t *testing.T, g *Guard) *http.Client {
	t.Helper()
	tr := g.Transport()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: g.CheckRedirect, Timeout: 10 * time.Second}
}

// newServer starts a loopback server answering "hello" and counting requests.
func newServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "hello")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestTransportLoopbackServer(t *testing.T) {
	srv, hits := newServer(t)

	t.Run("refused", func(t *testing.T) {
		c := newClient(t, New(false))
		resp, err := c.Get(srv.URL + "/file")
		if resp != nil {
			_ = resp.Body.Close()
		}
		require.Error(t, err)
		var be *BlockedError
		require.ErrorAs(t, err, &be)
		require.Equal(t, netip.MustParseAddr("127.0.0.1"), be.Addr)
		require.Equal(t, reasonLoopback, be.Reason)
		require.Equal(t, "127.0.0.1", be.Host)
		require.Zero(t, hits.Load(), "the server must not have seen a request")
	})

	t.Run("allowed", func(t *testing.T) {
		c := newClient(t, New(true))
		resp, err := c.Get(srv.URL + "/file")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, "hello", string(body))
		require.Equal(t, int64(1), hits.Load())
	})
}

// TestDialTimeRebinding simulates DNS rebinding: the name answers a public
// address to the early check and loopback to the dial. The dial check must
// refuse the connection.
func TestDialTimeRebinding(t *testing.T) {
	srv, hits := newServer(t)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	var calls atomic.Int64
	lookup := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host != "rebind.test" {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		if calls.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	g := New(false, WithLookup(lookup))

	link := fmt.Sprintf("http://rebind.test:%s/file", port)
	u, err := g.CheckURL(t.Context(), link)
	require.NoError(t, err, "the early check sees a public address")

	resp, err := newClient(t, g).Get(u.String())
	if resp != nil {
		_ = resp.Body.Close()
	}
	var be *BlockedError
	require.ErrorAs(t, err, &be)
	require.Equal(t, "rebind.test", be.Host)
	require.Equal(t, netip.MustParseAddr("127.0.0.1"), be.Addr)
	require.Equal(t, reasonLoopback, be.Reason)
	require.Equal(t, int64(2), calls.Load())
	require.Zero(t, hits.Load())
}

func TestDialContext(t *testing.T) {
	srv, _ := newServer(t)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	dns := newFakeDNS()
	dns.answers["loop.test"] = []string{"127.0.0.1"}
	dns.answers["v6only.test"] = []string{"2001:4860::8888"}

	tests := []struct {
		name    string
		allow   bool
		opts    []Option
		network string
		addr    string
		host    string // expected BlockedError.Host; "" = the dial must succeed
	}{
		{"default resolver localhost refused", false, nil, "tcp", "localhost:" + port, "localhost"},
		{"default resolver localhost allowed", true, nil, "tcp", "localhost:" + port, ""},
		{"literal refused", false, nil, "tcp4", "127.0.0.1:" + port, "127.0.0.1"},
		{"literal via lookup guard refused", false, []Option{WithLookup(dns.lookup)}, "tcp", "127.0.0.1:" + port, "127.0.0.1"},
		{"lookup answer refused", false, []Option{WithLookup(dns.lookup)}, "tcp", "loop.test:" + port, "loop.test"},
		{"lookup answer allowed", true, []Option{WithLookup(dns.lookup)}, "tcp", "loop.test:" + port, ""},
		{"mapped lookup answer refused", false, []Option{WithLookup(dns.lookup)}, "tcp", "mapped.test:" + port, "mapped.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(tt.allow, tt.opts...)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			c, err := g.DialContext(ctx, tt.network, tt.addr)
			if tt.host == "" {
				require.NoError(t, err)
				require.NoError(t, c.Close())
				return
			}
			require.Nil(t, c)
			var be *BlockedError
			require.ErrorAs(t, err, &be)
			require.Equal(t, tt.host, be.Host)
			require.Equal(t, reasonLoopback, be.Reason)
			var oe *net.OpError
			require.ErrorAs(t, err, &oe, "the dialer reports the refusal as a dial error")
		})
	}

	t.Run("no address of the family", func(t *testing.T) {
		g := New(false, WithLookup(dns.lookup))
		_, err := g.DialContext(t.Context(), "tcp4", "v6only.test:"+port)
		require.ErrorContains(t, err, "no tcp4 addresses")
	})
	t.Run("bad address", func(t *testing.T) {
		_, err := New(false).DialContext(t.Context(), "tcp", "no-port")
		require.ErrorContains(t, err, "splitting dial address")
	})
}

func TestCheckRedirect(t *testing.T) {
	mustReq := func(raw string) *http.Request {
		req, err := http.NewRequest(http.MethodGet, raw, nil)
		require.NoError(t, err)
		return req
	}
	via := func(n int) []*http.Request {
		out := make([]*http.Request, n)
		for i := range out {
			out[i] = mustReq("https://public.test/")
		}
		return out
	}

	g := New(false)
	require.NoError(t, g.CheckRedirect(mustReq("https://cdn.example/file"), via(1)))
	require.NoError(t, g.CheckRedirect(mustReq("http://8.8.8.8/file"), via(10)), "the 10th redirect is followed")
	require.ErrorIs(t, g.CheckRedirect(mustReq("https://cdn.example/file"), via(11)), ErrTooManyRedirects)

	var ie *InvalidURLError
	err := g.CheckRedirect(mustReq("ftp://bob:pw@files.example/a"), via(1))
	require.ErrorAs(t, err, &ie)
	require.NotContains(t, err.Error(), "pw@")

	var be *BlockedError
	require.ErrorAs(t, g.CheckRedirect(mustReq("http://169.254.169.254/latest/meta-data"), via(1)), &be)
	require.Equal(t, reasonLinkLocal, be.Reason)

	// With private addresses allowed only the count and scheme matter.
	require.NoError(t, New(true).CheckRedirect(mustReq("http://169.254.169.254/"), via(1)))
}

func TestRedirectChains(t *testing.T) {
	// Server: /r/N redirects to /r/N-1, /r/0 answers "done", /ftp redirects
	// to an ftp link.
	mux := http.NewServeMux()
	mux.HandleFunc("/r/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, err := fmt.Sscan(r.PathValue("n"), &n)
		if err != nil {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		if n == 0 {
			_, _ = io.WriteString(w, "done")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/r/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://files.example/a.bin", http.StatusFound)
	})
	mux.HandleFunc("/meta", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	// The loopback server itself is only reachable with private addresses
	// allowed, so the chains run on an allowing guard; the refusing one is
	// covered by TestTransportLoopbackServer and TestDialTimeRebinding.
	c := newClient(t, New(true))

	resp, err := c.Get(srv.URL + "/r/10")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, "done", string(body))
	require.Equal(t, "/r/0", resp.Request.URL.Path)

	_, err = c.Get(srv.URL + "/r/11")
	require.ErrorIs(t, err, ErrTooManyRedirects)

	_, err = c.Get(srv.URL + "/ftp")
	var ie *InvalidURLError
	require.ErrorAs(t, err, &ie)
}

func TestTransportSettings(t *testing.T) {
	tr := New(false).Transport()
	require.Nil(t, tr.Proxy)
	require.NotNil(t, tr.DialContext)
	require.True(t, tr.DisableCompression)
	require.NotNil(t, tr.TLSNextProto)
	require.Empty(t, tr.TLSNextProto)
	require.False(t, tr.ForceAttemptHTTP2)
	require.Equal(t, 64, tr.MaxIdleConnsPerHost)
	require.Equal(t, 30*time.Second, tr.ResponseHeaderTimeout)
	require.Equal(t, 15*time.Second, tr.TLSHandshakeTimeout)
	require.Equal(t, 90*time.Second, tr.IdleConnTimeout)
	require.Equal(t, time.Second, tr.ExpectContinueTimeout)
	require.NotSame(t, tr, New(false).Transport(), "each call returns a new transport")
}

// TestTransportHTTP1OverTLS checks that a TLS server offering HTTP/2 is
// spoken to in HTTP/1.1, so that parallel segments get their own connections.
func TestTransportHTTP1OverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	tr := New(true).Transport()
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(srv.URL)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, "HTTP/1.1", string(body))
	require.Equal(t, 1, resp.ProtoMajor)
}

func TestTransportNoCompression(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ae="+r.Header.Get("Accept-Encoding"))
	}))
	t.Cleanup(srv.Close)
	resp, err := newClient(t, New(true)).Get(srv.URL)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, "ae=", string(body))
}

// CheckAddr applies Blocked to a bare address (BitTorrent peers), unless
// private addresses are allowed.
func TestCheckAddr(t *testing.T) {
	strict, open := New(false), New(true)
	for _, a := range []string{"127.0.0.1", "::1", "10.1.2.3", "::ffff:192.168.0.1", "fe80::1"} {
		addr := netip.MustParseAddr(a)
		var blocked *BlockedError
		require.ErrorAs(t, strict.CheckAddr(addr), &blocked, a)
		require.Equal(t, addr, blocked.Addr)
		require.NoError(t, open.CheckAddr(addr), a)
	}
	require.EqualError(t, strict.CheckAddr(netip.MustParseAddr("127.0.0.1")),
		"refusing 127.0.0.1 (loopback address): links to private networks are not allowed on this bot")
	require.NoError(t, strict.CheckAddr(netip.MustParseAddr("8.8.8.8")))
	require.NoError(t, strict.CheckAddr(netip.MustParseAddr("2001:4860::8888")))
}
