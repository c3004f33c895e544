package cron

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

func TestCleanupRunsAtTheTimesOfItsCronSpec(t *testing.T) {
	tests := []struct {
		spec string
		// ticks are the clock times at which a timer message is delivered;
		// runs are the ones that must start a run.
		ticks []time.Time
		runs  []time.Time
	}{
		{
			spec: "0 3 * * *",
			ticks: []time.Time{
				t0,                                    // 01:00: early
				t0.Add(2*time.Hour - time.Second),     // 02:59:59: early
				t0.Add(2 * time.Hour),                 // 03:00: due
				t0.Add(2*time.Hour + 30*time.Minute),  // 03:30: ran already
				t0.Add(25 * time.Hour),                // 02:00 next day: early
				t0.Add(26 * time.Hour),                // 03:00 next day: due
				t0.Add(26*time.Hour + 59*time.Second), // same minute: ran already
			},
			runs: []time.Time{t0.Add(2 * time.Hour), t0.Add(26 * time.Hour)},
		},
		{
			spec: "@every 1h",
			ticks: []time.Time{
				t0.Add(59 * time.Minute),  // early
				t0.Add(time.Hour),         // due
				t0.Add(90 * time.Minute),  // early: next is 03:00
				t0.Add(5 * time.Hour),     // late (the machine slept): one run
				t0.Add(5*time.Hour + 1),   // not again
				t0.Add(6*time.Hour - 1),   // early
				t0.Add(6 * time.Hour),     // due
				t0.Add(6*time.Hour + 1e9), // not again
			},
			runs: []time.Time{t0.Add(time.Hour), t0.Add(5 * time.Hour), t0.Add(6 * time.Hour)},
		},
		{
			spec: "@daily",
			ticks: []time.Time{
				t0.Add(22*time.Hour + 59*time.Minute), // 23:59: early
				t0.Add(23 * time.Hour),                // midnight: due
				t0.Add(24 * time.Hour),                // 01:00: ran already
			},
			runs: []time.Time{t0.Add(23 * time.Hour)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.CleanupSchedule = tt.spec }, nil)
			var got []time.Time
			for _, at := range tt.ticks {
				h.at(JobCleanup, at)
				h.barrier(t)
				// A run reports soon after the tick that started it; runs
				// that must not happen would show up here with their time.
				if len(got) < len(tt.runs) && at.Equal(tt.runs[len(got)]) {
					r := h.report(t)
					require.Equal(t, JobCleanup, r.Job)
					got = append(got, r.At)
				}
			}
			require.Equal(t, tt.runs, got)
			h.noReport(t)
		})
	}
}

// One run of a job at a time: a tick that comes due while the previous run
// still works is skipped, and the next run is planned from it.
func TestCleanupNeverRunsTwiceAtOnce(t *testing.T) {
	entered := make(chan struct{}, 4)
	gate := make(chan struct{})
	h := newHarness(t, nil, func(h *harness) {
		h.st.tasks = func(ctx context.Context, f store.Filter, inner func() ([]store.Task, error)) ([]store.Task, error) {
			if f.Unfinished {
				entered <- struct{}{}
				select {
				case <-gate:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return inner()
		}
	})
	putTask(t, h.st, "old", messages.StageDone, t0.Add(-30*24*time.Hour))

	h.at(JobCleanup, t0.Add(time.Hour))
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("the first run did not start")
	}
	h.at(JobCleanup, t0.Add(2*time.Hour)) // due, but the first run still works
	h.barrier(t)
	select {
	case <-entered:
		t.Fatal("a second run started while the first one worked")
	case <-time.After(quiet):
	}
	close(gate)

	r := h.report(t)
	require.Equal(t, t0.Add(time.Hour), r.At)
	require.Equal(t, 1, r.Pruned)

	h.at(JobCleanup, t0.Add(3*time.Hour)) // planned from the skipped tick
	r = h.report(t)
	require.Equal(t, t0.Add(3*time.Hour), r.At)
	require.Zero(t, r.Pruned)
	require.Len(t, entered, 1, "the third run listed the store once")
	h.noReport(t)
}

// The timers are real: with the real clock a short health interval fires by
// itself.
func TestHealthRunsOnARealTimer(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Now = nil
		o.HealthInterval = time.Second
	}, nil)
	start := time.Now()
	r := h.report(t)
	require.Equal(t, JobHealth, r.Job)
	require.Empty(t, r.Failing)
	require.WithinDuration(t, start, r.At, 2*time.Second)
}

func TestNoStoreMeansNoCleanup(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Store = nil
		o.HealthInterval = time.Minute
	}, nil)
	h.at(JobCleanup, t0.Add(24*time.Hour))
	h.noReport(t)
	// Health still runs, without the store check.
	h.at(JobHealth, t0.Add(25*time.Hour))
	r := h.report(t)
	require.Equal(t, JobHealth, r.Job)
	require.Empty(t, r.Failing)
}
