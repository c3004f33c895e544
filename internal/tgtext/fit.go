package tgtext

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Fit returns text shortened, if need be, to at most limit characters as
// Telegram counts them, with an ellipsis at the cut. With html the text is
// in Telegram's HTML parse mode: tags count nothing, an entity (&amp;,
// &#128512;) counts as the character it stands for, the cut falls only
// between characters, never inside a tag or an entity, and the tags still
// open at the cut are closed after the ellipsis, so the result parses as
// the input did. A text within the limit is returned unchanged.
func Fit(text string, html bool, limit int) string {
	if !html {
		if Len(text) <= limit {
			return text
		}
		return cutPlain(text, limit-Len(Ellipsis)) + Ellipsis
	}
	if HTMLLen(text) <= limit {
		return text
	}
	budget := limit - Len(Ellipsis)
	var (
		units int
		stack []string
		cut   = len(text)
	)
	walkHTML(text, func(i, size, u int, tag string, closing bool) bool {
		if tag != "" || closing {
			if closing {
				if n := len(stack); n > 0 {
					stack = stack[:n-1]
				}
			} else {
				stack = append(stack, tag)
			}
			return true
		}
		if units+u > budget {
			cut = i
			return false
		}
		units += u
		return true
	})
	var b strings.Builder
	b.WriteString(text[:cut])
	b.WriteString(Ellipsis)
	for i := len(stack) - 1; i >= 0; i-- {
		b.WriteString("</" + stack[i] + ">")
	}
	return b.String()
}

// HTMLLen returns the length Telegram counts for text in HTML parse mode:
// the UTF-16 length of the text with its tags removed and its entities
// decoded.
func HTMLLen(text string) int {
	n := 0
	walkHTML(text, func(_, _, u int, _ string, _ bool) bool {
		n += u
		return true
	})
	return n
}

// cutPlain returns the longest prefix of s of at most n UTF-16 units.
func cutPlain(s string, n int) string {
	units := 0
	for i, r := range s {
		if units+runeLen(r) > n {
			return s[:i]
		}
		units += runeLen(r)
	}
	return s
}

// walkHTML calls fn for every token of text in Telegram's HTML parse mode,
// in order, until fn returns false: a character or an entity (at byte i,
// size bytes, u UTF-16 units of shown text), a start tag (its lower-cased
// name in tag) or an end tag (closing). A '<' that opens no complete tag
// and an '&' that starts no known entity are characters, as Telegram
// reads them.
func walkHTML(text string, fn func(i, size, u int, tag string, closing bool) bool) {
	for i := 0; i < len(text); {
		switch c := text[i]; c {
		case '<':
			if end := tagEnd(text, i); end > 0 {
				raw := text[i+1 : end-1]
				closing := strings.HasPrefix(raw, "/")
				name := strings.ToLower(strings.TrimPrefix(raw, "/"))
				if k := strings.IndexAny(name, " \t\r\n"); k >= 0 {
					name = name[:k]
				}
				if !closing && name == "" {
					name = "_" // malformed; Telegram refuses it anyway
				}
				if !fn(i, end-i, 0, name, closing) {
					return
				}
				i = end
				continue
			}
		case '&':
			if r, n := entity(text[i:]); n > 0 {
				if !fn(i, n, runeLen(r), "", false) {
					return
				}
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if !fn(i, size, runeLen(r), "", false) {
			return
		}
		i += size
	}
}

// tagEnd returns the index just after the '>' that ends the tag starting
// at text[i] == '<', skipping quoted attribute values, or -1.
func tagEnd(text string, i int) int {
	var quote byte
	for j := i + 1; j < len(text); j++ {
		c := text[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j + 1
		}
	}
	return -1
}

// entity decodes the HTML entity at the start of s, as Telegram does: the
// four named ones and numeric ones. It returns the rune and the bytes it
// takes, or 0 bytes when s starts with no such entity.
func entity(s string) (rune, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 12 {
		return 0, 0
	}
	switch name := s[1:end]; name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	default:
		num, ok := strings.CutPrefix(name, "#")
		if !ok {
			return 0, 0
		}
		base := 10
		if hex, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
			num, base = hex, 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err != nil || v == 0 || v > utf8.MaxRune || v >= 0xD800 && v <= 0xDFFF {
			return 0, 0
		}
		return rune(v), end + 1
	}
}
