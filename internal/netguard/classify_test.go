package netguard

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBlocked(t *testing.T) {
	tests := []struct {
		addr   string
		reason string // "" = allowed
	}{
		// IPv4.
		{"0.0.0.0", reasonUnspecified},
		{"0.1.2.3", reasonReserved},
		{"127.0.0.1", reasonLoopback},
		{"127.255.255.254", reasonLoopback},
		{"10.0.0.5", reasonPrivate},
		{"10.255.255.255", reasonPrivate},
		{"172.15.255.255", ""},
		{"172.16.0.1", reasonPrivate},
		{"172.31.255.255", reasonPrivate},
		{"172.32.0.1", ""},
		{"192.168.1.1", reasonPrivate},
		{"192.169.0.1", ""},
		{"100.63.255.255", ""},
		{"100.64.0.1", reasonCGNAT},
		{"100.127.255.255", reasonCGNAT},
		{"100.128.0.1", ""},
		{"169.254.169.254", reasonLinkLocal},
		{"169.253.0.1", ""},
		{"192.0.0.8", reasonReserved},
		{"192.0.2.1", reasonDocumentation},
		{"198.51.100.7", reasonDocumentation},
		{"203.0.113.9", reasonDocumentation},
		{"198.18.0.1", reasonBenchmarking},
		{"198.19.255.255", reasonBenchmarking},
		{"198.20.0.1", ""},
		{"192.88.99.1", reasonReserved},
		{"224.0.0.1", reasonMulticast},
		{"239.255.255.250", reasonMulticast},
		{"240.0.0.1", reasonReserved},
		{"255.255.255.255", reasonBroadcast},
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.215.14", ""},
		{"223.255.255.255", ""},
		// IPv6.
		{"::", reasonUnspecified},
		{"::1", reasonLoopback},
		{"fe80::1", reasonLinkLocal},
		{"fe80::1%eth0", reasonLinkLocal},
		{"febf::1", reasonLinkLocal},
		{"fec0::1", reasonPrivate},
		{"fc00::1", reasonPrivate},
		{"fd12:3456:789a::1", reasonPrivate},
		{"ff02::1", reasonMulticast},
		{"ff0e::1", reasonMulticast},
		{"2001:db8::1", reasonDocumentation},
		{"3fff::1", reasonDocumentation},
		{"2001::1", reasonReserved},  // Teredo, inside 2001::/23
		{"100::1", reasonReserved},   // discard-only
		{"::7f00:1", reasonReserved}, // deprecated IPv4-compatible
		{"5f00::1", reasonReserved},  // SRv6, outside 2000::/3
		{"4000::1", reasonReserved},  // unallocated
		{"2001:4860::8888", ""},      // Google DNS
		{"2606:4700:4700::1111", ""}, // Cloudflare DNS
		{"2a00:1450:4001::200e", ""}, // a global unicast address
		// IPv4-mapped and embedded IPv4.
		{"::ffff:127.0.0.1", reasonLoopback},
		{"::ffff:10.0.0.1", reasonPrivate},
		{"::ffff:169.254.169.254", reasonLinkLocal},
		{"::ffff:0.0.0.0", reasonUnspecified},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::7f00:1", reasonLoopback},  // NAT64 of 127.0.0.1
		{"64:ff9b::a00:1", reasonPrivate},    // NAT64 of 10.0.0.1
		{"64:ff9b::808:808", ""},             // NAT64 of 8.8.8.8
		{"64:ff9b:1::1", reasonReserved},     // local-use NAT64
		{"2002:c0a8:0101::1", reasonPrivate}, // 6to4 of 192.168.1.1
		{"2002:0808:0808::1", ""},            // 6to4 of 8.8.8.8
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			reason, blocked := Blocked(netip.MustParseAddr(tt.addr))
			require.Equal(t, tt.reason != "", blocked)
			require.Equal(t, tt.reason, reason)
		})
	}
}

func TestBlockedZeroAddr(t *testing.T) {
	reason, blocked := Blocked(netip.Addr{})
	require.True(t, blocked)
	require.Equal(t, reasonInvalid, reason)
}

func TestBlockedErrorMessage(t *testing.T) {
	e := &BlockedError{Host: "10.0.0.5", Addr: netip.MustParseAddr("10.0.0.5"), Reason: reasonPrivate}
	require.Equal(t, "refusing 10.0.0.5 (private address): links to private networks are not allowed on this bot", e.Error())

	e = &BlockedError{Host: "intranet.example", Addr: netip.MustParseAddr("192.168.0.2"), Reason: reasonPrivate}
	require.Equal(t, "refusing intranet.example (192.168.0.2, private address): links to private networks are not allowed on this bot", e.Error())
}
