package tgtext

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLen(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"é", 1}, // 2 bytes, 1 unit
		{"€", 1}, // 3 bytes, 1 unit
		{"😀", 2}, // 4 bytes, a surrogate pair
		{"a😀b", 4},
		{"\xff", 1}, // invalid byte: sent as U+FFFD
	} {
		require.Equal(t, tc.want, Len(tc.in), "%q", tc.in)
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "movie.mkv", "movie.mkv"},
		{"newline kept", "a\nb", "a\nb"},
		{"C0 dropped", "a\x00b\x07c\td\re\x1b", "abcde"},
		{"DEL and C1 dropped", "a\x7fb\u0085c\u009fd", "abcd"},
		{"RLO override", "invoice\u202efdp.exe", "invoicefdp.exe"},
		{"all bidi controls", "\u202aa\u202bb\u202cc\u202dd\u202ee\u2066f\u2067g\u2068h\u2069i\u200ej\u200fk\u061cl", "abcdefghijkl"},
		{"other format chars stay", "a\u200db", "a\u200db"}, // ZWJ joins emoji
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"real U+FFFD stays", "a\ufffdb", "a\ufffdb"},
	} {
		require.Equal(t, tc.want, Clean(tc.in), tc.name)
	}
}

func TestShort(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"fits", "abcdef", 6, "abcdef"},
		{"one over", "abcdefg", 6, "abcd…g"},
		{"middle cut keeps the extension", "a-very-long-file-name.mkv", 13, "a-very-l….mkv"},
		{"zero", "abc", 0, ""},
		{"just the ellipsis", "abc", 1, "…"},
		{"surrogate pair not split at the head", "ab😀cdefgh", 5, "ab…h"},
		{"surrogate pair counted as two", "😀😀😀😀", 6, "😀😀…"},
		{"surrogate pair kept whole in the tail", "abcdefg😀", 7, "abcd…😀"},
		{"cleaned before counting", "ab\u202ecd", 4, "abcd"},
	} {
		got := Short(tc.in, tc.n)
		require.Equal(t, tc.want, got, tc.name)
		require.LessOrEqual(t, Len(got), max(tc.n, 0), tc.name)
	}
}

func TestNameAndEcho(t *testing.T) {
	// Escaping comes after shortening: the limit counts what is shown, and
	// the cut can never fall inside an escape.
	require.Equal(t, `a&amp;b&lt;c&gt;"`, Name(`a&b<c>"`, 10))
	require.Equal(t, "&amp;&amp;&amp;&amp;…&amp;", Name(strings.Repeat("&", 20), 6))
	require.Equal(t, 6, HTMLLen(Name(strings.Repeat("&", 20), 6)))
	require.Equal(t, "line one line two", Name("line one\nline two", 100))
	require.Equal(t, "a b c d e", Name("a\r\nb\tc\u2028d\re", 100))
	require.Equal(t, "line one\nline two", Echo("line one\nline two", 100))
	require.Equal(t, "x", Name("\u202ex\u202c", 5))
}

func TestHTMLLen(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"<b>bold</b>", 4},
		{"a &amp; b", 5},
		{"&lt;&gt;&quot;", 3},
		{"&#128512;", 2}, // 😀 by number: a surrogate pair
		{"&#x1F600;&#65;", 3},
		{"&nbsp;", 6},              // not an entity for Telegram: literal
		{"a & b", 5},               // a bare & is a character
		{`<a href="x>y">l</a>`, 1}, // '>' inside a quoted value
		{"<code>😀</code>", 2},
		{"1 < 2", 5}, // a '<' that opens no tag
	} {
		require.Equal(t, tc.want, HTMLLen(tc.in), "%q", tc.in)
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		html  bool
		limit int
		want  string
	}{
		{"plain fits exactly", "abcde", false, 5, "abcde"},
		{"plain one over", "abcdef", false, 5, "abcd…"},
		{"plain surrogate pair not split", "abc😀", false, 4, "abc…"},
		{"html fits exactly: tags free", "<b>abcde</b>", true, 5, "<b>abcde</b>"},
		{"html entities count one", "&amp;&amp;&amp;&amp;&amp;", true, 5, "&amp;&amp;&amp;&amp;&amp;"},
		{"html cut between entities", "&amp;&amp;&amp;&amp;&amp;&amp;", true, 5, "&amp;&amp;&amp;&amp;…"},
		{"html closes open tags", "<b>bold <i>italic text</i></b>", true, 10, "<b>bold <i>ital…</i></b>"},
		{"html cut right after a closed tag", "<b>abcd</b>efgh", true, 5, "<b>abcd</b>…"},
		{"html surrogate pair entity not split", "abc&#128512;", true, 4, "abc…"},
		{"html surrogate pair not split", "abc😀", true, 4, "abc…"},
		{"html link attribute untouched", `<a href="https://x/?a=1&amp;b=2">` + strings.Repeat("l", 10) + "</a>", true, 5,
			`<a href="https://x/?a=1&amp;b=2">llll…</a>`},
		{"pre and code", `<pre><code class="language-go">` + strings.Repeat("x", 20) + "</code></pre>", true, 3,
			`<pre><code class="language-go">xx…</code></pre>`},
	} {
		got := Fit(tc.in, tc.html, tc.limit)
		require.Equal(t, tc.want, got, tc.name)
		if tc.html {
			require.LessOrEqual(t, HTMLLen(got), tc.limit, tc.name)
		} else {
			require.LessOrEqual(t, Len(got), tc.limit, tc.name)
		}
	}
}

// A long status-like message fitted to the real limits keeps every tag
// balanced and lands exactly on the limit when cut.
func TestFitMessageLimits(t *testing.T) {
	line := "<b>1. Download:</b> <code>" + strings.Repeat("a&amp;😀", 30) + "</code>\n"
	text := strings.Repeat(line, 60)
	require.Greater(t, HTMLLen(text), MaxText)
	for _, limit := range []int{MaxText, MaxCaption, MaxCallback} {
		got := Fit(text, true, limit)
		n := HTMLLen(got)
		require.LessOrEqual(t, n, limit)
		require.GreaterOrEqual(t, n, limit-1, "only a surrogate pair may be left out at the cut")
		require.True(t, balanced(got), "tags balanced at %d", limit)
		head, _, _ := strings.Cut(got, Ellipsis)
		require.True(t, strings.HasPrefix(text, head), "the kept part is the text's start")
	}
	require.Equal(t, text[:100], Fit(text[:100], true, MaxText), "a short text is unchanged")
}

func balanced(s string) bool {
	var stack []string
	ok := true
	walkHTML(s, func(_, _, _ int, tag string, closing bool) bool {
		switch {
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != tag {
				ok = false
				return false
			}
			stack = stack[:len(stack)-1]
		case tag != "":
			stack = append(stack, tag)
		}
		return true
	})
	return ok && len(stack) == 0
}
