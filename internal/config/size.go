package config

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// unitMultiplier maps a lower-cased unit suffix to its multiplier. KB, MB, GB and TB are SI
// (powers of 1000) as their names say; KiB, MiB, GiB, TiB and the bare K, M, G, T are binary
// (powers of 1024), because the bare letters are what the Python bots and tools like split(1)
// mean by them. It is a switch rather than a map so that no mutable table exists.
func unitMultiplier(unit string) (int64, bool) {
	switch unit {
	case "", "b", "byte", "bytes":
		return 1, true
	case "k", "ki", "kib":
		return 1 << 10, true
	case "kb":
		return 1e3, true
	case "m", "mi", "mib":
		return 1 << 20, true
	case "mb":
		return 1e6, true
	case "g", "gi", "gib":
		return 1 << 30, true
	case "gb":
		return 1e9, true
	case "t", "ti", "tib":
		return 1 << 40, true
	case "tb":
		return 1e12, true
	}
	return 0, false
}

// ErrInvalidSize is wrapped by every error ParseSize returns.
var ErrInvalidSize = errors.New("invalid size")

// ParseSize parses a byte size: a non-negative decimal number, optionally followed (with or
// without a space, in any letter case) by a unit. KB, MB, GB and TB are SI units (500MB =
// 500,000,000 bytes); KiB, MiB, GiB, TiB and the bare K, M, G, T are binary (2G = 2GiB =
// 2,147,483,648 bytes); B or no unit means bytes. Fractions are allowed with a unit ("1.5 GB")
// and rounded down to whole bytes; a fractional byte count, a negative number, an exponent, an
// unknown unit or a size beyond int64 is an error wrapping [ErrInvalidSize].
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	end := 0
	for end < len(t) && (t[end] >= '0' && t[end] <= '9' || t[end] == '.') {
		end++
	}
	num, unit := t[:end], strings.ToLower(strings.TrimSpace(t[end:]))
	switch {
	case t == "":
		return 0, fmt.Errorf("%w: empty", ErrInvalidSize)
	case strings.HasPrefix(t, "-"):
		return 0, fmt.Errorf("%w %q: must not be negative", ErrInvalidSize, s)
	case !validDecimal(num):
		return 0, fmt.Errorf("%w %q: want a number such as 500MB, 1.5GiB or 1048576", ErrInvalidSize, s)
	}
	mult, ok := unitMultiplier(unit)
	if !ok {
		return 0, fmt.Errorf("%w %q: unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, K, M, G or T)", ErrInvalidSize, s, t[end:])
	}
	// big.Rat keeps "1.1GB" exact; a float64 would make it 1099999999.
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("%w %q: want a number", ErrInvalidSize, s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if mult == 1 && !r.IsInt() {
		return 0, fmt.Errorf("%w %q: a byte count must be a whole number", ErrInvalidSize, s)
	}
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if !n.IsInt64() {
		return 0, fmt.Errorf("%w %q: too large", ErrInvalidSize, s)
	}
	return n.Int64(), nil
}

// validDecimal accepts digits with at most one decimal point that has digits on both sides.
func validDecimal(s string) bool {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") {
		return false
	}
	return !strings.Contains(frac, ".")
}
