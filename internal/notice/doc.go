// Package notice decides which node of a cluster tells the owner about a
// problem, so that the owner gets one notice per problem for the whole
// cluster rather than one per node.
//
// # Protocol
//
// A caller that sees a problem start calls [Dedup.Start] with a key naming
// the problem (a kind shared by all nodes, such as "store", or one scoped to
// the node, such as "disk:n1"); only the node whose claim wins announces it.
// While the problem lasts the caller calls [Dedup.Hold] on each check, which
// keeps its claim from expiring. When the problem clears it calls
// [Dedup.End], which is true only on the node that announced the start (so
// the recovery is announced once too) and releases the claim, so that the
// next occurrence is announced again.
//
// Claims are Redis keys set with SET NX PX, holding the node's name, and
// released by a compare-and-delete script, so a node never releases a
// claim that expired and was taken by another. The TTL covers a claimant
// that dies mid-problem: its claim lapses and a later occurrence is
// announced by whoever sees it.
//
// Without Redis (a node alone) every Start is announced and every End of an
// announced problem too: the behaviour of a single node.
//
// # Failure
//
// When Redis does not answer (the store check of a cluster fails exactly
// then) a claim cannot be made. Start then falls back to Options.Fallback,
// which main sets to "this node is the first of the members it last saw":
// every node keeps its last member view through a Redis outage, so they
// agree on one announcer. Errors are logged, never returned: a notice is
// never lost to a failed claim on every node at once.
//
// # Concurrency
//
// A Dedup is safe for concurrent use; it remembers which problems this node
// announced. It imports no actor code.
package notice
