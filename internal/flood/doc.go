// Package flood is the outbound rate limiter of the single Telegram sender
// (the outbox actor). It is pure logic: it never sleeps, reads no clock and
// starts no goroutine; the caller passes the current time to every call.
//
// It owns the send history needed to keep to Telegram's flood limits: about
// one message per second per chat, at most 20 messages per minute per group
// (chat id < 0; edits count as messages) and about 30 messages per second in
// total, plus the "parked" deadlines set after a 429 response. The per-group
// and global limits are exact sliding windows over the last N send times, so
// memory is bounded by the limits and by Forget.
//
// API: Next tells when a send to a chat may happen, Take records a send, Park
// blocks one chat (or, with chat id 0, every chat) until a deadline plus a
// little jitter, Parked reports a park, Forget drops idle chats. A parked chat
// is never released early: Telegram extends its ban when a request arrives
// inside the retry_after window.
//
// Nothing here fails. A Limiter is not safe for concurrent use: it belongs to
// one actor, whose mailbox serialises the calls.
//
// Shared is the cluster's counterpart, for when several nodes send for one
// bot: the same three limits kept in Redis by one Lua script on the
// server's clock, so the nodes together stay within what Telegram allows.
// It does I/O (call it from a worker goroutine, never from Receive) and
// fails with the Redis error, which the outbox treats as "use the node's
// own limits".
package flood
