package cron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/internal/notice"
	"github.com/mirrorleech/mirrorleech/internal/sysstat"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Health check names, in the order they are reported.
const (
	checkTelegram = "telegram"
	checkStore    = "store"
	checkDisk     = "disk"
)

// maxProbeTime bounds one health run; a probe that hangs counts as failed.
const maxProbeTime = 30 * time.Second

// maxPending bounds the owner notices held back while Telegram is down.
const maxPending = 20

// checkResult is the outcome of one health check.
type checkResult struct {
	name string
	err  error
	// announce is set by the worker on a check that starts or stops
	// failing: whether this node tells the owner (see Options.Notices).
	announce bool
}

// healthDone is the report of a health worker.
type healthDone struct {
	at      time.Time
	results []checkResult
}

// problem is a failing check, from its first failed run on.
type problem struct {
	since time.Time
	err   error
}

// healthState is what the actor remembers between health runs, so that a
// problem is reported when it starts and when it clears, never in between.
type healthState struct {
	problems map[string]*problem
	// pending holds owner notices while the Bot API is unreachable; they
	// are sent once it answers again.
	pending []string
}

// probe is one health check run by the worker.
type probe struct {
	name string
	fn   func(ctx context.Context) error
}

func (c *Cron) probes() []probe {
	var ps []probe
	if c.o.Telegram != nil {
		ps = append(ps, probe{checkTelegram, c.o.Telegram})
	}
	if st := c.o.Store; st != nil {
		ps = append(ps, probe{checkStore, st.Ping})
	}
	dir, floor := c.o.DownloadDir, c.o.MinFreeDisk
	ps = append(ps, probe{checkDisk, func(context.Context) error { return checkFreeDisk(dir, floor) }})
	return ps
}

// checkFreeDisk fails when dir's file system is full or below floor bytes.
func checkFreeDisk(dir string, floor int64) error {
	free, _, err := sysstat.DiskFree(dir)
	switch {
	case err != nil:
		return fmt.Errorf("reading the free space of the download directory: %w", err)
	case free <= 0:
		return errors.New("the download directory's disk is full")
	case free < floor:
		return fmt.Errorf("the download directory's disk has %s free, below MIN_FREE_DISK (%s)",
			board.Bytes(free), board.Bytes(floor))
	}
	return nil
}

func (c *Cron) startHealth(ctx actor.Context, at time.Time) {
	self, root, work := ctx.Self(), ctx.ActorSystem().Root, c.work
	probes, timeout := c.probes(), min(maxProbeTime, c.o.HealthInterval)
	// Health runs one at a time, so this view of the failing checks is
	// the one the run's transitions are decided against.
	failing := map[string]bool{}
	for name := range c.health.problems {
		failing[name] = true
	}
	notices, node := c.o.Notices, c.o.Node
	go func() {
		res := runProbes(work, probes, timeout, at)
		decideNotices(work, notices, node, failing, res.results)
		root.Send(self, res)
	}()
}

// nodeChecks are the checks of this node's own resources; the others (the
// store, the Bot API) are shared by the cluster, so one notice covers all.
var nodeChecks = map[string]bool{checkDisk: true}

// decideNotices marks the results whose transition this node announces:
// with Notices, the claims decide; without, every transition is announced.
func decideNotices(ctx context.Context, d *notice.Dedup, node string, failing map[string]bool, results []checkResult) {
	for i := range results {
		r := &results[i]
		problem := r.name
		if nodeChecks[r.name] {
			problem += ":" + node
		}
		switch {
		case d == nil:
			r.announce = true
		case r.err != nil && !failing[r.name]:
			r.announce = d.Start(ctx, problem)
		case r.err != nil:
			d.Hold(ctx, problem)
		case failing[r.name]:
			r.announce = d.End(ctx, problem)
		}
	}
}

// runProbes runs the probes side by side, so that one that hangs delays the
// others by nothing and the run by at most timeout.
func runProbes(ctx context.Context, probes []probe, timeout time.Duration, at time.Time) *healthDone {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := &healthDone{at: at, results: make([]checkResult, len(probes))}
	var wg sync.WaitGroup
	for i, p := range probes {
		res.results[i].name = p.name
		wg.Go(func() {
			done := make(chan error, 1)
			go func() { done <- p.fn(ctx) }()
			select {
			case err := <-done:
				res.results[i].err = err
			case <-ctx.Done():
				// A probe that ignores its context is abandoned, not awaited.
				res.results[i].err = fmt.Errorf("no answer within %s: %w", timeout, ctx.Err())
			}
		})
	}
	wg.Wait()
	return res
}

// healthDone applies a health run: a check that starts failing is reported
// once, one that recovers is reported once, and an unchanged state is only
// logged at debug level. Telegram goes first, because while it is down the
// other notices are held back, and when it recovers its notice leads.
func (c *Cron) healthDone(ctx actor.Context, m *healthDone) {
	c.finished(JobHealth)
	h := &c.health
	if h.problems == nil {
		h.problems = map[string]*problem{}
	}
	var failing []string
	for _, r := range m.results {
		if r.err != nil {
			failing = append(failing, r.name)
		}
		p := h.problems[r.name]
		switch {
		case r.err != nil && p == nil:
			h.problems[r.name] = &problem{since: m.at, err: r.err}
			if r.name == checkTelegram {
				// The owner cannot be told through Telegram: log it loudly
				// and tell them once it is back.
				c.log.Error("health: the Bot API is unreachable", slog.Any("err", r.err))
				continue
			}
			c.log.Warn("health check failed", slog.String("check", r.name), slog.Any("err", r.err))
			if r.announce {
				c.notify(ctx, problemText(c.o.Node, r.name, r.err))
			}
		case r.err != nil:
			p.err = r.err
			c.log.Debug("health check still failing", slog.String("check", r.name), slog.Any("err", r.err))
		case p != nil:
			delete(h.problems, r.name)
			down := m.at.Sub(p.since)
			c.log.Info("health check recovered", slog.String("check", r.name), slog.Duration("after", down))
			if r.announce {
				c.notify(ctx, recoveredText(c.o.Node, r.name, p.since, down))
			}
			if r.name == checkTelegram {
				c.flushPending(ctx)
			}
		}
	}
	if c.o.OnJob != nil {
		c.o.OnJob(JobReport{Job: JobHealth, At: m.at, Failing: failing})
	}
}

// notify sends text to the owner, or holds it back while the Bot API is
// unreachable.
func (c *Cron) notify(ctx actor.Context, text string) {
	if c.o.OwnerID == 0 {
		return
	}
	h := &c.health
	if h.problems[checkTelegram] != nil {
		if len(h.pending) == maxPending {
			c.log.Warn("health: dropping an owner notice held back during the Bot API outage")
			h.pending = h.pending[1:]
		}
		h.pending = append(h.pending, text)
		return
	}
	ctx.Send(messages.Local(ctx.ActorSystem(), messages.OutboxName), &messages.SendText{ChatID: c.o.OwnerID, Text: text})
}

func (c *Cron) flushPending(ctx actor.Context) {
	pending := c.health.pending
	c.health.pending = nil
	for _, text := range pending {
		c.notify(ctx, text)
	}
}

// problemText is the owner's notice of a check that started failing.
func problemText(node, check string, err error) string {
	switch check {
	case checkStore:
		return fmt.Sprintf("⚠️ Node %s: the task store does not answer (%v). New tasks cannot be saved until it does.", node, err)
	case checkDisk:
		return fmt.Sprintf("⚠️ Node %s: %v.", node, err)
	}
	return fmt.Sprintf("⚠️ Node %s: health check %s failed: %v.", node, check, err)
}

// recoveredText is the owner's notice of a check that passes again. The
// Telegram notice carries no error text: the outage is over and the probe's
// error is in the log.
func recoveredText(node, check string, since time.Time, down time.Duration) string {
	d := board.Duration(down.Round(time.Second))
	switch check {
	case checkTelegram:
		return fmt.Sprintf("✅ Node %s: the Telegram Bot API was unreachable for %s (since %s); it answers again.",
			node, d, since.UTC().Format("2006-01-02 15:04 MST"))
	case checkStore:
		return fmt.Sprintf("✅ Node %s: the task store answers again, after %s.", node, d)
	case checkDisk:
		return fmt.Sprintf("✅ Node %s: the download directory's disk has enough free space again, after %s.", node, d)
	}
	return fmt.Sprintf("✅ Node %s: health check %s passes again, after %s.", node, check, d)
}
