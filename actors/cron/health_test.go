package cron

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/notice"
	"github.com/mirrorleech/mirrorleech/internal/redistest"
)

// healthRun moves the clock one interval on, runs the health job and
// returns its report.
func (h *harness) healthRun(t *testing.T, interval time.Duration) JobReport {
	t.Helper()
	h.clock.Advance(interval)
	h.tick(JobHealth)
	r := h.report(t)
	require.Equal(t, JobHealth, r.Job)
	require.Equal(t, h.clock.Now(), r.At)
	return r
}

func texts(t *testing.T, h *harness) []string {
	t.Helper()
	var out []string
	for _, m := range h.sent(t) {
		require.Equal(t, int64(7), m.ChatID, "health notices go to the owner")
		out = append(out, m.Text)
	}
	return out
}

func TestHealthReportsAProblemOnceAndItsRecoveryOnce(t *testing.T) {
	const every = time.Minute
	h := newHarness(t, func(o *Options) {
		o.HealthInterval = every
		o.Telegram = func(context.Context) error { return nil }
	}, nil)

	require.Empty(t, h.healthRun(t, every).Failing)
	require.Empty(t, texts(t, h))

	h.st.setPingErr(errors.New("database not open"))
	for range 4 {
		require.Equal(t, []string{checkStore}, h.healthRun(t, every).Failing)
		got := texts(t, h)
		require.Len(t, got, 1, "one notice while the problem lasts, not one per interval")
		require.Contains(t, got[0], "task store does not answer")
		require.Contains(t, got[0], "database not open")
		require.Contains(t, got[0], "n1")
	}

	h.st.setPingErr(nil)
	require.Empty(t, h.healthRun(t, every).Failing)
	got := texts(t, h)
	require.Len(t, got, 2)
	require.Contains(t, got[1], "task store answers again, after 4m")

	for range 2 {
		require.Empty(t, h.healthRun(t, every).Failing)
	}
	require.Len(t, texts(t, h), 2, "nothing more once healthy")
}

func TestHealthTelegramOutageIsReportedWhenItIsOver(t *testing.T) {
	const every = time.Minute
	var tgDown atomic.Bool
	h := newHarness(t, func(o *Options) {
		o.HealthInterval = every
		o.Telegram = func(context.Context) error {
			if tgDown.Load() {
				return errors.New("dial tcp: connection refused")
			}
			return nil
		}
	}, nil)

	require.Empty(t, h.healthRun(t, every).Failing)
	tgDown.Store(true)
	since := h.clock.Now().Add(every)
	require.Equal(t, []string{checkTelegram}, h.healthRun(t, every).Failing)
	require.Equal(t, []string{checkTelegram}, h.healthRun(t, every).Failing)
	// The store fails during the outage: its notice waits for Telegram.
	h.st.setPingErr(errors.New("i/o error"))
	require.Equal(t, []string{checkTelegram, checkStore}, h.healthRun(t, every).Failing)
	require.Empty(t, texts(t, h), "nothing can be sent while the Bot API is unreachable")

	tgDown.Store(false)
	require.Equal(t, []string{checkStore}, h.healthRun(t, every).Failing)
	got := texts(t, h)
	require.Len(t, got, 2)
	require.Contains(t, got[0], "Telegram Bot API was unreachable for 3m")
	require.Contains(t, got[0], since.Format("2006-01-02 15:04"))
	require.NotContains(t, got[0], "connection refused", "the probe's error stays in the log")
	require.Contains(t, got[1], "task store does not answer (i/o error)")

	require.Equal(t, []string{checkStore}, h.healthRun(t, every).Failing)
	require.Len(t, texts(t, h), 2)
}

func TestHealthDiskBelowTheFloor(t *testing.T) {
	const every = time.Minute
	h := newHarness(t, func(o *Options) {
		o.HealthInterval = every
		o.MinFreeDisk = 1 << 62 // 4 EiB: no test machine has that much free
	}, nil)
	for range 3 {
		require.Equal(t, []string{checkDisk}, h.healthRun(t, every).Failing)
	}
	got := texts(t, h)
	require.Len(t, got, 1)
	require.Contains(t, got[0], "below MIN_FREE_DISK (4.0 EiB)")
}

func TestHealthWithoutOwnerOnlyLogs(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.OwnerID = 0 }, nil)
	h.st.setPingErr(errors.New("down"))
	require.Equal(t, []string{checkStore}, h.healthRun(t, time.Hour).Failing)
	require.Empty(t, h.sent(t))
}

func TestHealthProbeThatHangsCountsAsFailed(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	r := runProbes(context.Background(), []probe{
		{name: "hangs", fn: func(context.Context) error { <-release; return nil }},
		{name: "ok", fn: func(context.Context) error { return nil }},
	}, 50*time.Millisecond, t0)
	require.Len(t, r.results, 2)
	require.ErrorIs(t, r.results[0].err, context.DeadlineExceeded)
	require.NoError(t, r.results[1].err)
}

// Two nodes of a cluster see the store fail: the owner gets one notice,
// one recovery notice, and one notice again when it fails a second time.
// A node's own disk is its own problem, so each node reports it.
func TestHealthNoticesOncePerClusterProblem(t *testing.T) {
	rs := redistest.Start(t)
	const every = time.Minute
	nodes := make([]*harness, 2)
	for i := range nodes {
		name := fmt.Sprintf("n%d", i+1)
		nodes[i] = newHarness(t, func(o *Options) {
			o.Node, o.HealthInterval = name, every
			o.Telegram = func(context.Context) error { return nil }
			o.Notices = notice.New(notice.Options{Client: rs.Client(), Prefix: "test", Node: name})
		}, nil)
	}
	all := func() []string {
		var out []string
		for _, h := range nodes {
			out = append(out, texts(t, h)...)
		}
		return out
	}
	runAll := func() {
		for _, h := range nodes {
			h.healthRun(t, every)
		}
	}

	for _, h := range nodes {
		h.st.setPingErr(errors.New("connection refused"))
	}
	runAll()
	runAll()
	got := all()
	require.Len(t, got, 1, "one notice for the cluster: %q", got)
	require.Contains(t, got[0], "task store does not answer")

	for _, h := range nodes {
		h.st.setPingErr(nil)
	}
	runAll()
	got = all()
	require.Len(t, got, 2, "one recovery notice: %q", got)
	require.Contains(t, got[1], "task store answers again")

	for _, h := range nodes {
		h.st.setPingErr(errors.New("connection refused"))
	}
	runAll()
	got = all()
	require.Len(t, got, 3, "the recurrence is announced again: %q", got)
	require.Contains(t, got[2], "task store does not answer")
}
