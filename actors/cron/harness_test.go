package cron

import (
	"context"
	"crypto/sha256"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

// waitFor bounds every wait of these tests.
const waitFor = 5 * time.Second

// fakeClock is the injected clock; the tests move it and deliver the timer
// messages themselves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// outboxSnapshot asks the fake outbox for the texts it received so far.
type outboxSnapshot struct{}

// fakeOutbox stands in for the outbox actor under its well-known name.
type fakeOutbox struct {
	sent []messages.SendText
}

func (o *fakeOutbox) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.SendText:
		o.sent = append(o.sent, *m)
	case *outboxSnapshot:
		ctx.Respond(append([]messages.SendText(nil), o.sent...))
	}
}

// hookStore is the real bbolt store with two seams: a switchable Ping error
// and a hook around Tasks.
type hookStore struct {
	*store.Bolt
	mu      sync.Mutex
	pingErr error
	tasks   func(ctx context.Context, f store.Filter, inner func() ([]store.Task, error)) ([]store.Task, error)
}

func (s *hookStore) setPingErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingErr = err
}

func (s *hookStore) Ping(ctx context.Context) error {
	s.mu.Lock()
	err := s.pingErr
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Bolt.Ping(ctx)
}

func (s *hookStore) Tasks(ctx context.Context, f store.Filter) ([]store.Task, error) {
	inner := func() ([]store.Task, error) { return s.Bolt.Tasks(ctx, f) }
	if s.tasks != nil {
		return s.tasks(ctx, f, inner)
	}
	return inner()
}

// testWriter passes log lines to the test's output until the test ends;
// a late line from a worker goroutine is dropped instead of panicking.
type testWriter struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	return w.w.Write(p)
}

// testLogger logs at debug level into the test's output (shown with -v or
// on failure).
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{w: t.Output()}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.done = true
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type harness struct {
	sys     *actor.ActorSystem
	pid     *actor.PID
	clock   *fakeClock
	st      *hookStore
	dir     string
	reports chan JobReport
}

// t0 is the fake clock's start: 01:00 UTC, two hours before "0 3 * * *".
var t0 = time.Date(2030, time.January, 1, 1, 0, 0, 0, time.UTC)

// newHarness starts a cron actor on a fresh actor system with a fake outbox,
// a real bbolt store, a temporary DOWNLOAD_DIR and the fake clock at t0.
// Both schedules default to hourly, so that no real timer fires during a
// test; configure adjusts the options and hook sets up the store's seams
// before the actor starts.
func newHarness(t *testing.T, configure func(*Options), hook func(*harness)) *harness {
	t.Helper()
	log := testLogger(t)
	bolt, err := store.OpenBolt(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, bolt.Close()) })
	h := &harness{
		sys: actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return log.With(slog.String("lib", "protoactor"))
		})),
		clock:   &fakeClock{now: t0},
		st:      &hookStore{Bolt: bolt},
		dir:     t.TempDir(),
		reports: make(chan JobReport, 16),
	}
	if hook != nil {
		hook(h)
	}
	_, err = h.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &fakeOutbox{} }),
		messages.OutboxName)
	require.NoError(t, err)
	o := Options{
		Node: "n1", DownloadDir: h.dir, Started: time.Now(), SampleEvery: time.Hour,
		Store: h.st, OwnerID: 7, CleanupSchedule: "@every 1h", HealthInterval: time.Hour,
		Now: h.clock.Now, OnJob: func(r JobReport) { h.reports <- r }, Logger: log,
	}
	if configure != nil {
		configure(&o)
	}
	h.pid, err = h.sys.Root.SpawnNamed(Props(o), messages.CronName)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, h.sys.Root.StopFuture(h.pid).Wait())
		h.sys.Shutdown()
	})
	// Started reads the clock, so the test may move it only afterwards.
	h.barrier(t)
	return h
}

// tick delivers the timer message of job, as the scheduler would.
func (h *harness) tick(job string) { h.sys.Root.Send(h.pid, &jobTick{job: job}) }

// at moves the clock to t and delivers job's timer message.
func (h *harness) at(job string, t time.Time) {
	h.clock.Set(t)
	h.tick(job)
}

// report waits for the next job report.
func (h *harness) report(t *testing.T) JobReport {
	t.Helper()
	select {
	case r := <-h.reports:
		return r
	case <-time.After(waitFor):
		t.Fatal("no maintenance report within", waitFor)
		return JobReport{}
	}
}

// quiet is how long noReport waits for a report that must not come. A run
// the actor started wrongly reports within microseconds of its tick, so this
// only bounds the test; a correct actor passes however short it is.
const quiet = 100 * time.Millisecond

// noReport checks that no report comes: none is queued, and none arrives
// within quiet.
func (h *harness) noReport(t *testing.T) {
	t.Helper()
	select {
	case r := <-h.reports:
		t.Fatalf("unexpected maintenance report %+v", r)
	case <-time.After(quiet):
	}
}

// barrier returns once the actor has handled every message sent before it.
func (h *harness) barrier(t *testing.T) {
	t.Helper()
	_, err := h.sys.Root.RequestFuture(h.pid, &messages.GetNodeStats{}, waitFor).Result()
	require.NoError(t, err)
}

// sent returns what the outbox received. The cron actor sends to the outbox
// before it reports a run, so after report this includes that run's notices.
func (h *harness) sent(t *testing.T) []messages.SendText {
	t.Helper()
	res, err := h.sys.Root.RequestFuture(messages.Local(h.sys, messages.OutboxName), &outboxSnapshot{}, waitFor).Result()
	require.NoError(t, err)
	return res.([]messages.SendText)
}

// writeFile creates a file with content and returns its sha256.
func writeFile(t *testing.T, path, content string) [32]byte {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return sha256.Sum256([]byte(content))
}

// setTimes sets the modification time of path and everything under it.
func setTimes(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, mtime, mtime)
	}))
}

func requireFileSum(t *testing.T, path string, want [32]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, sha256.Sum256(b), path)
}

func putTask(t *testing.T, st store.Store, id string, stage messages.Stage, finished time.Time) {
	t.Helper()
	require.NoError(t, st.PutTask(context.Background(), store.Task{
		Spec:  messages.TaskSpec{ID: id, UserID: 100, ChatID: 100, Kind: messages.Leech, Created: t0.Add(-30 * 24 * time.Hour)},
		Stage: stage, Finished: finished,
	}))
}

func taskIDs(t *testing.T, st store.Store) []string {
	t.Helper()
	tasks, err := st.Tasks(context.Background(), store.Filter{})
	require.NoError(t, err)
	var ids []string
	for _, tk := range tasks {
		ids = append(ids, tk.Spec.ID)
	}
	return ids
}
