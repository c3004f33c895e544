package command

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is a user-safe *UsageError, and
// that a successful parse has a canonical Name and survives a round trip through String.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"/mirror https://example.com/a.iso",
		"/l@bot magnet:?xt=urn:btih:abc -z pw -e -n \"a b\" -d 1.5:30 -s -f",
		`/leech -n 'Don't' -z "-x" "https://a.b" "\\\"" “q” ‘r’`,
		"/cancel -100 x y",
		"/authorize",
		"/leech -n",
		"/leech -q",
		"/leech \"open",
		"/leech \"a\"b",
		"/leech https://a.b https://c.d",
		"/x",
		"not a command",
		"/start\u00a0payload\u2003x",
		"/leech \xff\xfe -n \x00",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := Parse(text)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Parse(%q) error %T is not a *UsageError", text, err)
			}
			if ue.Kind == nil || ue.Detail == "" || err.Error() == "" {
				t.Fatalf("Parse(%q) returned an incomplete UsageError %#v", text, ue)
			}
			return
		}
		spec, ok := Lookup(string(cmd.Name))
		if !ok || spec.Name != cmd.Name {
			t.Fatalf("Parse(%q) returned the non-canonical name %q", text, cmd.Name)
		}
		if cmd.Raw != text {
			t.Fatalf("Parse(%q) lost Raw: %q", text, cmd.Raw)
		}
		rendered := cmd.String()
		again, err := Parse(rendered)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", text, rendered, err)
		}
		again.Raw = cmd.Raw
		if !equalCommands(cmd, again) {
			t.Fatalf("round trip changed the command:\n text %q\n  got %#v\n  via %q\n back %#v", text, cmd, rendered, again)
		}
	})
}

func equalCommands(a, b Command) bool {
	if a.Name != b.Name || a.Mention != b.Mention || a.Link != b.Link || a.Flags != b.Flags || a.Raw != b.Raw || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if a.Args[i] != b.Args[i] {
			return false
		}
	}
	return true
}
