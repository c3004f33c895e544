package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/actors/internal/worker"
	"github.com/mirrorleech/mirrorleech/internal/archive"
	"github.com/mirrorleech/mirrorleech/internal/speed"
	"github.com/mirrorleech/mirrorleech/internal/sysstat"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/supervision"
)

// Options configures the stage.
type Options struct {
	Logger *slog.Logger
	// StopWait bounds how long a stopping stage waits for its worker.
	// Default: 10s.
	StopWait time.Duration
	// MaxExtract is MAX_EXTRACT_SIZE: the most bytes one extraction writes
	// (0 = no limit but the disk). The stage also caps it by the free space
	// of the task folder, less FreeReserve.
	MaxExtract int64
	// MaxTaskSize is MAX_TASK_SIZE: the most bytes a task of a user who is
	// neither owner nor sudo may hold (0 = no limit). It bounds what an
	// extraction writes as it bounds the download.
	MaxTaskSize int64
	// Limits gives the entry and ratio limits (archive's defaults when
	// zero); its MaxTotal is replaced by the cap above.
	Limits archive.Limits
	// DiskFree measures a folder's free space. Default: sysstat.DiskFree.
	DiskFree func(dir string) (free, total int64, err error)
}

// FreeReserve is the free space an extraction leaves on the disk, for the
// bot's own state and the other tasks' small writes.
const FreeReserve = 64 << 20

// Job is one run of the archive stage.
type Job struct {
	// Spec says what to do: Zip/ZipPassword, Extract/ExtractPassword, Name.
	Spec messages.TaskSpec
	// Input is the download's result (a file or a folder); it is read, never
	// changed or removed.
	Input messages.DownloadFinished
	// Dir is the task's folder; the output goes under Dir/archive.
	Dir string
}

type workerProgress struct {
	name        string
	done, total int64
	note        string
}

type workerDone struct {
	res messages.ArchiveFinished
	err error
}

// Stage is the archive stage actor.
type Stage struct {
	o     Options
	job   Job
	log   *slog.Logger
	work  worker.Worker
	meter speed.Meter
	note  string
}

var _ actor.Actor = (*Stage)(nil)

// Props returns the props of an archive stage for job.
func Props(o Options, job Job) *actor.Props {
	if o.StopWait <= 0 {
		o.StopWait = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DiskFree == nil {
		o.DiskFree = sysstat.DiskFree
	}
	log := o.Logger.With(slog.String("task_id", job.Spec.ID), slog.Int64("user_id", job.Spec.UserID))
	return actor.PropsFromProducer(func() actor.Actor {
		return &Stage{o: o, job: job, log: log}
	})
}

// Receive implements actor.Actor.
func (s *Stage) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		s.start(ctx)
	case *actor.Stopping, *actor.Restarting:
		s.halt()
	case *workerProgress:
		s.note = m.note
		ctx.Send(ctx.Parent(), &messages.StageProgressed{Stage: messages.StageArchiving, Name: m.name,
			Done: m.done, Total: m.total, Speed: s.meter.Observe(m.done, time.Now()), Note: m.note})
	case *workerDone:
		s.work.Finished()
		if m.err != nil {
			s.log.Info("archive attempt failed", slog.Any("err", m.err))
			supervision.Escalate(ctx, userFacing(m.err))
			return
		}
		s.log.Info("archive stage finished", slog.String("name", m.res.Name), slog.Int64("size", m.res.Size))
		ctx.Send(ctx.Parent(), &m.res)
	}
}

func (s *Stage) start(ctx actor.Context) {
	self, root, job, o := ctx.Self(), ctx.ActorSystem().Root, s.job, s.o
	s.work.Start(func(wctx context.Context) {
		res, err := run(wctx, o, job, func(p workerProgress) { root.Send(self, &p) })
		if wctx.Err() != nil {
			return // stopped on purpose: nobody is waiting for the result
		}
		root.Send(self, &workerDone{res: res, err: err})
	})
}

// halt cancels the worker and waits for it, bounded, so that its partial
// output is gone before a successor starts or the task cleans up.
func (s *Stage) halt() {
	if !s.work.Halt(s.o.StopWait) {
		s.log.Warn("archive worker did not stop in time")
	}
}

// Describe reports the stage for the actor tree.
func (s *Stage) Describe() map[string]any {
	return map[string]any{"task_id": s.job.Spec.ID, "stage": "archive", "zip": s.job.Spec.Zip,
		"extract": s.job.Spec.Extract, "running": s.work.Running(), "note": s.note, "speed": s.meter.Rate()}
}

// run does the work of one attempt: extract, zip, or extract then zip. Each
// attempt starts from an empty Dir/archive and writes into a folder of its
// own there, so a straggling predecessor can never touch its output; on
// failure it removes what it wrote.
func run(ctx context.Context, o Options, job Job, report func(workerProgress)) (res messages.ArchiveFinished, err error) {
	base := filepath.Join(job.Dir, "archive")
	if err := os.RemoveAll(base); err != nil {
		return res, fmt.Errorf("cleaning the archive folder: %w", err)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return res, fmt.Errorf("creating the archive folder: %w", err)
	}
	out, err := os.MkdirTemp(base, "run-")
	if err != nil {
		return res, fmt.Errorf("creating the archive folder: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(out)
		}
	}()

	cur, name := job.Input.Path, job.Input.Name
	if name == "" {
		name = filepath.Base(cur)
	}
	var warning string
	if job.Spec.Extract {
		if cur, name, warning, err = extract(ctx, o, job, out, cur, name, report); err != nil {
			return res, err
		}
	}
	if !job.Spec.Zip {
		size, err := treeSize(cur)
		if err != nil {
			return res, err
		}
		return messages.ArchiveFinished{Path: cur, Name: name, Size: size, Warning: warning}, nil
	}
	top := name
	if job.Spec.Name != "" {
		top = job.Spec.Name
	}
	zipName := safeName(top) + ".zip"
	dst := filepath.Join(out, zipName)
	size, err := archive.Zip(ctx, cur, dst, archive.ZipOptions{Password: job.Spec.ZipPassword, Name: top,
		Progress: func(done, total int64) {
			report(workerProgress{name: zipName, done: done, total: total, note: "zipping"})
		}})
	if err != nil {
		return res, err
	}
	if job.Spec.Extract {
		// The extracted tree was only the zip's source.
		if err := os.RemoveAll(filepath.Join(out, "extract")); err != nil {
			return res, fmt.Errorf("removing the extracted files: %w", err)
		}
	}
	return messages.ArchiveFinished{Path: dst, Name: zipName, Size: size, Warning: warning}, nil
}

// extract unpacks src into out/extract/<stem>; when that holds a single
// file or folder, that is the result (an album.zip holding album/ delivers
// album/, not album/album/). The warning says which entries were skipped,
// "" when none.
func extract(ctx context.Context, o Options, job Job, out, src, name string, report func(workerProgress)) (
	string, string, string, error) {
	lim := o.Limits
	lim.MaxTotal = o.MaxExtract
	bound := "MAX_EXTRACT_SIZE, the most one extraction may write"
	if o.MaxTaskSize > 0 && !job.Spec.Privileged && (lim.MaxTotal <= 0 || o.MaxTaskSize < lim.MaxTotal) {
		lim.MaxTotal, bound = o.MaxTaskSize, "MAX_TASK_SIZE, the most one task may hold"
	}
	free, _, err := o.DiskFree(out)
	if err != nil {
		return "", "", "", err
	}
	if room := max(free-FreeReserve, 1); lim.MaxTotal <= 0 || room < lim.MaxTotal {
		lim.MaxTotal, bound = room, "the free disk space"
	}
	stem := safeName(archive.Stem(name))
	parent := filepath.Join(out, "extract")
	if err := os.Mkdir(parent, 0o755); err != nil {
		return "", "", "", fmt.Errorf("creating the extract folder: %w", err)
	}
	dst := filepath.Join(parent, stem)
	res, err := archive.Extract(ctx, src, dst, archive.ExtractOptions{Password: job.Spec.ExtractPassword, Limits: lim,
		Progress: func(done, total int64) {
			report(workerProgress{name: name, done: done, total: total, note: "extracting"})
		}})
	if le := (*archive.LimitError)(nil); errors.As(err, &le) && le.Limit == archive.LimitTotal {
		// Name the limit that was reached: the engine knows only a number.
		return "", "", "", &supervision.UserError{Msg: le.Error() + " (" + bound + ")", Err: err}
	}
	if err != nil {
		return "", "", "", err
	}
	warning := res.Skipped.String()
	ents, err := os.ReadDir(dst)
	if err != nil {
		return "", "", "", fmt.Errorf("reading the extracted files: %w", err)
	}
	if len(ents) == 0 {
		msg := name + ": the archive holds no files"
		if warning != "" {
			msg = name + ": nothing in the archive could be extracted (" + warning + ")"
		}
		return "", "", "", supervision.NewUserError(msg)
	}
	if len(ents) == 1 {
		return filepath.Join(dst, ents[0].Name()), ents[0].Name(), warning, nil
	}
	return dst, stem, warning, nil
}

// safeName makes a display name a single safe path element.
func safeName(name string) string {
	name = strings.NewReplacer("/", "_", `\`, "_").Replace(name)
	if s, err := archive.SanitizeName(name); err == nil {
		return s
	}
	return "archive"
}

// treeSize sums the sizes of the regular files under p (or p's own size).
func treeSize(p string) (int64, error) {
	var n int64
	err := filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n += fi.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring the result: %w", err)
	}
	return n, nil
}

// userFacing turns the engine's errors into permanent errors whose text
// the user reads; other errors (the disk's, the context's) go to the
// supervisor's classification as they are.
func userFacing(err error) error {
	var (
		ue *supervision.UserError
		ae *archive.Error
		le *archive.LimitError
	)
	switch {
	case errors.As(err, &ue):
		return err // written for the user already
	case errors.As(err, &le):
		return &supervision.UserError{Msg: le.Error(), Err: err}
	case errors.As(err, &ae):
		msg := ae.Error()
		if errors.Is(err, archive.ErrPasswordRequired) {
			msg += "; give it with -e PASSWORD"
		}
		return &supervision.UserError{Msg: msg, Err: err}
	}
	return err
}
