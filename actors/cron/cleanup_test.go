package cron

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

func TestCleanupRemovesOrphansAndKeepsLiveData(t *testing.T) {
	h := newHarness(t, nil, nil)
	run := t0.Add(time.Hour) // the first "@every 1h" run
	old := run.Add(-2 * time.Hour)
	young := run.Add(-5 * time.Minute)
	ctx := context.Background()

	putTask(t, h.st, "live", messages.StageDownloading, time.Time{})
	putTask(t, h.st, "queued", messages.StageQueued, time.Time{})
	putTask(t, h.st, "uploading", messages.StageUploading, time.Time{})
	putTask(t, h.st, "done", messages.StageDone, run.Add(-time.Hour))

	path := func(p ...string) string { return filepath.Join(append([]string{h.dir}, p...)...) }
	liveSum := writeFile(t, path("live", "big.iso.part"), "partial download")
	queuedSum := writeFile(t, path("queued", ".big.iso.httpdl"), `{"offset":0}`)
	uploadSum := writeFile(t, path("uploading", "parts", "big.iso.001"), "part one")
	writeFile(t, path("done", "result.mkv"), "0123456789")                 // 10 bytes: finished task's leftovers
	writeFile(t, path("orphan", "a", "b.bin"), "abcdefgh")                 // 8 bytes: nobody's
	writeFile(t, path("orphan", "c.txt"), "xyz")                           // 3 bytes
	writeFile(t, path("stray.bin"), "12345")                               // 5 bytes: a file at the top
	youngSum := writeFile(t, path("young", "new.bin"), "just arrived")     // no record yet, but new
	nestedSum := writeFile(t, path("nested-young", "d", "f.bin"), "fresh") // old folder, new file inside
	stateSum := writeFile(t, path(".state.json"), `{"k":1}`)               // another component's state file
	hiddenSum := writeFile(t, path(".cache", "x"), "cached")
	outside := t.TempDir()
	targetSum := writeFile(t, filepath.Join(outside, "keep.bin"), "not ours")
	require.NoError(t, os.Symlink(outside, path("link"))) // removing the link must not touch its target

	entries, err := os.ReadDir(h.dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != "link" {
			setTimes(t, path(e.Name()), old)
		}
	}
	setTimes(t, path("young"), young)
	setTimes(t, path("nested-young", "d", "f.bin"), young)

	h.at(JobCleanup, run)
	r := h.report(t)
	require.NoError(t, r.Err)
	require.Equal(t, JobCleanup, r.Job)
	require.Equal(t, run, r.At)
	require.Equal(t, 4, r.Removed, "done, orphan, stray.bin and link")
	require.Equal(t, int64(10+8+3+5), r.Bytes)
	require.Equal(t, 2, r.Kept, "young and nested-young")

	for _, gone := range []string{"done", "orphan", "stray.bin", "link"} {
		_, err := os.Lstat(path(gone))
		require.ErrorIs(t, err, os.ErrNotExist, gone)
	}
	requireFileSum(t, path("live", "big.iso.part"), liveSum)
	requireFileSum(t, path("queued", ".big.iso.httpdl"), queuedSum)
	requireFileSum(t, path("uploading", "parts", "big.iso.001"), uploadSum)
	requireFileSum(t, path("young", "new.bin"), youngSum)
	requireFileSum(t, path("nested-young", "d", "f.bin"), nestedSum)
	requireFileSum(t, path(".state.json"), stateSum)
	requireFileSum(t, path(".cache", "x"), hiddenSum)
	requireFileSum(t, filepath.Join(outside, "keep.bin"), targetSum)

	// The records are untouched: none is old enough to prune.
	require.ElementsMatch(t, []string{"live", "queued", "uploading", "done"}, taskIDs(t, h.st))

	// An hour later the young orphans are old enough to go.
	h.at(JobCleanup, run.Add(time.Hour))
	r = h.report(t)
	require.NoError(t, r.Err)
	require.Equal(t, 2, r.Removed)
	require.Zero(t, r.Kept)
	left, err := os.ReadDir(h.dir)
	require.NoError(t, err)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{".cache", ".state.json", "live", "queued", "uploading"}, names)
	_, err = h.st.GetTask(ctx, "live")
	require.NoError(t, err)
}

// A task created while cleanup runs must keep its data even when the age
// guard cannot save it: the directory is listed before the store, so data
// that the listing saw belongs to a task whose record the store already has.
func TestCleanupNeverTakesATaskCreatedDuringTheScanForAnOrphan(t *testing.T) {
	run := t0.Add(time.Hour)
	var sum [32]byte
	h := newHarness(t, nil, func(h *harness) {
		h.st.tasks = func(_ context.Context, f store.Filter, inner func() ([]store.Task, error)) ([]store.Task, error) {
			if !f.Unfinished {
				return inner()
			}
			snapshot, err := inner()
			// The session saves the record, then the task writes its data
			// (with an old time, as an extracted archive may have): both
			// after the store was read.
			putTask(t, h.st.Bolt, "late", messages.StageDownloading, time.Time{})
			sum = writeFile(t, filepath.Join(h.dir, "late", "f.bin"), "new task's data")
			setTimes(t, filepath.Join(h.dir, "late"), run.Add(-time.Hour))
			return snapshot, err
		}
	})
	h.at(JobCleanup, run)
	r := h.report(t)
	require.NoError(t, r.Err)
	require.Zero(t, r.Removed)
	requireFileSum(t, filepath.Join(h.dir, "late", "f.bin"), sum)

	// The next run sees both the data and the record, and keeps the data.
	h.st.tasks = nil
	h.barrier(t)
	h.at(JobCleanup, run.Add(time.Hour))
	r = h.report(t)
	require.NoError(t, r.Err)
	require.Zero(t, r.Removed)
	requireFileSum(t, filepath.Join(h.dir, "late", "f.bin"), sum)
}

func TestCleanupSurvivesAMissingDownloadDir(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DownloadDir = filepath.Join(t.TempDir(), "absent") }, nil)
	putTask(t, h.st, "ancient", messages.StageDone, t0.Add(-30*24*time.Hour))
	h.at(JobCleanup, t0.Add(time.Hour))
	r := h.report(t)
	require.NoError(t, r.Err)
	require.Zero(t, r.Removed)
	require.Equal(t, 1, r.Pruned)
}

func TestCleanupRemovesNothingWhenTheStoreCannotList(t *testing.T) {
	h := newHarness(t, nil, func(h *harness) {
		h.st.tasks = func(context.Context, store.Filter, func() ([]store.Task, error)) ([]store.Task, error) {
			return nil, os.ErrDeadlineExceeded
		}
	})
	writeFile(t, filepath.Join(h.dir, "orphan", "f"), "data")
	setTimes(t, filepath.Join(h.dir, "orphan"), t0.Add(-time.Hour))
	h.at(JobCleanup, t0.Add(time.Hour))
	r := h.report(t)
	require.ErrorIs(t, r.Err, os.ErrDeadlineExceeded)
	require.ErrorContains(t, r.Err, "listing unfinished tasks")
	require.Zero(t, r.Removed)
	require.FileExists(t, filepath.Join(h.dir, "orphan", "f"))
}

func TestPruneRemovesOnlyOldFinishedRecords(t *testing.T) {
	bolt, err := store.OpenBolt(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, bolt.Close()) })
	now := t0
	const retention = 7 * 24 * time.Hour
	records := []struct {
		id       string
		stage    messages.Stage
		finished time.Time
		pruned   bool
	}{
		{"done-8d", messages.StageDone, now.Add(-8 * 24 * time.Hour), true},
		{"failed-just-past", messages.StageFailed, now.Add(-retention - time.Second), true},
		{"cancelled-30d", messages.StageCancelled, now.Add(-30 * 24 * time.Hour), true},
		{"done-at-the-boundary", messages.StageDone, now.Add(-retention), false},
		{"done-1d", messages.StageDone, now.Add(-24 * time.Hour), false},
		{"queued-old", messages.StageQueued, time.Time{}, false},
		{"downloading-old", messages.StageDownloading, time.Time{}, false},
	}
	var want []string
	for _, r := range records {
		putTask(t, bolt, r.id, r.stage, r.finished)
		if !r.pruned {
			want = append(want, r.id)
		}
	}
	res := &cleanupDone{}
	w := cleanupWork{dir: t.TempDir(), st: bolt, now: now, retention: retention, log: slog.New(slog.DiscardHandler)}
	require.NoError(t, w.prune(context.Background(), res))
	require.Equal(t, 3, res.pruned)
	got := taskIDs(t, bolt)
	sort.Strings(got)
	sort.Strings(want)
	require.Equal(t, want, got)

	// A second run finds nothing more to prune.
	res = &cleanupDone{}
	require.NoError(t, w.prune(context.Background(), res))
	require.Zero(t, res.pruned)
}

func TestCleanupPrunesThroughTheActor(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Retention = 24 * time.Hour }, nil)
	run := t0.Add(time.Hour)
	putTask(t, h.st, "old", messages.StageDone, run.Add(-25*time.Hour))
	putTask(t, h.st, "recent", messages.StageFailed, run.Add(-23*time.Hour))
	putTask(t, h.st, "running", messages.StageUploading, time.Time{})
	h.at(JobCleanup, run)
	r := h.report(t)
	require.NoError(t, r.Err)
	require.Equal(t, 1, r.Pruned)
	require.ElementsMatch(t, []string{"recent", "running"}, taskIDs(t, h.st))
}
