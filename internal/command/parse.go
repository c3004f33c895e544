package command

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Flags are the per-task options of /mirror and /leech.
type Flags struct {
	Name            string // -n NAME: the result's name.
	Zip             bool   // -z: zip the result.
	ZipPassword     string // -z PASSWORD: the zip's password, if any.
	Extract         bool   // -e: extract archives.
	ExtractPassword string // -e PASSWORD: the archives' password, if any.
	Select          bool   // -s: select torrent files before the download.
	Seed            bool   // -d: seed after the download.
	SeedSpec        string // -d RATIO:MINUTES: the seeding limits as typed; see ParseSeedSpec.
	Force           bool   // -f: skip the queue.
}

// Command is one parsed chat command.
type Command struct {
	// Name is the canonical command name.
	Name Name
	// Mention is "@botname" when the command was sent as /leech@botname, else "".
	Mention string
	// Link is the first positional argument of a command that takes a link, usually a URL or
	// magnet (check with IsLink); empty when the link must come from the replied-to message.
	Link string
	// Args are the other positional arguments, for example the id of /cancel ID.
	Args []string
	// Flags are the per-task flags; always zero for commands that take no link.
	Flags Flags
	// Raw is the text as received.
	Raw string
}

// Sentinel errors: the Kind of every UsageError, for errors.Is.
var (
	ErrNotCommand     = errors.New("not a command")
	ErrUnknownCommand = errors.New("unknown command")
	ErrUnknownFlag    = errors.New("unknown flag")
	ErrMissingValue   = errors.New("flag value missing")
	ErrBadValue       = errors.New("invalid flag value")
	ErrDuplicateFlag  = errors.New("duplicate flag")
	ErrSecondLink     = errors.New("more than one link")
	ErrBadQuote       = errors.New("bad quoting")
)

// UsageError is a mistake in a command. Its Error text is plain text (not HTML) and safe to show
// the user: the problem, then the command's usage line or a pointer to /help.
type UsageError struct {
	// Kind is one of the sentinel errors; Unwrap returns it.
	Kind error
	// Command is the command's canonical name, or "" when it is unknown.
	Command Name
	// Mention is the "@botname" the command was addressed to, if any, so that a caller can
	// ignore mistakes in commands meant for another bot.
	Mention string
	// Detail says what is wrong, in the user's terms.
	Detail string
}

// Error returns the user-facing text.
func (e *UsageError) Error() string {
	if spec, ok := Lookup(string(e.Command)); ok {
		return e.Detail + "\nusage: " + spec.Usage
	}
	return e.Detail + "\nsend /help for the list of commands"
}

// Unwrap returns Kind.
func (e *UsageError) Unwrap() error { return e.Kind }

// maxEcho bounds how much of the user's own text an error repeats.
const maxEcho = 40

// shorten cuts a word of the user's text to maxEcho runes for an error message.
func shorten(s string) string {
	if utf8.RuneCountInString(s) > maxEcho {
		return string([]rune(s)[:maxEcho]) + "…"
	}
	return s
}

// echo quotes a word of the user's text for an error message, shortened if long.
func echo(s string) string { return strconv.Quote(shorten(s)) }

// Parse parses a message text that starts with '/' (leading white space is ignored).
func Parse(text string) (Command, error) {
	cmd := Command{Raw: text}
	s := strings.TrimLeftFunc(text, unicode.IsSpace)
	if !strings.HasPrefix(s, "/") {
		return cmd, &UsageError{Kind: ErrNotCommand, Detail: "a command starts with /"}
	}
	end := strings.IndexFunc(s, unicode.IsSpace)
	if end < 0 {
		end = len(s)
	}
	head, rest := s[1:end], s[end:]
	name, mention, _ := strings.Cut(head, "@")
	if mention != "" {
		cmd.Mention = "@" + mention
	}
	spec, ok := Lookup(name)
	if !ok {
		return cmd, &UsageError{Kind: ErrUnknownCommand, Mention: cmd.Mention, Detail: "unknown command " + echo("/"+name)}
	}
	cmd.Name = spec.Name
	fail := func(kind error, format string, args ...any) (Command, error) {
		return cmd, &UsageError{Kind: kind, Command: spec.Name, Mention: cmd.Mention, Detail: fmt.Sprintf(format, args...)}
	}

	words, problem := tokenize(rest)
	if problem != "" {
		return fail(ErrBadQuote, "%s", problem)
	}
	if !spec.TakesLink {
		for _, w := range words {
			if w.text != "" {
				cmd.Args = append(cmd.Args, w.text)
			}
		}
		return cmd, nil
	}

	seen := map[string]bool{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w.quoted || !strings.HasPrefix(w.text, "-") {
			switch {
			case w.text == "":
				// An empty quoted word says nothing.
			case cmd.Link == "":
				cmd.Link = w.text
			case IsLink(w.text):
				return fail(ErrSecondLink, "only one link per command: got %s and %s", echo(cmd.Link), echo(w.text))
			default:
				cmd.Args = append(cmd.Args, w.text)
			}
			continue
		}
		f, ok := lookupFlag(w.text)
		if !ok {
			return fail(ErrUnknownFlag, "unknown flag %s", shorten(w.text))
		}
		if seen[f.Flag] {
			return fail(ErrDuplicateFlag, "flag %s given twice", f.Flag)
		}
		seen[f.Flag] = true

		value, hasValue := "", false
		if i+1 < len(words) {
			next := words[i+1]
			switch f.Value {
			case RequiredValue:
				_, isFlag := lookupFlag(next.text)
				hasValue = next.quoted || !isFlag
			case OptionalValue:
				hasValue = next.quoted || (!strings.HasPrefix(next.text, "-") && !IsLink(next.text))
			}
			if hasValue {
				value = next.text
				i++
			}
		}
		if f.Value == RequiredValue && value == "" {
			return fail(ErrMissingValue, "flag %s needs a value: %s %s", f.Flag, f.Flag, f.Arg)
		}
		switch f.Flag {
		case "-n":
			cmd.Flags.Name = value
		case "-z":
			cmd.Flags.Zip, cmd.Flags.ZipPassword = true, value
		case "-e":
			cmd.Flags.Extract, cmd.Flags.ExtractPassword = true, value
		case "-s":
			cmd.Flags.Select = true
		case "-d":
			if _, err := ParseSeedSpec(value); err != nil {
				return fail(ErrBadValue, "invalid seeding limits %s: want RATIO, RATIO:MINUTES or :MINUTES, such as 2.0:60", echo(value))
			}
			cmd.Flags.Seed, cmd.Flags.SeedSpec = true, value
		case "-f":
			cmd.Flags.Force = true
		}
	}
	return cmd, nil
}

// word is one argument; quoted words are never flags.
type word struct {
	text   string
	quoted bool
}

// closingQuote maps the quote characters that open a quoted word to the ones that close it.
func closingQuote(open rune) (rune, bool) {
	switch open {
	case '"':
		return '"', true
	case '\'':
		return '\'', true
	case '“':
		return '”', true
	case '‘':
		return '’', true
	}
	return 0, false
}

// tokenize splits s into words. It returns a user-facing problem for bad quoting.
func tokenize(s string) ([]word, string) {
	var words []word
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		closeQ, quoted := closingQuote(r)
		if !quoted {
			end := strings.IndexFunc(s[i:], unicode.IsSpace)
			if end < 0 {
				end = len(s) - i
			}
			words = append(words, word{text: s[i : i+end]})
			i += end
			continue
		}
		start := i + size
		var text string
		var next int
		if r == '"' {
			// Double quotes end at the first unescaped quote, so \" and \\ can say anything.
			var b strings.Builder
			j, closed := start, false
			for j < len(s) {
				c := s[j]
				if c == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
				j++
			}
			if !closed {
				return nil, "unterminated quote: close it with \""
			}
			text, next = b.String(), j+1
			if next < len(s) {
				if r2, _ := utf8.DecodeRuneInString(s[next:]); !unicode.IsSpace(r2) {
					return nil, "put a space after a closing quote"
				}
			}
		} else {
			// Other quotes end at the first closing quote followed by white space or the end, so
			// that an apostrophe inside a name does not end it.
			found := false
			for j := start; j < len(s); {
				c, n := utf8.DecodeRuneInString(s[j:])
				if c == closeQ {
					after := j + n
					if after == len(s) {
						found = true
					} else if r2, _ := utf8.DecodeRuneInString(s[after:]); unicode.IsSpace(r2) {
						found = true
					}
					if found {
						text, next = s[start:j], after
						break
					}
				}
				j += n
			}
			if !found {
				return nil, "unterminated quote: close it with " + string(closeQ)
			}
		}
		words = append(words, word{text: text, quoted: true})
		i = next
	}
	return words, ""
}

// SeedLimits are the parsed value of -d. A zero field means "not given": use the default.
type SeedLimits struct {
	Ratio float64
	Time  time.Duration
}

// seedPattern is RATIO, RATIO:MINUTES or :MINUTES.
var seedPattern = regexp.MustCompile(`^(\d{1,6}(\.\d{1,6})?)?(:\d{1,7})?$`)

// ParseSeedSpec parses the value of -d: "" (the defaults), "RATIO", "RATIO:MINUTES" or
// ":MINUTES", such as "2.0:60".
func ParseSeedSpec(spec string) (SeedLimits, error) {
	if spec == "" {
		return SeedLimits{}, nil
	}
	if spec == ":" || !seedPattern.MatchString(spec) {
		return SeedLimits{}, fmt.Errorf("parsing seeding limits %q: want RATIO, RATIO:MINUTES or :MINUTES", spec)
	}
	var lim SeedLimits
	ratio, minutes, _ := strings.Cut(spec, ":")
	if ratio != "" {
		r, err := strconv.ParseFloat(ratio, 64)
		if err != nil {
			return SeedLimits{}, fmt.Errorf("parsing seeding ratio: %w", err)
		}
		lim.Ratio = r
	}
	if minutes != "" {
		m, err := strconv.Atoi(minutes)
		if err != nil {
			return SeedLimits{}, fmt.Errorf("parsing seeding minutes: %w", err)
		}
		lim.Time = time.Duration(m) * time.Minute
	}
	return lim, nil
}

// String renders the command as text that Parse turns back into the same command (all but Raw):
// the canonical name and mention, the link and arguments, then the flags in FlagSpecs order.
func (c Command) String() string {
	var b strings.Builder
	b.WriteString("/" + string(c.Name) + c.Mention)
	add := func(s string, quote bool) {
		b.WriteByte(' ')
		if quote || needsQuotes(s) {
			b.WriteString(quoteWord(s))
		} else {
			b.WriteString(s)
		}
	}
	if c.Link != "" {
		add(c.Link, false)
	}
	for _, a := range c.Args {
		add(a, false)
	}
	f := c.Flags
	if f.Name != "" {
		b.WriteString(" -n")
		add(f.Name, false)
	}
	optional := func(flag string, on bool, value string) {
		if !on {
			return
		}
		b.WriteString(" " + flag)
		if value != "" {
			// Unquoted, a value that looks like a flag or a link would not be taken as the value.
			add(value, IsLink(value))
		}
	}
	optional("-z", f.Zip, f.ZipPassword)
	optional("-e", f.Extract, f.ExtractPassword)
	if f.Select {
		b.WriteString(" -s")
	}
	optional("-d", f.Seed, f.SeedSpec)
	if f.Force {
		b.WriteString(" -f")
	}
	return b.String()
}

// needsQuotes reports whether a word must be quoted to survive tokenize and flag parsing.
func needsQuotes(s string) bool {
	if s == "" || strings.HasPrefix(s, "-") || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	_, opens := closingQuote(r)
	return opens
}

// quoteWord wraps s in double quotes, escaping the characters that would end them.
func quoteWord(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
