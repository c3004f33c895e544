package slots

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/messages"
)

const (
	waitFor = 2 * time.Second
	quietly = 50 * time.Millisecond
	gib     = int64(1) << 30
)

// fakeDisk is an injected DiskFree whose answers the test controls. With a
// gate, a measurement waits until the gate is closed.
type fakeDisk struct {
	mu          sync.Mutex
	free, total int64
	err         error
	calls       int
	gate        chan struct{}
}

func (d *fakeDisk) DiskFree(string) (int64, int64, error) {
	if d.gate != nil {
		<-d.gate
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	return d.free, d.total, d.err
}

func (d *fakeDisk) set(free, total int64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.free, d.total, d.err = free, total, err
}

func (d *fakeDisk) callCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// requester is a fake task actor: it sends what it is told to the slots
// actor with Request and records every answer.
type requester struct {
	t     *testing.T
	sys   *actor.ActorSystem
	pid   *actor.PID
	got   chan any
	slots *actor.PID
}

type ask struct{ msg any }

func newRequester(t *testing.T, sys *actor.ActorSystem, slots *actor.PID) *requester {
	r := &requester{t: t, sys: sys, got: make(chan any, 64), slots: slots}
	r.pid = sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *messages.SlotGranted, *messages.SlotQueued, *messages.SlotRefused:
			r.got <- m
		case ask:
			ctx.Request(slots, m.msg)
		}
	}))
	return r
}

func (r *requester) acquire(kind messages.SlotKind, task string, size int64, force bool) {
	r.sys.Root.Send(r.pid, ask{&messages.AcquireSlot{Kind: kind, TaskID: task, Size: size, Force: force}})
}

func (r *requester) download(task string) { r.acquire(messages.SlotDownload, task, 0, false) }

func (r *requester) release(kind messages.SlotKind, task string) {
	r.sys.Root.Send(r.pid, ask{&messages.ReleaseSlot{Kind: kind, TaskID: task}})
}

func (r *requester) next() any {
	r.t.Helper()
	select {
	case m := <-r.got:
		return m
	case <-time.After(waitFor):
		r.t.Fatal("no answer from the slots actor")
		return nil
	}
}

func (r *requester) expect(want any) {
	r.t.Helper()
	require.Equal(r.t, want, r.next())
}

func (r *requester) quiet() {
	r.t.Helper()
	select {
	case m := <-r.got:
		r.t.Fatalf("unexpected answer %#v", m)
	case <-time.After(quietly):
	}
}

func (r *requester) stop() {
	r.t.Helper()
	require.NoError(r.t, r.sys.Root.PoisonFuture(r.pid).Wait())
}

func granted(kind messages.SlotKind, task string) *messages.SlotGranted {
	return &messages.SlotGranted{Kind: kind, TaskID: task}
}

func queued(kind messages.SlotKind, task string, pos int) *messages.SlotQueued {
	return &messages.SlotQueued{Kind: kind, TaskID: task, Position: pos}
}

func setup(t *testing.T, o Options) (*actor.ActorSystem, *actor.PID) {
	t.Helper()
	sys := actor.NewActorSystem()
	pid, err := sys.Root.SpawnNamed(Props(o), messages.SlotsName)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = sys.Root.PoisonFuture(pid).Wait()
		sys.Shutdown()
	})
	return sys, pid
}

func snapshot(t *testing.T, sys *actor.ActorSystem, pid *actor.PID) *Slots {
	t.Helper()
	res, err := sys.Root.RequestFuture(pid, &GetSlots{}, waitFor).Result()
	require.NoError(t, err)
	s, ok := res.(*Slots)
	require.True(t, ok, "answer %T", res)
	return s
}

// eventually waits until the snapshot satisfies cond.
func eventually(t *testing.T, sys *actor.ActorSystem, pid *actor.PID, cond func(*Slots) bool) *Slots {
	t.Helper()
	var last *Slots
	require.Eventually(t, func() bool {
		last = snapshot(t, sys, pid)
		return cond(last)
	}, waitFor, 5*time.Millisecond)
	return last
}

func TestLimitGrantsInOrder(t *testing.T) {
	sys, slots := setup(t, Options{MaxDownloads: 1})
	a, b, c := newRequester(t, sys, slots), newRequester(t, sys, slots), newRequester(t, sys, slots)
	dl := messages.SlotDownload

	a.download("t1")
	a.expect(granted(dl, "t1"))
	b.download("t2")
	b.expect(queued(dl, "t2", 1))
	c.download("t3")
	c.expect(queued(dl, "t3", 2))
	require.Equal(t, Usage{Running: 1, Queued: 2, Limit: 1}, snapshot(t, sys, slots).Downloads)

	a.release(dl, "t1")
	b.expect(granted(dl, "t2"))
	c.expect(queued(dl, "t3", 1))

	b.release(dl, "t2")
	c.expect(granted(dl, "t3"))

	a.quiet()
	b.quiet()
	c.quiet()
	require.Equal(t, Usage{Running: 1, Limit: 1}, snapshot(t, sys, slots).Downloads)
}

func TestForceSkipsQueueAndCounts(t *testing.T) {
	sys, slots := setup(t, Options{MaxDownloads: 1})
	a, b, c := newRequester(t, sys, slots), newRequester(t, sys, slots), newRequester(t, sys, slots)
	dl := messages.SlotDownload

	a.download("t1")
	a.expect(granted(dl, "t1"))
	b.download("t2")
	b.expect(queued(dl, "t2", 1))
	c.acquire(dl, "t3", 0, true)
	c.expect(granted(dl, "t3"))
	require.Equal(t, Usage{Running: 2, Queued: 1, Limit: 1}, snapshot(t, sys, slots).Downloads)

	// The forced task still counts: one release leaves the limit reached.
	a.release(dl, "t1")
	b.quiet()
	c.release(dl, "t3")
	b.expect(granted(dl, "t2"))
	b.quiet()
}

func TestHolderDeathReleases(t *testing.T) {
	sys, slots := setup(t, Options{MaxDownloads: 1})
	a, b, c := newRequester(t, sys, slots), newRequester(t, sys, slots), newRequester(t, sys, slots)
	dl := messages.SlotDownload

	a.download("t1")
	a.expect(granted(dl, "t1"))
	b.download("t2")
	b.expect(queued(dl, "t2", 1))
	c.download("t3")
	c.expect(queued(dl, "t3", 2))

	// A queued holder dies: it leaves the queue, the next one moves up.
	b.stop()
	c.expect(queued(dl, "t3", 1))
	// The running holder dies: its slot goes to the next one.
	a.stop()
	c.expect(granted(dl, "t3"))
	require.Equal(t, Usage{Running: 1, Limit: 1}, snapshot(t, sys, slots).Downloads)
}

func TestDiskFloorWaitsForReleaseAndRefresh(t *testing.T) {
	disk := &fakeDisk{free: 250, total: 1000}
	sys, slots := setup(t, Options{MinFreeDisk: 100, DiskFree: disk.DiskFree, RefreshEvery: 10 * time.Millisecond})
	eventually(t, sys, slots, func(s *Slots) bool { return s.Downloads.DiskFree == 250 })
	a, b, c, d := newRequester(t, sys, slots), newRequester(t, sys, slots), newRequester(t, sys, slots),
		newRequester(t, sys, slots)
	dl := messages.SlotDownload

	a.acquire(dl, "t1", 100, false) // 250-0-100 = 150 ≥ 100
	a.expect(granted(dl, "t1"))
	b.acquire(dl, "t2", 100, false) // 250-100-100 = 50 < 100
	b.expect(queued(dl, "t2", 1))
	require.Equal(t, Usage{Running: 1, Queued: 1, DiskFree: 250, DiskReserved: 100},
		snapshot(t, sys, slots).Downloads)

	a.release(dl, "t1")
	b.expect(granted(dl, "t2"))

	c.acquire(dl, "t3", 200, false) // 250-100-200 < 100
	c.expect(queued(dl, "t3", 1))
	// Force does not bypass the floor.
	d.acquire(dl, "t4", 0, true) // ahead of t3; 250-100-0 = 150 ≥ 100
	d.expect(granted(dl, "t4"))
	c.quiet()

	disk.set(450, 1000, nil) // 450-100-200 = 150 ≥ 100
	c.expect(granted(dl, "t3"))
	require.Equal(t, Usage{Running: 3, DiskFree: 450, DiskReserved: 300}, snapshot(t, sys, slots).Downloads)

	// A forced download that does not fit waits for the disk, ahead of the
	// non-forced ones.
	e, f := newRequester(t, sys, slots), newRequester(t, sys, slots)
	e.acquire(dl, "t5", 60, false) // 450-300-60 = 90 < 100
	e.expect(queued(dl, "t5", 1))
	f.acquire(dl, "t6", 100, true)
	f.expect(queued(dl, "t6", 1))
	e.expect(queued(dl, "t5", 2))
	c.release(dl, "t3") // 450-100-100 = 250 ≥ 100, then 450-200-60 = 190 ≥ 100
	f.expect(granted(dl, "t6"))
	e.expect(granted(dl, "t5"))
}

func TestNeverFitsIsRefused(t *testing.T) {
	tests := []struct {
		name        string
		kind        messages.SlotKind
		size        int64
		force       bool
		floor, free int64
		refused     string // empty: granted
	}{
		{name: "larger than the disk allows", kind: messages.SlotDownload, size: 12 * gib, floor: 5 * gib, free: 16 * gib,
			refused: "the file is 12.0 GiB but this bot keeps 5.0 GiB free on a 16.0 GiB disk: it can never fit"},
		{name: "force does not bypass the floor", kind: messages.SlotDownload, size: 12 * gib, force: true,
			floor: 5 * gib, free: 16 * gib,
			refused: "the file is 12.0 GiB but this bot keeps 5.0 GiB free on a 16.0 GiB disk: it can never fit"},
		{name: "floor above the disk size", kind: messages.SlotDownload, floor: 20 * gib, free: 16 * gib,
			refused: "this bot keeps 20.0 GiB free on a 16.0 GiB disk: no download can fit"},
		{name: "exactly total minus floor", kind: messages.SlotDownload, size: 11 * gib, floor: 5 * gib, free: 16 * gib},
		{name: "uploads ignore the floor", kind: messages.SlotUpload, size: 12 * gib, floor: 5 * gib, free: 16 * gib},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			disk := &fakeDisk{free: tc.free, total: 16 * gib}
			sys, slots := setup(t, Options{MinFreeDisk: tc.floor, DiskFree: disk.DiskFree,
				RefreshEvery: 10 * time.Millisecond})
			eventually(t, sys, slots, func(s *Slots) bool { return s.Downloads.DiskFree == tc.free })
			r := newRequester(t, sys, slots)
			r.acquire(tc.kind, "t1", tc.size, tc.force)
			if tc.refused == "" {
				r.expect(granted(tc.kind, "t1"))
				return
			}
			r.expect(&messages.SlotRefused{Kind: tc.kind, TaskID: "t1", Reason: tc.refused})
			require.Equal(t, Usage{DiskFree: tc.free}, snapshot(t, sys, slots).Downloads)
		})
	}
}

func TestStartsBeforeFirstMeasurement(t *testing.T) {
	disk := &fakeDisk{free: 16 * gib, total: 16 * gib, gate: make(chan struct{})}
	sys, slots := setup(t, Options{MaxDownloads: 1, MinFreeDisk: 5 * gib, DiskFree: disk.DiskFree,
		RefreshEvery: 10 * time.Millisecond})
	gate := sync.OnceFunc(func() { close(disk.gate) })
	t.Cleanup(gate) // lets the worker finish if the test fails early
	a, b := newRequester(t, sys, slots), newRequester(t, sys, slots)
	dl := messages.SlotDownload

	// The disk is not measured yet: it counts as fitting.
	a.acquire(dl, "t1", gib, false)
	a.expect(granted(dl, "t1"))
	b.acquire(dl, "t2", 12*gib, false)
	b.expect(queued(dl, "t2", 1))

	// The first measurement shows that t2 can never fit.
	gate()
	b.expect(&messages.SlotRefused{Kind: dl, TaskID: "t2",
		Reason: "the file is 12.0 GiB but this bot keeps 5.0 GiB free on a 16.0 GiB disk: it can never fit"})
	require.Equal(t, Usage{Running: 1, Limit: 1, DiskFree: 16 * gib, DiskReserved: gib},
		snapshot(t, sys, slots).Downloads)
	a.quiet()
}

func TestMeasurementFailureKeepsLastValue(t *testing.T) {
	disk := &fakeDisk{err: errors.New("statfs: input/output error")}
	sys, slots := setup(t, Options{MinFreeDisk: 1 << 60, DiskFree: disk.DiskFree,
		RefreshEvery: 10 * time.Millisecond})
	require.Eventually(t, func() bool { return disk.callCount() >= 2 }, waitFor, 5*time.Millisecond)
	r := newRequester(t, sys, slots)
	dl := messages.SlotDownload

	// Never measured: the floor cannot be judged and does not block.
	r.acquire(dl, "t1", 100, false)
	r.expect(granted(dl, "t1"))

	disk.set(1000, 2000, nil)
	eventually(t, sys, slots, func(s *Slots) bool { return s.Downloads.DiskFree == 1000 })
	disk.set(0, 0, errors.New("statfs: input/output error"))
	n := disk.callCount()
	require.Eventually(t, func() bool { return disk.callCount() >= n+2 }, waitFor, 5*time.Millisecond)
	require.Equal(t, Usage{Running: 1, DiskFree: 1000, DiskReserved: 100}, snapshot(t, sys, slots).Downloads)
}

func TestUnlimitedGrantsAll(t *testing.T) {
	sys, slots := setup(t, Options{})
	r := newRequester(t, sys, slots)
	tasks := []string{"t1", "t2", "t3", "t4", "t5"}
	for _, k := range []messages.SlotKind{messages.SlotDownload, messages.SlotUpload} {
		for _, task := range tasks {
			r.acquire(k, task, 0, false)
		}
		for _, task := range tasks {
			r.expect(granted(k, task))
		}
	}
	s := snapshot(t, sys, slots)
	require.Equal(t, Slots{Downloads: Usage{Running: 5}, Uploads: Usage{Running: 5}}, *s)
}

func TestDuplicateAcquireIsIdempotent(t *testing.T) {
	sys, slots := setup(t, Options{MaxDownloads: 1})
	a, b, c := newRequester(t, sys, slots), newRequester(t, sys, slots), newRequester(t, sys, slots)
	dl := messages.SlotDownload

	a.download("t1")
	a.expect(granted(dl, "t1"))
	a.download("t1")
	a.expect(granted(dl, "t1"))
	b.download("t2")
	b.expect(queued(dl, "t2", 1))
	b.download("t2")
	b.expect(queued(dl, "t2", 1))
	require.Equal(t, Usage{Running: 1, Queued: 1, Limit: 1}, snapshot(t, sys, slots).Downloads)

	a.release(dl, "t1")
	b.expect(granted(dl, "t2"))
	b.quiet()

	// Another actor asking for the same task takes it over: the first
	// holder's death no longer frees it.
	c.download("t2")
	c.expect(granted(dl, "t2"))
	b.download("t3")
	b.expect(queued(dl, "t3", 1))
	b.stop()
	s := eventually(t, sys, slots, func(s *Slots) bool { return s.Downloads.Queued == 0 })
	require.Equal(t, 1, s.Downloads.Running)
	c.stop()
	eventually(t, sys, slots, func(s *Slots) bool { return s.Downloads.Running == 0 })
}

func TestReleaseFromQueueAndUnknown(t *testing.T) {
	sys, slots := setup(t, Options{MaxDownloads: 1})
	a, b, c := newRequester(t, sys, slots), newRequester(t, sys, slots), newRequester(t, sys, slots)
	dl := messages.SlotDownload

	// Without a sender nobody could hold the slot: it is ignored.
	sys.Root.Send(slots, &messages.AcquireSlot{Kind: dl, TaskID: "t0"})
	a.download("t1")
	a.expect(granted(dl, "t1"))
	b.download("t2")
	b.expect(queued(dl, "t2", 1))
	c.download("t3")
	c.expect(queued(dl, "t3", 2))

	b.release(dl, "t2")
	c.expect(queued(dl, "t3", 1))
	b.release(dl, "t2")                                                // holds nothing any more
	b.release(messages.SlotUpload, "t1")                               // never asked for
	sys.Root.Send(slots, messages.ReleaseSlot{Kind: dl, TaskID: "t1"}) // a value, without a sender
	c.expect(granted(dl, "t3"))
	a.quiet()
	b.quiet()
	require.Equal(t, Usage{Running: 1, Limit: 1}, snapshot(t, sys, slots).Downloads)
}

func TestKindsAreIndependent(t *testing.T) {
	sys, slots := setup(t, Options{MaxDownloads: 1, MaxUploads: 1})
	a, b := newRequester(t, sys, slots), newRequester(t, sys, slots)
	dl, ul := messages.SlotDownload, messages.SlotUpload

	a.acquire(dl, "t1", 0, false)
	a.expect(granted(dl, "t1"))
	a.acquire(ul, "t1", 0, false)
	a.expect(granted(ul, "t1"))
	b.acquire(ul, "t2", 0, false)
	b.expect(queued(ul, "t2", 1))
	require.Equal(t, Slots{Downloads: Usage{Running: 1, Limit: 1}, Uploads: Usage{Running: 1, Queued: 1, Limit: 1}},
		*snapshot(t, sys, slots))

	a.release(ul, "t1")
	b.expect(granted(ul, "t2"))
	require.Equal(t, Slots{Downloads: Usage{Running: 1, Limit: 1}, Uploads: Usage{Running: 1, Limit: 1}},
		*snapshot(t, sys, slots))

	r := newRequester(t, sys, slots)
	r.acquire(messages.SlotKind(9), "t3", 0, false)
	got, ok := r.next().(*messages.SlotRefused)
	require.True(t, ok)
	require.Equal(t, "unknown slot kind 9", got.Reason)
}
