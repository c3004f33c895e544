package netguard

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLookupIP(t *testing.T) {
	lookup := WithLookup(func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "tracker.example":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		case "rebind.example":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.7")}, nil
		}
		return nil, nil
	})
	g := New(false, lookup)
	ips, err := g.LookupIP(t.Context(), "tracker.example")
	require.NoError(t, err)
	require.Equal(t, "93.184.216.34", ips[0].String())

	_, err = g.LookupIP(t.Context(), "rebind.example")
	var blocked *BlockedError
	require.ErrorAs(t, err, &blocked, "one private answer refuses the host")
	_, err = g.LookupIP(t.Context(), "127.0.0.1")
	require.ErrorAs(t, err, &blocked)

	ips, err = New(true, lookup).LookupIP(t.Context(), "rebind.example")
	require.NoError(t, err)
	require.Len(t, ips, 2)
}
