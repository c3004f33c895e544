package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/redistest"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

// conformance is the behaviour every Store shares; TestConformance runs
// each case against Bolt and Redis.
var conformance = []struct {
	name string
	run  func(t *testing.T, st store.Store)
}{
	{"put and get", testPutGet},
	{"put replaces", testPutReplaces},
	{"put without id", testPutWithoutID},
	{"missing id", testMissing},
	{"update", testUpdate},
	{"update fn error aborts", testUpdateAborts},
	{"filters", testFilters},
	{"filter by command message", testFilterCommand},
	{"oldest first", testOrder},
	{"stage changes move between filters", testStageMoves},
	{"user change moves between filters", testUserMoves},
	{"delete", testDelete},
	{"authorization", testAuth},
	{"ping", testPing},
	{"concurrent updates are atomic", testConcurrentUpdates},
	{"claim race has one winner", testClaimRace},
	{"claim by owner and free tasks", testClaimFree},
	{"claim takes over a dead owner", testClaimDeadOwner},
	{"claim of a missing task", testClaimMissing},
	{"release", testRelease},
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) { testStores(t, client, c.run) })
	}
}

// testStores runs fn against a fresh Bolt store and a fresh Redis store (a
// prefix of its own on the shared server).
func testStores(t *testing.T, client *redis.Client, fn func(t *testing.T, st store.Store)) {
	t.Run("bolt", func(t *testing.T) {
		st, err := store.OpenBolt(t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		fn(t, st)
	})
	t.Run("redis", func(t *testing.T) {
		prefix := "conf-" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
		st, err := store.OpenRedis(ctx(t), client, prefix)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		fn(t, st)
		t.Logf("WATCH retries: %d", st.Retries())
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func task(id string, user int64, created int, stage messages.Stage) store.Task {
	return store.Task{
		Spec: messages.TaskSpec{
			ID: id, UserID: user, ChatID: -100 - user, Kind: messages.Leech,
			Created: base.Add(time.Duration(created) * time.Minute),
		},
		Stage: stage,
	}
}

func finished(id string, user int64, created int, stage messages.Stage, endedAfter time.Duration) store.Task {
	t := task(id, user, created, stage)
	t.Finished = base.Add(endedAfter)
	return t
}

func ids(ts []store.Task) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Spec.ID)
	}
	return out
}

func put(t *testing.T, st store.Store, ts ...store.Task) {
	t.Helper()
	for _, tk := range ts {
		require.NoError(t, st.PutTask(ctx(t), tk))
	}
}

func list(t *testing.T, st store.Store, f store.Filter) []string {
	t.Helper()
	got, err := st.Tasks(ctx(t), f)
	require.NoError(t, err)
	return ids(got)
}

func testPutGet(t *testing.T, st store.Store) {
	want := task("t1", 7, 0, messages.StageUploading)
	want.Node = "node-a"
	want.Owner = "member-1"
	want.Done, want.Total = 5, 10
	want.Parts = map[int]int{0: 101, 1: 102}
	want.Download = &messages.DownloadFinished{Path: "/data/t1/file.bin", Name: "file.bin", Size: 10}
	want.Resumes = 2
	before := time.Now()
	require.NoError(t, st.PutTask(ctx(t), want))

	got, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.False(t, got.Updated.Before(before.Truncate(time.Second)), "Updated is set on put")
	got.Updated = time.Time{}
	require.Equal(t, want, got)
}

func testPutReplaces(t *testing.T, st store.Store) {
	a := task("t1", 1, 0, messages.StageQueued)
	a.Done = 3
	put(t, st, a)
	b := task("t1", 1, 0, messages.StageDownloading)
	put(t, st, b)
	got, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Equal(t, messages.StageDownloading, got.Stage)
	require.Zero(t, got.Done)
	require.Equal(t, []string{"t1"}, list(t, st, store.Filter{}))
}

func testPutWithoutID(t *testing.T, st store.Store) {
	require.Error(t, st.PutTask(ctx(t), store.Task{Stage: messages.StageQueued}))
	require.Empty(t, list(t, st, store.Filter{}))
}

func testMissing(t *testing.T, st store.Store) {
	_, err := st.GetTask(ctx(t), "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Contains(t, err.Error(), "nope")

	called := false
	_, err = st.UpdateTask(ctx(t), "nope", func(*store.Task) error { called = true; return nil })
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Contains(t, err.Error(), "updating task nope")
	require.False(t, called, "fn runs only on an existing record")
	_, err = st.GetTask(ctx(t), "nope")
	require.ErrorIs(t, err, store.ErrNotFound, "a failed update creates nothing")
}

func testUpdate(t *testing.T, st store.Store) {
	put(t, st, task("t1", 1, 0, messages.StageDownloading))
	first, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)

	out, err := st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error {
		require.Equal(t, messages.StageDownloading, tk.Stage, "fn sees the stored record")
		tk.Done = 42
		tk.Parts = map[int]int{3: 9}
		tk.Where = "https://example.invalid/x"
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, int64(42), out.Done)
	require.False(t, out.Updated.Before(first.Updated), "Updated moves forward")

	got, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Equal(t, int64(42), got.Done)
	require.Equal(t, map[int]int{3: 9}, got.Parts)
	require.Equal(t, "https://example.invalid/x", got.Where)
	require.True(t, got.Updated.Equal(out.Updated), "the returned record is the stored one")
}

func testUpdateAborts(t *testing.T, st store.Store) {
	put(t, st, task("t1", 1, 0, messages.StageDownloading))
	before, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)

	boom := errors.New("boom")
	_, err = st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error {
		tk.Done = 99
		tk.Stage = messages.StageDone
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Contains(t, err.Error(), "updating task t1")

	after, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Equal(t, before, after, "nothing written")
	require.Equal(t, []string{"t1"}, list(t, st, store.Filter{Unfinished: true}), "indexes untouched")
}

func testFilters(t *testing.T, st store.Store) {
	put(t, st,
		task("a-q", 1, 0, messages.StageQueued),
		task("b-dl", 2, 1, messages.StageDownloading),
		finished("a-done-early", 1, 2, messages.StageDone, time.Hour),
		finished("b-failed-late", 2, 3, messages.StageFailed, 3*time.Hour),
		task("a-up", 1, 4, messages.StageUploading),
		finished("a-cancel-mid", 1, 5, messages.StageCancelled, 2*time.Hour),
	)
	cases := []struct {
		f    store.Filter
		want []string
	}{
		{store.Filter{}, []string{"a-q", "b-dl", "a-done-early", "b-failed-late", "a-up", "a-cancel-mid"}},
		{store.Filter{Unfinished: true}, []string{"a-q", "b-dl", "a-up"}},
		{store.Filter{UserID: 1}, []string{"a-q", "a-done-early", "a-up", "a-cancel-mid"}},
		{store.Filter{UserID: 2}, []string{"b-dl", "b-failed-late"}},
		{store.Filter{UserID: 3}, []string{}},
		{store.Filter{UserID: 1, Unfinished: true}, []string{"a-q", "a-up"}},
		{store.Filter{UserID: 2, Unfinished: true}, []string{"b-dl"}},
		{store.Filter{FinishedBefore: base.Add(150 * time.Minute)}, []string{"a-done-early", "a-cancel-mid"}},
		{store.Filter{FinishedBefore: base.Add(time.Hour)}, []string{}}, // strictly before
		{store.Filter{FinishedBefore: base.Add(4 * time.Hour), UserID: 2}, []string{"b-failed-late"}},
		{store.Filter{FinishedBefore: base.Add(4 * time.Hour), Unfinished: true}, []string{}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, list(t, st, c.f), "filter %+v", c.f)
	}
}

func testFilterCommand(t *testing.T, st store.Store) {
	cmd := func(tk store.Task, chat int64, msg int) store.Task {
		tk.Spec.ChatID, tk.Spec.ReplyTo = chat, msg
		return tk
	}
	put(t, st,
		cmd(task("g-a", 1, 0, messages.StageDownloading), -5, 10),
		cmd(task("g-b", 2, 1, messages.StageQueued), -5, 11),
		cmd(task("p-a", 1, 2, messages.StageUploading), 1, 10), // the same message id in another chat
		cmd(finished("g-old", 1, 3, messages.StageDone, time.Hour), -5, 12),
	)
	cases := []struct {
		f    store.Filter
		want []string
	}{
		{store.Filter{ChatID: -5, Command: 10}, []string{"g-a"}},
		{store.Filter{ChatID: 1, Command: 10}, []string{"p-a"}},
		{store.Filter{ChatID: -5, Command: 11, Unfinished: true}, []string{"g-b"}},
		{store.Filter{ChatID: -5, Command: 12, Unfinished: true}, []string{}},
		{store.Filter{ChatID: -5, Command: 12}, []string{"g-old"}},
		{store.Filter{ChatID: -5, Command: 99}, []string{}},
		{store.Filter{ChatID: -5}, []string{"g-a", "g-b", "g-old"}},
		{store.Filter{ChatID: -5, UserID: 2, Unfinished: true}, []string{"g-b"}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, list(t, st, c.f), "filter %+v", c.f)
	}
}

func testOrder(t *testing.T, st store.Store) {
	// Written newest first, with ids that sort the other way round too.
	put(t, st,
		task("a", 1, 30, messages.StageQueued),
		task("b", 1, 20, messages.StageDone),
		task("c", 2, 10, messages.StageQueued),
		task("d", 1, -5, messages.StageQueued),
	)
	require.Equal(t, []string{"d", "c", "b", "a"}, list(t, st, store.Filter{}))
	require.Equal(t, []string{"d", "b", "a"}, list(t, st, store.Filter{UserID: 1}))
	require.Equal(t, []string{"d", "c", "a"}, list(t, st, store.Filter{Unfinished: true}))
}

func testStageMoves(t *testing.T, st store.Store) {
	put(t, st, task("t1", 1, 0, messages.StageQueued), task("t2", 1, 1, messages.StageQueued))
	_, err := st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error {
		tk.Stage = messages.StageDone
		tk.Finished = base
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"t2"}, list(t, st, store.Filter{Unfinished: true}))
	require.Equal(t, []string{"t2"}, list(t, st, store.Filter{Unfinished: true, UserID: 1}))
	require.Equal(t, []string{"t1"}, list(t, st, store.Filter{FinishedBefore: base.Add(time.Second)}))

	// A resumed (re-queued) task is unfinished again.
	_, err = st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error {
		tk.Stage = messages.StageUploading
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"t1", "t2"}, list(t, st, store.Filter{Unfinished: true}))

	// PutTask moves a record too.
	put(t, st, finished("t2", 1, 1, messages.StageFailed, 0))
	require.Equal(t, []string{"t1"}, list(t, st, store.Filter{Unfinished: true}))
}

func testUserMoves(t *testing.T, st store.Store) {
	put(t, st, task("t1", 1, 0, messages.StageQueued))
	put(t, st, task("t1", 2, 0, messages.StageQueued))
	require.Empty(t, list(t, st, store.Filter{UserID: 1}))
	require.Empty(t, list(t, st, store.Filter{UserID: 1, Unfinished: true}))
	require.Equal(t, []string{"t1"}, list(t, st, store.Filter{UserID: 2}))
	require.Equal(t, []string{"t1"}, list(t, st, store.Filter{UserID: 2, Unfinished: true}))
}

func testDelete(t *testing.T, st store.Store) {
	put(t, st,
		task("t1", 1, 0, messages.StageQueued),
		finished("t2", 1, 1, messages.StageDone, 0),
		task("t3", 2, 2, messages.StageQueued),
	)
	require.NoError(t, st.DeleteTasks(ctx(t)))
	require.NoError(t, st.DeleteTasks(ctx(t), "t1", "missing", "t2"))
	for _, id := range []string{"t1", "t2", "missing"} {
		_, err := st.GetTask(ctx(t), id)
		require.ErrorIs(t, err, store.ErrNotFound, id)
	}
	require.Equal(t, []string{"t3"}, list(t, st, store.Filter{}))
	require.Equal(t, []string{"t3"}, list(t, st, store.Filter{Unfinished: true}))
	require.Empty(t, list(t, st, store.Filter{UserID: 1}))
	require.Empty(t, list(t, st, store.Filter{FinishedBefore: base.Add(time.Hour)}))

	// A deleted id can be created again.
	put(t, st, task("t1", 1, 0, messages.StageQueued))
	require.Equal(t, []string{"t1"}, list(t, st, store.Filter{UserID: 1, Unfinished: true}))
}

func testAuth(t *testing.T, st store.Store) {
	got, err := st.AuthorizedChats(ctx(t))
	require.NoError(t, err)
	require.Empty(t, got)
	for _, id := range []int64{42, -1001234567890, 7, 42} {
		require.NoError(t, st.SetAuthorized(ctx(t), id, true))
	}
	require.NoError(t, st.SetAuthorized(ctx(t), 7, false))
	require.NoError(t, st.SetAuthorized(ctx(t), 8, false), "removing an absent id is fine")
	got, err = st.AuthorizedChats(ctx(t))
	require.NoError(t, err)
	require.Equal(t, []int64{-1001234567890, 42}, got)
}

func testPing(t *testing.T, st store.Store) {
	require.NoError(t, st.Ping(ctx(t)))
}

func testConcurrentUpdates(t *testing.T, st store.Store) {
	const workers, each = 8, 50
	put(t, st, task("t1", 1, 0, messages.StageDownloading))
	var (
		wg       sync.WaitGroup
		errs     = make(chan error, workers*each)
		mu       sync.Mutex
		calls    int // fn runs: more than workers*each when updates retried
		maxCalls int // most fn runs for one update
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := 0
				_, err := st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error {
					n++
					tk.Done++
					tk.Node = fmt.Sprintf("w%d-%d", w, i)
					return nil
				})
				mu.Lock()
				calls += n
				maxCalls = max(maxCalls, n)
				mu.Unlock()
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Equal(t, int64(workers*each), got.Done, "no lost update")
	t.Logf("%d updates ran fn %d times, at most %d times for one", workers*each, calls, maxCalls)
}
