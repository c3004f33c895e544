package worker

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHaltCancelsAndWaits(t *testing.T) {
	var w Worker
	require.False(t, w.Running())
	require.True(t, w.Halt(time.Second), "halting an idle worker is a no-op")

	ended := make(chan struct{})
	w.Start(func(ctx context.Context) {
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // cleanup after the cancel
		close(ended)
	})
	require.True(t, w.Running())
	require.True(t, w.Halt(5*time.Second))
	select {
	case <-ended:
	default:
		t.Fatal("Halt returned before the work ended")
	}
	require.False(t, w.Running())
}

func TestHaltGivesUpAtTheDeadline(t *testing.T) {
	var w Worker
	release := make(chan struct{})
	w.Start(func(context.Context) { <-release }) // ignores its context
	require.False(t, w.Halt(10*time.Millisecond))
	close(release)
}

func TestFinishedWorkIsNotWaitedFor(t *testing.T) {
	var w Worker
	block := make(chan struct{})
	w.Start(func(context.Context) { <-block })
	w.Finished()
	require.True(t, w.Halt(time.Millisecond), "a finished worker is not waited for")
	close(block)
}
