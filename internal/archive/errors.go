package archive

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The sentinel errors. Every error of this package that is not an I/O error
// of the local disk or a cancellation wraps exactly one of them; their text
// is written for users.
var (
	// ErrPasswordRequired: an archive (or one of its entries) is encrypted
	// and no password was given.
	ErrPasswordRequired = errors.New("the archive is encrypted: a password is needed")
	// ErrWrongPassword: the password given does not open the archive.
	ErrWrongPassword = errors.New("wrong password")
	// ErrLimit: a safety limit stopped the extraction; the error is a
	// *LimitError that says which.
	ErrLimit = errors.New("extraction stopped by a safety limit")
	// ErrNotArchive: the source holds no archive, or a file named like an
	// archive is not one.
	ErrNotArchive = errors.New("not an archive")
	// ErrCorrupt: the archive is truncated or its data is damaged.
	ErrCorrupt = errors.New("damaged or incomplete archive")
	// ErrUnsupported: the archive uses a feature (a compression method, an
	// encryption scheme, a split format) this package cannot read.
	ErrUnsupported = errors.New("unsupported archive")
)

// Error is the failure of one archive. Kind is one of the sentinels and is
// what errors.Is finds; Detail is a short explanation written for users; Err
// is the underlying library error, kept for logs only (it is not unwrapped,
// so that an io.ErrUnexpectedEOF inside a truncated archive is never taken
// for a network error worth retrying).
type Error struct {
	Archive string // the archive's name, relative to the extracted source
	Entry   string // the entry being read, if any
	Kind    error
	Detail  string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Archive != "" {
		b.WriteString(e.Archive)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.Error())
	if e.Detail != "" {
		b.WriteString(" (")
		b.WriteString(e.Detail)
		b.WriteString(")")
	}
	if e.Entry != "" {
		b.WriteString(" in ")
		b.WriteString(quoteName(e.Entry))
	}
	return b.String()
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// Limit names, as LimitError.Limit.
const (
	LimitTotal      = "total size"
	LimitFile       = "file size"
	LimitEntries    = "entries"
	LimitRatio      = "compression ratio"
	LimitDictionary = "dictionary size"
)

// LimitError says which safety limit stopped an extraction. It wraps ErrLimit.
type LimitError struct {
	Archive string
	Limit   string // one of the Limit* names
	Max     int64  // the limit: bytes, entries, or the ratio (rounded)
}

func (e *LimitError) Error() string {
	var what string
	switch e.Limit {
	case LimitTotal:
		what = "it unpacks to more than " + formatBytes(e.Max) + ", the most one extraction may write"
	case LimitFile:
		what = "a file in it is larger than " + formatBytes(e.Max) + ", the most one file may have"
	case LimitEntries:
		what = "it has more than " + strconv.FormatInt(e.Max, 10) + " entries"
	case LimitRatio:
		what = "it unpacks to more than " + strconv.FormatInt(e.Max, 10) + " times its size (a likely decompression bomb)"
	case LimitDictionary:
		what = "it needs a decompression dictionary larger than " + formatBytes(e.Max)
	default:
		what = e.Limit
	}
	if e.Archive == "" {
		return "extraction stopped: " + what
	}
	return e.Archive + ": extraction stopped: " + what
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// quoteName quotes an entry name for a message, shortened: names come from
// the archive and may be long or odd.
func quoteName(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// formatBytes renders a size in binary units for messages.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
