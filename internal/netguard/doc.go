// Package netguard keeps the bot from fetching links that point into private
// networks (server-side request forgery).
//
// It owns the rule of which addresses a user's link may reach: loopback,
// private (RFC 1918 and IPv6 unique local), link-local, unspecified,
// multicast, broadcast, carrier-grade NAT, documentation, benchmarking and
// other non-global ranges, including their IPv4-mapped forms, are refused
// unless the operator allows private URLs (ALLOW_PRIVATE_URLS).
//
// It receives links (CheckURL) and dial requests (DialContext), and emits an
// *http.Transport and a CheckRedirect function for the HTTP downloader. The
// rule is enforced where it cannot be bypassed: in the net.Dialer Control
// hook, on the numeric address each socket is about to connect to, so DNS
// answers, redirects and DNS rebinding between the check and the dial are all
// covered. CheckURL repeats the check before anything is fetched only to give
// the user an early, clear answer. The transport never uses a proxy, because
// a proxy would make the dial check meaningless.
//
// It fails with two user-safe typed errors: *BlockedError (the address is not
// allowed) and *InvalidURLError (the link is malformed, uses another scheme,
// or its host does not resolve). Neither message contains the link's
// userinfo. Blocked is the pure classification behind both.
package netguard
