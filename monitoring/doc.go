// Package monitoring is what operators see of a node: the HTTP endpoints on
// HTTP_ADDR, the node's Prometheus metrics and the status API.
//
// # Endpoints
//
// /healthz (alive), /readyz (able to take work: every readiness check
// passes, with a JSON detail per check), /health (the node's state and
// resources as JSON, with the same checks run once per request), /metrics (the node's one Prometheus
// registry), /api/v1/status and /api/v1/tasks (API), /debug/pprof/.
//
// Access: /debug/ and /api/ are operator endpoints. When HTTP_ADDR is a
// loopback address they are open; otherwise they require
// "Authorization: Bearer $API_TOKEN", and without API_TOKEN they are
// disabled (and New logs that once). /healthz, /readyz, /health and
// /metrics stay open for probes and scrapers; none of them shows a setting
// or a secret.
//
// # Metrics
//
// Metrics holds every mirrorleech_ metric (MetricNames lists them). They are
// fed from the real task lifecycle — the TaskStageChanged, Transferred and
// TaskSnapshotted events tasks publish on the actor system's event stream —
// and from hooks at the places where things happen: the Bot API transport
// (requests by method and code), the outbox (flood waits, queue length), the
// gateway (commands), the supervision strategy (decisions), the store
// (errors), the session kind (sessions), cron (free disk). Labels are
// bounded by construction; never a user id, chat id, URL or file name.
// protoactor's own OTel instruments stay off: enabled without a global
// meter provider they leak memory per spawned actor.
//
// # Status API
//
// TaskView keeps the latest snapshot of each running task from the same
// events; API serves it with the node's identity, uptime, cluster members and
// capabilities. ?scope=cluster asks every other member and lists a member
// that does not answer as unreachable.
//
// Failure: the handlers own nothing but their views; a failing readiness
// check turns /readyz and /health to 503, nothing else.
package monitoring
