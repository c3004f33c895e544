package upload

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/actors/internal/worker"
	"github.com/mirrorleech/mirrorleech/internal/deliver"
	"github.com/mirrorleech/mirrorleech/internal/speed"
	"github.com/mirrorleech/mirrorleech/internal/tgtext"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/supervision"
)

// Job is one delivery.
type Job struct {
	Spec   messages.TaskSpec
	Result messages.DownloadFinished
	// Keep leaves Result in place (a seeding torrent reads it): a mirror
	// links or copies instead of moving.
	Keep bool
}

// Options configures the stage.
type Options struct {
	Logger *slog.Logger
	// StopWait bounds how long a stopping mirror waits for its copy.
	// Default: 10s.
	StopWait time.Duration
}

// Part is one document of a leech: a byte range of a file.
type Part struct {
	Path     string
	Offset   int64
	Length   int64
	FileName string
}

type partsListed struct {
	parts []Part
	err   error
}

type mirrorDone struct {
	path string
	err  error
}

type mirrorProgress struct{ done, total int64 }

// Stage is the upload stage actor.
type Stage struct {
	o      Options
	job    Job
	log    *slog.Logger
	parts  []Part
	done   map[int]int
	cur    int // index of the part in flight, -1 when none
	reqID  string
	sent   int64 // bytes of the confirmed parts
	total  int64
	meter  speed.Meter
	mirror worker.Worker
}

var _ actor.Actor = (*Stage)(nil)

// Props returns the props of an upload stage for job.
func Props(o Options, job Job) *actor.Props {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StopWait <= 0 {
		o.StopWait = 10 * time.Second
	}
	log := o.Logger.With(slog.String("task_id", job.Spec.ID), slog.Int64("user_id", job.Spec.UserID))
	return actor.PropsFromProducer(func() actor.Actor {
		return &Stage{o: o, job: job, log: log, cur: -1}
	})
}

func (s *Stage) outbox(ctx actor.Context) *actor.PID {
	return messages.Local(ctx.ActorSystem(), messages.OutboxName)
}

// Receive implements actor.Actor.
func (s *Stage) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if s.job.Spec.Kind == messages.Mirror {
			s.startMirror(ctx)
			return
		}
		self, root, job := ctx.Self(), ctx.ActorSystem().Root, s.job
		go func() {
			parts, err := SplitParts(job.Result.Path, job.Result.Name, job.Spec.SplitSize)
			root.Send(self, &partsListed{parts: parts, err: err})
		}()
	case *actor.Stopping, *actor.Restarting:
		if s.cur >= 0 {
			ctx.Send(s.outbox(ctx), &messages.AbortSend{RequestID: s.reqID})
		}
		s.haltMirror()
	case *partsListed:
		if m.err != nil {
			supervision.Escalate(ctx, m.err)
			return
		}
		s.parts = m.parts
		for _, p := range m.parts {
			s.total += p.Length
		}
		ctx.Request(ctx.Parent(), &messages.GetUploadState{})
	case *messages.UploadState:
		s.done = map[int]int{}
		for i, id := range m.Parts {
			s.done[i] = id
			if i < len(s.parts) {
				s.sent += s.parts[i].Length
			}
		}
		s.next(ctx)
	case *messages.DocumentProgressed:
		if m.RequestID != s.reqID || s.cur < 0 {
			return
		}
		s.progress(ctx, s.sent+m.Sent)
	case *messages.DocumentSent:
		if m.RequestID != s.reqID || s.cur < 0 {
			return
		}
		idx := s.cur
		s.cur = -1
		s.done[idx] = m.MessageID
		s.sent += s.parts[idx].Length
		// The next part starts only once this one is in the store, so a
		// restart can never post it twice.
		ctx.Request(ctx.Parent(), &messages.PartUploaded{Index: idx, MessageID: m.MessageID})
	case *messages.PartRecorded:
		s.next(ctx)
	case *messages.SendFailed:
		if m.RequestID != s.reqID || s.cur < 0 {
			return
		}
		idx := s.cur
		s.cur = -1
		supervision.Escalate(ctx, fmt.Errorf("uploading part %d: %w", idx+1, m.Err))
	case *mirrorProgress:
		s.progress(ctx, m.done)
	case *mirrorDone:
		s.mirror.Finished()
		if m.err != nil {
			supervision.Escalate(ctx, m.err)
			return
		}
		ctx.Send(ctx.Parent(), &messages.UploadFinished{Where: m.path, Parts: 1, Size: s.job.Result.Size})
	}
}

func (s *Stage) progress(ctx actor.Context, done int64) {
	note := ""
	if s.cur >= 0 && len(s.parts) > 1 {
		note = fmt.Sprintf("part %d of %d", s.cur+1, len(s.parts))
	}
	ctx.Send(ctx.Parent(), &messages.StageProgressed{Stage: messages.StageUploading, Name: s.job.Result.Name,
		Done: done, Total: s.total, Speed: s.meter.Observe(done, time.Now()), Note: note})
}

// next sends the first part not yet confirmed, or reports the end.
func (s *Stage) next(ctx actor.Context) {
	for i, p := range s.parts {
		if _, ok := s.done[i]; ok {
			continue
		}
		s.cur = i
		s.reqID = fmt.Sprintf("%s/%d", s.job.Spec.ID, i)
		s.progress(ctx, s.sent)
		ctx.Request(s.outbox(ctx), &messages.SendDocument{
			RequestID: s.reqID,
			ChatID:    s.job.Spec.ChatID,
			Path:      p.Path,
			Offset:    p.Offset,
			Length:    p.Length,
			FileName:  p.FileName,
			Caption:   caption(p.FileName, i, len(s.parts)),
			HTML:      true,
			ReplyTo:   s.job.Spec.ReplyTo,
		})
		return
	}
	where := "this chat"
	if len(s.parts) > 1 {
		where = fmt.Sprintf("this chat, %d parts", len(s.parts))
	}
	ctx.Send(ctx.Parent(), &messages.UploadFinished{Where: where, Parts: len(s.parts), Size: s.total})
}

func caption(name string, i, n int) string {
	c := "<code>" + tgtext.Name(name, tgtext.NameLen) + "</code>"
	if n > 1 {
		c += fmt.Sprintf("\npart %d of %d", i+1, n)
	}
	return c
}

func (s *Stage) startMirror(ctx actor.Context) {
	self, root, job := ctx.Self(), ctx.ActorSystem().Root, s.job
	s.total = job.Result.Size
	s.mirror.Start(func(wctx context.Context) {
		var last time.Time
		to := deliver.ToDir
		if job.Keep {
			to = deliver.KeepToDir
		}
		p, err := to(wctx, job.Result.Path, job.Spec.Dest, job.Result.Name, func(d, t int64) {
			if now := time.Now(); now.Sub(last) > 250*time.Millisecond {
				last = now
				root.Send(self, &mirrorProgress{done: d, total: t})
			}
		})
		if wctx.Err() != nil {
			return
		}
		root.Send(self, &mirrorDone{path: p, err: err})
	})
}

func (s *Stage) haltMirror() {
	if !s.mirror.Halt(s.o.StopWait) {
		s.log.Warn("mirror copy did not stop in time")
	}
}

// SplitParts lists the documents a leech of path sends: every regular file
// under path in name order, each cut into parts of at most split bytes named
// "name.001", "name.002", … when it is larger than split. Parts joined in
// name order are the original file.
func SplitParts(path, name string, split int64) ([]Part, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the result: %w", err)
	}
	type file struct {
		path, name string
		size       int64
	}
	var files []file
	if info.IsDir() {
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if fi.Size() == 0 {
				// Telegram refuses empty documents; torrents often carry
				// empty placeholder files, which are no loss to skip.
				return nil
			}
			files = append(files, file{path: p, name: d.Name(), size: fi.Size()})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing the result: %w", err)
		}
		sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	} else {
		files = []file{{path: path, name: name, size: info.Size()}}
	}
	var parts []Part
	for _, f := range files {
		if f.size == 0 {
			return nil, supervision.NewUserError(fmt.Sprintf("%s is empty; Telegram does not accept empty files", f.name))
		}
		if split <= 0 || f.size <= split {
			parts = append(parts, Part{Path: f.path, Length: f.size, FileName: f.name})
			continue
		}
		n := (f.size + split - 1) / split
		width := 3
		if digits := len(fmt.Sprint(n)); digits > width {
			width = digits
		}
		for i := int64(0); i < n; i++ {
			length := min(split, f.size-i*split)
			parts = append(parts, Part{Path: f.path, Offset: i * split, Length: length,
				FileName: fmt.Sprintf("%s.%0*d", f.name, width, i+1)})
		}
	}
	if len(parts) == 0 {
		return nil, supervision.NewUserError("the download produced no files")
	}
	return parts, nil
}

// Describe reports the stage for the actor tree.
func (s *Stage) Describe() map[string]any {
	d := map[string]any{"task_id": s.job.Spec.ID, "stage": "upload", "kind": s.job.Spec.Kind.String(),
		"sent": s.sent, "total": s.total, "speed": s.meter.Rate()}
	if len(s.parts) > 0 {
		d["parts"] = len(s.parts)
		d["parts_done"] = len(s.done)
	}
	return d
}
