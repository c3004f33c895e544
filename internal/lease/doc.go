// Package lease elects the one node of a cluster that polls Telegram's
// getUpdates, and keeps the getUpdates offset so the next poller continues
// where the last one stopped.
//
// It owns two things in Redis: the lease key, holding "<holder>/<fence>" with
// a PX TTL, and the offset. Redis implements the lease for a cluster (SET NX
// PX in a script, renewals and releases compare the stored value with the
// token atomically in Lua); Local is the lease of a node running alone. The
// fence is an INCR counter, so every holding has a larger fence than the one
// before it.
//
// Hold is the loop a node runs: it acquires, calls fn with a context, renews
// every TTL/3, and cancels fn's context (cause wrapping ErrLost) as soon as a
// renewal answers ErrLost or no renewal has succeeded for 3/4 of the TTL
// (Redis unreachable): the holder stops before its lease can expire and
// another node acquire. When fn returns, Hold releases the lease and tries
// again; OnChange reports holding/not holding.
//
// Cancelling fn cannot stop a process that is paused (GC, SIGSTOP, a frozen
// VM) while it holds the lease. The offset is therefore fenced: CommitOffset
// succeeds only while the token still holds the lease, and never moves the
// offset backwards, so a paused ex-holder can neither skip updates nor rewind
// them. Other writes a poller makes (e.g. sending replies) are not fenced
// here.
//
// Failure: Redis errors are returned wrapped; ErrLost means the token no
// longer holds the lease. Hold never returns on Redis errors: it logs them
// rate-limited (first failure, then every 30 s, then the recovery) and
// retries with exponential backoff (cenkalti/backoff/v4, up to 4×Retry). A
// Redis that loses its data frees the lease (the holder stops at its next
// renewal), resets the offset to 0 (harmless: Telegram keeps updates until an
// offset above them confirms them) and restarts the fence counter from the
// server clock in milliseconds, so fences keep growing.
package lease
