// Package ratelimit enforces per-user command rate limits: at most limit
// events per key in any sliding window of a given length.
//
// It owns the event logs of the keys it is asked about and nothing else:
// callers choose the keys (e.g. "cmd:<user_id>"), limits and windows per
// call, and receive ok plus, when refused, retryAfter, the time until the
// next event fits (when the oldest event that must leave the window has left
// it). A refused event is not recorded, so a user hammering a command is
// not locked out longer. limit <= 0 means unlimited, answered without I/O.
//
// Memory is the limiter of one process (exact, safe for concurrent use,
// idle keys dropped about once a minute during calls). Redis enforces the
// limits cluster-wide: a ZSET per key (<prefix>:{rl}:<key>) holds the
// allowed events scored by the Redis server's clock in microseconds, and one
// Lua script prunes, counts and adds atomically, so concurrent calls from
// any number of nodes never allow more than limit, and the nodes' clocks do
// not matter. Each key expires one window after its last allowed event.
//
// Failure: Memory fails only on a window <= 0 (ErrBadWindow). Redis returns
// its errors wrapped with ok false, within the caller's context deadline
// (go-redis otherwise retries dials for seconds); whether to fail open or
// closed is the caller's choice.
package ratelimit
