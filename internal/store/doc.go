// Package store is mirrorleech's durable state behind one interface, so the
// embedded single-node implementation and the Redis one of a cluster are
// interchangeable. Today it holds the run-time authorization list (what
// /authorize and /unauthorize change); task records join it with restart
// recovery.
//
// Bolt is the embedded implementation: a bbolt file in STATE_DIR, every
// write in its own fsynced transaction, so a write that returned survives
// kill -9 and power loss. Only one process may open the file; a second gets
// ErrLocked after a short timeout instead of waiting forever.
//
// All methods are safe for concurrent use. Errors are wrapped with the
// operation; callers treat them as transient.
package store
