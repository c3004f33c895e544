package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/redistest"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

func openRedis(t *testing.T, c redis.UniversalClient, prefix string) *store.Redis {
	t.Helper()
	st, err := store.OpenRedis(ctx(t), c, prefix)
	require.NoError(t, err)
	return st
}

func members(t *testing.T, c *redis.Client, key string) []string {
	t.Helper()
	m, err := c.SMembers(ctx(t), key).Result()
	require.NoError(t, err)
	return m
}

func TestRedisIndexes(t *testing.T) {
	c := redistest.Start(t).Client()
	st := openRedis(t, c, "") // the default prefix
	const p = "mirrorleech:{store}:"

	rec := task("t1", 5, 0, messages.StageQueued)
	put(t, st, rec, task("t2", 5, 1, messages.StageDownloading))
	require.ElementsMatch(t, []string{"t1", "t2"}, members(t, c, p+"open"))
	require.ElementsMatch(t, []string{"t1", "t2"}, members(t, c, p+"user:5"))
	score, err := c.ZScore(ctx(t), p+"tasks", "t1").Result()
	require.NoError(t, err)
	require.InDelta(t, float64(rec.Spec.Created.UnixNano()), score, 1e3)
	raw, err := c.Get(ctx(t), p+"task:t1").Result()
	require.NoError(t, err)
	require.Contains(t, raw, `"ID":"t1"`, "the record is the JSON of Task")

	// Final stage: out of the open set; back in when resumed.
	_, err = st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error { tk.Stage = messages.StageFailed; return nil })
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"t2"}, members(t, c, p+"open"))
	_, err = st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error { tk.Stage = messages.StageQueued; return nil })
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"t1", "t2"}, members(t, c, p+"open"))

	// An fn error changes no index.
	_, err = st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error {
		tk.Stage = messages.StageDone
		return errors.New("no")
	})
	require.Error(t, err)
	require.ElementsMatch(t, []string{"t1", "t2"}, members(t, c, p+"open"))

	// Another user: the old user set forgets the id.
	put(t, st, task("t1", 6, 0, messages.StageDone))
	require.ElementsMatch(t, []string{"t2"}, members(t, c, p+"user:5"))
	require.ElementsMatch(t, []string{"t1"}, members(t, c, p+"user:6"))
	require.ElementsMatch(t, []string{"t2"}, members(t, c, p+"open"))

	// Delete clears every index.
	require.NoError(t, st.DeleteTasks(ctx(t), "t1", "t2"))
	keys, err := c.Keys(ctx(t), p+"*").Result()
	require.NoError(t, err)
	require.Empty(t, keys, "no key left behind")

	// fn cannot move a record to another id.
	put(t, st, task("t3", 5, 2, messages.StageQueued))
	_, err = st.UpdateTask(ctx(t), "t3", func(tk *store.Task) error { tk.Spec.ID = "elsewhere"; return nil })
	require.NoError(t, err)
	got, err := st.GetTask(ctx(t), "t3")
	require.NoError(t, err)
	require.Equal(t, "t3", got.Spec.ID)
	require.Equal(t, []string{"t3"}, list(t, st, store.Filter{}))
}

func TestRedisPrunesVanishedIDs(t *testing.T) {
	c := redistest.Start(t).Client()
	st := openRedis(t, c, "px")
	const p = "px:{store}:"
	put(t, st, task("live", 1, 0, messages.StageQueued))
	// Index entries whose record is gone (written by hand: the store never
	// leaves them, but a partial restore or manual cleanup could).
	require.NoError(t, c.ZAdd(ctx(t), p+"tasks", redis.Z{Score: 1, Member: "ghost"}).Err())
	require.NoError(t, c.SAdd(ctx(t), p+"open", "ghost").Err())
	require.NoError(t, c.SAdd(ctx(t), p+"user:1", "ghost").Err())

	require.Equal(t, []string{"live"}, list(t, st, store.Filter{UserID: 1, Unfinished: true}))
	require.Equal(t, []string{"live"}, list(t, st, store.Filter{}))
	require.ElementsMatch(t, []string{"live"}, members(t, c, p+"open"))
	require.ElementsMatch(t, []string{"live"}, members(t, c, p+"user:1"))
	n, err := c.ZCard(ctx(t), p+"tasks").Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}

func TestRedisListsManyTasks(t *testing.T) {
	// More than one MGET chunk (256).
	c := redistest.Start(t).Client()
	st := openRedis(t, c, "")
	const n = 600
	for i := range n {
		stage := messages.StageQueued
		if i%3 == 0 {
			stage = messages.StageDone
		}
		put(t, st, task(fmt.Sprintf("t%03d", i), int64(i%2), n-i, stage))
	}
	all, err := st.Tasks(ctx(t), store.Filter{})
	require.NoError(t, err)
	require.Len(t, all, n)
	for i := 1; i < len(all); i++ {
		require.False(t, all[i].Spec.Created.Before(all[i-1].Spec.Created), "oldest first")
	}
	open, err := st.Tasks(ctx(t), store.Filter{Unfinished: true})
	require.NoError(t, err)
	require.Len(t, open, n-n/3)
}

func TestRedisSurvivesReopen(t *testing.T) {
	srv := redistest.Start(t)
	st := openRedis(t, srv.Client(), "")
	put(t, st, task("t1", 1, 0, messages.StageUploading))
	_, err := store.ClaimTask(ctx(t), st, "t1", "member-a", "node-a", always)
	require.NoError(t, err)
	require.NoError(t, st.SetAuthorized(ctx(t), -100, true))
	require.NoError(t, st.Close())

	// Another process: a new client and store on the same server.
	st2 := openRedis(t, srv.Client(), "")
	got, err := st2.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Equal(t, "member-a", got.Owner)
	require.Equal(t, []string{"t1"}, list(t, st2, store.Filter{Unfinished: true, UserID: 1}))
	auth, err := st2.AuthorizedChats(ctx(t))
	require.NoError(t, err)
	require.Equal(t, []int64{-100}, auth)
}

func TestRedisCloseLeavesClientOpen(t *testing.T) {
	c := redistest.Start(t).Client()
	st := openRedis(t, c, "")
	require.NoError(t, st.Close())
	require.NoError(t, c.Ping(ctx(t)).Err(), "the caller owns the client")
}

func TestRedisPrefixIsolation(t *testing.T) {
	c := redistest.Start(t).Client()
	a := openRedis(t, c, "alpha")
	b := openRedis(t, c, "beta")

	ta := task("same", 1, 0, messages.StageQueued)
	ta.Node = "from-a"
	tb := task("same", 1, 0, messages.StageDone)
	tb.Node = "from-b"
	put(t, a, ta)
	put(t, b, tb)
	put(t, a, task("only-a", 1, 1, messages.StageQueued))
	require.NoError(t, a.SetAuthorized(ctx(t), 9, true))

	got, err := a.GetTask(ctx(t), "same")
	require.NoError(t, err)
	require.Equal(t, "from-a", got.Node)
	got, err = b.GetTask(ctx(t), "same")
	require.NoError(t, err)
	require.Equal(t, "from-b", got.Node)
	require.Equal(t, []string{"same", "only-a"}, list(t, a, store.Filter{Unfinished: true}))
	require.Empty(t, list(t, b, store.Filter{Unfinished: true}))
	_, err = b.GetTask(ctx(t), "only-a")
	require.ErrorIs(t, err, store.ErrNotFound)
	auth, err := b.AuthorizedChats(ctx(t))
	require.NoError(t, err)
	require.Empty(t, auth)

	require.NoError(t, a.DeleteTasks(ctx(t), "same"))
	_, err = b.GetTask(ctx(t), "same")
	require.NoError(t, err, "a delete under one prefix leaves the other alone")
}

func TestRedisGivesUpOnEndlessConflict(t *testing.T) {
	c := redistest.Start(t).Client()
	st := openRedis(t, c, "")
	other := openRedis(t, c, "")
	put(t, st, task("t1", 1, 0, messages.StageQueued))

	calls := 0
	_, err := st.UpdateTask(ctx(t), "t1", func(tk *store.Task) error {
		calls++
		// Another writer changes the record under every attempt.
		_, err := other.UpdateTask(ctx(t), "t1", func(o *store.Task) error { o.Resumes++; return nil })
		require.NoError(t, err)
		tk.Done = 1
		return nil
	})
	require.ErrorIs(t, err, store.ErrConflict)
	require.ErrorIs(t, err, redis.TxFailedErr)
	require.Equal(t, 64, calls, "bounded retries")
	got, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Zero(t, got.Done, "the losing update wrote nothing")
	require.Equal(t, 64, got.Resumes)
	require.Equal(t, uint64(63), st.Retries())
}

func TestRedisCancelledContext(t *testing.T) {
	c := redistest.Start(t).Client()
	st := openRedis(t, c, "")
	put(t, st, task("t1", 1, 0, messages.StageQueued))
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := st.UpdateTask(cctx, "t1", func(tk *store.Task) error { tk.Done = 1; return nil })
	require.ErrorIs(t, err, context.Canceled)
	_, err = st.Tasks(cctx, store.Filter{})
	require.ErrorIs(t, err, context.Canceled)
}

// TestRedisServerDown: with Redis gone every call fails (within its
// context, never hanging), and once Redis is back (empty, as after a failover
// to a blank replica) the same store works again.
func TestRedisServerDown(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	st := openRedis(t, c, "")
	put(t, st, task("t1", 1, 0, messages.StageQueued))
	srv.Stop()

	calls := map[string]func(context.Context) error{
		"ping": st.Ping,
		"get":  func(ctx context.Context) error { _, err := st.GetTask(ctx, "t1"); return err },
		"put": func(ctx context.Context) error {
			return st.PutTask(ctx, task("t2", 1, 1, messages.StageQueued))
		},
		"update": func(ctx context.Context) error {
			_, err := st.UpdateTask(ctx, "t1", func(tk *store.Task) error { tk.Done++; return nil })
			return err
		},
		"list":   func(ctx context.Context) error { _, err := st.Tasks(ctx, store.Filter{}); return err },
		"delete": func(ctx context.Context) error { return st.DeleteTasks(ctx, "t1") },
		"auth":   func(ctx context.Context) error { _, err := st.AuthorizedChats(ctx); return err },
		"claim": func(ctx context.Context) error {
			_, err := store.ClaimTask(ctx, st, "t1", "m", "n", always)
			return err
		},
		"open": func(ctx context.Context) error { _, err := store.OpenRedis(ctx, c, ""); return err },
	}
	// All at once: each may spend a while in the client's own retries.
	type result struct {
		name string
		err  error
		took time.Duration
	}
	results := make(chan result, len(calls))
	for name, call := range calls {
		go func() {
			cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			start := time.Now()
			err := call(cctx)
			results <- result{name, err, time.Since(start)}
		}()
	}
	hang := time.After(20 * time.Second)
	for range calls {
		select {
		case r := <-results:
			require.Error(t, r.err, r.name)
			t.Logf("%s failed after %v: %v", r.name, r.took.Round(time.Millisecond), r.err)
		case <-hang:
			t.Fatal("a call still blocked 20 s after its 3 s context")
		}
	}

	srv.Restart()
	require.Eventually(t, func() bool { return st.Ping(ctx(t)) == nil }, 15*time.Second, 50*time.Millisecond)
	_, err := st.GetTask(ctx(t), "t1")
	require.ErrorIs(t, err, store.ErrNotFound, "the restarted server is empty")
	put(t, st, task("t3", 1, 2, messages.StageQueued))
	require.Equal(t, []string{"t3"}, list(t, st, store.Filter{Unfinished: true}))
}

// TestRedisUnresponsiveServerHonoursContext: a server that accepts
// connections but never answers (hung, or a network black hole) must not
// hold a call beyond its context when the client is built with
// ContextTimeoutEnabled, as the doc asks.
func TestRedisUnresponsiveServerHonoursContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		var conns []net.Conn // held open, silent
		for {
			conn, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, conn)
		}
	}()
	t.Cleanup(func() { _ = l.Close(); <-accepted })
	c := redis.NewClient(&redis.Options{
		Addr: l.Addr().String(), ContextTimeoutEnabled: true,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute, MaxRetries: -1,
	})
	t.Cleanup(func() { _ = c.Close() })

	cctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { _, err := store.OpenRedis(cctx, c, ""); done <- err }()
	select {
	case err := <-done:
		require.Error(t, err)
		t.Logf("open failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(20 * time.Second):
		t.Fatal("OpenRedis still blocked 20 s after a 0.5 s context")
	}
}
