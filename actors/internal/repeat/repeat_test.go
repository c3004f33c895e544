package repeat

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"
)

type tick struct{}

// counter is an actor that counts its ticks.
func counter(sys *actor.ActorSystem, n *atomic.Int64) *actor.PID {
	return sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*tick); ok {
			n.Add(1)
		}
	}))
}

// Ticks arrive after the initial delay and then at the interval, and none
// arrives once Cancel has returned.
func TestSendAndCancel(t *testing.T) {
	sys := actor.NewActorSystem()
	t.Cleanup(sys.Shutdown)
	var n atomic.Int64
	pid := counter(sys, &n)

	cancel := Send(sys.Root, 0, 5*time.Millisecond, pid, &tick{})
	require.Eventually(t, func() bool { return n.Load() >= 5 }, 5*time.Second, time.Millisecond)
	cancel()
	cancel()                          // idempotent
	time.Sleep(20 * time.Millisecond) // ticks already in the mailbox
	after := n.Load()
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, after, n.Load(), "no tick after Cancel")
}

// Many timers cancelled while their ticks fire: the race detector finds no
// race (protoactor's SendRepeatedly fails this under -race).
func TestCancelWhileFiring(t *testing.T) {
	sys := actor.NewActorSystem()
	t.Cleanup(sys.Shutdown)
	var n atomic.Int64
	pid := counter(sys, &n)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			cancel := Send(sys.Root, 0, time.Microsecond, pid, &tick{})
			time.Sleep(time.Duration(i%7) * 100 * time.Microsecond)
			cancel()
		})
	}
	wg.Wait()
	require.Positive(t, n.Load())
}
