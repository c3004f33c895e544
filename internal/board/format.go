package board

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// BarCells is the number of cells of a progress bar (MLTB's layout: one cell
// per ~8 %).
const BarCells = 12

const (
	cellFull  = "■"
	cellEmpty = "□"
)

// Bar returns a progress bar of BarCells cells, full (■) then empty (□),
// without brackets. fraction is clamped to 0..1 (NaN counts as 0). The number
// of full cells is fraction×12 rounded to the nearest cell, as MLTB does, so
// 23.5 % shows three cells; a bar is only entirely full at 100 %, because a
// full bar next to "99.9%" reads as finished when it is not.
func Bar(fraction float64) string {
	f := clamp01(fraction)
	full := int(math.Round(f * BarCells))
	if full == BarCells && f < 1 {
		full = BarCells - 1
	}
	return strings.Repeat(cellFull, full) + strings.Repeat(cellEmpty, BarCells-full)
}

// Bytes formats a byte count with IEC (binary, 1024-based) units. Below 1 KiB
// it is a whole number ("0 B", "1023 B"); from there on it always has exactly
// one decimal ("1.0 KiB", "12.3 MiB", "1.0 GiB"), and a value that would
// round to 1024.0 of a unit moves to the next one ("1.0 MiB", never
// "1024.0 KiB"). Negative counts mean "unknown" and render as "-".
func Bytes(n int64) string {
	if n < 0 {
		return "-"
	}
	return iec(float64(n))
}

// Speed formats a rate in bytes per second like Bytes, with "/s" appended
// ("0 B/s", "12.3 MiB/s"). Negative, NaN or infinite rates render as "-".
func Speed(bps float64) string {
	if bps < 0 || math.IsNaN(bps) || math.IsInf(bps, 0) {
		return "-"
	}
	return iec(bps) + "/s"
}

// iec formats a non-negative finite value as described for Bytes.
func iec(v float64) string {
	// The binary prefixes past bytes; int64 ends in the EiB range.
	iecUnits := [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	if r := math.Round(v); r < 1024 {
		return strconv.FormatFloat(r, 'f', 0, 64) + " B"
	}
	k := 0
	for k == 0 || (v >= 1024 && k < len(iecUnits)) {
		v /= 1024
		k++
	}
	// 1023.96 KiB prints as "1024.0 KiB" with one decimal: promote it.
	if math.Round(v*10) >= 1024*10 && k < len(iecUnits) {
		v /= 1024
		k++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + iecUnits[k-1]
}

// Duration formats d compactly with its two most significant units, whole
// seconds, truncated: "2d3h", "1h2m", "3m4s", "12s", "0s". A zero second unit
// is omitted ("1h", "3m"). Negative durations mean "unknown" and render as "-".
func Duration(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	s := int64(d / time.Second)
	units := [...]struct {
		size int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	for i, u := range units {
		if s < u.size && u.size > 1 {
			continue
		}
		out := strconv.FormatInt(s/u.size, 10) + u.name
		if i+1 < len(units) {
			next := units[i+1]
			if rest := (s % u.size) / next.size; rest > 0 {
				out += strconv.FormatInt(rest, 10) + next.name
			}
		}
		return out
	}
	return "0s"
}

// Percent formats a fraction (clamped to 0..1) as a percentage with one
// decimal, "23.5%". Like Bar, it only reads "100.0%" when the fraction is 1:
// 99.96 % shows as "99.9%".
func Percent(fraction float64) string {
	f := clamp01(fraction)
	p := math.Round(f * 1000)
	if p == 1000 && f < 1 {
		p = 999
	}
	return strconv.FormatFloat(p/10, 'f', 1, 64) + "%"
}

func clamp01(f float64) float64 {
	switch {
	case math.IsNaN(f) || f < 0:
		return 0
	case f > 1:
		return 1
	default:
		return f
	}
}
