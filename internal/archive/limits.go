package archive

import "math"

// Limits bound one extraction. They count bytes actually written, never the
// sizes an archive declares (those may lie).
type Limits struct {
	// MaxTotal is the most bytes one extraction writes. ≤ 0 means no size
	// limit; callers pass MAX_EXTRACT_SIZE capped by the free disk.
	MaxTotal int64
	// MaxEntries is the most entries (files, folders, skipped entries)
	// read from all archives of one extraction. Default: 10000.
	MaxEntries int
	// MaxRatio is the most bytes an archive may unpack to per byte of its
	// own size. The first RatioAllowance bytes of every archive are
	// exempt, so small archives of very regular data still open.
	// Default: 200.
	MaxRatio float64
	// MaxFile is the most bytes of one file. 0 means MaxTotal.
	MaxFile int64
}

// Defaults of Limits.
const (
	DefaultMaxEntries = 10000
	DefaultMaxRatio   = 200
	// RatioAllowance is the output every archive may write whatever its
	// ratio: a 2 KiB zip of a 1 MiB log is no bomb.
	RatioAllowance = 1 << 20
	// MaxDictionary caps the memory a RAR, zstd, xz or 7z LZMA decoder may
	// allocate for its window (see the package doc, Safety: the decoders'
	// own defaults allow gigabytes).
	MaxDictionary = 256 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxTotal <= 0 {
		l.MaxTotal = math.MaxInt64
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.MaxFile <= 0 || l.MaxFile > l.MaxTotal {
		l.MaxFile = l.MaxTotal
	}
	return l
}

// budget tracks what an extraction has used of its limits. It is owned by
// the one goroutine that extracts.
type budget struct {
	lim     Limits
	written int64 // bytes written by the whole extraction
	entries int

	archive   string // the archive being extracted, for errors
	arcSize   int64
	arcOutput int64 // bytes written from the current archive
}

func (b *budget) startArchive(name string, size int64) {
	b.archive, b.arcSize, b.arcOutput = name, size, 0
}

// entry counts one more entry.
func (b *budget) entry() error {
	b.entries++
	if b.entries > b.lim.MaxEntries {
		return &LimitError{Archive: b.archive, Limit: LimitEntries, Max: int64(b.lim.MaxEntries)}
	}
	return nil
}

// room returns how many bytes the next file may have and the error to
// return when it has more.
func (b *budget) room() (int64, *LimitError) {
	n, lim := b.lim.MaxFile, &LimitError{Archive: b.archive, Limit: LimitFile, Max: b.lim.MaxFile}
	if left := b.lim.MaxTotal - b.written; left <= n { // a tie is the total's: MaxFile defaults to it
		n, lim = left, &LimitError{Archive: b.archive, Limit: LimitTotal, Max: b.lim.MaxTotal}
	}
	ratioMax := b.lim.MaxRatio*float64(b.arcSize) + RatioAllowance
	if ratioMax < float64(math.MaxInt64) {
		if left := int64(ratioMax) - b.arcOutput; left <= n {
			n, lim = left, &LimitError{Archive: b.archive, Limit: LimitRatio, Max: int64(math.Round(b.lim.MaxRatio))}
		}
	}
	return max(n, 0), lim
}

func (b *budget) add(n int64) {
	b.written += n
	b.arcOutput += n
}
