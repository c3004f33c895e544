// Package store is mirrorleech's durable state behind one interface, so the
// embedded single-node implementation and the Redis one of a cluster are
// interchangeable. It holds the run-time authorization list (what
// /authorize and /unauthorize change) and the task records that restart
// recovery and cluster failover resume from.
//
// Bolt is the embedded implementation: a bbolt file in STATE_DIR, every
// write in its own fsynced transaction, so a write that returned survives
// kill -9 and power loss. Only one process may open the file; a second gets
// ErrLocked after a short timeout instead of waiting forever.
//
// Redis is the cluster implementation: every node shares one Redis (or Redis
// Cluster; all keys carry the hash tag {store}, so transactions and MGET stay
// on one slot). Under <prefix>:{store}: it keeps task:<id> (the same JSON as
// Bolt), the indexes tasks (ZSET by creation time), open (ids not in a final
// stage) and user:<uid>, and auth (authorized ids). Writes are MULTI
// transactions, so a record and its indexes never disagree; UpdateTask is
// optimistic (WATCH on the record, up to 64 attempts with jittered sleeps,
// then ErrConflict), so its fn may run more than once. Listings skip and
// prune index entries whose record vanished. How durable a returned write is
// depends on the server's persistence (appendonly, appendfsync). The caller
// owns the client: build it with ContextTimeoutEnabled (or short read and
// write timeouts) so a hung server fails a call within its context; a
// refused connection fails after the client's own retries.
//
// ClaimTask and ReleaseTask work on any TaskStore: they make one cluster
// member the Owner of a task (ErrOwned while another live member holds it),
// atomically through UpdateTask.
//
// All methods are safe for concurrent use. Errors are wrapped with the
// operation; callers treat them as transient.
package store
