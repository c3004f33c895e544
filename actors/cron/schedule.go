package cron

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	robfig "github.com/robfig/cron/v3"
)

// maxTimer caps one timer, so the clock is consulted at least hourly: a
// timer counts monotonic time, which stands still while the machine sleeps
// and ignores clock steps, while a cron spec names wall-clock times.
const maxTimer = time.Hour

// job is one maintenance job and its schedule. The actor computes the next
// run with the schedule's Next and arms a one-shot timer that sends jobTick;
// robfig/cron's own runner is not used, so the actor owns every run and the
// clock stays injectable.
type job struct {
	name  string
	sched robfig.Schedule
	// next is when the job is due; zero when the schedule never fires.
	next time.Time
	// running is true from the start of a run until its worker reports, so
	// a job never runs twice at once.
	running bool
	cancel  scheduler.CancelFunc
	// start launches a run's worker goroutine.
	start func(ctx actor.Context, at time.Time)
}

// jobTick says that job may be due. It is only a hint: the actor checks the
// clock, so a tick that comes early (or twice) re-arms the timer instead.
type jobTick struct {
	job string
}

func (j *job) disarm() {
	if j.cancel != nil {
		j.cancel()
		j.cancel = nil
	}
}

// startJobs builds the jobs from the options and arms their first timers.
func (c *Cron) startJobs(ctx actor.Context) {
	c.jobs = map[string]*job{}
	switch sched, err := robfig.ParseStandard(c.o.CleanupSchedule); {
	case c.o.Store == nil:
		c.log.Info("cleanup and prune are off: no task store to tell orphans from live data")
	case err != nil:
		c.log.Error("cleanup and prune are off: bad cleanup schedule",
			slog.String("schedule", c.o.CleanupSchedule), slog.Any("err", err))
	default:
		c.jobs[JobCleanup] = &job{name: JobCleanup, sched: sched, start: c.startCleanup}
	}
	c.jobs[JobHealth] = &job{name: JobHealth, sched: robfig.Every(c.o.HealthInterval), start: c.startHealth}
	now := c.o.Now()
	for _, j := range c.jobs {
		c.plan(ctx, j, now)
	}
}

// plan computes j's next run after now and arms its timer.
func (c *Cron) plan(ctx actor.Context, j *job, now time.Time) {
	j.next = j.sched.Next(now)
	if j.next.IsZero() {
		c.log.Error("maintenance job never fires again", slog.String("job", j.name))
		j.disarm()
		return
	}
	c.arm(ctx, j, now)
}

// arm replaces j's timer with one that fires at j.next, or within maxTimer.
func (c *Cron) arm(ctx actor.Context, j *job, now time.Time) {
	j.disarm()
	d := max(0, min(j.next.Sub(now), maxTimer))
	j.cancel = c.timers.SendOnce(d, ctx.Self(), &jobTick{job: j.name})
}

// tick runs the job if it is due and plans the next run.
func (c *Cron) tick(ctx actor.Context, name string) {
	j := c.jobs[name]
	if j == nil || j.next.IsZero() {
		return
	}
	now := c.o.Now()
	if now.Before(j.next) {
		c.arm(ctx, j, now)
		return
	}
	if j.running {
		// The next run is planned from now, so a slow run never causes a
		// burst of catch-up runs.
		c.log.Warn("maintenance run skipped: the previous one is still going",
			slog.String("job", name), slog.Time("due", j.next))
	} else {
		j.running = true
		j.start(ctx, now)
	}
	c.plan(ctx, j, now)
}

// finished marks the end of a run of the named job.
func (c *Cron) finished(name string) {
	if j := c.jobs[name]; j != nil {
		j.running = false
	}
}
