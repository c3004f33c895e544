package task

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/internal/tgtext"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/supervision"
)

// Options configures every task of the node.
type Options struct {
	Node     string
	Store    store.TaskStore
	Policy   supervision.Policy
	Download download.Options
	// Archive builds the archive stage (-z, -e) of a task: it zips or
	// extracts in, the download's result, under the task's folder dir and
	// answers ArchiveFinished. Nil refuses archive tasks.
	Archive func(spec messages.TaskSpec, in messages.DownloadFinished, dir string) *actor.Props
	Upload  upload.Options
	// Retain, when set, is asked before a finished task's folder is
	// removed: true means someone else (a seeding torrent) took it over.
	Retain func(dir string) bool
	// Owner is this process's cluster member id. Every write to the task's
	// record checks it still holds the task, so a node that was presumed
	// lost and came back stops instead of running it twice. "" = no check.
	Owner string
	// SelectTimeout bounds how long a torrent waits for the user to choose
	// its files (-s) while holding a download slot. Default: 1h.
	SelectTimeout time.Duration
	Logger        *slog.Logger
	// Observe is told about every supervision decision (metrics, tests).
	Observe func(supervision.Decision)
	// PushInterval bounds how often progress is pushed to the board.
	// Default: 1s.
	PushInterval time.Duration
	// CheckpointInterval bounds how often progress is written to the store.
	// Default: 5s.
	CheckpointInterval time.Duration
}

// Run is what a task starts from: its record, and whether it is a resume
// after a restart.
type Run struct {
	Record  store.Task
	Dir     string
	Resumed bool
}

type persisted struct {
	seq uint64
	err error
}

type cleaned struct{ err error }

// resultChecked says whether a resumed task's data is still on disk; next is
// the stage it resumes in.
type resultChecked struct {
	exists bool
	next   messages.Stage
}

// Task is the task actor.
type Task struct {
	o        Options
	spec     messages.TaskSpec
	run      Run
	log      *slog.Logger
	strategy *supervision.StageStrategy
	stage    messages.Stage
	snap     messages.TaskSnapshot
	child    *actor.PID
	download *messages.DownloadFinished // what the download produced
	result   *messages.DownloadFinished // what the upload delivers: the download or the archive's output
	sel      *selection                 // the file choice in progress (-s)
	selGen   int
	parts    map[int]int
	pushed   time.Time
	saved    time.Time
	end      messages.Stage // set once the task is ending
	reason   string
	where    string
	warning  string // for the final message: what the archive stage left out
	size     int64
	started  time.Time
	writes   chan func()
	closed   bool
	seq      uint64
	pending  map[uint64]func(actor.Context, error)
	reported bool
	self     *actor.PID
	root     *actor.RootContext
	entered  time.Time // when the current stage began
	lost     bool      // another node took the task over
}

var (
	_ actor.Actor              = (*Task)(nil)
	_ actor.SupervisorStrategy = (*Task)(nil)
)

// Props returns the props of a task.
func Props(o Options, r Run) *actor.Props {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PushInterval <= 0 {
		o.PushInterval = time.Second
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 5 * time.Second
	}
	if o.SelectTimeout <= 0 {
		o.SelectTimeout = time.Hour
	}
	return actor.PropsFromProducer(func() actor.Actor {
		spec := r.Record.Spec
		log := o.Logger.With(slog.String("task_id", spec.ID), slog.Int64("user_id", spec.UserID))
		parts := map[int]int{}
		for k, v := range r.Record.Parts {
			parts[k] = v
		}
		return &Task{o: o, spec: spec, run: r, log: log, parts: parts, pending: map[uint64]func(actor.Context, error){},
			strategy: supervision.NewStageStrategy(o.Policy, log, o.Observe)}
	})
}

// HandleFailure makes the task the supervisor of its stages.
func (t *Task) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, msg interface{}) {
	t.strategy.HandleFailure(sys, sup, child, rs, reason, msg)
}

func (t *Task) slots(ctx actor.Context) *actor.PID {
	return messages.Local(ctx.ActorSystem(), messages.SlotsName)
}

// Receive implements actor.Actor.
func (t *Task) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		t.start(ctx)
	case *actor.Stopping:
		// A task stopped from outside (node shutdown) keeps its record as
		// it is, so the next start resumes it; pending writes are flushed.
		t.closeWriter()
	case *persisted:
		if errors.Is(m.err, store.ErrOwned) {
			t.lose(ctx)
			return
		}
		if then, ok := t.pending[m.seq]; ok {
			delete(t.pending, m.seq)
			if m.err != nil {
				t.log.Error("saving task state", slog.Any("err", m.err))
			}
			then(ctx, m.err)
		}
	case *resultChecked:
		if m.exists {
			if m.next == messages.StageArchiving {
				t.startArchive(ctx)
				return
			}
			t.acquire(ctx, messages.SlotUpload)
			return
		}
		// The downloaded data is gone (a lost disk, a cleaned folder, or
		// the task moved from a lost node): download again rather than
		// fail. The parts Telegram already has are kept: the same source
		// splits into the same parts, and none is posted twice.
		t.log.Info("resumed task has no downloaded data, downloading again")
		t.result, t.download = nil, nil
		t.persist(func(r *store.Task) { r.Download, r.Archive = nil, nil }, nil)
		t.acquire(ctx, messages.SlotDownload)
	case *messages.SlotQueued:
		if t.end != 0 {
			return
		}
		t.snap.QueuePos = m.Position
		t.snap.Stage = messages.StageQueued
		t.snap.Note = fmt.Sprintf("waiting for a free %s slot", m.Kind)
		t.push(ctx)
	case *messages.SlotGranted:
		if t.end != 0 {
			return
		}
		t.snap.QueuePos, t.snap.Note = 0, ""
		if m.Kind == messages.SlotDownload {
			t.moveTo(ctx, messages.StageDownloading, func(ctx actor.Context) {
				t.spawn(ctx, download.Props(t.o.Download, download.Job{Spec: t.spec, Dir: t.run.Dir}))
			})
			return
		}
		t.snap.Done, t.snap.Total, t.snap.Speed = 0, t.result.Size, 0
		t.snap.Peers, t.snap.Seeders, t.snap.UpSpeed = 0, 0, 0
		t.snap.Engine = t.engineOf(messages.StageUploading)
		t.moveTo(ctx, messages.StageUploading, func(ctx actor.Context) {
			// A seeding torrent keeps reading its download, unless an
			// archive stage made a separate result.
			keep := t.spec.Seed.Enabled() && t.spec.Source.IsTorrent() && !t.archives()
			t.spawn(ctx, upload.Props(t.o.Upload, upload.Job{Spec: t.spec, Result: *t.result, Keep: keep}))
		})
	case *messages.SlotRefused:
		t.finish(ctx, messages.StageFailed, m.Reason)
	case *messages.StageProgressed:
		if t.end != 0 || m.Stage != t.stage {
			return
		}
		if m.Name != "" {
			t.snap.Name = m.Name
		}
		t.snap.Done, t.snap.Total, t.snap.Speed, t.snap.Note = m.Done, m.Total, m.Speed, m.Note
		t.snap.Peers, t.snap.Seeders, t.snap.UpSpeed = m.Peers, m.Seeders, m.UpSpeed
		if time.Since(t.pushed) >= t.o.PushInterval {
			t.push(ctx)
		}
		if time.Since(t.saved) >= t.o.CheckpointInterval {
			t.saved = time.Now()
			done, total := m.Done, m.Total
			t.persist(func(r *store.Task) { r.Done, r.Total = done, total }, nil)
		}
	case *messages.DownloadFinished:
		if t.end != 0 || t.stage != messages.StageDownloading {
			return
		}
		ctx.Stop(t.child)
		t.child = nil
		ctx.Send(t.slots(ctx), &messages.ReleaseSlot{Kind: messages.SlotDownload, TaskID: t.spec.ID})
		res := *m
		t.download = &res
		t.snap.Name = m.Name
		t.closeSelection(ctx, "")
		ctx.ActorSystem().EventStream.Publish(&messages.Transferred{Direction: "download", Via: t.spec.Source.Engine(), Bytes: m.Size})
		if t.archives() {
			t.persist(func(r *store.Task) { r.Download = &res }, func(ctx actor.Context, _ error) { t.startArchive(ctx) })
			return
		}
		t.result = &res
		t.persist(func(r *store.Task) { r.Download = &res; r.Stage = messages.StageUploading }, func(ctx actor.Context, _ error) {
			t.acquire(ctx, messages.SlotUpload)
		})
	case *messages.ArchiveFinished:
		if t.end != 0 || t.stage != messages.StageArchiving {
			return
		}
		ctx.Stop(t.child)
		t.child = nil
		arc := *m
		res := messages.DownloadFinished{Path: arc.Path, Name: arc.Name, Size: arc.Size}
		t.result, t.warning = &res, arc.Warning
		t.snap.Name = m.Name
		in, seeding := t.download.Path, t.spec.Seed.Enabled()
		t.persist(func(r *store.Task) { r.Archive = &arc; r.Stage = messages.StageUploading }, func(ctx actor.Context, err error) {
			if err == nil && !seeding && in != res.Path {
				// The archive replaces the download: free its space before
				// the upload (a seeding torrent still reads it).
				go func() {
					if err := os.RemoveAll(in); err != nil {
						t.log.Warn("removing the archived download", slog.Any("err", err))
					}
				}()
			}
			t.acquire(ctx, messages.SlotUpload)
		})
	case *messages.ChooseFiles:
		t.askFiles(ctx, m)
	case *messages.TextSent:
		if t.sel != nil && t.sel.msgID == 0 {
			t.sel.msgID = m.MessageID
		}
	case *messages.SendFailed:
		// Only the file list is sent with Request by a task.
		if t.sel != nil && t.sel.msgID == 0 && t.end == 0 {
			t.log.Warn("posting the file list", slog.Any("err", m.Err))
			t.finish(ctx, messages.StageFailed, "the file list could not be posted in this chat")
		}
	case *messages.SelectionPressed:
		t.onSelection(ctx, m)
	case *selectTimedOut:
		if t.sel != nil && t.sel.gen == m.gen && t.end == 0 {
			t.finish(ctx, messages.StageFailed, fmt.Sprintf("no files were chosen within %s", board.Duration(t.o.SelectTimeout)))
		}
	case *messages.GetUploadState:
		parts := make(map[int]int, len(t.parts))
		for k, v := range t.parts {
			parts[k] = v
		}
		ctx.Respond(&messages.UploadState{Parts: parts})
	case *messages.PartUploaded:
		t.parts[m.Index] = m.MessageID
		stage, idx, msgID := ctx.Sender(), m.Index, m.MessageID
		t.persist(func(r *store.Task) {
			if r.Parts == nil {
				r.Parts = map[int]int{}
			}
			r.Parts[idx] = msgID
		}, func(ctx actor.Context, _ error) {
			if stage != nil {
				ctx.Send(stage, &messages.PartRecorded{Index: idx})
			}
		})
	case *messages.UploadFinished:
		if t.end != 0 || t.stage != messages.StageUploading {
			return
		}
		t.where, t.size = m.Where, m.Size
		ctx.ActorSystem().EventStream.Publish(&messages.Transferred{Direction: "upload",
			Via: t.engineOf(messages.StageUploading), Bytes: m.Size})
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
		if t.end != 0 && !t.lost && len(ctx.Children()) == 0 {
			t.cleanup(ctx)
		}
	case *cleaned:
		if m.err != nil {
			t.log.Warn("removing task data", slog.Any("err", m.err))
		}
		end, reason, where := t.end, t.reason, t.where
		t.persist(func(r *store.Task) {
			r.Stage, r.Error, r.Where, r.Finished = end, reason, where, time.Now()
		}, func(ctx actor.Context, _ error) { t.report(ctx) })
	}
}

func (t *Task) start(ctx actor.Context) {
	t.started = time.Now()
	t.self, t.root = ctx.Self(), ctx.ActorSystem().Root
	t.startWriter()
	name := t.spec.Name
	if name == "" {
		name = SourceName(t.spec.Source)
	}
	if d := t.run.Record.Download; d != nil {
		res := *d
		t.download = &res
		if !t.archives() {
			t.result = &res
		}
		name = d.Name
	}
	if a := t.run.Record.Archive; a != nil {
		res := messages.DownloadFinished{Path: a.Path, Name: a.Name, Size: a.Size}
		t.result, t.warning = &res, a.Warning
		name = a.Name
	}
	t.snap = messages.TaskSnapshot{TaskID: t.spec.ID, UserID: t.spec.UserID, Name: name, Kind: t.spec.Kind,
		Engine: t.spec.Source.Engine(), Started: t.started, Node: t.o.Node, Stage: messages.StageQueued}
	t.stage = messages.StageQueued
	t.entered = t.started
	t.publishStage(ctx, 0, messages.StageQueued)
	t.log.Info("task started", slog.String("kind", t.spec.Kind.String()), slog.String("engine", t.snap.Engine),
		slog.Bool("resumed", t.run.Resumed))
	if !t.run.Resumed {
		t.push(ctx)
		t.acquire(ctx, messages.SlotDownload)
		return
	}
	node := t.o.Node
	t.persist(func(r *store.Task) { r.Resumes++; r.Node = node }, nil)
	t.push(ctx)
	next, p := messages.StageUploading, ""
	switch {
	case t.result != nil:
		p = t.result.Path
	case t.download != nil:
		next, p = messages.StageArchiving, t.download.Path
	default:
		t.acquire(ctx, messages.SlotDownload)
		return
	}
	self, root := ctx.Self(), ctx.ActorSystem().Root
	go func() {
		_, err := os.Stat(p)
		root.Send(self, &resultChecked{exists: err == nil, next: next})
	}()
}

// archives reports whether the task has an archive stage (-z, -e).
func (t *Task) archives() bool { return t.spec.Zip || t.spec.Extract }

// startArchive runs the archive stage on the download. It takes no slot:
// it is bounded by the download slots that fed it.
func (t *Task) startArchive(ctx actor.Context) {
	t.snap.Done, t.snap.Total, t.snap.Speed = 0, t.download.Size, 0
	t.snap.Peers, t.snap.Seeders, t.snap.UpSpeed = 0, 0, 0
	t.snap.Engine = t.engineOf(messages.StageArchiving)
	if t.o.Archive == nil {
		t.finish(ctx, messages.StageFailed, "this node cannot zip or extract")
		return
	}
	in := *t.download
	t.moveTo(ctx, messages.StageArchiving, func(ctx actor.Context) {
		t.spawn(ctx, t.o.Archive(t.spec, in, t.run.Dir))
	})
}

func (t *Task) acquire(ctx actor.Context, kind messages.SlotKind) {
	var size int64
	if kind == messages.SlotDownload && t.spec.Source.File != nil {
		size = t.spec.Source.File.Size
	}
	ctx.Request(t.slots(ctx), &messages.AcquireSlot{Kind: kind, TaskID: t.spec.ID, Force: t.spec.Force, Size: size})
}

// startWriter runs the task's store writes in order in one goroutine, so
// Receive never waits on the store and writes never overtake each other.
func (t *Task) startWriter() {
	t.writes = make(chan func(), 256)
	writes := t.writes
	go func() {
		for w := range writes {
			w()
		}
	}()
}

func (t *Task) closeWriter() {
	if !t.closed && t.writes != nil {
		t.closed = true
		close(t.writes)
	}
}

// persist applies update to the stored record; then, if set, runs on the
// actor once the write is done (or failed: a dead store is logged, and the
// task goes on with what it has in memory).
func (t *Task) persist(update func(*store.Task), then func(actor.Context, error)) {
	if t.closed {
		return
	}
	t.seq++
	seq := t.seq
	if then != nil {
		t.pending[seq] = then
	}
	st, id, self, root, owner := t.o.Store, t.spec.ID, t.self, t.root, t.o.Owner
	t.writes <- func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := st.UpdateTask(ctx, id, func(r *store.Task) error {
			if owner != "" && r.Owner != owner {
				return fmt.Errorf("task %s now held by %q: %w", id, r.Owner, store.ErrOwned)
			}
			update(r)
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			err = nil // the record was pruned; nothing to keep
		}
		root.Send(self, &persisted{seq: seq, err: err})
	}
}

// lose stops a task that another node has taken over (this node was
// presumed lost): its stages stop, and nothing is reported, written or
// removed, because the task and perhaps its folder belong to that node now.
func (t *Task) lose(ctx actor.Context) {
	if t.end != 0 {
		return
	}
	t.end = messages.StageCancelled
	t.lost, t.reported = true, true
	t.closeWriter()
	t.log.Warn("task taken over by another node; stopping it here")
	for _, k := range []messages.SlotKind{messages.SlotDownload, messages.SlotUpload} {
		ctx.Send(t.slots(ctx), &messages.ReleaseSlot{Kind: k, TaskID: t.spec.ID})
	}
	for _, c := range ctx.Children() {
		ctx.Stop(c)
	}
	ctx.Send(ctx.Parent(), &messages.TaskEnded{TaskID: t.spec.ID})
}

func (t *Task) spawn(ctx actor.Context, p *actor.Props) {
	pid := ctx.Spawn(p)
	t.strategy.Track(pid, t.stage)
	t.child = pid
}

// publishStage tells node-level observers (statistics, metrics) about a
// stage change; the engine is that of the stage left.
func (t *Task) publishStage(ctx actor.Context, from, to messages.Stage) {
	ctx.ActorSystem().EventStream.Publish(&messages.TaskStageChanged{TaskID: t.spec.ID, UserID: t.spec.UserID,
		Kind: t.spec.Kind, From: from, To: to, Engine: t.engineOf(from), Entered: t.entered})
	t.entered = time.Now()
}

func (t *Task) engineOf(s messages.Stage) string {
	switch s {
	case messages.StageDownloading:
		return t.spec.Source.Engine()
	case messages.StageArchiving:
		if t.spec.Extract {
			return "extract"
		}
		return "zip"
	case messages.StageUploading:
		if t.spec.Kind == messages.Mirror {
			return "dir"
		}
		return "telegram"
	}
	return ""
}

// moveTo writes the new stage to the store, then announces it and runs then.
func (t *Task) moveTo(ctx actor.Context, s messages.Stage, then func(actor.Context)) {
	from := t.stage
	t.stage = s
	t.persist(func(r *store.Task) { r.Stage = s }, func(ctx actor.Context, _ error) {
		if t.end != 0 {
			return
		}
		t.publishStage(ctx, from, s)
		t.snap.Stage = s
		t.push(ctx)
		if then != nil {
			then(ctx)
		}
	})
}

func (t *Task) push(ctx actor.Context) {
	t.pushed = time.Now()
	grains.Send(ctx, messages.ChatKind, strconv.FormatInt(t.spec.ChatID, 10),
		&messages.TaskUpdated{ChatID: t.spec.ChatID, Task: t.snap})
	ctx.ActorSystem().EventStream.Publish(&messages.TaskSnapshotted{ChatID: t.spec.ChatID, Task: t.snap})
}

// finish ends the task: stages are stopped first, the directory removed once
// they are gone, the end written to the store, then the user is told.
func (t *Task) finish(ctx actor.Context, end messages.Stage, reason string) {
	if t.end != 0 {
		return
	}
	t.end, t.reason = end, reason
	t.closeSelection(ctx, "")
	for _, k := range []messages.SlotKind{messages.SlotDownload, messages.SlotUpload} {
		ctx.Send(t.slots(ctx), &messages.ReleaseSlot{Kind: k, TaskID: t.spec.ID})
	}
	if len(ctx.Children()) > 0 {
		for _, c := range ctx.Children() {
			ctx.Stop(c)
		}
		return // Terminated continues
	}
	t.cleanup(ctx)
}

func (t *Task) cleanup(ctx actor.Context) {
	self, root, dir, retain := ctx.Self(), ctx.ActorSystem().Root, t.run.Dir, t.o.Retain
	go func() {
		if retain != nil && retain(dir) {
			// A seeding torrent holds the folder and removes it when done.
			root.Send(self, &cleaned{})
			return
		}
		root.Send(self, &cleaned{err: os.RemoveAll(dir)})
	}()
}

func (t *Task) report(ctx actor.Context) {
	if t.reported {
		return
	}
	t.reported = true
	ctx.Send(messages.Local(ctx.ActorSystem(), messages.OutboxName), &messages.SendText{
		ChatID: t.spec.ChatID, ReplyTo: t.spec.ReplyTo, HTML: true, Text: t.finalText(),
	})
	grains.Send(ctx, messages.ChatKind, strconv.FormatInt(t.spec.ChatID, 10),
		&messages.TaskRemoved{ChatID: t.spec.ChatID, TaskID: t.spec.ID})
	t.publishStage(ctx, t.stage, t.end)
	t.stage = t.end
	final := t.snap
	final.Stage, final.Speed = t.end, 0
	ctx.ActorSystem().EventStream.Publish(&messages.TaskSnapshotted{ChatID: t.spec.ChatID, Task: final})
	t.log.Info("task ended", slog.String("result", t.end.String()), slog.Duration("took", time.Since(t.started)))
	// The session stops the task when it has this report: a task that
	// stopped itself could be seen terminated before its report arrives.
	ctx.Send(ctx.Parent(), &messages.TaskEnded{TaskID: t.spec.ID, Stage: t.end})
}

func (t *Task) finalText() string {
	name := "<b>" + tgtext.Name(t.snap.Name, tgtext.NameLen) + "</b>"
	took := board.Duration(time.Since(t.started).Round(time.Second))
	switch t.end {
	case messages.StageDone:
		where := tgtext.Name(t.where, tgtext.NameLen)
		if t.spec.Kind == messages.Mirror {
			where = "<code>" + where + "</code>"
		}
		warning := ""
		if t.warning != "" {
			warning = "\n⚠️ " + tgtext.Escape(t.warning)
		}
		return fmt.Sprintf("✅ %s\nSize: %s | Time: %s\nDelivered to: %s%s\nTask: <code>%s</code>",
			name, board.Bytes(t.size), took, where, warning, t.spec.ID)
	case messages.StageCancelled:
		return fmt.Sprintf("🚫 %s was cancelled; its partial data is deleted.\nTask: <code>%s</code>", name, t.spec.ID)
	}
	return fmt.Sprintf("❌ %s failed: %s\nTask: <code>%s</code>", name, tgtext.Echo(t.reason, tgtext.EchoLen), t.spec.ID)
}

// SourceName is what a task shows as its name until the download names the
// result.
func SourceName(s messages.Source) string {
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

// Describe reports the task for the actor tree.
func (t *Task) Describe() map[string]any {
	d := map[string]any{"task_id": t.spec.ID, "kind": t.spec.Kind.String(), "stage": t.stage.String(),
		"name": t.snap.Name, "done": t.snap.Done, "total": t.snap.Total, "attempt": t.snap.Attempt}
	if t.snap.QueuePos > 0 {
		d["queue_position"] = t.snap.QueuePos
	}
	return d
}
