// Package cluster is the home of mirrorleech's cluster layer; the code lives
// in subpackages, because a Go package named cluster would clash with
// protoactor's:
//
//   - bootstrap: starts the actor system's remote and cluster membership,
//     registers the kinds, shuts down in the right order.
//   - localprovider: the single-member provider used when no REDIS_URL is
//     set (the node is the whole cluster).
//   - redisprovider: the provider of a real cluster: one TTL key per member
//     in Redis, the full member list applied on every poll, a guard against
//     Redis losing its data, and Leave for a graceful handover.
//   - grains: a node-level router that finds grains (sessions, chat boards)
//     without blocking any actor and delivers to them in order.
package cluster
