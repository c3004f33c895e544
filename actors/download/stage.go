package download

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/actors/internal/worker"
	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/internal/speed"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/supervision"
)

// Progress is what an engine reports while it runs.
type Progress struct {
	Name  string
	Done  int64
	Total int64
	Note  string
	// Torrent engines also report their swarm and the bytes uploaded so far.
	Peers, Seeders int
	Uploaded       int64
}

// Job is one download: the task's spec and its working directory.
type Job struct {
	Spec messages.TaskSpec
	Dir  string
	// Choose asks the user which of a torrent's files to download (-s) and
	// blocks until they answer or ctx ends. The stage sets it.
	Choose func(ctx context.Context, files []messages.TorrentFile) ([]int, error)
	// MaxSize is the largest download this job accepts (0 = no limit),
	// enforced by the engine on declared sizes and on the bytes received.
	// The stage sets it from Options.MaxSize; owner and sudo tasks get 0.
	MaxSize int64
}

// Engine fetches a source into a job's directory. Implementations must be
// safe for concurrent jobs, honour ctx promptly and never panic.
type Engine interface {
	Fetch(ctx context.Context, job Job, progress func(Progress)) (messages.DownloadFinished, error)
}

// Options configures the stage.
type Options struct {
	// Engines by name (messages.Source.Engine()).
	Engines map[string]Engine
	Logger  *slog.Logger
	// StopWait bounds how long a stopping stage waits for its worker.
	// Default: 10s.
	StopWait time.Duration
	// MaxSize is the largest download accepted (0 = no limit); owner and
	// sudo tasks are exempt.
	MaxSize int64
}

type workerProgress struct{ p Progress }

// workerChoose carries an engine's question to the stage; the answer goes
// back on reply (buffered, so the stage never blocks).
type workerChoose struct {
	files []messages.TorrentFile
	reply chan []int
}

type workerDone struct {
	res messages.DownloadFinished
	err error
}

// Stage is the download stage actor.
type Stage struct {
	o      Options
	job    Job
	log    *slog.Logger
	work   worker.Worker
	meter  speed.Meter
	up     speed.Meter
	choice chan []int // the worker's pending question, if any
}

var _ actor.Actor = (*Stage)(nil)

// Props returns the props of a download stage for job.
func Props(o Options, job Job) *actor.Props {
	if o.StopWait <= 0 {
		o.StopWait = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
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
		if s.tooLarge(m.p.Total) {
			// The size is known as soon as the server answers: stop before
			// the disk fills with something that will be refused anyway.
			s.halt()
			supervision.Escalate(ctx, supervision.NewUserError(fmt.Sprintf(
				"the file is %s, larger than the %s this bot accepts", board.Bytes(m.p.Total), board.Bytes(s.o.MaxSize))))
			return
		}
		now := time.Now()
		p := &messages.StageProgressed{Stage: messages.StageDownloading, Name: m.p.Name,
			Done: m.p.Done, Total: m.p.Total, Speed: s.meter.Observe(m.p.Done, now), Note: m.p.Note,
			Peers: m.p.Peers, Seeders: m.p.Seeders}
		if m.p.Uploaded > 0 {
			p.UpSpeed = s.up.Observe(m.p.Uploaded, now)
		}
		ctx.Send(ctx.Parent(), p)
	case *workerChoose:
		s.choice = m.reply
		ctx.Send(ctx.Parent(), &messages.ChooseFiles{Files: m.files})
	case *messages.FilesChosen:
		if s.choice != nil {
			s.choice <- m.Indices
			s.choice = nil
		}
	case *workerDone:
		s.work.Finished()
		if m.err != nil {
			s.log.Info("download attempt failed", slog.Any("err", m.err))
			supervision.Escalate(ctx, m.err)
			return
		}
		ctx.Send(ctx.Parent(), &m.res)
	}
}

func (s *Stage) tooLarge(size int64) bool {
	return s.o.MaxSize > 0 && !s.job.Spec.Privileged && size > s.o.MaxSize
}

func (s *Stage) start(ctx actor.Context) {
	if f := s.job.Spec.Source.File; f != nil && s.tooLarge(f.Size) {
		supervision.Escalate(ctx, supervision.NewUserError(fmt.Sprintf(
			"the file is %s, larger than the %s this bot accepts", board.Bytes(f.Size), board.Bytes(s.o.MaxSize))))
		return
	}
	eng, ok := s.o.Engines[s.job.Spec.Source.Engine()]
	if !ok {
		supervision.Escalate(ctx, supervision.NewUserError(
			fmt.Sprintf("this node cannot download %s sources", s.job.Spec.Source.Engine())))
		return
	}
	self, root, job := ctx.Self(), ctx.ActorSystem().Root, s.job
	if !job.Spec.Privileged {
		job.MaxSize = s.o.MaxSize
	}
	job.Choose = func(cctx context.Context, files []messages.TorrentFile) ([]int, error) {
		reply := make(chan []int, 1)
		root.Send(self, &workerChoose{files: files, reply: reply})
		select {
		case idx := <-reply:
			return idx, nil
		case <-cctx.Done():
			return nil, cctx.Err()
		}
	}
	s.work.Start(func(wctx context.Context) {
		res, err := eng.Fetch(wctx, job, func(p Progress) { root.Send(self, &workerProgress{p: p}) })
		if wctx.Err() != nil {
			return // stopped on purpose: nobody is waiting for the result
		}
		root.Send(self, &workerDone{res: res, err: err})
	})
}

// halt cancels the worker and waits for it, bounded, so no write of this
// attempt lands after the stage is gone.
func (s *Stage) halt() {
	if !s.work.Halt(s.o.StopWait) {
		s.log.Warn("download worker did not stop in time")
	}
}

// Describe reports the stage for the actor tree.
func (s *Stage) Describe() map[string]any {
	return map[string]any{"task_id": s.job.Spec.ID, "stage": "download", "engine": s.job.Spec.Source.Engine(),
		"running": s.work.Running(), "speed": s.meter.Rate()}
}
