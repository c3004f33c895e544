package archive

import (
	"errors"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxComponent is the longest path component most file systems accept
// (ext4, XFS, btrfs: 255 bytes; NTFS: 255 UTF-16 units, never fewer bytes).
const maxComponent = 255

// errUnsafeName explains why an entry name is refused; such entries are
// skipped, never written.
var (
	errNameNUL      = errors.New("name contains NUL")
	errNameAbsolute = errors.New("absolute name")
	errNameParent   = errors.New("name climbs out with ..")
	errNameEmpty    = errors.New("empty name")
)

// SanitizeName turns an entry name from an archive into a safe relative
// slash-separated path, or refuses it. Refused: names with NUL, absolute
// names (leading / or \, a drive letter such as C:), names with a ..
// component, and names that are empty after cleaning. Cleaned: \ becomes /,
// leading ./ and empty or . components are dropped. Every component is then
// made valid for users on Linux and Windows alike: invalid UTF-8 and control
// characters become _, trailing dots and spaces are trimmed, reserved device
// names (CON, NUL, COM1, …) get a _ prefix, and components over 255 bytes are
// shortened keeping their extension. The result is always filepath.IsLocal.
func SanitizeName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", errNameNUL
	}
	name = strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(name, "/") || hasDriveLetter(name) {
		return "", errNameAbsolute
	}
	parts := strings.Split(name, "/")
	out := parts[:0]
	for _, p := range parts {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", errNameParent
		}
		out = append(out, sanitizeComponent(p))
	}
	if len(out) == 0 {
		return "", errNameEmpty
	}
	if hasDriveLetter(out[0]) {
		return "", errNameAbsolute // C:/x, C:x: absolute or drive-relative on Windows
	}
	clean := strings.Join(out, "/")
	if !filepath.IsLocal(filepath.FromSlash(clean)) {
		// Unreachable with the rules above; kept as the last word.
		return "", errNameAbsolute
	}
	return clean, nil
}

func hasDriveLetter(name string) bool {
	return len(name) >= 2 && name[1] == ':' &&
		(name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z')
}

// sanitizeComponent makes one path component (never "", "." or "..") safe.
func sanitizeComponent(c string) string {
	var b strings.Builder
	b.Grow(len(c))
	for len(c) > 0 {
		r, size := utf8.DecodeRuneInString(c)
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteByte('_') // one _ per invalid byte keeps different names apart
		case r < 0x20 || r == 0x7f:
			b.WriteByte('_')
		default:
			b.WriteString(c[:size])
		}
		c = c[size:]
	}
	s := strings.TrimRight(b.String(), ". ")
	if s == "" {
		s = "_"
	}
	if isReserved(s) {
		s = "_" + s
	}
	return shorten(s, "")
}

// isReserved reports whether Windows treats the name as a device: CON, PRN,
// AUX, NUL, COM0-9, LPT0-9 (also with superscript digits), with or without
// an extension, in any case.
func isReserved(s string) bool {
	base := s
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) >= 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		switch d := base[3:]; d {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// shorten returns s with suffix inserted before its extension, cut so that
// the result fits maxComponent bytes. The extension is kept when it is
// short (a long "extension" is just part of the name).
func shorten(s, suffix string) string {
	ext := path.Ext(s)
	if len(ext) > 16 || len(ext) == len(s) {
		ext = ""
	}
	stem := s[:len(s)-len(ext)]
	room := maxComponent - len(ext) - len(suffix)
	if len(stem) > room {
		cut := room
		for cut > 0 && !isRuneStart(stem[cut]) {
			cut--
		}
		stem = strings.TrimRight(stem[:cut], ". ")
		if stem == "" {
			stem = "_"
		}
	}
	return stem + suffix + ext
}

// variant returns the n-th alternative of a path's last component, for
// duplicates: "a/b.txt" → "a/b (2).txt".
func variant(rel string, n int) string {
	dir, base := path.Split(rel)
	return dir + shorten(base, " ("+strconv.Itoa(n)+")")
}
