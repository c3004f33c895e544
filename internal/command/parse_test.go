package command

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	const link = "https://example.com/file.iso"
	const magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x"
	tests := []struct {
		text string
		want Command // Raw is filled in by the test
	}{
		{"/mirror " + link, Command{Name: Mirror, Link: link}},
		{"/m " + link, Command{Name: Mirror, Link: link}},
		{"/l " + magnet, Command{Name: Leech, Link: magnet}},
		{"/LEECH@MyBot " + link, Command{Name: Leech, Mention: "@MyBot", Link: link}},
		{"/leech", Command{Name: Leech}},
		{"  /leech\n" + link + "\n", Command{Name: Leech, Link: link}},
		{"/leech -z", Command{Name: Leech, Flags: Flags{Zip: true}}},
		{"/leech -n new.iso " + link, Command{Name: Leech, Link: link, Flags: Flags{Name: "new.iso"}}},
		{"/leech " + link + " -n new.iso", Command{Name: Leech, Link: link, Flags: Flags{Name: "new.iso"}}},
		{`/leech -n "My Movie (2024).mkv" ` + link, Command{Name: Leech, Link: link, Flags: Flags{Name: "My Movie (2024).mkv"}}},
		{`/leech -n 'Don't Stop.mp3' ` + link, Command{Name: Leech, Link: link, Flags: Flags{Name: "Don't Stop.mp3"}}},
		{"/leech -n “Smart quotes.mkv” " + link, Command{Name: Leech, Link: link, Flags: Flags{Name: "Smart quotes.mkv"}}},
		{`/leech -n "say \"hi\" \\o/" ` + link, Command{Name: Leech, Link: link, Flags: Flags{Name: `say "hi" \o/`}}},
		{`/leech -n a"b ` + link, Command{Name: Leech, Link: link, Flags: Flags{Name: `a"b`}}},
		{"/leech -n -weird " + link, Command{Name: Leech, Link: link, Flags: Flags{Name: "-weird"}}},
		{`/leech -n "-z" ` + link, Command{Name: Leech, Link: link, Flags: Flags{Name: "-z"}}},
		{"/leech -z " + link, Command{Name: Leech, Link: link, Flags: Flags{Zip: true}}},
		{"/leech -z secret " + link, Command{Name: Leech, Link: link, Flags: Flags{Zip: true, ZipPassword: "secret"}}},
		{"/leech " + link + " -z secret", Command{Name: Leech, Link: link, Flags: Flags{Zip: true, ZipPassword: "secret"}}},
		{"/leech -z -e " + link, Command{Name: Leech, Link: link, Flags: Flags{Zip: true, Extract: true}}},
		{`/leech -e "pass word" -z "" ` + link, Command{Name: Leech, Link: link, Flags: Flags{Extract: true, ExtractPassword: "pass word", Zip: true}}},
		{`/leech -z "-dash" ` + link, Command{Name: Leech, Link: link, Flags: Flags{Zip: true, ZipPassword: "-dash"}}},
		{`/leech -z "` + link + `"`, Command{Name: Leech, Flags: Flags{Zip: true, ZipPassword: link}}},
		{"/leech -z " + magnet, Command{Name: Leech, Link: magnet, Flags: Flags{Zip: true}}},
		{"/mirror -s -f -d " + magnet, Command{Name: Mirror, Link: magnet, Flags: Flags{Select: true, Force: true, Seed: true}}},
		{"/mirror -d 1.5:30 " + magnet, Command{Name: Mirror, Link: magnet, Flags: Flags{Seed: true, SeedSpec: "1.5:30"}}},
		{"/mirror " + magnet + " -d :90", Command{Name: Mirror, Link: magnet, Flags: Flags{Seed: true, SeedSpec: ":90"}}},
		{"/leech -N x -Z " + link, Command{Name: Leech, Link: link, Flags: Flags{Name: "x", Zip: true}}},
		{"/leech example.com/no-scheme extra", Command{Name: Leech, Link: "example.com/no-scheme", Args: []string{"extra"}}},
		{`/leech "" ` + link, Command{Name: Leech, Link: link}},
		{"/cancel 3f2a", Command{Name: Cancel, Args: []string{"3f2a"}}},
		{"/c 3f2a", Command{Name: Cancel, Args: []string{"3f2a"}}},
		{"/cancel -z", Command{Name: Cancel, Args: []string{"-z"}}},
		{"/authorize -1001234567890", Command{Name: Authorize, Args: []string{"-1001234567890"}}},
		{"/auth 5", Command{Name: Authorize, Args: []string{"5"}}},
		{"/a", Command{Name: Authorize}},
		{"/unauthorize 5", Command{Name: Unauthorize, Args: []string{"5"}}},
		{"/unauth 5", Command{Name: Unauthorize, Args: []string{"5"}}},
		{"/ua 5", Command{Name: Unauthorize, Args: []string{"5"}}},
		{"/s", Command{Name: Status}},
		{"/status@bot", Command{Name: Status, Mention: "@bot"}},
		{"/cancelall", Command{Name: CancelAll}},
		{"/stats", Command{Name: Stats}},
		{"/ping", Command{Name: Ping}},
		{"/help", Command{Name: Help}},
		{"/start deep-link-payload", Command{Name: Start, Args: []string{"deep-link-payload"}}},
		{"/start@", Command{Name: Start}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := Parse(tt.text)
			require.NoError(t, err)
			tt.want.Raw = tt.text
			require.Equal(t, tt.want, got)

			again, err := Parse(got.String())
			require.NoError(t, err, "String() = %q", got.String())
			again.Raw = got.Raw
			require.Equal(t, got, again, "String() = %q", got.String())
		})
	}
}

func TestParseErrors(t *testing.T) {
	const link = "https://example.com/a"
	tests := []struct {
		text    string
		kind    error
		command Name
		detail  string
	}{
		{"", ErrNotCommand, "", "a command starts with /"},
		{"hello /leech", ErrNotCommand, "", "a command starts with /"},
		{"/", ErrUnknownCommand, "", `unknown command "/"`},
		{"/frobnicate x", ErrUnknownCommand, "", `unknown command "/frobnicate"`},
		{"/leechx " + link, ErrUnknownCommand, "", `unknown command "/leechx"`},
		{"/" + strings.Repeat("x", 100), ErrUnknownCommand, "", `unknown command "/` + strings.Repeat("x", 39) + `…"`},
		{"/leech -x " + link, ErrUnknownFlag, Leech, "unknown flag -x"},
		{"/leech " + link + " -100", ErrUnknownFlag, Leech, "unknown flag -100"},
		{"/mirror -", ErrUnknownFlag, Mirror, "unknown flag -"},
		{"/leech " + link + " -n", ErrMissingValue, Leech, "flag -n needs a value: -n NAME"},
		{"/leech -n -z " + link, ErrMissingValue, Leech, "flag -n needs a value: -n NAME"},
		{`/leech -n "" ` + link, ErrMissingValue, Leech, "flag -n needs a value: -n NAME"},
		{"/mirror -up /srv " + link, ErrUnknownFlag, Mirror, "unknown flag -up"},
		{"/leech -z -z " + link, ErrDuplicateFlag, Leech, "flag -z given twice"},
		{"/leech -n a -N b " + link, ErrDuplicateFlag, Leech, "flag -n given twice"},
		{"/leech " + link + " https://example.org/b", ErrSecondLink, Leech, `only one link per command: got "https://example.com/a" and "https://example.org/b"`},
		{"/leech name.iso " + link, ErrSecondLink, Leech, `only one link per command: got "name.iso" and "https://example.com/a"`},
		{"/mirror -d fast " + link, ErrBadValue, Mirror, `invalid seeding limits "fast": want RATIO, RATIO:MINUTES or :MINUTES, such as 2.0:60`},
		{"/mirror -d 1:2:3", ErrBadValue, Mirror, `invalid seeding limits "1:2:3"`},
		{`/leech -n "open ` + link, ErrBadQuote, Leech, `unterminated quote: close it with "`},
		{`/leech -n 'open ` + link, ErrBadQuote, Leech, "unterminated quote: close it with '"},
		{`/leech -n “open`, ErrBadQuote, Leech, "unterminated quote: close it with ”"},
		{`/leech -n "a"b ` + link, ErrBadQuote, Leech, "put a space after a closing quote"},
		{`/cancel "x`, ErrBadQuote, Cancel, "unterminated quote"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := Parse(tt.text)
			require.ErrorIs(t, err, tt.kind)
			var ue *UsageError
			require.True(t, errors.As(err, &ue))
			require.Equal(t, tt.command, ue.Command)
			require.Contains(t, ue.Detail, tt.detail)
			if spec, ok := Lookup(string(tt.command)); ok {
				require.Equal(t, ue.Detail+"\nusage: "+spec.Usage, err.Error())
			} else {
				require.Equal(t, ue.Detail+"\nsend /help for the list of commands", err.Error())
			}
		})
	}
}

func TestUsageErrorKeepsMention(t *testing.T) {
	_, err := Parse("/frobnicate@OtherBot")
	var ue *UsageError
	require.True(t, errors.As(err, &ue))
	require.Equal(t, "@OtherBot", ue.Mention)
	require.ErrorIs(t, err, ErrUnknownCommand)

	_, err = Parse("/leech@MyBot -q")
	require.True(t, errors.As(err, &ue))
	require.Equal(t, "@MyBot", ue.Mention)
}

func TestLookup(t *testing.T) {
	for name, want := range map[string]Name{
		"mirror": Mirror, "m": Mirror, "M": Mirror, "leech": Leech, "l": Leech, "status": Status, "s": Status,
		"cancel": Cancel, "c": Cancel, "cancelall": CancelAll, "stats": Stats, "ping": Ping, "help": Help,
		"start": Start, "authorize": Authorize, "auth": Authorize, "a": Authorize, "unauthorize": Unauthorize,
		"unauth": Unauthorize, "ua": Unauthorize,
	} {
		spec, ok := Lookup(name)
		require.True(t, ok, name)
		require.Equal(t, want, spec.Name, name)
	}
	for _, name := range []string{"", "mirr", "qbmirror", "/mirror", "\u212Aill"} {
		_, ok := Lookup(name)
		require.False(t, ok, name)
	}
}

func TestSpecsAreConsistent(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Specs {
		for _, n := range append([]string{string(s.Name)}, s.Aliases...) {
			require.False(t, names[n], "name %s used twice", n)
			names[n] = true
			require.Regexp(t, `^[a-z0-9_]{1,32}$`, n, "Telegram command names are lower-case")
		}
		require.True(t, strings.HasPrefix(s.Usage, "/"+string(s.Name)), s.Name)
		require.NotEmpty(t, s.Summary, s.Name)
	}
	require.Len(t, names, 12+8, "12 commands and 8 aliases")
	for _, f := range FlagSpecs {
		require.Equal(t, f.Value != NoValue, f.Arg != "", f.Flag)
	}
}

func TestParseSeedSpec(t *testing.T) {
	good := map[string]SeedLimits{
		"":         {},
		"2":        {Ratio: 2},
		"1.5":      {Ratio: 1.5},
		"0.5:30":   {Ratio: 0.5, Time: 30 * time.Minute},
		":90":      {Time: 90 * time.Minute},
		"3:0":      {Ratio: 3},
		"10:10080": {Ratio: 10, Time: 7 * 24 * time.Hour},
	}
	for in, want := range good {
		got, err := ParseSeedSpec(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{":", "x", "1:", "-1", "1.:5", ".5", "1:2:3", "1e3", "1:1.5", "12345678"} {
		_, err := ParseSeedSpec(in)
		require.Error(t, err, in)
	}
}
