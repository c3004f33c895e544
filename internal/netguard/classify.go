package netguard

import "net/netip"

// Reasons returned by Blocked. They are short noun phrases so that they read
// well inside BlockedError's message, for example "refusing 10.0.0.5 (private
// address): ...".
const (
	reasonInvalid       = "invalid address"
	reasonUnspecified   = "unspecified address"
	reasonLoopback      = "loopback address"
	reasonPrivate       = "private address"
	reasonLinkLocal     = "link-local address"
	reasonCGNAT         = "carrier-grade NAT address"
	reasonBroadcast     = "broadcast address"
	reasonMulticast     = "multicast address"
	reasonDocumentation = "documentation address"
	reasonBenchmarking  = "benchmarking address"
	reasonReserved      = "reserved address"
)

// Blocked reports whether addr is not a globally reachable unicast address and
// therefore must not be connected to on behalf of a user, with a short reason.
//
// It covers loopback, private (RFC 1918, IPv6 unique local fc00::/7 and the
// deprecated site-local fec0::/10), link-local, unspecified, multicast,
// broadcast, carrier-grade NAT (100.64.0.0/10), documentation, benchmarking and
// other IANA special-purpose or unallocated ranges. IPv4-mapped IPv6 addresses
// are judged by the IPv4 address they carry, and so are NAT64 (64:ff9b::/96)
// and 6to4 (2002::/16) addresses, because a gateway may translate them into
// the embedded IPv4 address. Zones are ignored. The zero netip.Addr is blocked.
func Blocked(addr netip.Addr) (reason string, blocked bool) {
	if !addr.IsValid() {
		return reasonInvalid, true
	}
	addr = addr.WithZone("").Unmap()
	if addr.Is4() {
		return blocked4(addr.As4())
	}
	return blocked6(addr.As16())
}

// blocked4 classifies an IPv4 address by its octets. Comparing octets keeps the
// table free of package-level state and makes every range visible at a glance.
func blocked4(b [4]byte) (string, bool) {
	switch {
	case b == [4]byte{255, 255, 255, 255}:
		return reasonBroadcast, true
	case b == [4]byte{}:
		return reasonUnspecified, true
	case b[0] == 0: // 0.0.0.0/8 "this network"
		return reasonReserved, true
	case b[0] == 10: // 10.0.0.0/8
		return reasonPrivate, true
	case b[0] == 100 && b[1]&0xc0 == 64: // 100.64.0.0/10
		return reasonCGNAT, true
	case b[0] == 127: // 127.0.0.0/8
		return reasonLoopback, true
	case b[0] == 169 && b[1] == 254: // 169.254.0.0/16
		return reasonLinkLocal, true
	case b[0] == 172 && b[1]&0xf0 == 16: // 172.16.0.0/12
		return reasonPrivate, true
	case b[0] == 192 && b[1] == 0 && b[2] == 0: // 192.0.0.0/24 IETF protocol assignments
		return reasonReserved, true
	case b[0] == 192 && b[1] == 0 && b[2] == 2: // 192.0.2.0/24 TEST-NET-1
		return reasonDocumentation, true
	case b[0] == 192 && b[1] == 88 && b[2] == 99: // 192.88.99.0/24 deprecated 6to4 relay anycast
		return reasonReserved, true
	case b[0] == 192 && b[1] == 168: // 192.168.0.0/16
		return reasonPrivate, true
	case b[0] == 198 && b[1]&0xfe == 18: // 198.18.0.0/15
		return reasonBenchmarking, true
	case b[0] == 198 && b[1] == 51 && b[2] == 100: // 198.51.100.0/24 TEST-NET-2
		return reasonDocumentation, true
	case b[0] == 203 && b[1] == 0 && b[2] == 113: // 203.0.113.0/24 TEST-NET-3
		return reasonDocumentation, true
	case b[0] >= 224 && b[0] < 240: // 224.0.0.0/4
		return reasonMulticast, true
	case b[0] >= 240: // 240.0.0.0/4 reserved for future use
		return reasonReserved, true
	}
	return "", false
}

// blocked6 classifies a native IPv6 address (IPv4-mapped ones were unmapped
// by the caller).
func blocked6(b [16]byte) (string, bool) {
	switch {
	case b == [16]byte{}:
		return reasonUnspecified, true
	case b == [16]byte{15: 1}:
		return reasonLoopback, true
	case b[0] == 0xff: // ff00::/8
		return reasonMulticast, true
	case b[0] == 0xfe && b[1]&0xc0 == 0x80: // fe80::/10
		return reasonLinkLocal, true
	case b[0] == 0xfe && b[1]&0xc0 == 0xc0: // fec0::/10 deprecated site-local
		return reasonPrivate, true
	case b[0]&0xfe == 0xfc: // fc00::/7 unique local
		return reasonPrivate, true
	case b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && [8]byte(b[4:12]) == [8]byte{}:
		// 64:ff9b::/96 well-known NAT64 prefix: the gateway connects to the
		// embedded IPv4 address, so that address decides.
		return blocked4([4]byte(b[12:16]))
	case b[0] == 0x20 && b[1] == 0x02:
		// 2002::/16 6to4: the IPv4 address of the tunnel end follows the prefix.
		return blocked4([4]byte(b[2:6]))
	case b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02: // 2001::/23 IETF protocol assignments (Teredo, ORCHID, ...)
		return reasonReserved, true
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8: // 2001:db8::/32
		return reasonDocumentation, true
	case b[0] == 0x3f && b[1] == 0xff && b[2]&0xf0 == 0: // 3fff::/20
		return reasonDocumentation, true
	case b[0]&0xe0 != 0x20:
		// Only 2000::/3 is allocated as global unicast; everything else left
		// here (::/96 IPv4-compatible, 100::/64 discard, 64:ff9b:1::/48 local
		// NAT64, 5f00::/16 SRv6, unallocated space) is not reachable globally.
		return reasonReserved, true
	}
	return "", false
}
