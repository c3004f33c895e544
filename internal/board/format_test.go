package board

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestBytes(t *testing.T) {
	const (
		kib = 1024
		mib = 1024 * kib
		gib = 1024 * mib
	)
	tests := []struct {
		in   int64
		want string
	}{
		{-1, "-"},
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{mib - 1, "1.0 MiB"}, // 1023.999 KiB rounds up into the next unit
		{mib, "1.0 MiB"},
		{12*mib + 3*mib/10, "12.3 MiB"},
		{235 * mib, "235.0 MiB"},
		{gib, "1.0 GiB"},
		{2000 * mib, "2.0 GiB"},
		{1023 * gib, "1023.0 GiB"},
		{1 << 40, "1.0 TiB"},
		{math.MaxInt64, "8.0 EiB"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Bytes(tt.in), "Bytes(%d)", tt.in)
	}
}

func TestSpeed(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0 B/s"},
		{0.4, "0 B/s"},
		{512, "512 B/s"},
		{1023.6, "1.0 KiB/s"},
		{12.3 * 1024 * 1024, "12.3 MiB/s"},
		{-1, "-"},
		{math.NaN(), "-"},
		{math.Inf(1), "-"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Speed(tt.in), "Speed(%v)", tt.in)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "-"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{12 * time.Second, "12s"},
		{3*time.Minute + 4*time.Second, "3m4s"},
		{3 * time.Minute, "3m"},
		{time.Hour + 2*time.Minute + 59*time.Second, "1h2m"},
		{time.Hour + 30*time.Second, "1h"},
		{49 * time.Hour, "2d1h"},
		{48 * time.Hour, "2d"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Duration(tt.in), "Duration(%v)", tt.in)
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		in   float64
		full int
	}{
		{-0.5, 0},
		{math.NaN(), 0},
		{0, 0},
		{0.04, 0},
		{0.05, 1},
		{0.235, 3}, // the MLTB example: [■■■□□□□□□□□□] 23.5%
		{0.5, 6},
		{0.97, 11}, // never full before the end
		{0.999, 11},
		{1, 12},
		{7, 12},
	}
	for _, tt := range tests {
		got := Bar(tt.in)
		require.Equal(t, BarCells, utf8.RuneCountInString(got), "Bar(%v) = %q", tt.in, got)
		require.Equal(t, tt.full, strings.Count(got, cellFull), "Bar(%v) = %q", tt.in, got)
		require.Equal(t, strings.Repeat(cellFull, tt.full), got[:len(cellFull)*tt.full])
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0%"},
		{0.235, "23.5%"},
		{0.9996, "99.9%"},
		{1, "100.0%"},
		{2, "100.0%"},
		{-1, "0.0%"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Percent(tt.in), "Percent(%v)", tt.in)
	}
}
