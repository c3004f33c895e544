package httpdl

import (
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes is NAME_MAX on Linux file systems: the longest file name, in
// bytes, of one path element.
const maxNameBytes = 255

// fallbackName is used when no usable name can be derived.
const fallbackName = "download"

// maxExtBytes bounds what counts as an extension to keep when a long name is
// shortened; anything longer is treated as part of the stem.
const maxExtBytes = 16

// SanitizeName turns an untrusted name (from a user, a Content-Disposition
// header or a URL) into a single safe path element: the part after the last
// "/" or "\" (a Windows path in a header means its last element), without NUL,
// control or bidirectional-override characters, with invalid UTF-8 replaced
// by "_", without leading or trailing spaces and dots (so never "." or "..",
// never a hidden file), and at most 255 bytes, cut at a rune boundary and
// keeping a short extension. An empty result becomes "download".
func SanitizeName(s string) string {
	if s = sanitize(s); s == "" {
		return fallbackName
	}
	return s
}

// sanitize is SanitizeName without the fallback: it returns "" when nothing
// usable is left, so that the caller can try the next source of a name.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "_")
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r == 0 || unicode.IsControl(r) || isBidiControl(r) {
			return -1
		}
		return r
	}, s)
	s = trimName(s)
	if len(s) > maxNameBytes {
		s = shorten(s, maxNameBytes)
	}
	return s
}

// isBidiControl reports the Unicode bidirectional formatting characters,
// which let a name display as something else ("exe.pdf" shown as "fdp.exe").
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') ||
		r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// trimName removes leading and trailing white space and dots.
func trimName(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
}

// shorten cuts s to at most limit bytes at a rune boundary, keeping a short
// extension, and trims again so the result stays a valid name.
func shorten(s string, limit int) string {
	ext := path.Ext(s)
	if len(ext) > maxExtBytes || len(ext) == len(s) {
		ext = ""
	}
	stem := trimName(cutUTF8(s[:len(s)-len(ext)], limit-len(ext)))
	if stem == "" {
		return trimName(cutUTF8(s, limit))
	}
	return stem + ext
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a rune.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// nameFromContentDisposition returns the file name of a Content-Disposition
// header, or "". mime.ParseMediaType decodes RFC 5987 filename*= and lets it
// win over filename=. Servers often send headers the strict parser rejects
// (unquoted spaces, raw UTF-8), so a lenient scan for filename= follows.
func nameFromContentDisposition(h string) string {
	if h == "" {
		return ""
	}
	if _, params, err := mime.ParseMediaType(h); err == nil {
		return params["filename"]
	}
	lower := strings.ToLower(h)
	i := strings.Index(lower, "filename=")
	if i < 0 {
		return ""
	}
	v := strings.TrimSpace(h[i+len("filename="):])
	if strings.HasPrefix(v, `"`) {
		if end := strings.IndexByte(v[1:], '"'); end >= 0 {
			return v[1 : end+1]
		}
		return v[1:]
	}
	if end := strings.IndexByte(v, ';'); end >= 0 {
		v = v[:end]
	}
	return strings.TrimSpace(v)
}

// nameFromURL returns the unescaped last non-empty path segment of u, or "".
// Splitting the escaped path first keeps an encoded slash (%2F) inside its
// segment, where it becomes "_".
func nameFromURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i] == "" {
			continue
		}
		s, err := url.PathUnescape(segs[i])
		if err != nil {
			return segs[i]
		}
		// An encoded slash belongs to the name, not to the path.
		return strings.NewReplacer("/", "_", `\`, "_").Replace(s)
	}
	return ""
}

// auxName derives the name of a helper file (the .part file, the control
// file) from a sanitized name. When prefix+name+suffix would exceed NAME_MAX,
// the name is shortened and a hash of the full name keeps helper names of
// different long names apart.
func auxName(prefix, name, suffix string) string {
	if len(prefix)+len(name)+len(suffix) <= maxNameBytes {
		return prefix + name + suffix
	}
	sum := sha256.Sum256([]byte(name))
	tag := "~" + hex.EncodeToString(sum[:4])
	room := maxNameBytes - len(prefix) - len(suffix) - len(tag)
	return prefix + cutUTF8(name, room) + tag + suffix
}

// partName is the name of the file the data is written to until complete.
func partName(name string) string { return auxName("", name, ".part") }

// controlName is the name of the control file that makes resume possible.
func controlName(name string) string { return auxName(".", name, ".httpdl") }

// controlTmpName is the name the control file is written under before it
// is renamed into place.
func controlTmpName(name string) string { return auxName(".", name, ".httpdl.tmp") }
