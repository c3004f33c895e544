package lease_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mirrorleech/mirrorleech/internal/lease"
	"github.com/mirrorleech/mirrorleech/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTwoContenders(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client()
	ctx := context.Background()
	a := lease.NewRedis(c, "t", "poller", "a", 10*time.Second)
	b := lease.NewRedis(c, "t", "poller", "b", 10*time.Second)

	free, err := a.Holder(ctx)
	require.NoError(t, err)
	require.Empty(t, free)

	ta, ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, fmt.Sprintf("a/%d", ta.Fence), ta.Value)
	_, ok, err = b.TryAcquire(ctx)
	require.NoError(t, err)
	require.False(t, ok, "b must not acquire while a holds")
	_, ok, err = a.TryAcquire(ctx)
	require.NoError(t, err)
	require.False(t, ok, "a second acquisition by the holder is refused too")
	h, err := b.Holder(ctx)
	require.NoError(t, err)
	require.Equal(t, "a", h)
	require.NoError(t, a.Renew(ctx, ta))

	require.NoError(t, a.Release(ctx, ta))
	tb, ok, err := b.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Greater(t, tb.Fence, ta.Fence)
	h, err = a.Holder(ctx)
	require.NoError(t, err)
	require.Equal(t, "b", h)

	// a's old token neither renews, nor frees b's lease.
	require.ErrorIs(t, a.Renew(ctx, ta), lease.ErrLost)
	require.NoError(t, a.Release(ctx, ta))
	h, err = a.Holder(ctx)
	require.NoError(t, err)
	require.Equal(t, "b", h)

	// Releasing a lease nobody holds is no error.
	require.NoError(t, b.Release(ctx, tb))
	require.NoError(t, b.Release(ctx, tb))
	h, err = a.Holder(ctx)
	require.NoError(t, err)
	require.Empty(t, h)
}

func TestExpiry(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client()
	ctx := context.Background()
	const ttl = 500 * time.Millisecond
	a := lease.NewRedis(c, "t", "poller", "a", ttl)
	b := lease.NewRedis(c, "t", "poller", "b", ttl)

	ta, ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, a.CommitOffset(ctx, ta, 10))
	acquired := time.Now()

	// a stops renewing; b gets the lease once it expires.
	var tb lease.Token
	require.Eventually(t, func() bool {
		var err error
		tb, ok, err = b.TryAcquire(ctx)
		require.NoError(t, err)
		return ok
	}, 10*time.Second, 20*time.Millisecond)
	t.Logf("b acquired %v after a's acquisition (TTL %v)", time.Since(acquired).Round(time.Millisecond), ttl)
	require.GreaterOrEqual(t, time.Since(acquired), ttl, "the lease must not be taken before it expires")
	require.Greater(t, tb.Fence, ta.Fence)

	require.ErrorIs(t, a.Renew(ctx, ta), lease.ErrLost)
	require.ErrorIs(t, a.CommitOffset(ctx, ta, 20), lease.ErrLost)
	off, err := b.Offset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 10, off, "the offset survives the change of holder and the stale commit")
	require.NoError(t, b.CommitOffset(ctx, tb, 11))
	off, err = a.Offset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 11, off)
}

func TestRenewKeepsTheLease(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client()
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	a := lease.NewRedis(c, "t", "poller", "a", ttl)
	b := lease.NewRedis(c, "t", "poller", "b", ttl)
	ta, ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	for range 10 { // 1 s, more than three TTLs
		time.Sleep(ttl / 3)
		require.NoError(t, a.Renew(ctx, ta))
		_, ok, err := b.TryAcquire(ctx)
		require.NoError(t, err)
		require.False(t, ok)
	}
	pttl, err := c.PTTL(ctx, "t:{lease}:poller").Result()
	require.NoError(t, err)
	require.Greater(t, pttl, time.Duration(0))
	require.LessOrEqual(t, pttl, ttl)
}

func TestFencing(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client()
	ctx := context.Background()
	a := lease.NewRedis(c, "", "poller", "a", 10*time.Second)
	b := lease.NewRedis(c, "", "poller", "b", 10*time.Second)

	off, err := a.Offset(ctx)
	require.NoError(t, err)
	require.Zero(t, off, "never committed")

	ta, ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, a.CommitOffset(ctx, ta, 100))
	require.NoError(t, a.CommitOffset(ctx, ta, 50), "an older offset is no error")
	off, err = a.Offset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 100, off, "the offset never moves backwards")
	require.NoError(t, a.CommitOffset(ctx, ta, 101))
	require.Error(t, a.CommitOffset(ctx, ta, -1))
	off, err = a.Offset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 101, off)
	v, err := c.Get(ctx, "mirrorleech:{lease}:poller:offset").Result()
	require.NoError(t, err)
	require.Equal(t, "101", v, "keys follow <prefix>:{lease}:<name>")

	// A token of a holding that ended cannot commit, even one ahead.
	require.NoError(t, a.Release(ctx, ta))
	require.ErrorIs(t, a.CommitOffset(ctx, ta, 200), lease.ErrLost, "free lease")
	tb, ok, err := b.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.ErrorIs(t, a.CommitOffset(ctx, ta, 200), lease.ErrLost, "held by b")
	// Same holder, older fence: also fenced out.
	require.ErrorIs(t, b.CommitOffset(ctx, lease.Token{Fence: tb.Fence - 1, Value: fmt.Sprintf("b/%d", tb.Fence-1)}, 300), lease.ErrLost)
	off, err = b.Offset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 101, off)
	require.NoError(t, b.CommitOffset(ctx, tb, 102))
	off, err = b.Offset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 102, off)
}

func TestFenceGrowsAcrossDataLoss(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client()
	ctx := context.Background()
	a := lease.NewRedis(c, "t", "poller", "a", 10*time.Second)
	t1, ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, a.Release(ctx, t1))
	t2, ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, t1.Fence+1, t2.Fence, "one INCR per acquisition")

	s.Restart() // comes back empty
	t3, ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Greater(t, t3.Fence, t2.Fence)
	require.NotEqual(t, t1.Value, t3.Value)
	require.ErrorIs(t, a.CommitOffset(ctx, t2, 5), lease.ErrLost, "a token of the lost data is fenced out")
}

func TestRedisDownErrors(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client()
	a := lease.NewRedis(c, "t", "poller", "a", time.Second)
	s.Stop()
	// go-redis retries dials for seconds; the caller's deadline bounds it.
	ctx := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	_, ok, err := a.TryAcquire(ctx())
	require.Error(t, err)
	require.False(t, ok)
	err = a.Renew(ctx(), lease.Token{Fence: 1, Value: "a/1"})
	require.Error(t, err)
	require.NotErrorIs(t, err, lease.ErrLost, "an unreachable Redis is not a lost lease")
	_, err = a.Offset(ctx())
	require.Error(t, err)
	require.Error(t, a.CommitOffset(ctx(), lease.Token{Fence: 1, Value: "a/1"}, 1))
}

func TestLocal(t *testing.T) {
	ctx := context.Background()
	l := lease.NewLocal()
	h, err := l.Holder(ctx)
	require.NoError(t, err)
	require.Empty(t, h)
	off, err := l.Offset(ctx)
	require.NoError(t, err)
	require.Zero(t, off)

	t1, ok, err := l.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	h, err = l.Holder(ctx)
	require.NoError(t, err)
	require.Equal(t, lease.LocalHolder, h)
	require.NoError(t, l.Renew(ctx, t1))
	require.NoError(t, l.CommitOffset(ctx, t1, 42))
	require.NoError(t, l.CommitOffset(ctx, t1, 41))
	off, err = l.Offset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 42, off)

	// Always acquired: a new acquisition supersedes the old token.
	t2, ok, err := l.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Greater(t, t2.Fence, t1.Fence)
	require.ErrorIs(t, l.Renew(ctx, t1), lease.ErrLost)
	require.ErrorIs(t, l.CommitOffset(ctx, t1, 50), lease.ErrLost)
	require.NoError(t, l.Release(ctx, t1), "a stale release is a no-op")
	require.NoError(t, l.CommitOffset(ctx, t2, 43))
	off, err = l.Offset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 43, off)
	require.NoError(t, l.Release(ctx, t2))
	require.ErrorIs(t, l.Renew(ctx, t2), lease.ErrLost)
	h, err = l.Holder(ctx)
	require.NoError(t, err)
	require.Empty(t, h)
}
