package tgtext

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Telegram's limits, in UTF-16 code units after entity parsing.
const (
	MaxText     = 4096 // sendMessage, editMessageText
	MaxCaption  = 1024 // captions of documents and media
	MaxCallback = 200  // answerCallbackQuery text
)

// Lengths the composers give user-supplied fragments: long enough to
// recognise a name or a link, short enough that a message holding a few of
// them plus its own words stays far below MaxText (and a name in a caption
// below MaxCaption).
const (
	NameLen = 256  // a file or task name, a link
	EchoLen = 1024 // an error text or the user's input quoted back
)

// Ellipsis marks where a text was shortened.
const Ellipsis = "…"

// Len returns the length of plain text s as Telegram counts it.
func Len(s string) int {
	n := 0
	for _, r := range s {
		n += runeLen(r)
	}
	return n
}

// runeLen is the UTF-16 length of r; an invalid rune is sent as U+FFFD.
func runeLen(r rune) int {
	if l := utf16.RuneLen(r); l > 0 {
		return l
	}
	return 1
}

// Clean strips what must not be echoed from outside text: C0 controls but
// the line feed, DEL, C1 controls, and the bidirectional marks and
// overrides (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069), which
// can make "exe.pdf" display as "fdp.exe". Invalid UTF-8 becomes U+FFFD.
func Clean(s string) string {
	clean := true
	for i, r := range s {
		if drop(r) || r == utf8.RuneError && !isReplacement(s[i:]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !drop(r) {
			b.WriteRune(r) // an invalid byte arrives here as U+FFFD
		}
	}
	return b.String()
}

// isReplacement reports whether s starts with an encoded U+FFFD rather
// than an invalid byte.
func isReplacement(s string) bool {
	_, size := utf8.DecodeRuneInString(s)
	return size == 3
}

func drop(r rune) bool {
	switch {
	case r == '\n':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// Short cleans s (see Clean) and shortens it to at most n characters (as
// Len counts them), cutting the middle: the head and the last third stay,
// joined by an ellipsis. It never splits a character's surrogate pair.
func Short(s string, n int) string {
	return shorten(Clean(s), n)
}

// Line is Short for a one-line fragment (a name, a link): line breaks,
// carriage returns, tabs and the Unicode line and paragraph separators
// become spaces first, and surrounding spaces are trimmed.
func Line(s string, n int) string {
	return shorten(strings.TrimSpace(Clean(oneLine(s))), n)
}

// Name is a name or a link from outside the bot, ready to be put into an
// HTML message: Line(s, n), HTML-escaped. The limit counts the characters
// shown, not the escapes.
func Name(s string, n int) string {
	return Escape(Line(s, n))
}

// Echo is outside text that may span lines (an error, the user's input),
// ready to be put into an HTML message: Short(s, n), HTML-escaped.
func Echo(s string, n int) string {
	return Escape(Short(s, n))
}

var spaces = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ", "\u2028", " ", "\u2029", " ")

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r\t\u2028\u2029") {
		return s
	}
	return spaces.Replace(s)
}

func shorten(s string, n int) string {
	total := Len(s)
	if total <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	keep := n - Len(Ellipsis)
	tail := keep / 3
	head := keep - tail
	// The head: the longest prefix of at most head units.
	hEnd, units := 0, 0
	for i, r := range s {
		if units+runeLen(r) > head {
			hEnd = i
			break
		}
		units += runeLen(r)
	}
	// The tail: the longest suffix of at most tail units.
	tStart, units := len(s), 0
	for tStart > hEnd {
		r, size := utf8.DecodeLastRuneInString(s[:tStart])
		if units+runeLen(r) > tail {
			break
		}
		units += runeLen(r)
		tStart -= size
	}
	return strings.TrimRight(s[:hEnd], " ") + Ellipsis + strings.TrimLeft(s[tStart:], " ")
}

// Escape escapes text for Telegram's HTML parse mode: <, > and &, the
// three characters its parser requires escaped outside attributes.
func Escape(s string) string {
	if !strings.ContainsAny(s, "<>&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
