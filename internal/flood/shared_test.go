package flood_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/flood"
	"github.com/mirrorleech/mirrorleech/internal/redistest"
)

// Two "nodes" sending to many chats as fast as Shared allows stay within
// the global limit together, in every one-second window.
func TestSharedGlobalAcrossNodes(t *testing.T) {
	s := redistest.Start(t)
	cfg := flood.Config{GlobalPerSecond: 10}
	a := flood.NewShared(s.Client(), "t", "a", cfg)
	b := flood.NewShared(s.Client(), "t", "b", cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	var (
		mu    sync.Mutex
		times []time.Time
		wg    sync.WaitGroup
	)
	for i, l := range []*flood.Shared{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chat := int64(i * 1000); ctx.Err() == nil; chat++ {
				if err := l.Wait(ctx, chat); err != nil {
					return
				}
				mu.Lock()
				times = append(times, time.Now())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.GreaterOrEqual(t, len(times), 20, "the limiter must let sends through")
	// Redis time and local time differ by the round trip; allow 50 ms.
	for i := range times {
		n := 0
		for _, u := range times {
			if !u.Before(times[i]) && u.Sub(times[i]) < 950*time.Millisecond {
				n++
			}
		}
		require.LessOrEqual(t, n, 10, "more than 10 sends within one second")
	}
	t.Logf("%d sends in 2.5 s from 4 senders on 2 nodes (limit 10/s)", len(times))
}

func TestSharedPerChatAndGroup(t *testing.T) {
	s := redistest.Start(t)
	l := flood.NewShared(s.Client(), "t", "a", flood.Config{PerChat: 300 * time.Millisecond, GroupPerMinute: 3})
	ctx := context.Background()
	w, err := l.Reserve(ctx, 7)
	require.NoError(t, err)
	require.Zero(t, w)
	w, err = l.Reserve(ctx, 7)
	require.NoError(t, err)
	require.Greater(t, w, time.Duration(0))
	require.LessOrEqual(t, w, 300*time.Millisecond)
	w, err = l.Reserve(ctx, 8) // another chat is independent
	require.NoError(t, err)
	require.Zero(t, w)

	g := flood.NewShared(s.Client(), "t", "a", flood.Config{PerChat: -1, GroupPerMinute: 3})
	for range 3 {
		w, err := g.Reserve(ctx, -100)
		require.NoError(t, err)
		require.Zero(t, w)
	}
	w, err = g.Reserve(ctx, -100)
	require.NoError(t, err)
	require.Greater(t, w, 50*time.Second, "the 4th send to a group waits for the minute window")
}

func TestSharedRedisDown(t *testing.T) {
	s := redistest.Start(t)
	l := flood.NewShared(s.Client(), "t", "a", flood.Config{})
	s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	require.Error(t, l.Wait(ctx, 1))
}
