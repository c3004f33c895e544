package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mirrorleech/mirrorleech/internal/ratelimit"
	"github.com/mirrorleech/mirrorleech/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// limiters are the implementations every behaviour test runs against.
var limiters = []struct {
	name string
	new  func(t *testing.T) ratelimit.Limiter
}{
	{"memory", func(*testing.T) ratelimit.Limiter { return ratelimit.NewMemory() }},
	{"redis", func(t *testing.T) ratelimit.Limiter {
		return ratelimit.NewRedis(redistest.Start(t).Client(), "t")
	}},
}

func TestBehaviour(t *testing.T) {
	const (
		limit  = 3
		window = time.Second
	)
	ctx := context.Background()
	for _, impl := range limiters {
		t.Run(impl.name, func(t *testing.T) {
			l := impl.new(t)
			allow := func(key string) (bool, time.Duration) {
				t.Helper()
				ok, retry, err := l.Allow(ctx, key, limit, window)
				require.NoError(t, err)
				return ok, retry
			}
			refused := func(key string) time.Duration {
				t.Helper()
				ok, retry := allow(key)
				require.False(t, ok, "event over the limit of %s allowed", key)
				require.Greater(t, retry, time.Duration(0))
				require.LessOrEqual(t, retry, window)
				return retry
			}

			start := time.Now()
			for i := range limit {
				ok, retry := allow("u1")
				require.True(t, ok, "event %d", i+1)
				require.Zero(t, retry)
			}
			retry := refused("u1")
			// Keys are independent.
			for range limit {
				ok, _ := allow("u2")
				require.True(t, ok)
			}
			refused("u2")
			// Refused events are not recorded: hammering does not push the
			// window further.
			for range 10 {
				refused("u1")
			}
			t.Logf("%s: retryAfter %v after %v", impl.name, retry, time.Since(start))

			// The oldest event leaves the window after retryAfter; then
			// exactly one more fits, since the others are just younger.
			time.Sleep(retry + 20*time.Millisecond)
			require.Eventually(t, func() bool { ok, _ := allow("u1"); return ok }, 5*time.Second, 10*time.Millisecond)
			// After a whole window with no events, the full limit is back.
			time.Sleep(window + 20*time.Millisecond)
			for i := range limit {
				ok, _ := allow("u1")
				require.True(t, ok, "event %d after the window", i+1)
			}
			refused("u1")

			// limit <= 0 is unlimited.
			for range 10 {
				ok, retry, err := l.Allow(ctx, "u3", 0, window)
				require.NoError(t, err)
				require.True(t, ok)
				require.Zero(t, retry)
			}
			_, _, err := l.Allow(ctx, "u3", 1, 0)
			require.ErrorIs(t, err, ratelimit.ErrBadWindow)
		})
	}
}

// TestLimitLowered checks retryAfter when a key holds more events than a
// newly lowered limit: the next event fits when enough of them have left.
func TestLimitLowered(t *testing.T) {
	ctx := context.Background()
	for _, impl := range limiters {
		t.Run(impl.name, func(t *testing.T) {
			l := impl.new(t)
			ok, _, err := l.Allow(ctx, "k", 3, time.Minute)
			require.NoError(t, err)
			require.True(t, ok)
			time.Sleep(300 * time.Millisecond)
			for range 2 {
				ok, _, err = l.Allow(ctx, "k", 3, time.Minute)
				require.NoError(t, err)
				require.True(t, ok)
			}
			ok, retry, err := l.Allow(ctx, "k", 2, time.Minute)
			require.NoError(t, err)
			require.False(t, ok)
			// Two events must leave; the second is 300 ms younger than the
			// first, so waiting for the oldest alone would be too short.
			require.Greater(t, retry, time.Minute-250*time.Millisecond)
			require.LessOrEqual(t, retry, time.Minute)
		})
	}
}

func TestRedisTwoNodesConcurrent(t *testing.T) {
	s := redistest.Start(t)
	nodes := []ratelimit.Limiter{ratelimit.NewRedis(s.Client(), "t"), ratelimit.NewRedis(s.Client(), "t")}
	const (
		goroutines = 20
		calls      = 5
		limit      = 10
	)
	var allowed atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*calls)
	for g := range goroutines {
		wg.Go(func() {
			l := nodes[g%2]
			for range calls {
				ok, _, err := l.Allow(context.Background(), "user:1", limit, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, limit, allowed.Load(), "%d calls on two nodes", goroutines*calls)
	n, err := s.Client().ZCard(context.Background(), "t:{rl}:user:1").Result()
	require.NoError(t, err)
	require.EqualValues(t, limit, n, "refused events are not recorded")
	ttl, err := s.Client().PTTL(context.Background(), "t:{rl}:user:1").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0))
	require.LessOrEqual(t, ttl, time.Minute)
}

func TestRedisDown(t *testing.T) {
	s := redistest.Start(t)
	l := ratelimit.NewRedis(s.Client(), "t")
	s.Stop()
	const deadline = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	ok, _, err := l.Allow(ctx, "k", 3, time.Second)
	took := time.Since(start)
	require.Error(t, err)
	require.False(t, ok)
	t.Logf("error after %v: %v", took.Round(time.Millisecond), err)
	// Bounded by the caller's deadline, not go-redis's dial retries (seconds).
	require.Less(t, took, deadline+2*time.Second)

	// Unlimited needs no Redis.
	ok, _, err = l.Allow(ctx, "k", 0, time.Second)
	require.NoError(t, err)
	require.True(t, ok)
}
