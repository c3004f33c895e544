package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// HoldOptions configures Hold.
type HoldOptions struct {
	// TTL is the lease TTL; Hold renews every TTL/3. Default: the lease's own
	// TTL when it has one (Redis), else 10s. A TTL longer than the lease's
	// own is cut to it, since Hold must never believe in a longer holding
	// than Redis grants.
	TTL time.Duration
	// Retry is how often a non-holder tries to acquire. Default: 2s.
	Retry time.Duration
	// Logger receives Redis errors (rate-limited) and lease changes.
	// Default: discard.
	Logger *slog.Logger
	// OnChange is called when this node starts/stops holding (metrics,
	// status), from Hold's goroutine.
	OnChange func(held bool)
}

const (
	defaultRetry = 2 * time.Second
	// errLogEvery bounds how often a persisting Redis failure is logged.
	errLogEvery = 30 * time.Second
)

// safeFor is how long after the start of a successful acquisition or renewal
// the holding is still certain: TTL minus a quarter of it. The margin covers
// clock-rate differences between this node and Redis and the time fn needs
// to notice its cancelled context. Redis starts the PX after the command
// arrives, so measuring from the moment the command was sent is
// conservative.
func safeFor(ttl time.Duration) time.Duration { return ttl - ttl/4 }

// ttler is implemented by leases with a TTL of their own (Redis).
type ttler interface{ TTL() time.Duration }

func (o HoldOptions) withDefaults(l Lease) HoldOptions {
	own := time.Duration(0)
	if t, ok := l.(ttler); ok {
		own = t.TTL()
	}
	switch {
	case o.TTL <= 0 && own > 0:
		o.TTL = own
	case o.TTL <= 0:
		o.TTL = DefaultTTL
	case own > 0 && o.TTL > own:
		o.TTL = own
	}
	if o.Retry <= 0 {
		o.Retry = defaultRetry
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Hold runs fn while this node holds the lease, for as long as ctx lives.
//
// It tries to acquire every Retry (Redis errors back off exponentially and
// are logged rate-limited), then calls fn with a context that is cancelled
// at once when a renewal answers ErrLost, or when no renewal has succeeded
// for TTL minus a safety margin: the holder stops before anyone else can
// acquire. The cancellation cause wraps ErrLost. When fn returns, the lease
// is released (best effort) and Hold acquires again after Retry, unless ctx
// is done. Hold returns ctx.Err() when ctx ends, never while fn runs: fn
// must return soon after its context is done.
func Hold(ctx context.Context, l Lease, o HoldOptions, fn func(ctx context.Context, tok Token) error) error {
	o = o.withDefaults(l)
	h := &holder{l: l, o: o, log: o.Logger, errs: errLog{log: o.Logger, every: errLogEvery}}
	bo := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(max(o.Retry/4, time.Millisecond)),
		backoff.WithMaxInterval(4*o.Retry),
		backoff.WithMaxElapsedTime(0), // a node keeps trying for as long as it lives
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		tok, ok, err := l.TryAcquire(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			h.errs.failed("acquire", err)
			if !sleep(ctx, bo.NextBackOff()) {
				return ctx.Err()
			}
			continue
		}
		h.errs.ok()
		bo.Reset()
		if ok {
			h.hold(ctx, tok, start, fn)
		}
		if !sleep(ctx, o.Retry) {
			return ctx.Err()
		}
	}
}

type holder struct {
	l    Lease
	o    HoldOptions
	log  *slog.Logger
	errs errLog // used only by Hold's goroutine
}

type renewal struct {
	start time.Time
	err   error
}

// hold runs fn for one holding of tok, acquired by a call sent at start,
// and releases the lease after fn returns.
func (h *holder) hold(ctx context.Context, tok Token, start time.Time, fn func(context.Context, Token) error) {
	safe := safeFor(h.o.TTL)
	fnCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	h.log.Info("lease acquired", "fence", tok.Fence)
	if h.o.OnChange != nil {
		h.o.OnChange(true)
	}
	done := make(chan error, 1)
	go func() { done <- fn(fnCtx, tok) }()

	// Renewals run in their own goroutine, one at a time, so a Renew that
	// hangs (and ignores its context) cannot delay the deadline below.
	// They use a context detached from ctx: while fn drains after ctx ends,
	// the lease is still held and renewed.
	renewed := make(chan renewal, 1)
	renewing, stopped := false, false
	valid := start.Add(safe) // the holding is certain until then
	deadline := time.NewTimer(time.Until(valid))
	defer deadline.Stop()
	tick := time.NewTicker(h.o.TTL / 3)
	defer tick.Stop()
	stop := func(cause error) {
		stopped = true
		cancel(cause)
		h.log.Warn("lease lost, stopping", "fence", tok.Fence, "err", cause)
	}

	var fnErr error
loop:
	for {
		select {
		case fnErr = <-done:
			break loop
		case <-tick.C:
			if renewing || stopped {
				continue
			}
			renewing = true
			until := valid
			go func() {
				s := time.Now()
				rctx, rcancel := context.WithDeadline(context.WithoutCancel(ctx), until)
				defer rcancel()
				renewed <- renewal{start: s, err: h.l.Renew(rctx, tok)}
			}()
		case r := <-renewed:
			renewing = false
			switch {
			case stopped:
			case r.err == nil:
				h.errs.ok()
				valid = r.start.Add(safe)
				deadline.Reset(time.Until(valid))
			case errors.Is(r.err, ErrLost):
				stop(fmt.Errorf("renewing: %w", ErrLost))
			default:
				h.errs.failed("renew", r.err)
			}
		case <-deadline.C:
			if !stopped {
				stop(fmt.Errorf("%w: no renewal succeeded for %v", ErrLost, safe))
			}
		}
	}

	if fnErr != nil && ctx.Err() == nil && !stopped {
		h.log.Warn("lease holder returned an error", "fence", tok.Fence, "err", fnErr)
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), h.o.TTL/3)
	if err := h.l.Release(rctx, tok); err != nil {
		// The lease expires by itself; the next holder waits at most TTL.
		h.log.Debug("releasing lease", "fence", tok.Fence, "err", err)
	}
	rcancel()
	if h.o.OnChange != nil {
		h.o.OnChange(false)
	}
	h.log.Info("lease released", "fence", tok.Fence)
}

// sleep waits d or until ctx is done; false when ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// errLog logs the first failure of a series, then at most once per every,
// and the recovery, so an unreachable Redis does not flood the log.
type errLog struct {
	log     *slog.Logger
	every   time.Duration
	last    time.Time
	n       int
	failing bool
}

func (e *errLog) failed(op string, err error) {
	e.n++
	if !e.failing || time.Since(e.last) >= e.every {
		e.log.Warn("lease: redis error", "op", op, "failures", e.n, "err", err)
		e.last = time.Now()
	}
	e.failing = true
}

func (e *errLog) ok() {
	if e.failing {
		e.log.Info("lease: redis reachable again", "failures", e.n)
	}
	e.failing, e.n = false, 0
}
