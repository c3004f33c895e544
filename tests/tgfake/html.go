package tgfake

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// utf16Len is the length of s in UTF-16 code units, the unit of every Bot API
// text limit and entity offset.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// htmlTag maps a tag Telegram's HTML parse mode accepts to its entity type.
// "span" needs class="tg-spoiler" and "code" inside "pre" sets the language,
// both handled in parseHTML.
func htmlTag(name string) (string, bool) {
	switch name {
	case "b", "strong":
		return "bold", true
	case "i", "em":
		return "italic", true
	case "u", "ins":
		return "underline", true
	case "s", "strike", "del":
		return "strikethrough", true
	case "span", "tg-spoiler":
		return "spoiler", true
	case "a":
		return "text_link", true
	case "code", "pre", "blockquote":
		return name, true
	case "tg-emoji":
		return "custom_emoji", true
	}
	return "", false
}

// openTag is a start tag waiting for its end tag.
type openTag struct {
	name   string
	entity MessageEntity
	// merged marks a <code> whose language went to the enclosing <pre>:
	// Telegram keeps one pre entity for the pair.
	merged bool
}

// parseHTML converts text in Telegram's HTML parse mode into the plain text
// and the entities Telegram would store. It follows the rules and the error
// texts of TDLib's parse_html closely enough for a bot's output: the
// supported tags, lower-cased names, attributes with quoted or bare values,
// the four named entities plus numeric ones (others stay literal), and the
// errors for unknown, unclosed and mismatched tags. The error is the part
// after "Bad Request: can't parse entities: ".
func parseHTML(text string) (string, []MessageEntity, string) {
	var (
		out      strings.Builder
		outLen   int // UTF-16 length of out
		stack    []openTag
		entities []MessageEntity
	)
	emit := func(s string) {
		out.WriteString(s)
		outLen += utf16Len(s)
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '&':
			if s, n := decodeEntity(text[i:]); n > 0 {
				emit(s)
				i += n
				continue
			}
			emit("&")
			i++
		case c == '<' && i+1 < len(text) && text[i+1] == '/':
			begin := i
			if len(stack) == 0 {
				return "", nil, fmt.Sprintf("Unexpected end tag at byte offset %d", begin)
			}
			i += 2
			nameStart := i
			for i < len(text) && !isHTMLSpace(text[i]) && text[i] != '>' {
				i++
			}
			name := strings.ToLower(text[nameStart:i])
			for i < len(text) && isHTMLSpace(text[i]) {
				i++
			}
			if i >= len(text) || text[i] != '>' {
				return "", nil, fmt.Sprintf("Unclosed end tag at byte offset %d", begin)
			}
			i++
			top := stack[len(stack)-1]
			// "</>" closes whatever is open, as in TDLib.
			if name != "" && name != top.name {
				return "", nil, fmt.Sprintf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, name)
			}
			stack = stack[:len(stack)-1]
			e := top.entity
			e.Length = outLen - e.Offset
			if e.Length > 0 && !top.merged {
				entities = append(entities, e)
			}
		case c == '<':
			begin := i
			i++
			nameStart := i
			for i < len(text) && !isHTMLSpace(text[i]) && text[i] != '>' {
				i++
			}
			if i >= len(text) {
				return "", nil, fmt.Sprintf("Unclosed start tag at byte offset %d", begin)
			}
			name := strings.ToLower(text[nameStart:i])
			typ, ok := htmlTag(name)
			if !ok {
				return "", nil, fmt.Sprintf("Unsupported start tag \"%s\" at byte offset %d", name, begin)
			}
			attrs, n, errText := parseAttributes(text, i, name)
			if errText != "" {
				return "", nil, errText
			}
			if n < 0 {
				return "", nil, fmt.Sprintf("Unclosed start tag at byte offset %d", begin)
			}
			i = n
			e := MessageEntity{Type: typ, Offset: outLen}
			merged := false
			switch name {
			case "span":
				if attrs["class"] != "tg-spoiler" {
					return "", nil, fmt.Sprintf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
				}
			case "a":
				href := attrs["href"]
				if id, ok := strings.CutPrefix(href, "tg://user?id="); ok {
					uid, _ := strconv.ParseInt(id, 10, 64)
					e = MessageEntity{Type: "text_mention", Offset: outLen, User: &User{ID: uid}}
				} else {
					e.URL = href
				}
			case "blockquote":
				if _, ok := attrs["expandable"]; ok {
					e.Type = "expandable_blockquote"
				}
			case "tg-emoji":
				e.CustomEmojiID = attrs["emoji-id"]
				if e.CustomEmojiID == "" {
					return "", nil, fmt.Sprintf("Expected custom emoji identifier at byte offset %d", begin)
				}
			case "code":
				// <pre><code class="language-go"> sets the language of the pre.
				if len(stack) > 0 && stack[len(stack)-1].name == "pre" {
					if lang, ok := strings.CutPrefix(attrs["class"], "language-"); ok {
						stack[len(stack)-1].entity.Language = lang
						merged = true
					}
				}
			}
			stack = append(stack, openTag{name: name, entity: e, merged: merged})
		default:
			_, size := utf8.DecodeRuneInString(text[i:])
			emit(text[i : i+size])
			i += size
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Sprintf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	sort.SliceStable(entities, func(a, b int) bool {
		if entities[a].Offset != entities[b].Offset {
			return entities[a].Offset < entities[b].Offset
		}
		return entities[a].Length > entities[b].Length
	})
	return out.String(), entities, ""
}

// parseAttributes reads the attributes of a start tag from text[i:] up to and
// including the closing '>'. It returns the attributes, the index after '>'
// (-1 when the tag never closes) and an error text for malformed attributes.
func parseAttributes(text string, i int, tag string) (map[string]string, int, string) {
	attrs := map[string]string{}
	for {
		for i < len(text) && isHTMLSpace(text[i]) {
			i++
		}
		if i >= len(text) {
			return nil, -1, ""
		}
		if text[i] == '>' {
			return attrs, i + 1, ""
		}
		nameStart := i
		for i < len(text) && !isHTMLSpace(text[i]) && text[i] != '=' && text[i] != '>' {
			i++
		}
		name := strings.ToLower(text[nameStart:i])
		if name == "" {
			return nil, 0, fmt.Sprintf("Empty attribute name in the tag \"%s\" at byte offset %d", tag, nameStart)
		}
		for i < len(text) && isHTMLSpace(text[i]) {
			i++
		}
		if i >= len(text) {
			return nil, -1, ""
		}
		if text[i] != '=' {
			// Only <blockquote expandable> has a valueless attribute.
			if tag == "blockquote" && name == "expandable" {
				attrs[name] = ""
				continue
			}
			return nil, 0, fmt.Sprintf("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", tag, i)
		}
		i++
		for i < len(text) && isHTMLSpace(text[i]) {
			i++
		}
		if i >= len(text) {
			return nil, -1, ""
		}
		var raw string
		if q := text[i]; q == '"' || q == '\'' {
			end := strings.IndexByte(text[i+1:], q)
			if end < 0 {
				return nil, 0, fmt.Sprintf("Unclosed end of attribute value at byte offset %d", i)
			}
			raw = text[i+1 : i+1+end]
			i += end + 2
		} else {
			start := i
			for i < len(text) && !isHTMLSpace(text[i]) && text[i] != '>' {
				i++
			}
			raw = text[start:i]
		}
		attrs[name] = decodeEntities(raw)
	}
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// decodeEntity decodes one HTML entity at the start of s ("&lt;", "&#39;",
// "&#x1F600;"). It returns the text and the bytes consumed, or 0 bytes when s
// does not start with an entity Telegram understands; such an '&' stays
// literal, as in TDLib.
func decodeEntity(s string) (string, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 12 {
		return "", 0
	}
	name := s[1:end]
	switch name {
	case "lt":
		return "<", end + 1
	case "gt":
		return ">", end + 1
	case "amp":
		return "&", end + 1
	case "quot":
		return "\"", end + 1
	}
	if num, ok := strings.CutPrefix(name, "#"); ok {
		base := 10
		if hex, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
			num, base = hex, 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
			return "", 0
		}
		return string(rune(v)), end + 1
	}
	return "", 0
}

// decodeEntities decodes every entity in an attribute value.
func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '&' {
			if d, n := decodeEntity(s[i:]); n > 0 {
				b.WriteString(d)
				i += n
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
