// Package worker runs the blocking part of a stage actor: one attempt's work
// in a goroutine with a cancellable context, so that Receive never blocks.
//
// It owns the goroutine and its cancellation, nothing else. The stage starts
// it on Started and halts it on Stopping or Restarting; Halt cancels and
// waits, bounded, so no write of a stopped attempt lands after its stage is
// gone. The work function reports results itself (by sending to the stage),
// and should not send once its context is cancelled. Halt reports false when
// the goroutine did not end in time; it cannot fail otherwise.
package worker

import (
	"context"
	"time"
)

// Worker is one stage's worker goroutine; the zero value is idle. It is used
// by its actor only, so it needs no lock.
type Worker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs fn in a new goroutine with a context that Halt cancels.
func (w *Worker) Start(fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w.cancel, w.done = cancel, done
	go func() {
		defer close(done)
		fn(ctx)
	}()
}

// Running reports whether a worker was started and not halted.
func (w *Worker) Running() bool { return w.cancel != nil }

// Finished records that the work reported its end: a later Halt only
// cancels the (already ended) context and does not wait.
func (w *Worker) Finished() { w.done = nil }

// Halt cancels the work and waits up to wait for its goroutine to end. It
// returns false when the goroutine was still running at the deadline.
func (w *Worker) Halt(wait time.Duration) bool {
	if w.cancel == nil {
		return true
	}
	w.cancel()
	ok := true
	if w.done != nil {
		select {
		case <-w.done:
		case <-time.After(wait):
			ok = false
		}
	}
	w.cancel, w.done = nil, nil
	return ok
}
