// Package repeat sends a message to an actor at a fixed interval: the
// periodic ticks of the cron, the status boards and the sweeper.
//
// It replaces protoactor's scheduler.SendRepeatedly, whose timer callback
// reads its cancellation state without synchronisation: a tick that fires
// while its actor stops is a data race the race detector reports (it failed
// a clean-clone `make test` in the cron's tests). Here the callback and
// Cancel share a mutex, so once Cancel returns no tick is sent any more.
//
// It owns one time.Timer per call and nothing else; it cannot fail. Send on
// the actor's SenderContext only posts to a mailbox, so holding the mutex
// around it never blocks the actor that cancels.
package repeat

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Cancel stops the ticks; it may be called more than once.
type Cancel func()

// Send sends msg to pid after initial, then every interval, until the
// returned Cancel is called.
func Send(sender actor.SenderContext, initial, interval time.Duration, pid *actor.PID, msg any) Cancel {
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(initial, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		sender.Send(pid, msg)
		t.Reset(interval)
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}
