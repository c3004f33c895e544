package session

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/messages"
)

func TestDuplicateOfFindsTheCommandsTask(t *testing.T) {
	tasks := []store.Task{
		{Spec: messages.TaskSpec{ID: "a", ChatID: 1, ReplyTo: 10}},
		{Spec: messages.TaskSpec{ID: "b", ChatID: 2, ReplyTo: 10}},
	}
	require.Equal(t, "b", duplicateOf(tasks, 2, 10))
	require.Empty(t, duplicateOf(tasks, 1, 11))
	require.Empty(t, duplicateOf(nil, 1, 10))
}

func TestTaskIDsAreShortAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := newTaskID()
		require.Regexp(t, `^[a-z0-9]{8}$`, id)
		require.False(t, seen[id])
		seen[id] = true
	}
}
