package ratelimit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Limiter allows at most limit events per key in any sliding window of
// length window.
type Limiter interface {
	// Allow records an event of key and reports true when fewer than limit
	// events happened in the last window; otherwise it records nothing and
	// reports how long until the next event would be allowed. limit <= 0
	// means unlimited.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// ErrBadWindow is returned when a limited Allow gets a window <= 0.
var ErrBadWindow = errors.New("ratelimit: window must be positive")

// sweepEvery is how often Memory drops keys without events in their window.
const sweepEvery = time.Minute

// Memory is the limiter of one process. It is safe for concurrent use and
// drops idle keys (no event in their last window) about once a minute,
// during a call, so it needs no goroutine.
type Memory struct {
	mu        sync.Mutex
	keys      map[string]*events
	now       func() time.Time // time.Now; replaced in tests
	lastSweep time.Time
}

// events is the log of one key: the times of its allowed events, oldest
// first, at most limit of them once pruned.
type events struct {
	times  []time.Time
	window time.Duration // of the last call, to tell when the key is idle
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory {
	return &Memory{keys: make(map[string]*events), now: time.Now}
}

// Allow implements Limiter. It never fails except on a bad window and
// ignores ctx (no I/O).
func (m *Memory) Allow(_ context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 {
		return true, 0, nil
	}
	if window <= 0 {
		return false, 0, ErrBadWindow
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Sub(m.lastSweep) >= sweepEvery {
		m.sweep(now)
	}
	e := m.keys[key]
	if e == nil {
		e = &events{}
		m.keys[key] = e
	}
	e.window = window
	// The window is (now-window, now]: an event exactly window old has left.
	cut := now.Add(-window)
	i := 0
	for i < len(e.times) && !e.times[i].After(cut) {
		i++
	}
	e.times = append(e.times[:0], e.times[i:]...)
	if len(e.times) < limit {
		e.times = append(e.times, now)
		return true, 0, nil
	}
	// With a limit lowered since the events were allowed there may be more
	// than limit of them; the next event fits when all but limit-1 have left.
	return false, e.times[len(e.times)-limit].Add(window).Sub(now), nil
}

// sweep drops keys whose newest event has left its window.
func (m *Memory) sweep(now time.Time) {
	m.lastSweep = now
	for k, e := range m.keys {
		if len(e.times) == 0 || !e.times[len(e.times)-1].Add(e.window).After(now) {
			delete(m.keys, k)
		}
	}
}
