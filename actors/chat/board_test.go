package chat

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/messages"
)

// fakes plays the outbox and the cron actor: it answers like them and
// forwards every outbox request to a channel.
func fakes(t *testing.T, sys *actor.ActorSystem) chan any {
	t.Helper()
	ch := make(chan any, 64)
	next := 100
	_, err := sys.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *messages.SendText:
			next++
			ch <- m
			if ctx.Sender() != nil {
				ctx.Respond(&messages.TextSent{ChatID: m.ChatID, MessageID: next})
			}
		case *messages.EditText:
			ch <- m
			ctx.Respond(&messages.TextEdited{ChatID: m.ChatID, MessageID: m.MessageID})
		case *messages.DeleteMessage, *messages.AnswerCallback:
			ch <- m
		}
	}), messages.OutboxName)
	require.NoError(t, err)
	_, err = sys.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*messages.GetNodeStats); ok {
			ctx.Respond(&messages.NodeStats{Node: "n1", DiskFree: 1 << 30, Uptime: time.Minute})
		}
	}), messages.CronName)
	require.NoError(t, err)
	return ch
}

func next(t *testing.T, ch chan any) any {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("the board sent nothing")
		return nil
	}
}

func quiet(t *testing.T, ch chan any, d time.Duration) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("unexpected %T %+v", m, m)
	case <-time.After(d):
	}
}

func TestBoardLifecycle(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	ch := fakes(t, sys)
	interval := 300 * time.Millisecond
	b := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &Board{o: Options{Interval: interval}, log: nilLogger(), tasks: map[string]messages.TaskSnapshot{}}
	}))
	sys.Root.Send(b, &cluster.ClusterInit{Identity: &cluster.ClusterIdentity{Identity: "-100", Kind: messages.ChatKind}})

	task := messages.TaskSnapshot{TaskID: "abcd1234", UserID: 7, Name: "file.bin", Stage: messages.StageDownloading,
		Engine: "http", Done: 10, Total: 100, Started: time.Now()}
	sys.Root.Send(b, &messages.TaskUpdated{ChatID: -100, Task: task})

	// A new task shows up at once, with a cancel button naming its owner.
	sent := next(t, ch).(*messages.SendText)
	require.Equal(t, int64(-100), sent.ChatID)
	require.Contains(t, sent.Text, "file.bin")
	require.Contains(t, sent.Text, "/cancel abcd1234")
	var data []string
	for _, row := range sent.Keyboard {
		for _, btn := range row {
			data = append(data, btn.Data)
		}
	}
	require.Contains(t, data, "c:7:abcd1234")

	// Unchanged text is never re-sent; a change is edited in at the tick.
	quiet(t, ch, 2*interval)
	task.Done = 60
	sys.Root.Send(b, &messages.TaskUpdated{ChatID: -100, Task: task})
	edit := next(t, ch).(*messages.EditText)
	require.Equal(t, 101, edit.MessageID)
	require.True(t, strings.Contains(edit.Text, "60"), edit.Text)

	// /status posts a fresh message and deletes the old one.
	sys.Root.Send(b, &messages.RepostBoard{ChatID: -100, ReplyTo: 5})
	del := next(t, ch).(*messages.DeleteMessage)
	require.Equal(t, 101, del.MessageID)
	re := next(t, ch).(*messages.SendText)
	require.Equal(t, 5, re.ReplyTo)

	// The last task leaving deletes the board.
	sys.Root.Send(b, &messages.TaskRemoved{ChatID: -100, TaskID: "abcd1234"})
	gone := next(t, ch).(*messages.DeleteMessage)
	require.Equal(t, 102, gone.MessageID)
	quiet(t, ch, 2*interval)
}

func TestStatusWithoutTasks(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	ch := fakes(t, sys)
	b := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &Board{o: Options{Interval: time.Second}, log: nilLogger(), tasks: map[string]messages.TaskSnapshot{}}
	}))
	sys.Root.Send(b, &cluster.ClusterInit{Identity: &cluster.ClusterIdentity{Identity: "9", Kind: messages.ChatKind}})
	sys.Root.Send(b, &messages.RepostBoard{ChatID: 9, ReplyTo: 3})
	m := next(t, ch).(*messages.SendText)
	require.Equal(t, "No active tasks.", m.Text)
}

func nilLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
