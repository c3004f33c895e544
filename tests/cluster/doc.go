// Package cluster holds the multi-process cluster tests of mirrorleech: three
// nodes of the real binary on loopback, one real redis-server
// (internal/redistest) and one Bot API fake (tests/tgfake) shared by all of
// them, with files from a throttled origin (tests/origin).
//
// It owns no code but its tests; the helpers that start and observe a
// cluster live in tests/harness (cluster.go). The tests receive what the
// nodes emit: the fake's recorded messages and documents, and each node's
// /api/v1/status, /api/v1/tasks and /metrics. They prove that users spread
// over the nodes, that polling and tasks fail over after kill -9 with every
// update and every part handled exactly once, that the cluster recovers from
// an empty Redis, and that a node leaving on SIGTERM hands its tasks over.
// Failover times are written to the test log.
//
// How it fails: a test fails with the figures it measured and the logs of
// the nodes it stopped; set CLUSTER_LOG_DIR to keep every node's log. The
// tests skip under -short and when redis-server is not installed (they fail
// instead under CI=true, see internal/redistest).
package cluster
