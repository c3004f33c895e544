package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

// The claim cases run in the conformance table (conformance_test.go),
// against Bolt and Redis.

func always(string) bool { return true }
func never(string) bool  { return false }

func testClaimRace(t *testing.T, st store.Store) {
	// Many rounds, so a non-atomic claim (two winners) shows up.
	const rounds = 25
	for r := range rounds {
		id := fmt.Sprintf("t%02d", r)
		put(t, st, task(id, 1, r, messages.StageQueued))
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			wins  []string
			owned int
		)
		for _, m := range []string{"member-a", "member-b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := store.ClaimTask(ctx(t), st, id, m, "node-"+m, always)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					if got.Owner != m {
						t.Errorf("claim %s by %s returned owner %q", id, m, got.Owner)
					}
					wins = append(wins, m)
				case errors.Is(err, store.ErrOwned):
					owned++
				default:
					t.Errorf("claim %s by %s: %v", id, m, err)
				}
			}()
		}
		wg.Wait()
		require.Len(t, wins, 1, "round %d: exactly one winner", r)
		require.Equal(t, 1, owned, "round %d: the loser gets ErrOwned", r)
		got, err := st.GetTask(ctx(t), id)
		require.NoError(t, err)
		require.Equal(t, wins[0], got.Owner)
		require.Equal(t, "node-"+wins[0], got.Node)
	}
}

func testClaimFree(t *testing.T, st store.Store) {
	put(t, st, task("t1", 1, 0, messages.StageQueued))
	got, err := store.ClaimTask(ctx(t), st, "t1", "member-a", "node-a", always)
	require.NoError(t, err)
	require.Equal(t, "member-a", got.Owner)
	require.Equal(t, "node-a", got.Node)

	// The holder claims again (e.g. after a resume on the same process),
	// possibly under another node name.
	got, err = store.ClaimTask(ctx(t), st, "t1", "member-a", "node-a2", always)
	require.NoError(t, err)
	require.Equal(t, "member-a", got.Owner)
	require.Equal(t, "node-a2", got.Node)

	// A live other member cannot take it; the error carries the record.
	held, err := store.ClaimTask(ctx(t), st, "t1", "member-b", "node-b", always)
	require.ErrorIs(t, err, store.ErrOwned)
	require.Contains(t, err.Error(), "member-a")
	require.Equal(t, "member-a", held.Owner)
	stored, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Equal(t, "member-a", stored.Owner)
	require.Equal(t, "node-a2", stored.Node, "a failed claim writes nothing")

	_, err = store.ClaimTask(ctx(t), st, "t1", "", "node-x", always)
	require.Error(t, err, "an empty owner id is refused")
}

func testClaimDeadOwner(t *testing.T, st store.Store) {
	rec := task("t1", 1, 0, messages.StageDownloading)
	rec.Owner, rec.Node = "member-old", "node-old"
	put(t, st, rec)

	var asked []string
	got, err := store.ClaimTask(ctx(t), st, "t1", "member-new", "node-new", func(id string) bool {
		asked = append(asked, id)
		return false
	})
	require.NoError(t, err)
	require.Equal(t, "member-new", got.Owner)
	require.Equal(t, "node-new", got.Node)
	require.Contains(t, asked, "member-old", "alive is asked about the holder")

	// alive nil: only the claimant counts as alive (single node), so any
	// other holder is taken over.
	got, err = store.ClaimTask(ctx(t), st, "t1", "member-newer", "node-newer", nil)
	require.NoError(t, err)
	require.Equal(t, "member-newer", got.Owner)

	// The liveness of the claimant itself is irrelevant.
	got, err = store.ClaimTask(ctx(t), st, "t1", "member-newer", "node-newer", never)
	require.NoError(t, err)
	require.Equal(t, "member-newer", got.Owner)
}

func testClaimMissing(t *testing.T, st store.Store) {
	_, err := store.ClaimTask(ctx(t), st, "nope", "member-a", "node-a", always)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testRelease(t *testing.T, st store.Store) {
	put(t, st, task("t1", 1, 0, messages.StageUploading))
	_, err := store.ClaimTask(ctx(t), st, "t1", "member-a", "node-a", always)
	require.NoError(t, err)

	// Someone else's release leaves it alone.
	err = store.ReleaseTask(ctx(t), st, "t1", "member-b")
	require.ErrorIs(t, err, store.ErrOwned)
	got, err := st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Equal(t, "member-a", got.Owner)

	// The holder's release frees it at once for a live other member.
	require.NoError(t, store.ReleaseTask(ctx(t), st, "t1", "member-a"))
	got, err = st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Empty(t, got.Owner)
	require.Equal(t, "node-a", got.Node, "Node keeps where it last ran")
	got, err = store.ClaimTask(ctx(t), st, "t1", "member-b", "node-b", always)
	require.NoError(t, err)
	require.Equal(t, "member-b", got.Owner)

	// Missing, unowned, or an empty owner id: nothing to do.
	require.NoError(t, store.ReleaseTask(ctx(t), st, "nope", "member-a"))
	put(t, st, task("t2", 1, 1, messages.StageQueued))
	require.NoError(t, store.ReleaseTask(ctx(t), st, "t2", "member-a"))
	require.NoError(t, store.ReleaseTask(ctx(t), st, "t1", ""))
	got, err = st.GetTask(ctx(t), "t1")
	require.NoError(t, err)
	require.Equal(t, "member-b", got.Owner)
}
