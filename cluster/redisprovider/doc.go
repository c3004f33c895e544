// Package redisprovider is a protoactor cluster.ClusterProvider that keeps
// cluster membership in Redis (go-redis v9, any UniversalClient).
//
// What it owns: this node's member registration in Redis and the topology it
// publishes to protoactor. It receives nothing from actors: once started,
// its Redis I/O runs in one goroutine it owns (heartbeat, poll, pub/sub
// nudges, Leave); StartMember (register, first poll) and Shutdown
// (deregister) use the caller's goroutine; none of it runs in an actor's
// Receive. It emits topologies by calling c.MemberList.UpdateClusterTopology
// with the FULL member list (self included) on every successful poll,
// because protoactor drops gossip-blocked members only inside that call; it
// keeps a copy of the applied view (minus ids protoactor refused as blocked)
// for Members/Alive.
//
// Key layout (the {cluster} hash tag keeps every key in one Redis Cluster
// slot, so MULTI and MGET work there too):
//
//	<prefix>:{<cluster>}:m:<ActorSystem.ID>  STRING JSON {id,name,host,port,api,kinds,started}, PX TTL
//	<prefix>:{<cluster>}:idx                 SET of member ids, pruned when a member key has expired
//	<prefix>:{<cluster>}:ev                  PUBSUB "join:<id>" / "leave:<id>": peers poll at once
//
// The member id is the actor system's id: protoactor's gossip, block list and
// graceful-leave handling key members by it. Pub/sub only shortens reaction
// time; the poll is the truth.
//
// How it fails:
//   - Unroutable advertised address ("", 0.0.0.0, ::, nonhost, port ≤ 0):
//     StartMember returns ErrUnroutable (protoactor panics on it; bootstrap
//     turns that into an error).
//   - Redis unreachable at StartMember: the wrapped Redis error (fail fast).
//   - Redis unreachable later: the last applied view is kept (a view is never
//     applied from a failed poll), calls back off, a warning is logged at most
//     every few seconds, and the node recovers by itself.
//   - This node's key gone (Redis restarted empty or failed over, or the key
//     expired during a long pause): "cluster registration lost" is logged,
//     Config.OnRegistrationLost is called, the node re-registers and holds
//     (applies no view) for TTL+Heartbeat so every peer can re-register
//     first; applying a view without them would block them forever. A view
//     lacking this node is never applied while it is a member. If the key had
//     expired while Redis kept running, peers have already dropped and
//     blocked this node's id; only a process restart (new id) readmits it, so
//     the hook should restart the node when losses repeat.
//   - Leave (a handover before cluster.Shutdown) and Shutdown(true) (called
//     by cluster.Shutdown(true)) deregister; peers drop the node on the leave
//     nudge. After Leave the node applies views without itself, so its
//     grains move away; peers block its id like any departed member. If
//     Redis is unreachable, Leave returns the error and still applies the
//     last listing without itself; the key then expires after TTL. A node
//     that dies without deregistering disappears from peers after about
//     TTL+Poll. Shutdown(false) (never called by protoactor) only stops the
//     provider's goroutine.
package redisprovider
