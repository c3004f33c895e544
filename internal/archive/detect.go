package archive

import (
	"bytes"
	"strconv"
	"strings"
)

// format is an archive or compression format, recognised by content.
type format uint8

const (
	fmtUnknown format = iota
	fmtZip
	fmt7z
	fmtRar
	fmtTar
	fmtGzip
	fmtBzip2
	fmtXz
	fmtZstd
)

func (f format) String() string {
	switch f {
	case fmtZip:
		return "zip"
	case fmt7z:
		return "7z"
	case fmtRar:
		return "rar"
	case fmtTar:
		return "tar"
	case fmtGzip:
		return "gzip"
	case fmtBzip2:
		return "bzip2"
	case fmtXz:
		return "xz"
	case fmtZstd:
		return "zstd"
	}
	return "unknown"
}

// sniffLen is how many leading bytes sniff wants (a tar header).
const sniffLen = 512

// sniff recognises a format by its leading bytes.
func sniff(b []byte) format {
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")), bytes.HasPrefix(b, []byte("PK\x05\x06")),
		bytes.HasPrefix(b, []byte("PK\x07\x08PK")):
		return fmtZip
	case bytes.HasPrefix(b, []byte("7z\xbc\xaf\x27\x1c")):
		return fmt7z
	case bytes.HasPrefix(b, []byte("Rar!\x1a\x07\x00")), bytes.HasPrefix(b, []byte("Rar!\x1a\x07\x01\x00")):
		return fmtRar
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return fmtGzip
	case len(b) >= 4 && bytes.HasPrefix(b, []byte("BZh")) && b[3] >= '1' && b[3] <= '9':
		return fmtBzip2
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return fmtXz
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return fmtZstd
	case isTarHeader(b):
		return fmtTar
	}
	return fmtUnknown
}

// isTarHeader reports whether b starts with a tar header block whose
// checksum is right (old V7 headers have no magic, so the checksum decides).
func isTarHeader(b []byte) bool {
	if len(b) < 512 {
		return false
	}
	field := bytes.TrimRight(bytes.TrimLeft(b[148:156], " \x00"), " \x00")
	want, err := strconv.ParseUint(string(field), 8, 32)
	if err != nil || len(field) == 0 {
		return false
	}
	var unsigned, signed int64
	for i, c := range b[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return int64(want) == unsigned || int64(want) == signed
}

// Archive name patterns. Extensions are matched case-insensitively.
var (
	// archiveExts are the single-file archive extensions, longest first so
	// that ".tar.gz" wins over ".gz".
	archiveExts = []string{".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tgz", ".tbz2", ".tbz", ".txz", ".tzst",
		".tar", ".zip", ".7z", ".rar", ".gz", ".bz2", ".xz", ".zst"}
	tarExts = []string{".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tgz", ".tbz2", ".tbz", ".txz", ".tzst", ".tar"}
)

// archiveExt returns the archive extension of name ("" if none).
func archiveExt(name string) string {
	lower := strings.ToLower(name)
	for _, e := range archiveExts {
		if strings.HasSuffix(lower, e) && len(lower) > len(e) {
			return name[len(name)-len(e):]
		}
	}
	return ""
}

// namedTar reports whether the name says the content is a tar.
func namedTar(name string) bool {
	lower := strings.ToLower(name)
	for _, e := range tarExts {
		if strings.HasSuffix(lower, e) {
			return true
		}
	}
	return false
}

// nameFormat is the format a name promises.
func nameFormat(name string) format {
	if v, ok := parseVolume(name); ok {
		if v.scheme == schemeRarPart || v.scheme == schemeRarOld {
			return fmtRar
		}
		if v.scheme == schemeSplitZip {
			return fmtZip
		}
		name = v.base
	}
	switch e := strings.ToLower(archiveExt(name)); e {
	case ".zip":
		return fmtZip
	case ".7z":
		return fmt7z
	case ".rar":
		return fmtRar
	case ".tar":
		return fmtTar
	case ".gz", ".tgz":
		return fmtGzip
	case ".bz2", ".tbz", ".tbz2":
		return fmtBzip2
	case ".xz", ".txz":
		return fmtXz
	case ".zst", ".tzst":
		return fmtZstd
	}
	return fmtUnknown
}

// Volume naming schemes.
const (
	schemeRarPart  = "rar-part"  // name.part1.rar, name.part2.rar, …
	schemeRarOld   = "rar-old"   // name.rar, name.r00, name.r01, …
	schemeSplit    = "split"     // name.7z.001, name.zip.002, … (a byte-split archive)
	schemeSplitZip = "split-zip" // name.z01, name.z02, …, name.zip (zip -s)
)

// volume is a file's place in a multi-volume set.
type volume struct {
	scheme string
	base   string // the set's name without the volume part: "name.7z", "name"
	index  int    // order in the set; the first volume has the lowest
}

// parseVolume recognises multi-volume names. A lone name.rar or name.zip is
// reported too (as the first or last volume of a possible set) so that its
// siblings group with it.
func parseVolume(name string) (volume, bool) {
	lower := strings.ToLower(name)
	dot := strings.LastIndexByte(lower, '.')
	if dot <= 0 {
		return volume{}, false
	}
	ext := lower[dot+1:]
	stem := name[:dot]
	switch {
	case ext == "rar":
		if p := strings.LastIndex(strings.ToLower(stem), ".part"); p > 0 {
			if n, ok := digits(stem[p+5:]); ok {
				return volume{scheme: schemeRarPart, base: stem[:p], index: n}, true
			}
		}
		return volume{scheme: schemeRarOld, base: stem, index: -1}, true
	case len(ext) == 3 && ext[0] == 'r' && isDigits(ext[1:]):
		n, _ := strconv.Atoi(ext[1:])
		return volume{scheme: schemeRarOld, base: stem, index: n}, true
	case ext == "zip":
		return volume{scheme: schemeSplitZip, base: stem, index: 1 << 20}, true
	case len(ext) == 3 && ext[0] == 'z' && isDigits(ext[1:]):
		n, _ := strconv.Atoi(ext[1:])
		return volume{scheme: schemeSplitZip, base: stem, index: n}, true
	case len(ext) >= 3 && isDigits(ext):
		// Only splits of archives: movie.mkv.001 is a plain split file.
		if archiveExt(stem) == "" {
			return volume{}, false
		}
		n, _ := strconv.Atoi(ext)
		return volume{scheme: schemeSplit, base: stem, index: n}, true
	}
	return volume{}, false
}

func digits(s string) (int, bool) {
	if !isDigits(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// IsArchive reports by name alone whether Extract would treat the file as
// an archive (or a volume of one): zip, 7z, rar, tar and its compressed
// forms, single gz/bz2/xz/zst files, and the volume patterns .7z.001,
// .zip.001, .partN.rar, .rNN.
func IsArchive(name string) bool {
	if archiveExt(name) != "" {
		return true
	}
	v, ok := parseVolume(name)
	return ok && v.scheme != schemeSplitZip
}

// Stem returns the name without its volume and archive extensions:
// "a.tar.gz" → "a", "a.part1.rar" → "a", "a.7z.001" → "a". A name that is
// all extension keeps itself.
func Stem(name string) string {
	s := name
	if v, ok := parseVolume(s); ok {
		s = v.base
	}
	if e := archiveExt(s); e != "" {
		s = s[:len(s)-len(e)]
	}
	s = strings.TrimRight(s, ". ")
	if s == "" {
		return name
	}
	return s
}
