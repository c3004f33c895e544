// Package cluster is the home of mirrorleech's cluster layer; the code lives
// in subpackages, because a Go package named cluster would clash with
// protoactor's:
//
//   - bootstrap: starts the actor system's remote and cluster membership,
//     registers the kinds, shuts down in the right order.
//   - localprovider: the single-member provider used when no REDIS_URL is
//     set (the node is the whole cluster).
//   - grains: a node-level router that finds grains (sessions, chat boards)
//     without blocking any actor and delivers to them in order.
package cluster
