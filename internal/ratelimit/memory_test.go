package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMemoryPrunesIdleKeys(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	m := NewMemory()
	m.now = func() time.Time { return now }
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		ok, _, err := m.Allow(ctx, k, 1, time.Second)
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, _, err := m.Allow(ctx, "long", 1, time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, m.keys, 4)

	now = now.Add(sweepEvery)
	ok, _, err = m.Allow(ctx, "d", 1, time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.ElementsMatch(t, []string{"d", "long"}, keys(m), "idle keys dropped, a key within its window kept")

	// Exact window edges: an event exactly window old has left.
	ok, retry, err := m.Allow(ctx, "d", 1, time.Second)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, time.Second, retry)
	now = now.Add(time.Second - time.Nanosecond)
	ok, retry, err = m.Allow(ctx, "d", 1, time.Second)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, time.Nanosecond, retry)
	now = now.Add(time.Nanosecond)
	ok, _, err = m.Allow(ctx, "d", 1, time.Second)
	require.NoError(t, err)
	require.True(t, ok)
}

func keys(m *Memory) []string {
	var ks []string
	for k := range m.keys {
		ks = append(ks, k)
	}
	return ks
}
