package notice

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/redistest"
)

// Two nodes see the same problem: one announces it and its recovery; the
// next occurrence is announced again.
func TestOneAnnouncementPerProblemAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	a := New(Options{Client: rs.Client(), Prefix: "t", Node: "a"})
	b := New(Options{Client: rs.Client(), Prefix: "t", Node: "b"})

	announced := 0
	for _, d := range []*Dedup{a, b} {
		if d.Start(ctx, "store") {
			announced++
		}
	}
	require.Equal(t, 1, announced, "one notice for the cluster")
	require.True(t, a.isAnnounced("store"), "the first claim wins")
	a.Hold(ctx, "store")
	b.Hold(ctx, "store")

	require.False(t, b.End(ctx, "store"), "a node that did not announce the start stays silent")
	require.True(t, a.End(ctx, "store"), "the announcer announces the recovery")

	// The problem comes back, first seen by b this time.
	require.True(t, b.Start(ctx, "store"), "a recurrence is announced again")
	require.False(t, a.Start(ctx, "store"))

	// Problems of different kinds are claimed apart.
	require.True(t, a.Start(ctx, "disk:a"))
	require.True(t, b.Start(ctx, "disk:b"))
}

// A claim outlives a dead claimant only by its TTL; Hold keeps it while the
// problem lasts.
func TestClaimLapsesWithoutHold(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	a := New(Options{Client: rs.Client(), Prefix: "t", Node: "a", TTL: ttl})
	b := New(Options{Client: rs.Client(), Prefix: "t", Node: "b", TTL: ttl})
	require.True(t, a.Start(ctx, "telegram"))
	for range 3 {
		time.Sleep(ttl / 2)
		a.Hold(ctx, "telegram")
	}
	require.False(t, b.Start(ctx, "telegram"), "held past its TTL")
	time.Sleep(2 * ttl) // a dies without releasing
	require.True(t, b.Start(ctx, "telegram"), "the lapsed claim is taken")
	a.End(ctx, "telegram")
	require.EqualValues(t, 1, rs.Client().Exists(ctx, "t:notice:telegram").Val(), "b's claim survives a's release")
}

// When Redis does not answer, the fallback decides; alone, every problem is
// announced.
func TestFallbackAndAlone(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	client := rs.Client()
	rs.Stop()
	first := New(Options{Client: client, Prefix: "t", Node: "a", CallTimeout: time.Second, Fallback: func() bool { return true }})
	other := New(Options{Client: client, Prefix: "t", Node: "b", CallTimeout: time.Second, Fallback: func() bool { return false }})
	require.True(t, first.Start(ctx, "store"))
	require.False(t, other.Start(ctx, "store"))
	require.True(t, first.End(ctx, "store"))
	require.False(t, other.End(ctx, "store"))

	alone := New(Options{})
	require.True(t, alone.Start(ctx, "store"))
	require.True(t, alone.End(ctx, "store"))
	require.True(t, alone.Start(ctx, "store"))
}
