// Package actortree is the live actor tree of a node: a spawn-side registry
// of every actor, a Describe probe each actor answers on its own goroutine,
// and the /debug/actors endpoint that shows both as JSON or as a
// self-refreshing HTML page.
//
// # What it owns
//
// A Registry owns one map of the node's live actors: id, parent, kind (the
// package name of the actor's Go type, "*task.Task" → "task"), spawn time
// and restart count. Nothing else in the process writes it.
//
// # What it receives
//
// Registry.SpawnMiddleware is installed on the actor system's root context
// before the first spawn (cluster start included):
//
//	sys := actor.NewActorSystem(...)
//	reg := actortree.New(actortree.Options{Node: name, Logger: log})
//	root := sys.Root.WithSpawnMiddleware(reg.SpawnMiddleware())
//
// WithSpawnMiddleware changes sys.Root in place, so the cluster's own
// top-level spawns (the placement actor that activates grains, gossip,
// pub/sub) pass through it too. protoactor does not hand a root spawn
// middleware down to children, so the middleware clones each spawned props
// (Clone, never Configure: Configure mutates props that callers share) and
// adds itself plus a receiver middleware; every descendant, grains included,
// is then registered. The receiver middleware sees *actor.Started (kind),
// *actor.Restarting (restarts++) and *actor.Stopped (removal), and answers
// the *Describe probe: it calls the actor's Describe method, when it has
// one (see Describer), on the actor's goroutine and sends a *Description to
// the requester. Describe never reaches the actor's Receive.
//
// One library trap is handled here: a root spawn middleware's final step
// spawns with the root context captured when the middleware was installed,
// which loses a guardian given through the props (actor.WithGuardian). For
// a top-level spawn that has a guardian, the middleware therefore spawns
// through a copy of the caller's root context without spawn middleware, so
// the guardian still supervises the actor.
//
// # What it emits
//
// Registry.Snapshot probes every registered actor concurrently (one future
// each, per-actor timeout, default 500 ms, bounded by the caller's context)
// and returns a Tree: the node's actors as a forest (roots are actors whose
// parent is not registered) with state, restarts and uptime. Handler serves
// it at /debug/actors: JSON by default, the embedded HTML page (no external
// assets) when the client's Accept prefers text/html or ?format=html.
// ?scope=cluster adds every other member's tree, fetched from its own
// /debug/actors over HTTP, under the member's name.
//
// # How it fails
//
// An actor that does not answer in time (blocked in Receive, suspended by
// its supervisor, flooded) is listed with stuck=true, never dropped; an
// actor that stops during the walk is left out. A Describe method that
// panics is recovered in the middleware, so probing never makes an actor
// fail; the panic shows as state.describe_error. A member that does not
// answer, answers with an error status or with something that is not a
// tree is listed as {node, unreachable: true, error}. Actors spawned before
// the middleware was installed are invisible. The mailbox length is not
// reported: measuring it would mean replacing each actor's mailbox.
package actortree
