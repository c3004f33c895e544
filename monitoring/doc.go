// Package monitoring serves the node's HTTP endpoints on HTTP_ADDR: /healthz
// (alive), /readyz (able to take work: every readiness check passes, with a
// JSON detail per check), /metrics (the node's one Prometheus registry) and
// /debug/pprof/.
//
// Access: /debug/ and /api/ are operator endpoints. When HTTP_ADDR is a
// loopback address they are open; otherwise they require
// "Authorization: Bearer $API_TOKEN", and without API_TOKEN they are
// disabled (and New logs that once). /healthz, /readyz and /metrics stay
// open for probes and scrapers.
//
// It owns nothing but the handler; checks are supplied by the caller and run
// with a timeout on each /readyz request.
package monitoring
