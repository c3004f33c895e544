package monitoring

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/tgapi"
)

// The outbox's outcomes land in their counters: flood waits with their
// seconds, and documents that may have been posted twice.
func TestObserveOutbox(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry(), "test")
	require.NoError(t, err)

	m.ObserveOutbox("sendDocument", nil, time.Second)
	m.ObserveOutbox("sendDocument", errors.New("telegram sendDocument: connection refused"), time.Second)
	require.Zero(t, testutil.ToFloat64(m.MaybeDuplicated))
	require.Zero(t, testutil.ToFloat64(m.FloodWaits))

	maybe := fmt.Errorf("telegram sendDocument: HTTP 502 (%w)", tgapi.ErrMaybeDelivered)
	m.ObserveOutbox("sendDocument", maybe, time.Second)
	m.ObserveOutbox("sendMessage", &tgapi.APIError{Method: "sendMessage", Code: 429, RetryAfter: 7 * time.Second}, 0)
	require.Equal(t, 1.0, testutil.ToFloat64(m.MaybeDuplicated))
	require.Equal(t, 1.0, testutil.ToFloat64(m.FloodWaits))
	require.Equal(t, 7.0, testutil.ToFloat64(m.FloodWaitSecs))
}
