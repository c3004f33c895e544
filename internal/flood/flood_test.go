package flood

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// t0 is the synthetic clock's origin; tests advance it by hand.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sendWhenAllowed sends to chatID at the first instant the limiter allows at
// or after now, and returns that instant.
func sendWhenAllowed(l *Limiter, chatID int64, now time.Time) time.Time {
	at := l.Next(chatID, now)
	l.Take(chatID, at)
	return at
}

func TestDefaults(t *testing.T) {
	l := New(Config{})
	require.Equal(t, Config{PerChat: time.Second, GroupPerMinute: 20, GlobalPerSecond: 30, Jitter: 250 * time.Millisecond}, l.cfg)
}

func TestPerChatSpacing(t *testing.T) {
	l := New(Config{})
	const chat = 42
	require.Equal(t, t0, l.Next(chat, t0), "a fresh chat may send at once")
	l.Take(chat, t0)

	require.Equal(t, t0.Add(time.Second), l.Next(chat, t0))
	require.Equal(t, t0.Add(time.Second), l.Next(chat, t0.Add(999*time.Millisecond)))
	require.Equal(t, t0.Add(1500*time.Millisecond), l.Next(chat, t0.Add(1500*time.Millisecond)))
	// Next records nothing: asking again gives the same answer.
	require.Equal(t, t0.Add(time.Second), l.Next(chat, t0))

	// Another chat is not held back by this one.
	require.Equal(t, t0, l.Next(43, t0))

	// Ten sends as fast as allowed are exactly one second apart.
	now := t0
	for i := range 10 {
		at := sendWhenAllowed(l, 7, now)
		require.Equal(t, t0.Add(time.Duration(i)*time.Second), at)
		now = at
	}
}

func TestPerChatDisabled(t *testing.T) {
	l := New(Config{PerChat: -1})
	l.Take(5, t0)
	require.Equal(t, t0, l.Next(5, t0))
}

func TestGroupPerMinute(t *testing.T) {
	l := New(Config{PerChat: -1, GlobalPerSecond: -1}) // isolate the group limit
	const group = -100123
	var sent []time.Time
	now := t0
	for range 20 {
		require.Equal(t, now, l.Next(group, now))
		l.Take(group, now)
		sent = append(sent, now)
		now = now.Add(500 * time.Millisecond)
	}
	// The 21st waits until the first send leaves the one-minute window.
	require.Equal(t, sent[0].Add(time.Minute), l.Next(group, now))
	require.Equal(t, sent[0].Add(time.Minute), l.Next(group, sent[0].Add(time.Minute-time.Nanosecond)))
	l.Take(group, sent[0].Add(time.Minute))
	// The 22nd waits for the second.
	require.Equal(t, sent[1].Add(time.Minute), l.Next(group, sent[0].Add(time.Minute)))

	// A private chat (positive id) has no per-minute limit.
	for i := range 40 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		require.Equal(t, now, l.Next(99, now))
		l.Take(99, now)
	}
}

// TestGroupSlidingWindowProperty drives a group with the default limits at
// the fastest allowed pace and checks that no one-minute window ever holds
// more than 20 sends and that sends are at least a second apart.
func TestGroupSlidingWindowProperty(t *testing.T) {
	l := New(Config{})
	const group = -5
	var sent []time.Time
	now := t0
	for range 200 {
		at := sendWhenAllowed(l, group, now)
		require.False(t, at.Before(now))
		sent = append(sent, at)
		now = at.Add(137 * time.Millisecond)
	}
	for i := 20; i < len(sent); i++ {
		require.GreaterOrEqual(t, sent[i].Sub(sent[i-20]), time.Minute, "sends %d and %d share a minute", i-20, i)
	}
	for i := 1; i < len(sent); i++ {
		require.GreaterOrEqual(t, sent[i].Sub(sent[i-1]), time.Second)
	}
	// At full pace it is the group limit that binds: 20 sends per minute.
	require.Equal(t, sent[0].Add(9*time.Minute), sent[180])
}

func TestGlobalPerSecond(t *testing.T) {
	l := New(Config{})
	// 30 different chats may all send at t0 …
	for chat := int64(1); chat <= 30; chat++ {
		require.Equal(t, t0, l.Next(chat, t0))
		l.Take(chat, t0.Add(time.Duration(chat)*time.Millisecond))
	}
	// … the 31st waits until the first send is a second old, whatever chat.
	require.Equal(t, t0.Add(time.Second+time.Millisecond), l.Next(31, t0.Add(40*time.Millisecond)))
	require.Equal(t, t0.Add(time.Second+time.Millisecond), l.Next(-31, t0.Add(40*time.Millisecond)))
	require.Equal(t, t0.Add(time.Second+time.Millisecond), l.Next(0, t0.Add(40*time.Millisecond)))

	// Over many chats and a long run, no one-second window holds more than 30.
	l = New(Config{})
	var sent []time.Time
	now := t0
	for i := range 1000 {
		at := sendWhenAllowed(l, int64(i%97+1), now)
		sent = append(sent, at)
		now = at
	}
	for i := 30; i < len(sent); i++ {
		require.GreaterOrEqual(t, sent[i].Sub(sent[i-30]), time.Second)
	}
	require.Equal(t, t0.Add(33*time.Second), sent[990], "30 per second at full pace")
}

func TestParkHonoured(t *testing.T) {
	l := New(Config{Jitter: -1}) // exact deadlines
	const chat = 8
	l.Take(chat, t0)
	until := t0.Add(37 * time.Second)
	l.Park(chat, until)

	got, parked := l.Parked(chat, t0.Add(time.Second))
	require.True(t, parked)
	require.Equal(t, until, got)
	require.Equal(t, until, l.Next(chat, t0.Add(time.Second)))
	require.Equal(t, until, l.Next(chat, until.Add(-time.Nanosecond)), "never a nanosecond early")
	require.Equal(t, until, l.Next(chat, until))
	_, parked = l.Parked(chat, until)
	require.False(t, parked, "the park ends at its deadline")

	// A shorter park does not shorten the one in force; a longer one extends it.
	l.Park(chat, t0.Add(5*time.Second))
	require.Equal(t, until, l.Next(chat, t0.Add(6*time.Second)))
	l.Park(chat, t0.Add(time.Minute))
	require.Equal(t, t0.Add(time.Minute), l.Next(chat, t0.Add(6*time.Second)))

	// Other chats are unaffected by a chat park.
	require.Equal(t, t0.Add(2*time.Second), l.Next(9, t0.Add(2*time.Second)))
	_, parked = l.Parked(9, t0.Add(2*time.Second))
	require.False(t, parked)
}

func TestParkJitter(t *testing.T) {
	l := New(Config{Jitter: 300 * time.Millisecond})
	const chat = -77
	until := t0.Add(10 * time.Second)
	sawJitter := false
	for i := range 200 {
		id := chat - int64(i)
		l.Park(id, until)
		got, parked := l.Parked(id, t0)
		require.True(t, parked)
		require.False(t, got.Before(until), "jitter never shortens a park")
		require.LessOrEqual(t, got.Sub(until), 300*time.Millisecond)
		sawJitter = sawJitter || got.After(until)
		require.Equal(t, got, l.Next(id, t0))
	}
	require.True(t, sawJitter, "200 parks without any jitter")
}

func TestGlobalPark(t *testing.T) {
	l := New(Config{})
	l.jitter = func(time.Duration) time.Duration { return 100 * time.Millisecond }
	until := t0.Add(30 * time.Second)
	l.Park(0, until)
	want := until.Add(100 * time.Millisecond)
	for _, chat := range []int64{0, 1, -1, 12345, -100987654321} {
		require.Equal(t, want, l.Next(chat, t0), "chat %d", chat)
		got, parked := l.Parked(chat, t0)
		require.True(t, parked)
		require.Equal(t, want, got)
	}
	// A chat parked for longer keeps its own, later deadline.
	l.Park(5, t0.Add(time.Minute))
	require.Equal(t, t0.Add(time.Minute+100*time.Millisecond), l.Next(5, t0))
	// Once the global park ends, chats go again.
	require.Equal(t, want, l.Next(6, want))
	_, parked := l.Parked(6, want)
	require.False(t, parked)
}

func TestForgetBoundsMemory(t *testing.T) {
	l := New(Config{Jitter: -1})
	for chat := int64(1); chat <= 1000; chat++ {
		l.Take(chat, t0)
		l.Take(-chat, t0)
	}
	l.Park(-1, t0.Add(10*time.Minute)) // still parked: must be kept
	l.Take(2000, t0.Add(2*time.Minute))

	l.Forget(t0.Add(2 * time.Minute)) // idle exactly two minutes: kept
	require.Equal(t, 2001, l.Len())

	now := t0.Add(2*time.Minute + time.Second)
	l.Forget(now)
	require.Equal(t, 2, l.Len(), "only the recent and the parked chat remain")
	until, parked := l.Parked(-1, now)
	require.True(t, parked)
	require.Equal(t, t0.Add(10*time.Minute), until)
	require.Equal(t, now, l.Next(1, now), "a forgotten chat may send")

	l.Forget(t0.Add(11 * time.Minute))
	require.Zero(t, l.Len())

	// Many short-lived chats over time never accumulate.
	now = t0
	for i := range 10000 {
		now = now.Add(50 * time.Millisecond)
		sendWhenAllowed(l, int64(i), now)
		if i%100 == 0 {
			l.Forget(now)
		}
	}
	require.LessOrEqual(t, l.Len(), 2*60*20+100)
}

func TestWindowDisabled(t *testing.T) {
	l := New(Config{PerChat: -1, GroupPerMinute: -1, GlobalPerSecond: -1})
	for range 100 {
		require.Equal(t, t0, l.Next(-1, t0))
		l.Take(-1, t0)
	}
}

func BenchmarkNext(b *testing.B) {
	l := New(Config{})
	now := t0
	for chat := int64(-500); chat < 500; chat++ {
		now = now.Add(time.Millisecond)
		l.Take(chat, now)
	}
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		l.Next(i%1000-500, now)
	}
}
