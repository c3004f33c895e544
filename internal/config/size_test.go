package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1048576", 1 << 20},
		{"1048576B", 1 << 20},
		{"12 bytes", 12},
		{"500MB", 500_000_000},
		{"500mb", 500_000_000},
		{"1.5 GB", 1_500_000_000},
		{"1.1GB", 1_100_000_000},
		{"2GiB", 2 << 30},
		{"2gib", 2 << 30},
		{"2G", 2 << 30},
		{"2Gi", 2 << 30},
		{"1.5GiB", 1536 << 20},
		{"4K", 4096},
		{"4kB", 4000},
		{"0.5K", 512},
		{"1.0001K", 1024}, // rounded down to whole bytes
		{"3M", 3 << 20},
		{"1TB", 1_000_000_000_000},
		{"1T", 1 << 40},
		{"  2000MiB  ", 2000 << 20},
		{"9223372036854775807", 1<<63 - 1},
	}
	for _, tt := range good {
		got, err := ParseSize(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}

	bad := []struct{ in, msg string }{
		{"", "empty"},
		{"   ", "empty"},
		{"-5MB", "negative"},
		{"-1", "negative"},
		{"MB", "want a number"},
		{"1.5", "whole number"},
		{"1.5B", "whole number"},
		{"1.", "want a number"},
		{".5G", "want a number"},
		{"1.2.3G", "want a number"},
		{"1e9", "unknown unit"},
		{"10 XB", "unknown unit"},
		{"5 M B", "unknown unit"},
		{"0x10", "unknown unit"},
		{"9223372036854775808", "too large"},
		{"9000000000G", "too large"},
		{"+5", "want a number"},
	}
	for _, tt := range bad {
		_, err := ParseSize(tt.in)
		require.ErrorIs(t, err, ErrInvalidSize, tt.in)
		require.ErrorContains(t, err, tt.msg, tt.in)
	}
}
