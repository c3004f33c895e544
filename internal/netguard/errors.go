package netguard

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ErrTooManyRedirects is returned by CheckRedirect when a link redirects more
// than MaxRedirects times.
var ErrTooManyRedirects = fmt.Errorf("stopped after %d redirects", MaxRedirects)

// BlockedError reports a link whose address is not allowed. Its message is
// safe to show to the user who sent the link: it names the host and the
// address but never the URL, so credentials in the link cannot leak.
type BlockedError struct {
	// Host is the host name from the link or the dial address; it may equal
	// Addr's text form, and it is empty when unknown.
	Host string
	// Addr is the refused address as resolved or connected.
	Addr netip.Addr
	// Reason is the classification from Blocked, e.g. "private address".
	Reason string
}

// Error implements error.
func (e *BlockedError) Error() string {
	addr := e.Addr.String()
	if e.Host == "" || e.Host == addr {
		return fmt.Sprintf("refusing %s (%s): links to private networks are not allowed on this bot", addr, e.Reason)
	}
	return fmt.Sprintf("refusing %s (%s, %s): links to private networks are not allowed on this bot", e.Host, addr, e.Reason)
}

// InvalidURLError reports a link that cannot be fetched at all: not a URL, a
// scheme other than http or https, no host, a bad port, or a host that does
// not resolve. Its message is safe to show to the user: the URL is redacted of
// userinfo and shortened.
type InvalidURLError struct {
	// URL is the link with any userinfo replaced by "xxxxx".
	URL string
	// Reason says what is wrong, in words meant for the user.
	Reason string
	// Err is the underlying cause when there is one (a *net.DNSError for an
	// unresolvable host), so callers can tell temporary failures apart.
	Err error
}

// Error implements error.
func (e *InvalidURLError) Error() string {
	return fmt.Sprintf("invalid link %q: %s", e.URL, e.Reason)
}

// Unwrap returns the underlying cause, if any.
func (e *InvalidURLError) Unwrap() error { return e.Err }

// maxShownURL bounds the URL quoted in error messages, because they end up in
// chat messages with a length limit.
const maxShownURL = 200

// redactURL renders u for an error message with any userinfo replaced.
func redactURL(u *url.URL) string {
	if u.Opaque != "" {
		// An opaque URL such as "user:secret@host" has no structure to rely on.
		return redactRaw(u.String())
	}
	c := *u
	if c.User != nil {
		c.User = url.User("xxxxx")
	}
	return shorten(c.String())
}

// redactRaw renders a string that did not parse as a URL (or parsed as an
// opaque one). Without structure it cannot tell userinfo from a path, so it
// hides everything between the scheme and the last "@".
func redactRaw(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(rest, "://"); i >= 0 {
		prefix, rest = rest[:i+3], rest[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "xxxxx" + rest[at:]
	}
	return shorten(prefix + rest)
}

// shorten cuts s to maxShownURL bytes on a rune boundary.
func shorten(s string) string {
	if len(s) <= maxShownURL {
		return s
	}
	cut := maxShownURL
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
