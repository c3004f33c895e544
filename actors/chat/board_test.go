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

func TestReplyTarget(t *testing.T) {
	a1 := messages.TaskSnapshot{TaskID: "a1", UserID: 1}
	a2 := messages.TaskSnapshot{TaskID: "a2", UserID: 1}
	b1 := messages.TaskSnapshot{TaskID: "b1", UserID: 2}
	cases := []struct {
		name    string
		shown   []messages.TaskSnapshot
		by      int64
		admin   bool
		want    string
		choices []string
	}{
		{"the replier's only task among others", []messages.TaskSnapshot{a1, b1}, 1, false, "a1", nil},
		{"several of the replier's tasks", []messages.TaskSnapshot{a1, b1, a2}, 1, false, "", []string{"a1", "a2"}},
		{"none of them the replier's", []messages.TaskSnapshot{b1}, 1, false, "", nil},
		{"nothing shown", nil, 1, true, "", nil},
		{"an admin's own task comes first", []messages.TaskSnapshot{a1, b1}, 2, true, "b1", nil},
		{"an admin and the only task", []messages.TaskSnapshot{b1}, 9, true, "b1", nil},
		{"an admin and several tasks", []messages.TaskSnapshot{a1, b1}, 9, true, "", []string{"a1", "b1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, choices := replyTarget(c.shown, c.by, c.admin)
			require.Equal(t, c.want, got.TaskID)
			require.Equal(t, c.choices, choices)
		})
	}
}

// A reply to the status message reaches the session of the task it shows;
// a reply to any other message is answered, and nothing is cancelled.
func TestCancelByReplyToStatusMessage(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	ch := fakes(t, sys)
	routed := make(chan *messages.RouteToGrain, 8)
	_, err := sys.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*messages.RouteToGrain); ok {
			routed <- m
		}
	}), messages.GrainsName)
	require.NoError(t, err)
	b := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &Board{o: Options{Interval: time.Hour}, log: nilLogger(), tasks: map[string]messages.TaskSnapshot{}}
	}))
	sys.Root.Send(b, &cluster.ClusterInit{Identity: &cluster.ClusterIdentity{Identity: "-100", Kind: messages.ChatKind}})
	for _, task := range []messages.TaskSnapshot{{TaskID: "mine0001", UserID: 7}, {TaskID: "else0001", UserID: 8}} {
		task.Name, task.Stage, task.Started = task.TaskID+".bin", messages.StageDownloading, time.Now()
		sys.Root.Send(b, &messages.TaskUpdated{ChatID: -100, Task: task})
	}
	status := next(t, ch).(*messages.SendText) // posted as message 101
	require.Contains(t, status.Text, "else0001")

	sys.Root.Send(b, &messages.CancelByReply{ChatID: -100, MessageID: 55, ByUserID: 7, ReplyTo: 60})
	other := next(t, ch).(*messages.SendText)
	require.Contains(t, other.Text, "not the current status message")
	require.Equal(t, 60, other.ReplyTo)

	sys.Root.Send(b, &messages.CancelByReply{ChatID: -100, MessageID: 101, ByUserID: 7, ReplyTo: 61})
	select {
	case r := <-routed:
		require.Equal(t, messages.SessionKind, r.Kind)
		require.Equal(t, "7", r.Identity)
		require.Equal(t, &messages.CancelTask{TaskID: "mine0001", ByUserID: 7, ChatID: -100, ReplyTo: 61}, r.Message)
	case <-time.After(5 * time.Second):
		t.Fatal("the cancel was not routed to the task's session")
	}

	sys.Root.Send(b, &messages.CancelByReply{ChatID: -100, MessageID: 101, ByUserID: 9, ReplyTo: 62})
	none := next(t, ch).(*messages.SendText)
	require.Contains(t, none.Text, "None of the tasks")

	sys.Root.Send(b, &messages.CancelByReply{ChatID: -100, MessageID: 101, ByUserID: 9, Admin: true, ReplyTo: 63})
	pick := next(t, ch).(*messages.SendText)
	require.Contains(t, pick.Text, "/cancel mine0001")
	require.Contains(t, pick.Text, "/cancel else0001")
	select {
	case r := <-routed:
		t.Fatalf("unexpected route %+v", r)
	default:
	}
}
