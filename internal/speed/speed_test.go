package speed

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMeterSteadyRate(t *testing.T) {
	var m Meter
	t0 := time.Unix(0, 0)
	var r float64
	for i := 0; i <= 20; i++ {
		r = m.Observe(int64(i)*1_000_000, t0.Add(time.Duration(i)*time.Second))
	}
	require.InDelta(t, 1_000_000, r, 1)
}

func TestMeterSmoothsAndResets(t *testing.T) {
	m := Meter{Window: 4 * time.Second}
	t0 := time.Unix(0, 0)
	m.Observe(0, t0)
	m.Observe(4_000_000, t0.Add(time.Second)) // 4 MB/s adopted as the first rate
	r := m.Observe(4_000_000, t0.Add(2*time.Second))
	require.Greater(t, r, 2_000_000.0, "one idle second must not zero the speed")
	require.Less(t, r, 4_000_000.0)
	require.Zero(t, m.Observe(10, t0.Add(3*time.Second)), "going backwards resets")
}
