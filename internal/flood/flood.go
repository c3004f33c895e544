package flood

import (
	"math/rand/v2"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultPerChat         = time.Second
	DefaultGroupPerMinute  = 20
	DefaultGlobalPerSecond = 30
	DefaultJitter          = 250 * time.Millisecond

	// idleAfter is how long a chat must be idle before Forget drops it; it
	// exceeds the one-minute group window, so forgetting loses nothing.
	idleAfter = 2 * time.Minute
)

const (
	groupWindow  = time.Minute
	globalWindow = time.Second
)

// Config sets the limits. Zero fields take the defaults; a negative field
// disables that limit (or, for Jitter, the jitter).
type Config struct {
	// PerChat is the minimum spacing of two sends to one chat. Default: 1s.
	PerChat time.Duration
	// GroupPerMinute is the number of sends to one group (chat id < 0)
	// allowed in any one-minute window. Default: 20.
	GroupPerMinute int
	// GlobalPerSecond is the number of sends to all chats allowed in any
	// one-second window. Default: 30.
	GlobalPerSecond int
	// Jitter is the largest random delay Park adds to a deadline, so that
	// chats parked together do not all resume at the same instant.
	// Default: 250ms.
	Jitter time.Duration
}

func (c Config) withDefaults() Config {
	if c.PerChat == 0 {
		c.PerChat = DefaultPerChat
	}
	if c.GroupPerMinute == 0 {
		c.GroupPerMinute = DefaultGroupPerMinute
	}
	if c.GlobalPerSecond == 0 {
		c.GlobalPerSecond = DefaultGlobalPerSecond
	}
	if c.Jitter == 0 {
		c.Jitter = DefaultJitter
	}
	return c
}

// Limiter keeps the send history of every chat. It is not safe for
// concurrent use: one actor owns it (see the package comment).
type Limiter struct {
	cfg    Config
	chats  map[int64]*chat
	global window    // sends to every chat in the last second
	parked time.Time // global park (chat id 0)
	jitter func(max time.Duration) time.Duration
}

// chat is the state of one chat.
type chat struct {
	last   time.Time // last send
	parked time.Time // no send before this instant
	group  window    // sends in the last minute; groups only
}

// New returns a Limiter with c's limits (zero fields take the defaults).
func New(c Config) *Limiter {
	c = c.withDefaults()
	l := &Limiter{
		cfg:   c,
		chats: make(map[int64]*chat),
		jitter: func(max time.Duration) time.Duration {
			return rand.N(max + 1)
		},
	}
	if c.GlobalPerSecond > 0 {
		l.global = newWindow(c.GlobalPerSecond, globalWindow)
	}
	return l
}

// isGroup reports whether chatID is a group or channel: Telegram gives those
// negative ids and applies the per-minute limit to them.
func isGroup(chatID int64) bool { return chatID < 0 }

// Next reports the earliest instant a send to chatID may happen: now if it
// may go at once, later if a limit or a park forbids it. It records nothing.
// Chat id 0 stands for a call tied to no chat; only the global limits apply.
func (l *Limiter) Next(chatID int64, now time.Time) time.Time {
	at := now
	later := func(t time.Time) {
		if t.After(at) {
			at = t
		}
	}
	later(l.parked)
	later(l.global.next())
	if c := l.chats[chatID]; c != nil && chatID != 0 {
		later(c.parked)
		if l.cfg.PerChat > 0 && !c.last.IsZero() {
			later(c.last.Add(l.cfg.PerChat))
		}
		later(c.group.next())
	}
	return at
}

// Take records a send to chatID at now. Call it only when
// Next(chatID, now) <= now; a send recorded early still counts in full.
func (l *Limiter) Take(chatID int64, now time.Time) {
	l.global.add(now)
	if chatID == 0 {
		return
	}
	c := l.chat(chatID)
	c.last = now
	c.group.add(now)
}

// chat returns the state of chatID, creating it.
func (l *Limiter) chat(chatID int64) *chat {
	c := l.chats[chatID]
	if c == nil {
		c = &chat{}
		if isGroup(chatID) && l.cfg.GroupPerMinute > 0 {
			c.group = newWindow(l.cfg.GroupPerMinute, groupWindow)
		}
		l.chats[chatID] = c
	}
	return c
}

// Park blocks chatID until `until` plus a random jitter of at most
// Config.Jitter; chat id 0 parks every chat (a 429 on a call tied to no chat,
// or one the caller treats as global). Pass now + retry_after. A park only
// ever extends: a shorter park than the one in force is ignored.
func (l *Limiter) Park(chatID int64, until time.Time) {
	if l.cfg.Jitter > 0 {
		until = until.Add(l.jitter(l.cfg.Jitter))
	}
	if chatID == 0 {
		if until.After(l.parked) {
			l.parked = until
		}
		return
	}
	c := l.chat(chatID)
	if until.After(c.parked) {
		c.parked = until
	}
}

// Parked reports whether chatID is parked at now, by its own park or the
// global one, and until when (the later of the two). Chat id 0 reports the
// global park only.
func (l *Limiter) Parked(chatID int64, now time.Time) (until time.Time, parked bool) {
	until = l.parked
	if c := l.chats[chatID]; c != nil && chatID != 0 && c.parked.After(until) {
		until = c.parked
	}
	if !until.After(now) {
		return time.Time{}, false
	}
	return until, true
}

// Forget drops the state of chats that have neither sent for more than two
// minutes (or PerChat, if longer) nor a park in force, so memory stays bounded
// by the number of recently active chats. Call it periodically; dropping a
// chat changes no answer of Next.
func (l *Limiter) Forget(now time.Time) {
	idle := max(idleAfter, l.cfg.PerChat)
	for id, c := range l.chats {
		if now.Sub(c.last) > idle && !c.parked.After(now) {
			delete(l.chats, id)
		}
	}
	if !l.parked.After(now) {
		l.parked = time.Time{}
	}
}

// Len returns the number of chats the Limiter holds state for (a gauge for
// metrics, and what Forget bounds).
func (l *Limiter) Len() int { return len(l.chats) }

// window is an exact sliding-window counter: a ring of the last `limit` send
// times. A new send is allowed once the oldest of them has left the window,
// which is exact and needs memory only for `limit` instants. The zero window
// has no limit.
type window struct {
	span  time.Duration
	times []time.Time // ring buffer, len = limit
	head  int         // index of the oldest entry
	n     int         // entries in use
}

func newWindow(limit int, span time.Duration) window {
	return window{span: span, times: make([]time.Time, limit)}
}

// next returns the earliest instant another send fits in the window, or the
// zero time if it fits now.
func (w *window) next() time.Time {
	if len(w.times) == 0 || w.n < len(w.times) {
		return time.Time{}
	}
	return w.times[w.head].Add(w.span)
}

// add records a send at t, evicting the oldest send when the ring is full.
func (w *window) add(t time.Time) {
	if len(w.times) == 0 {
		return
	}
	if w.n < len(w.times) {
		w.times[(w.head+w.n)%len(w.times)] = t
		w.n++
		return
	}
	w.times[w.head] = t
	w.head = (w.head + 1) % len(w.times)
}
