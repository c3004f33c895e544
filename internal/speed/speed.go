// Package speed turns a stream of "bytes done so far" readings into a
// transfer speed for status displays. It owns one Meter per transfer; the
// Meter is not safe for concurrent use (its owner is one actor) and cannot
// fail: readings that go backwards (a retry starting over) reset it.
package speed

import "time"

// Meter is an exponentially weighted moving average of the byte rate, with a
// time constant of Window, so one slow second does not make the ETA jump.
type Meter struct {
	Window time.Duration
	last   int64
	at     time.Time
	rate   float64
}

// Observe records that done bytes are complete at now and returns the speed
// in bytes per second.
func (m *Meter) Observe(done int64, now time.Time) float64 {
	w := m.Window
	if w <= 0 {
		w = 5 * time.Second
	}
	if m.at.IsZero() || done < m.last {
		m.last, m.at, m.rate = done, now, 0
		return 0
	}
	dt := now.Sub(m.at)
	if dt < 200*time.Millisecond {
		return m.rate
	}
	inst := float64(done-m.last) / dt.Seconds()
	// alpha = 1 - e^(-dt/w), approximated for dt much smaller than w; capped
	// so that a long gap simply adopts the new rate.
	alpha := dt.Seconds() / w.Seconds()
	if alpha > 1 {
		alpha = 1
	}
	if m.rate == 0 {
		alpha = 1
	}
	m.rate += alpha * (inst - m.rate)
	m.last, m.at = done, now
	return m.rate
}

// Rate returns the last computed speed.
func (m *Meter) Rate() float64 { return m.rate }
