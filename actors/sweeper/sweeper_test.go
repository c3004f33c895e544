package sweeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/actors/sweeper"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

func rec(id string, user int64, stage messages.Stage, owner string) store.Task {
	return store.Task{Spec: messages.TaskSpec{ID: id, UserID: user}, Stage: stage, Owner: owner}
}

func TestOrphans(t *testing.T) {
	alive := func(id string) bool { return id == "live" }
	got := sweeper.Orphans([]store.Task{
		rec("a", 1, messages.StageDownloading, "live"),  // running on a live node
		rec("b", 2, messages.StageDownloading, "dead"),  // its node is gone
		rec("c", 2, messages.StageUploading, "dead"),    // same user once
		rec("d", 3, messages.StageQueued, ""),           // released on handover
		rec("e", 4, messages.StageDone, "dead"),         // finished: nothing to do
		rec("f", 5, messages.StageFailed, ""),           // finished
		rec("g", 1, messages.StageArchiving, "another"), // not alive
	}, alive)
	require.Equal(t, []int64{2, 3, 1}, got)
	require.Empty(t, sweeper.Orphans(nil, alive))
}
