package cron

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/internal/sysstat"
	"github.com/mirrorleech/mirrorleech/messages"
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
	stopT   scheduler.CancelFunc
	waiting []waiter
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
	return actor.PropsFromProducer(func() actor.Actor {
		return &Cron{o: o, log: o.Logger, tasks: map[messages.Stage]int{}}
	})
}

// Receive implements actor.Actor.
func (c *Cron) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.sampler = sysstat.NewSampler(c.o.DownloadDir, c.o.Started)
		c.timers = scheduler.NewTimerScheduler(ctx)
		self, root := ctx.Self(), ctx.ActorSystem().Root
		c.sub = ctx.ActorSystem().EventStream.Subscribe(func(evt interface{}) {
			if e, ok := evt.(*messages.TaskStageChanged); ok {
				root.Send(self, e)
			}
		})
		c.stopT = c.timers.SendRepeatedly(0, c.o.SampleEvery, self, &sampleTick{})
	case *actor.Stopping:
		if c.sub != nil {
			ctx.ActorSystem().EventStream.Unsubscribe(c.sub)
		}
		if c.stopT != nil {
			c.stopT()
		}
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
	fmt.Fprintf(&b, "<b>📊 Node %s</b>\n", escape(c.o.Node))
	fmt.Fprintf(&b, "Version: %s | Go %s\n", escape(c.o.Version), runtime.Version())
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

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
