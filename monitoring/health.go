package monitoring

import (
	"encoding/json"
	"net/http"
	"time"
)

// Health statuses of /health.
const (
	HealthOK       = "ok"       // every readiness check passes
	HealthDegraded = "degraded" // at least one fails; Checks says which
)

// Health is the JSON body of /health: the node's state and resources. It
// holds no setting and no secret, so it is as open as /healthz.
type Health struct {
	Status        string  `json:"status"`
	Node          string  `json:"node"`
	Version       string  `json:"version"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	// CPUPercent is the host's busy share since the previous /health
	// request (since boot on the first one).
	CPUPercent     float64 `json:"cpu_percent"`
	MemoryRSS      int64   `json:"memory_rss_bytes"`   // this process
	MemoryTotal    int64   `json:"memory_total_bytes"` // the host's
	MemoryPercent  float64 `json:"memory_used_percent"`
	Goroutines     int     `json:"goroutines"`
	DiskFree       int64   `json:"disk_free_bytes"`
	DiskTotal      int64   `json:"disk_total_bytes"`
	StoreReachable bool    `json:"store_reachable"`
	// TelegramReachable is the Bot API check of /readyz (cached there, so
	// probes of /health never reach Telegram more often than /readyz does).
	TelegramReachable bool `json:"telegram_reachable"`
	// Checks is the readiness detail, the same as /readyz.
	Checks map[string]checkResult `json:"checks"`
	// ResourceError says which resource figures could not be read; they
	// are then zero.
	ResourceError string `json:"resource_error,omitempty"`
}

// health serves /health: 200 with status ok, 503 with status degraded, so
// that a monitor looking only at the code sees a problem too.
func (m *Mux) health(w http.ResponseWriter, r *http.Request) {
	results, ok := m.runChecks(r.Context())
	m.sampleMu.Lock()
	st, err := m.sampler.Sample()
	m.sampleMu.Unlock()
	h := Health{Status: HealthOK, Node: m.o.Node, Version: m.o.Version, Checks: results,
		CPUPercent: st.CPUPercent, MemoryRSS: st.ProcRSS, MemoryTotal: st.MemTotal,
		MemoryPercent: st.MemPercent(), Goroutines: st.Goroutines,
		StoreReachable: results["store"].OK, TelegramReachable: results["telegram"].OK}
	if !m.o.Started.IsZero() {
		h.UptimeSeconds = time.Since(m.o.Started).Seconds()
	}
	h.DiskFree, h.DiskTotal = st.DiskFree, st.DiskTotal
	if err != nil {
		h.ResourceError = err.Error()
	}
	status := http.StatusOK
	if !ok {
		h.Status, status = HealthDegraded, http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(h)
}
