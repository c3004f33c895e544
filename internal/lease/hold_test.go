package lease_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/lease"
	"github.com/mirrorleech/mirrorleech/internal/redistest"
)

var errFrozen = errors.New("frozen: cut off from redis")

// freezable wraps a Lease as a node whose link to Redis can be cut: while
// frozen, Renew hangs ignoring its context (like a dead TCP connection) and
// everything else fails. It also records when the last successful
// acquisition or renewal was sent, the reference of the lease's expiry.
type freezable struct {
	lease.Lease
	frozen atomic.Bool
	thawed chan struct{}

	mu     sync.Mutex
	lastOK time.Time
}

func newFreezable(l lease.Lease) *freezable {
	return &freezable{Lease: l, thawed: make(chan struct{})}
}

func (f *freezable) TTL() time.Duration { return f.Lease.(interface{ TTL() time.Duration }).TTL() }

func (f *freezable) freeze() { f.frozen.Store(true) }

func (f *freezable) thaw() {
	if f.frozen.Swap(false) {
		close(f.thawed)
	}
}

func (f *freezable) ok(sent time.Time) {
	f.mu.Lock()
	f.lastOK = sent
	f.mu.Unlock()
}

func (f *freezable) last() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastOK
}

func (f *freezable) TryAcquire(ctx context.Context) (lease.Token, bool, error) {
	if f.frozen.Load() {
		return lease.Token{}, false, errFrozen
	}
	sent := time.Now()
	tok, ok, err := f.Lease.TryAcquire(ctx)
	if ok {
		f.ok(sent)
	}
	return tok, ok, err
}

func (f *freezable) Renew(ctx context.Context, tok lease.Token) error {
	if f.frozen.Load() {
		<-f.thawed
		return errFrozen
	}
	sent := time.Now()
	err := f.Lease.Renew(ctx, tok)
	if err == nil {
		f.ok(sent)
	}
	return err
}

func (f *freezable) Release(ctx context.Context, tok lease.Token) error {
	if f.frozen.Load() {
		return errFrozen
	}
	return f.Lease.Release(ctx, tok)
}

// started is one call of fn.
type started struct {
	name string
	at   time.Time
	tok  lease.Token
}

// stopped is the end of one call of fn.
type stopped struct {
	name     string
	canceled time.Time // when fn saw its context done
	cause    error
}

// tracker counts the fn calls running at once, across all contenders.
type tracker struct {
	active, most atomic.Int32
	starts       chan started
	stops        chan stopped
}

func newTracker() *tracker {
	return &tracker{starts: make(chan started, 100), stops: make(chan stopped, 100)}
}

func (tr *tracker) fn(name string) func(context.Context, lease.Token) error {
	return func(ctx context.Context, tok lease.Token) error {
		n := tr.active.Add(1)
		for {
			m := tr.most.Load()
			if n <= m || tr.most.CompareAndSwap(m, n) {
				break
			}
		}
		tr.starts <- started{name: name, at: time.Now(), tok: tok}
		<-ctx.Done()
		s := stopped{name: name, canceled: time.Now(), cause: context.Cause(ctx)}
		tr.active.Add(-1)
		tr.stops <- s
		return nil
	}
}

func (tr *tracker) nextStart(t *testing.T, timeout time.Duration) started {
	t.Helper()
	select {
	case s := <-tr.starts:
		return s
	case <-time.After(timeout):
		t.Fatalf("no holder started within %v", timeout)
		return started{}
	}
}

func (tr *tracker) nextStop(t *testing.T, timeout time.Duration) stopped {
	t.Helper()
	select {
	case s := <-tr.stops:
		return s
	case <-time.After(timeout):
		t.Fatalf("no holder stopped within %v", timeout)
		return stopped{}
	}
}

// contender is one node running Hold.
type contender struct {
	name   string
	l      *freezable
	cancel context.CancelFunc
	done   chan error
}

func startContender(t *testing.T, tr *tracker, l *freezable, name string, o lease.HoldOptions) *contender {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &contender{name: name, l: l, cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- lease.Hold(ctx, l, o, tr.fn(name)) }()
	t.Cleanup(func() {
		l.thaw()
		cancel()
		<-c.done
	})
	return c
}

func (c *contender) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case err := <-c.done:
		c.done <- err // for Cleanup
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatalf("Hold of %s did not return after its context ended", c.name)
	}
}

func TestHoldAtMostOneHolder(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client()
	const ttl = time.Second
	o := lease.HoldOptions{Retry: 50 * time.Millisecond}
	tr := newTracker()
	node := func(name string) *freezable { return newFreezable(lease.NewRedis(rc, "t", "poller", name, ttl)) }
	contenders := map[string]*contender{
		"a": startContender(t, tr, node("a"), "a", o),
		"b": startContender(t, tr, node("b"), "b", o),
	}

	first := tr.nextStart(t, 10*time.Second)
	// The holding outlives several TTLs: renewals keep it, nobody else starts.
	select {
	case s := <-tr.starts:
		t.Fatalf("%s started while %s held the lease", s.name, first.name)
	case s := <-tr.stops:
		t.Fatalf("%s stopped while nothing cancelled it (cause %v)", s.name, s.cause)
	case <-time.After(2 * ttl):
	}
	h, err := lease.NewRedis(rc, "t", "poller", "x", ttl).Holder(context.Background())
	require.NoError(t, err)
	require.Equal(t, first.name, h)

	// 1. The holder's context ends: it releases, the other takes over.
	cancelled := time.Now()
	contenders[first.name].stop(t)
	stop := tr.nextStop(t, 10*time.Second)
	require.Equal(t, first.name, stop.name)
	second := tr.nextStart(t, 10*time.Second)
	require.NotEqual(t, first.name, second.name)
	require.Greater(t, second.tok.Fence, first.tok.Fence)
	t.Logf("takeover after the holder's ctx was cancelled: %v (Retry %v)",
		second.at.Sub(cancelled).Round(time.Millisecond), o.Retry)

	// 2. The new holder freezes (cut off from Redis, renewals hang): it must
	// stop on its own before its lease expires, and the third node takes
	// over after the expiry.
	contenders["c"] = startContender(t, tr, node("c"), "c", o)
	time.Sleep(ttl / 2) // let c contend and the holder renew a few times
	holder := contenders[second.name]
	holder.l.freeze()
	frozen := time.Now()
	lastOK := holder.l.last()
	stop = tr.nextStop(t, 10*time.Second)
	require.Equal(t, second.name, stop.name)
	require.ErrorIs(t, stop.cause, lease.ErrLost)
	require.Less(t, stop.canceled.Sub(lastOK), ttl, "the frozen holder must stop before its lease can expire")
	third := tr.nextStart(t, 10*time.Second)
	require.Equal(t, "c", third.name)
	require.Greater(t, third.tok.Fence, second.tok.Fence)
	require.GreaterOrEqual(t, third.at.Sub(lastOK), ttl, "the lease cannot be taken before it expires")
	t.Logf("frozen holder stopped %v after its last good renewal; takeover %v after the freeze, %v after the last good renewal (TTL %v)",
		stop.canceled.Sub(lastOK).Round(time.Millisecond), third.at.Sub(frozen).Round(time.Millisecond),
		third.at.Sub(lastOK).Round(time.Millisecond), ttl)

	// A paused ex-holder's token is fenced out.
	require.ErrorIs(t, holder.l.Lease.CommitOffset(context.Background(), second.tok, 7), lease.ErrLost)
	require.NoError(t, contenders["c"].l.CommitOffset(context.Background(), third.tok, 7))

	// The frozen node comes back and contends again without taking over.
	holder.l.thaw()
	select {
	case s := <-tr.starts:
		t.Fatalf("%s started while c held the lease", s.name)
	case <-time.After(ttl):
	}
	for _, c := range contenders {
		c.stop(t)
	}
	require.EqualValues(t, 1, tr.most.Load(), "at most one fn at any instant")
	require.Zero(t, tr.active.Load())
}

func TestHoldRedisStopped(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client()
	const ttl = 2 * time.Second
	var changes []bool
	var mu sync.Mutex
	o := lease.HoldOptions{Retry: 50 * time.Millisecond, OnChange: func(held bool) {
		mu.Lock()
		changes = append(changes, held)
		mu.Unlock()
	}}
	tr := newTracker()
	l := newFreezable(lease.NewRedis(rc, "t", "poller", "a", ttl))
	c := startContender(t, tr, l, "a", o)

	first := tr.nextStart(t, 10*time.Second)
	time.Sleep(ttl / 2) // a renewal or two
	s.Stop()
	down := time.Now()
	stop := tr.nextStop(t, 10*time.Second)
	lastOK := l.last()
	require.ErrorIs(t, stop.cause, lease.ErrLost)
	require.Less(t, stop.canceled.Sub(lastOK), ttl, "fn must stop before the lease can have expired")
	t.Logf("Redis stopped: fn cancelled %v after the stop, %v after the last good renewal (TTL %v)",
		stop.canceled.Sub(down).Round(time.Millisecond), stop.canceled.Sub(lastOK).Round(time.Millisecond), ttl)

	time.Sleep(200 * time.Millisecond) // a few failed acquisitions
	s.Restart()
	up := time.Now()
	again := tr.nextStart(t, 20*time.Second)
	t.Logf("reacquired %v after Redis came back empty (fence %d before, %d after)",
		again.at.Sub(up).Round(time.Millisecond), first.tok.Fence, again.tok.Fence)
	require.Greater(t, again.tok.Fence, first.tok.Fence)
	c.stop(t)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []bool{true, false, true, false}, changes)
}

func TestHoldRetriesAfterFnError(t *testing.T) {
	l := lease.NewLocal()
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- lease.Hold(ctx, l, lease.HoldOptions{Retry: 10 * time.Millisecond}, func(ctx context.Context, tok lease.Token) error {
			if calls.Add(1) < 3 {
				return errors.New("poll failed")
			}
			require.NoError(t, l.CommitOffset(ctx, tok, int64(tok.Fence)))
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	require.Eventually(t, func() bool { return calls.Load() == 3 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Hold did not return")
	}
	h, err := l.Holder(context.Background())
	require.NoError(t, err)
	require.Empty(t, h, "released when fn returned")
	off, err := l.Offset(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 3, off)
}

func TestHoldReturnsWhileWaiting(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client()
	other := lease.NewRedis(rc, "t", "poller", "other", 10*time.Second)
	_, ok, err := other.TryAcquire(context.Background())
	require.NoError(t, err)
	require.True(t, ok)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var called atomic.Bool
	err = lease.Hold(ctx, lease.NewRedis(rc, "t", "poller", "a", 10*time.Second),
		lease.HoldOptions{Retry: 20 * time.Millisecond},
		func(context.Context, lease.Token) error { called.Store(true); return nil })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, called.Load(), "fn must not run while another node holds the lease")
}
