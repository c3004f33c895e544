package config

import (
	"fmt"
	"strings"
)

// setting is one raw value and where it came from; origin is "" for the environment and
// "FILE:LINE" for the dotenv file, so that an error about a value can point at its line.
type setting struct {
	value  string
	origin string
}

// parseDotenv parses the dotenv text read from file (the name is used only in error
// positions). It returns the settings of known variables and one *FieldError per problem:
// malformed lines, unknown keys and keys set twice. No error repeats a line's text or a value,
// since either may hold a secret.
func parseDotenv(file, text string) (map[string]setting, []error) {
	vals := make(map[string]setting)
	firstLine := make(map[string]int)
	var errs []error
	for i, raw := range strings.Split(text, "\n") {
		lineNo := i + 1
		pos := fmt.Sprintf("%s:%d", file, lineNo)
		line := strings.TrimSpace(raw)
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\uFEFF") // a BOM left by some Windows editors
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		key, rawValue, ok := strings.Cut(line, "=")
		if !ok {
			errs = append(errs, &FieldError{Var: pos, Msg: "malformed line: want KEY=VALUE"})
			continue
		}
		key = strings.TrimSpace(key)
		if !validKey(key) {
			errs = append(errs, &FieldError{Var: pos, Msg: "malformed line: the name before '=' is not a variable name"})
			continue
		}
		value, err := parseDotenvValue(strings.TrimSpace(rawValue))
		if err != "" {
			errs = append(errs, &FieldError{Var: pos, Msg: key + ": " + err})
			continue
		}
		if _, known := lookupVariable(key); !known {
			msg := "unknown variable " + key
			if s := suggest(key); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			errs = append(errs, &FieldError{Var: pos, Msg: msg})
			continue
		}
		if first, dup := firstLine[key]; dup {
			errs = append(errs, &FieldError{Var: pos, Msg: fmt.Sprintf("%s is already set on line %d", key, first)})
			continue
		}
		firstLine[key] = lineNo
		vals[key] = setting{value: value, origin: pos}
	}
	return vals, errs
}

// validKey accepts shell variable names: a letter or underscore, then letters, digits and
// underscores.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// parseDotenvValue decodes the text after '=' (already trimmed). It returns the value, or a
// user-safe problem description that never quotes the text.
func parseDotenvValue(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	var value, rest string
	switch s[0] {
	case '"':
		var b strings.Builder
		closed := false
		i := 1
		for ; i < len(s); i++ {
			c := s[i]
			if c == '"' {
				closed = true
				break
			}
			if c == '\\' && i+1 < len(s) {
				switch s[i+1] {
				case '"', '\\':
					b.WriteByte(s[i+1])
					i++
					continue
				case 'n':
					b.WriteByte('\n')
					i++
					continue
				case 't':
					b.WriteByte('\t')
					i++
					continue
				}
			}
			b.WriteByte(c)
		}
		if !closed {
			return "", "unterminated double quote"
		}
		value, rest = b.String(), s[i+1:]
	case '\'':
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", "unterminated single quote"
		}
		value, rest = s[1:1+end], s[2+end:]
	default:
		// An unquoted value ends at a # that follows white space: "a # note" is "a", but the
		// fragment in "http://h/p#x" stays.
		for i := 1; i < len(s); i++ {
			if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') {
				return strings.TrimSpace(s[:i]), ""
			}
		}
		return s, ""
	}
	if rest = strings.TrimSpace(rest); rest != "" && rest[0] != '#' {
		return "", "unexpected text after the closing quote"
	}
	return value, ""
}
