package slots

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/internal/sysstat"
	"github.com/mirrorleech/mirrorleech/messages"
)

// Options configures the slots actor.
type Options struct {
	// MaxDownloads and MaxUploads bound the running slots of each kind on
	// this node; 0 means unlimited.
	MaxDownloads, MaxUploads int
	// MinFreeDisk is the free-disk floor for downloads in bytes; 0 turns it off.
	MinFreeDisk int64
	// Dir is the directory whose filesystem is measured (DOWNLOAD_DIR).
	Dir string
	// DiskFree measures the free and total bytes of the filesystem holding a
	// directory. Default: sysstat.DiskFree when Dir is set, else no
	// measurement at all.
	DiskFree func(dir string) (free, total int64, err error)
	// RefreshEvery is the measurement period. Default: 5s.
	RefreshEvery time.Duration
	Logger       *slog.Logger
}

// GetSlots asks the slots actor for its current usage; it answers Slots.
type GetSlots struct{}

// Slots is the slots actor's usage per kind, for /stats and metrics.
type Slots struct {
	Downloads, Uploads Usage
}

// Usage is the usage of one kind of slot. DiskFree is the cached free space
// (0 before the first measurement) and DiskReserved the bytes reserved by
// running downloads; both are zero for uploads, which the floor does not
// apply to.
type Usage struct {
	Running, Queued, Limit int
	DiskFree, DiskReserved int64
}

type key struct {
	kind messages.SlotKind
	task string
}

// entry is one request, queued or granted.
type entry struct {
	key
	holder  *actor.PID
	size    int64
	force   bool
	granted bool
	pos     int // the position last reported to the holder; 0 if none
}

// pool is the state of one kind of slot.
type pool struct {
	limit   int
	running map[string]*entry // by task ID
	queue   []*entry          // forced waiters first, then FIFO
}

// diskMeasured is sent by the measuring worker.
type diskMeasured struct {
	free, total int64
	err         error
}

// slotActor is the node's slots actor.
type slotActor struct {
	o       Options
	log     *slog.Logger
	down    *pool
	up      *pool
	entries map[key]*entry
	holders map[string]int // holder PID → number of its entries

	measured    bool // a measurement has succeeded
	free, total int64
	reserved    int64
	diskFailing bool

	stop context.CancelFunc
}

var _ actor.Actor = (*slotActor)(nil)

// Props returns the slots actor's props.
func Props(o Options) *actor.Props {
	if o.RefreshEvery <= 0 {
		o.RefreshEvery = 5 * time.Second
	}
	if o.DiskFree == nil && o.Dir != "" {
		o.DiskFree = sysstat.DiskFree
	}
	if o.MaxDownloads < 0 {
		o.MaxDownloads = 0
	}
	if o.MaxUploads < 0 {
		o.MaxUploads = 0
	}
	if o.MinFreeDisk < 0 {
		o.MinFreeDisk = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &slotActor{
			o:       o,
			log:     o.Logger,
			down:    &pool{limit: o.MaxDownloads, running: map[string]*entry{}},
			up:      &pool{limit: o.MaxUploads, running: map[string]*entry{}},
			entries: map[key]*entry{},
			holders: map[string]int{},
		}
	})
}

// Receive implements actor.Actor.
func (a *slotActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.startMeasuring(ctx)
	case *actor.Stopping, *actor.Restarting:
		if a.stop != nil {
			a.stop()
		}
	case *messages.AcquireSlot:
		a.acquire(ctx, *m)
	case messages.AcquireSlot:
		a.acquire(ctx, m)
	case *messages.ReleaseSlot:
		a.release(ctx, key{kind: m.Kind, task: m.TaskID})
	case messages.ReleaseSlot:
		a.release(ctx, key{kind: m.Kind, task: m.TaskID})
	case *actor.Terminated:
		a.holderGone(ctx, m.Who)
	case *diskMeasured:
		a.measuredDisk(ctx, m)
	case *GetSlots, GetSlots:
		ctx.Respond(a.snapshot())
	}
}

func (a *slotActor) pool(k messages.SlotKind) *pool {
	switch k {
	case messages.SlotDownload:
		return a.down
	case messages.SlotUpload:
		return a.up
	}
	return nil
}

func (a *slotActor) acquire(ctx actor.Context, m messages.AcquireSlot) {
	from := ctx.Sender()
	if from == nil {
		// Nobody could be told about the slot or watched for release, so
		// granting it would leak it.
		a.log.Warn("slot request without a sender ignored", slog.String("task_id", m.TaskID),
			slog.String("kind", m.Kind.String()))
		return
	}
	p := a.pool(m.Kind)
	if p == nil {
		ctx.Send(from, &messages.SlotRefused{Kind: m.Kind, TaskID: m.TaskID,
			Reason: fmt.Sprintf("unknown slot kind %d", m.Kind)})
		return
	}
	k := key{kind: m.Kind, task: m.TaskID}
	if e := a.entries[k]; e != nil {
		if !samePID(e.holder, from) {
			a.unhold(ctx, e.holder)
			e.holder = from
			a.hold(ctx, from)
		}
		if e.granted {
			ctx.Send(from, &messages.SlotGranted{Kind: e.kind, TaskID: e.task})
		} else {
			ctx.Send(from, &messages.SlotQueued{Kind: e.kind, TaskID: e.task, Position: e.pos})
		}
		return
	}
	size := max(m.Size, 0)
	if m.Kind == messages.SlotDownload {
		if reason, never := a.neverFits(size); never {
			a.log.Info("slot refused", slog.String("task_id", m.TaskID), slog.String("kind", m.Kind.String()),
				slog.String("reason", reason))
			ctx.Send(from, &messages.SlotRefused{Kind: m.Kind, TaskID: m.TaskID, Reason: reason})
			return
		}
	}
	e := &entry{key: k, holder: from, size: size, force: m.Force}
	a.entries[k] = e
	a.hold(ctx, from)
	if m.Force {
		// Forced requests wait only for the disk, ahead of every
		// non-forced request and behind earlier forced ones.
		i := 0
		for i < len(p.queue) && p.queue[i].force {
			i++
		}
		p.queue = slices.Insert(p.queue, i, e)
	} else {
		p.queue = append(p.queue, e)
	}
	a.pump(ctx, p)
}

func (a *slotActor) release(ctx actor.Context, k key) {
	e := a.entries[k]
	if e == nil {
		return
	}
	a.remove(e)
	a.unhold(ctx, e.holder)
	a.pump(ctx, a.pool(k.kind))
}

// holderGone frees everything a terminated holder had.
func (a *slotActor) holderGone(ctx actor.Context, who *actor.PID) {
	if who == nil {
		return
	}
	n := 0
	for _, e := range a.entries {
		if samePID(e.holder, who) {
			a.remove(e)
			n++
		}
	}
	delete(a.holders, pidKey(who))
	if n > 0 {
		a.log.Debug("slot holder terminated, its slots released", slog.String("holder", pidKey(who)),
			slog.Int("entries", n))
		a.pump(ctx, a.down)
		a.pump(ctx, a.up)
	}
}

// remove forgets e, freeing its slot and reservation or its queue place.
func (a *slotActor) remove(e *entry) {
	delete(a.entries, e.key)
	p := a.pool(e.kind)
	if e.granted {
		delete(p.running, e.task)
		if e.kind == messages.SlotDownload {
			a.reserved -= e.size
		}
		return
	}
	p.queue = slices.DeleteFunc(p.queue, func(q *entry) bool { return q == e })
}

// pump grants what may run now from the head of p's queue and tells every
// remaining waiter whose position changed.
func (a *slotActor) pump(ctx actor.Context, p *pool) {
	for len(p.queue) > 0 {
		e := p.queue[0]
		if !e.force && p.limit > 0 && len(p.running) >= p.limit {
			break
		}
		if e.kind == messages.SlotDownload && !a.fits(e.size) {
			break
		}
		p.queue = slices.Delete(p.queue, 0, 1)
		e.granted, e.pos = true, 0
		p.running[e.task] = e
		if e.kind == messages.SlotDownload {
			a.reserved += e.size
		}
		a.log.Debug("slot granted", slog.String("task_id", e.task), slog.String("kind", e.kind.String()),
			slog.Bool("force", e.force))
		ctx.Send(e.holder, &messages.SlotGranted{Kind: e.kind, TaskID: e.task})
	}
	for i, e := range p.queue {
		if e.pos != i+1 {
			e.pos = i + 1
			ctx.Send(e.holder, &messages.SlotQueued{Kind: e.kind, TaskID: e.task, Position: e.pos})
		}
	}
}

// fits reports whether a download of size bytes may start now.
func (a *slotActor) fits(size int64) bool {
	if !a.measured || a.o.MinFreeDisk <= 0 {
		return true
	}
	return a.free-a.reserved-size >= a.o.MinFreeDisk
}

// neverFits reports whether a download of size bytes cannot fit even on the
// empty disk, and why, in words for the user.
func (a *slotActor) neverFits(size int64) (string, bool) {
	floor := a.o.MinFreeDisk
	if !a.measured || floor <= 0 || size <= a.total-floor {
		return "", false
	}
	if size == 0 {
		return fmt.Sprintf("this bot keeps %s free on a %s disk: no download can fit",
			board.Bytes(floor), board.Bytes(a.total)), true
	}
	return fmt.Sprintf("the file is %s but this bot keeps %s free on a %s disk: it can never fit",
		board.Bytes(size), board.Bytes(floor), board.Bytes(a.total)), true
}

func (a *slotActor) measuredDisk(ctx actor.Context, m *diskMeasured) {
	if m.err != nil {
		if !a.diskFailing {
			a.diskFailing = true
			a.log.Warn("measuring free disk space failed, keeping the last value", slog.String("dir", a.o.Dir),
				slog.Any("err", m.err))
		}
		return
	}
	if a.diskFailing {
		a.diskFailing = false
		a.log.Info("measuring free disk space works again", slog.String("dir", a.o.Dir))
	}
	a.measured, a.free, a.total = true, m.free, m.total
	// The disk may have turned out smaller than waiters need.
	var refused []*entry
	for _, e := range a.down.queue {
		if _, never := a.neverFits(e.size); never {
			refused = append(refused, e)
		}
	}
	for _, e := range refused {
		reason, _ := a.neverFits(e.size)
		a.remove(e)
		a.unhold(ctx, e.holder)
		a.log.Info("slot refused", slog.String("task_id", e.task), slog.String("kind", e.kind.String()),
			slog.String("reason", reason))
		ctx.Send(e.holder, &messages.SlotRefused{Kind: e.kind, TaskID: e.task, Reason: reason})
	}
	a.pump(ctx, a.down)
}

func (a *slotActor) snapshot() *Slots {
	return &Slots{
		Downloads: Usage{Running: len(a.down.running), Queued: len(a.down.queue), Limit: a.down.limit,
			DiskFree: a.free, DiskReserved: a.reserved},
		Uploads: Usage{Running: len(a.up.running), Queued: len(a.up.queue), Limit: a.up.limit},
	}
}

// hold counts one more entry of pid and watches it from the first.
func (a *slotActor) hold(ctx actor.Context, pid *actor.PID) {
	k := pidKey(pid)
	if a.holders[k] == 0 {
		ctx.Watch(pid)
	}
	a.holders[k]++
}

// unhold counts one entry of pid less and stops watching it after the last.
func (a *slotActor) unhold(ctx actor.Context, pid *actor.PID) {
	k := pidKey(pid)
	n, ok := a.holders[k]
	if !ok {
		return
	}
	if n <= 1 {
		delete(a.holders, k)
		ctx.Unwatch(pid)
		return
	}
	a.holders[k] = n - 1
}

// startMeasuring starts the worker that measures the disk once now and then
// every RefreshEvery; it reports by message and stops with the actor.
func (a *slotActor) startMeasuring(ctx actor.Context) {
	if a.o.DiskFree == nil {
		return
	}
	wctx, stop := context.WithCancel(context.Background())
	a.stop = stop
	self, root := ctx.Self(), ctx.ActorSystem().Root
	measure, dir, every := a.o.DiskFree, a.o.Dir, a.o.RefreshEvery
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			free, total, err := measure(dir)
			if wctx.Err() != nil {
				return
			}
			root.Send(self, &diskMeasured{free: free, total: total, err: err})
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func samePID(a, b *actor.PID) bool {
	return a.Address == b.Address && a.Id == b.Id
}

func pidKey(p *actor.PID) string {
	return p.Address + "/" + p.Id
}
