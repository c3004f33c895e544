package task

import (
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/actors/download"
	"github.com/mirrorleech/mirrorleech/actors/upload"
	"github.com/mirrorleech/mirrorleech/cluster/grains"
	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/supervision"
)

// Options configures every task of the node.
type Options struct {
	Node     string
	Policy   supervision.Policy
	Download download.Options
	Upload   upload.Options
	Logger   *slog.Logger
	// Observe is told about every supervision decision (metrics, tests).
	Observe func(supervision.Decision)
	// PushInterval bounds how often progress is pushed to the board.
	// Default: 1s.
	PushInterval time.Duration
}

// cleaned reports that the working directory is gone.
type cleaned struct{ err error }

// Task is the task actor.
type Task struct {
	o        Options
	spec     messages.TaskSpec
	dir      string
	log      *slog.Logger
	strategy *supervision.StageStrategy
	stage    messages.Stage
	snap     messages.TaskSnapshot
	child    *actor.PID
	parts    map[int]int
	pushed   time.Time
	end      messages.Stage // set once the task is ending
	reason   string
	result   *messages.UploadFinished
	started  time.Time
}

var (
	_ actor.Actor              = (*Task)(nil)
	_ actor.SupervisorStrategy = (*Task)(nil)
)

// Props returns the props of the task for spec, working in dir.
func Props(o Options, spec messages.TaskSpec, dir string) *actor.Props {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PushInterval <= 0 {
		o.PushInterval = time.Second
	}
	return actor.PropsFromProducer(func() actor.Actor {
		log := o.Logger.With(slog.String("task_id", spec.ID), slog.Int64("user_id", spec.UserID))
		return &Task{o: o, spec: spec, dir: dir, log: log, parts: map[int]int{},
			strategy: supervision.NewStageStrategy(o.Policy, log, o.Observe)}
	})
}

// HandleFailure makes the task the supervisor of its stages.
func (t *Task) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, msg interface{}) {
	t.strategy.HandleFailure(sys, sup, child, rs, reason, msg)
}

// Receive implements actor.Actor.
func (t *Task) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		t.started = time.Now()
		name := t.spec.Name
		if name == "" {
			name = sourceName(t.spec.Source)
		}
		t.snap = messages.TaskSnapshot{TaskID: t.spec.ID, UserID: t.spec.UserID, Name: name, Kind: t.spec.Kind,
			Engine: t.spec.Source.Engine(), Started: t.started, Node: t.o.Node}
		t.log.Info("task started", slog.String("kind", t.spec.Kind.String()), slog.String("engine", t.snap.Engine))
		t.moveTo(ctx, messages.StageDownloading)
		t.spawn(ctx, download.Props(t.o.Download, download.Job{Spec: t.spec, Dir: t.dir}))
	case *messages.StageProgressed:
		if t.end != 0 || m.Stage != t.stage {
			return
		}
		if m.Name != "" {
			t.snap.Name = m.Name
		}
		t.snap.Done, t.snap.Total, t.snap.Speed, t.snap.Note = m.Done, m.Total, m.Speed, m.Note
		if time.Since(t.pushed) >= t.o.PushInterval {
			t.push(ctx)
		}
	case *messages.DownloadFinished:
		if t.end != 0 || t.stage != messages.StageDownloading {
			return
		}
		ctx.Stop(t.child)
		t.child = nil
		t.snap.Name = m.Name
		t.snap.Done, t.snap.Total, t.snap.Speed = 0, m.Size, 0
		t.snap.Engine = "telegram"
		if t.spec.Kind == messages.Mirror {
			t.snap.Engine = "dir"
		}
		t.moveTo(ctx, messages.StageUploading)
		t.spawn(ctx, upload.Props(t.o.Upload, upload.Job{Spec: t.spec, Result: *m}))
	case *messages.GetUploadState:
		parts := make(map[int]int, len(t.parts))
		for k, v := range t.parts {
			parts[k] = v
		}
		ctx.Respond(&messages.UploadState{Parts: parts})
	case *messages.PartUploaded:
		t.parts[m.Index] = m.MessageID
	case *messages.UploadFinished:
		if t.end != 0 || t.stage != messages.StageUploading {
			return
		}
		t.result = m
		t.finish(ctx, messages.StageDone, "")
	case *messages.StageRetrying:
		t.snap.Attempt = m.Attempt
		t.snap.Note = fmt.Sprintf("retrying in %s: %s", m.Delay.Round(100*time.Millisecond), m.Reason)
		t.push(ctx)
	case *messages.StageGaveUp:
		if t.end != 0 {
			return
		}
		reason := m.Reason
		if m.Attempts > 1 {
			reason = fmt.Sprintf("%s (after %d attempts)", reason, m.Attempts)
		}
		t.log.Info("task failed", slog.String("stage", m.Stage.String()), slog.Any("err", m.Err))
		t.child = nil // the strategy stopped it
		t.finish(ctx, messages.StageFailed, reason)
	case *messages.CancelTask:
		t.finish(ctx, messages.StageCancelled, "")
	case *actor.Terminated:
		t.strategy.Forget(m.Who)
		if t.child != nil && t.child.Equal(m.Who) {
			t.child = nil
		}
		if t.end != 0 && len(ctx.Children()) == 0 {
			t.cleanup(ctx)
		}
	case *cleaned:
		if m.err != nil {
			t.log.Warn("removing task data", slog.Any("err", m.err))
		}
		t.report(ctx)
	}
}

func (t *Task) spawn(ctx actor.Context, p *actor.Props) {
	pid := ctx.Spawn(p)
	t.strategy.Track(pid, t.stage)
	t.child = pid
}

func (t *Task) moveTo(ctx actor.Context, s messages.Stage) {
	from := t.stage
	t.stage = s
	t.snap.Stage = s
	ctx.ActorSystem().EventStream.Publish(&messages.TaskStageChanged{TaskID: t.spec.ID, Kind: t.spec.Kind, From: from, To: s})
	if !s.Final() {
		t.push(ctx)
	}
}

func (t *Task) push(ctx actor.Context) {
	t.pushed = time.Now()
	grains.Send(ctx, messages.ChatKind, strconv.FormatInt(t.spec.ChatID, 10),
		&messages.TaskUpdated{ChatID: t.spec.ChatID, Task: t.snap})
}

// finish ends the task: stages are stopped first, the directory removed once
// they are gone, then the user is told.
func (t *Task) finish(ctx actor.Context, end messages.Stage, reason string) {
	if t.end != 0 {
		return
	}
	t.end, t.reason = end, reason
	if len(ctx.Children()) > 0 {
		for _, c := range ctx.Children() {
			ctx.Stop(c)
		}
		return // Terminated continues
	}
	t.cleanup(ctx)
}

func (t *Task) cleanup(ctx actor.Context) {
	self, root, dir := ctx.Self(), ctx.ActorSystem().Root, t.dir
	go func() { root.Send(self, &cleaned{err: os.RemoveAll(dir)}) }()
}

func (t *Task) report(ctx actor.Context) {
	ctx.Send(messages.Local(ctx.ActorSystem(), messages.OutboxName), &messages.SendText{
		ChatID: t.spec.ChatID, ReplyTo: t.spec.ReplyTo, HTML: true, Text: t.finalText(),
	})
	grains.Send(ctx, messages.ChatKind, strconv.FormatInt(t.spec.ChatID, 10),
		&messages.TaskRemoved{ChatID: t.spec.ChatID, TaskID: t.spec.ID})
	t.moveTo(ctx, t.end)
	t.log.Info("task ended", slog.String("result", t.end.String()), slog.Duration("took", time.Since(t.started)))
	// The session stops the task when it has this report: a task that
	// stopped itself could be seen terminated before its report arrives.
	ctx.Send(ctx.Parent(), &messages.TaskEnded{TaskID: t.spec.ID, Stage: t.end})
}

func (t *Task) finalText() string {
	name := "<b>" + html.EscapeString(t.snap.Name) + "</b>"
	took := board.Duration(time.Since(t.started).Round(time.Second))
	switch t.end {
	case messages.StageDone:
		r := t.result
		where := html.EscapeString(r.Where)
		if t.spec.Kind == messages.Mirror {
			where = "<code>" + where + "</code>"
		}
		return fmt.Sprintf("✅ %s\nSize: %s | Time: %s\nDelivered to: %s\nTask: <code>%s</code>",
			name, board.Bytes(r.Size), took, where, t.spec.ID)
	case messages.StageCancelled:
		return fmt.Sprintf("🚫 %s was cancelled; its partial data is deleted.\nTask: <code>%s</code>", name, t.spec.ID)
	}
	return fmt.Sprintf("❌ %s failed: %s\nTask: <code>%s</code>", name, html.EscapeString(t.reason), t.spec.ID)
}

func sourceName(s messages.Source) string {
	if s.File != nil {
		return s.File.Name
	}
	// Until the download names the file, show the last path segment: the
	// full link may carry tokens in its query.
	if u, err := url.Parse(s.URL); err == nil {
		if b := path.Base(u.Path); b != "/" && b != "." {
			if un, err := url.PathUnescape(b); err == nil {
				return un
			}
			return b
		}
		return u.Host
	}
	return "download"
}
