package cron

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/mirrorleech/mirrorleech/actors/internal/repeat"
	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/internal/notice"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/internal/sysstat"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Defaults of the maintenance options; they match internal/config's defaults.
const (
	DefaultCleanupSchedule = "@daily"
	DefaultRetention       = 7 * 24 * time.Hour
	DefaultHealthInterval  = 5 * time.Minute
	// OrphanMinAge is how long an entry of DOWNLOAD_DIR must have been left
	// untouched before cleanup may remove it: the second guard, after the
	// store, for data whose task record is not written yet.
	OrphanMinAge = 10 * time.Minute
)

// Options configures the cron actor.
type Options struct {
	Node        string
	DownloadDir string
	Started     time.Time
	Version     string
	// SampleEvery is the statistics period. Default: 5s.
	SampleEvery time.Duration
	Logger      *slog.Logger
	// OnSample, if set, is called with every sample (metrics).
	OnSample func(sysstat.Stats)

	// Store is the task store. Cleanup and prune need it to tell orphans
	// from live data, so without it they never run; the health check then
	// skips the store.
	Store store.Store
	// OwnerID receives the health notices; 0 only logs them.
	OwnerID int64
	// Notices decides which node of a cluster announces a health problem
	// and its recovery, so the owner gets one notice per problem; nil (a
	// node alone) announces every one.
	Notices *notice.Dedup
	// CleanupSchedule is the cron spec (robfig/cron standard syntax) of the
	// cleanup and prune run. Default: @daily.
	CleanupSchedule string
	// Retention is the age at which finished task records are pruned.
	// Default: 168h.
	Retention time.Duration
	// HealthInterval is the period of the health checks. Default: 5m.
	HealthInterval time.Duration
	// MinFreeDisk is the free-space floor of DownloadDir; 0 only checks that
	// some space is left.
	MinFreeDisk int64
	// InUse, when set, keeps a folder of a finished task that is still in
	// use (a seeding torrent) out of the orphan cleanup.
	InUse func(dir string) bool
	// Telegram probes the Bot API (main passes a getMe call); nil skips it.
	Telegram func(ctx context.Context) error
	// Now is the clock of the schedules and of the orphan age guard; nil
	// means time.Now. Tests inject a fake one and deliver the timer messages
	// themselves.
	Now func() time.Time
	// OnJob, if set, is called on the actor with the report of every
	// finished maintenance run (metrics, tests).
	OnJob func(JobReport)
}

// Job names of JobReport.
const (
	JobCleanup = "cleanup"
	JobHealth  = "health"
)

// JobReport describes one finished maintenance run.
type JobReport struct {
	Job string
	// At is when the run started, by Options.Now.
	At time.Time
	// Removed and Bytes count the orphaned entries of DOWNLOAD_DIR that
	// cleanup removed and the bytes they held; Kept counts orphans left
	// because they were modified within OrphanMinAge.
	Removed int
	Bytes   int64
	Kept    int
	// Pruned counts the finished task records cleanup deleted.
	Pruned int
	// Failing names the health checks that failed, in check order.
	Failing []string
	// Err joins the errors of a cleanup run; nil when it all worked.
	Err error
}

type sampleTick struct{}

type sampled struct {
	st  sysstat.Stats
	err error
}

// Cron is the maintenance actor.
type Cron struct {
	o       Options
	log     *slog.Logger
	sampler *sysstat.Sampler
	last    sysstat.Stats
	busy    bool
	tasks   map[messages.Stage]int
	sub     *eventstream.Subscription
	timers  *scheduler.TimerScheduler
	stopT   repeat.Cancel
	waiting []waiter

	// work is cancelled when the actor stops or restarts; every worker
	// goroutine runs under it.
	work   context.Context
	cancel context.CancelFunc
	jobs   map[string]*job
	health healthState
}

type waiter struct {
	pid  *actor.PID
	show *messages.ShowStats
}

var _ actor.Actor = (*Cron)(nil)

// Props returns the cron actor's props.
func Props(o Options) *actor.Props {
	if o.SampleEvery <= 0 {
		o.SampleEvery = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CleanupSchedule == "" {
		o.CleanupSchedule = DefaultCleanupSchedule
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = DefaultHealthInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &Cron{o: o, log: o.Logger, tasks: map[messages.Stage]int{}}
	})
}

// Receive implements actor.Actor.
func (c *Cron) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.sampler = sysstat.NewSampler(c.o.DownloadDir, c.o.Started)
		// Timers fire on their own goroutines, so they send through the
		// root context, never through this actor's context.
		self, root := ctx.Self(), ctx.ActorSystem().Root
		c.timers = scheduler.NewTimerScheduler(root)
		c.sub = ctx.ActorSystem().EventStream.Subscribe(func(evt interface{}) {
			if e, ok := evt.(*messages.TaskStageChanged); ok {
				root.Send(self, e)
			}
		})
		c.stopT = repeat.Send(root, 0, c.o.SampleEvery, self, &sampleTick{})
		c.work, c.cancel = context.WithCancel(context.Background())
		c.startJobs(ctx)
	case *actor.Stopping:
		c.shutdown(ctx)
	case *actor.Restarting:
		// The next incarnation subscribes and arms its timers afresh.
		c.shutdown(ctx)
	case *sampleTick:
		c.sample(ctx)
	case *sampled:
		c.busy = false
		if m.err != nil {
			c.log.Warn("sampling node statistics", slog.Any("err", m.err))
		}
		if m.st.MemTotal > 0 || m.err == nil {
			c.last = m.st
			if c.o.OnSample != nil {
				c.o.OnSample(m.st)
			}
		}
		for _, w := range c.waiting {
			if w.show != nil {
				c.showStats(ctx, w.show)
			} else {
				ctx.Send(w.pid, c.nodeStats())
			}
		}
		c.waiting = nil
	case *jobTick:
		c.tick(ctx, m.job)
	case *cleanupDone:
		c.cleanupDone(m)
	case *healthDone:
		c.healthDone(ctx, m)
	case *messages.TaskStageChanged:
		if m.From != 0 && !m.From.Final() {
			c.tasks[m.From]--
		}
		if !m.To.Final() {
			c.tasks[m.To]++
		}
		if m.To.Final() {
			c.tasks[m.To]++ // finished tasks are counted since start
		}
	case *messages.GetNodeStats:
		if c.last.MemTotal == 0 && ctx.Sender() != nil {
			c.waiting = append(c.waiting, waiter{pid: ctx.Sender()})
			c.sample(ctx)
			return
		}
		ctx.Respond(c.nodeStats())
	case *messages.ShowStats:
		// /stats shows a fresh sample.
		c.waiting = append(c.waiting, waiter{show: m})
		c.sample(ctx)
	}
}

// shutdown releases what Started acquired: the subscription, the timers and
// the workers' context.
func (c *Cron) shutdown(ctx actor.Context) {
	if c.sub != nil {
		ctx.ActorSystem().EventStream.Unsubscribe(c.sub)
		c.sub = nil
	}
	if c.stopT != nil {
		c.stopT()
		c.stopT = nil
	}
	for _, j := range c.jobs {
		j.disarm()
	}
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *Cron) sample(ctx actor.Context) {
	if c.busy {
		return
	}
	c.busy = true
	self, root, s := ctx.Self(), ctx.ActorSystem().Root, c.sampler
	go func() {
		st, err := s.Sample()
		root.Send(self, &sampled{st: st, err: err})
	}()
}

func (c *Cron) nodeStats() *messages.NodeStats {
	st := c.last
	mem := 0.0
	if st.MemTotal > 0 {
		mem = 100 * float64(st.MemTotal-st.MemAvailable) / float64(st.MemTotal)
	}
	tasks := make(map[messages.Stage]int, len(c.tasks))
	for k, v := range c.tasks {
		tasks[k] = v
	}
	return &messages.NodeStats{Node: c.o.Node, Uptime: time.Since(c.o.Started), CPUPercent: st.CPUPercent,
		MemPercent: mem, ProcRSS: st.ProcRSS, DiskFree: st.DiskFree, DiskTotal: st.DiskTotal, Load1: st.Load1, Tasks: tasks}
}

func (c *Cron) showStats(ctx actor.Context, m *messages.ShowStats) {
	n := c.nodeStats()
	st := c.last
	var b strings.Builder
	fmt.Fprintf(&b, "<b>📊 Node %s</b>\n", html.EscapeString(c.o.Node))
	fmt.Fprintf(&b, "Version: %s | Go %s\n", html.EscapeString(c.o.Version), runtime.Version())
	fmt.Fprintf(&b, "Uptime: %s\n", board.Duration(n.Uptime.Round(time.Second)))
	fmt.Fprintf(&b, "CPU: %.1f%% | Load: %.2f %.2f %.2f\n", st.CPUPercent, st.Load1, st.Load5, st.Load15)
	fmt.Fprintf(&b, "RAM: %.1f%% of %s | Bot: %s\n", n.MemPercent, board.Bytes(st.MemTotal), board.Bytes(st.ProcRSS))
	fmt.Fprintf(&b, "Disk: %s free of %s\n", board.Bytes(st.DiskFree), board.Bytes(st.DiskTotal))
	fmt.Fprintf(&b, "\n<b>Tasks</b>\n")
	for _, s := range []messages.Stage{messages.StageQueued, messages.StageDownloading, messages.StageArchiving,
		messages.StageUploading} {
		fmt.Fprintf(&b, "%s: %d\n", s, max(0, n.Tasks[s]))
	}
	fmt.Fprintf(&b, "Since start: %d done, %d failed, %d cancelled", n.Tasks[messages.StageDone],
		n.Tasks[messages.StageFailed], n.Tasks[messages.StageCancelled])
	ctx.Send(messages.Local(ctx.ActorSystem(), messages.OutboxName), &messages.SendText{
		ChatID: m.ChatID, ReplyTo: m.ReplyTo, Text: b.String(), HTML: true})
}
