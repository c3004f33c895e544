package tgfake

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		plain    string
		entities []MessageEntity
		err      string
	}{
		{name: "plain", in: "hello", plain: "hello"},
		{name: "bold and code", in: "<b>Task</b> <code>a&lt;b&gt;</code>", plain: "Task a<b>",
			entities: []MessageEntity{{Type: "bold", Offset: 0, Length: 4}, {Type: "code", Offset: 5, Length: 4}}},
		{name: "upper case tag", in: "<B>x</B>", plain: "x", entities: []MessageEntity{{Type: "bold", Length: 1}}},
		{name: "nested", in: "<b><i>ab</i>c</b>", plain: "abc",
			entities: []MessageEntity{{Type: "bold", Length: 3}, {Type: "italic", Length: 2}}},
		{name: "link", in: `<a href="https://x.y/?a=1&amp;b=2">site</a>`, plain: "site",
			entities: []MessageEntity{{Type: "text_link", Length: 4, URL: "https://x.y/?a=1&b=2"}}},
		{name: "spoiler span", in: `<span class="tg-spoiler">s</span>`, plain: "s",
			entities: []MessageEntity{{Type: "spoiler", Length: 1}}},
		{name: "pre with language", in: `<pre><code class="language-go">x</code></pre>`, plain: "x",
			entities: []MessageEntity{{Type: "pre", Length: 1, Language: "go"}}},
		{name: "entities", in: "&quot;&amp;&#39;&#x1F600;&nbsp;", plain: "\"&'😀&nbsp;"},
		{name: "utf16 offsets", in: "😀<b>x</b>", plain: "😀x", entities: []MessageEntity{{Type: "bold", Offset: 2, Length: 1}}},
		{name: "empty entity dropped", in: "<b></b>a", plain: "a"},
		{name: "expandable quote", in: "<blockquote expandable>q</blockquote>", plain: "q",
			entities: []MessageEntity{{Type: "expandable_blockquote", Length: 1}}},
		{name: "bare less-than", in: "a < b", err: `Unsupported start tag "" at byte offset 2`},
		{name: "unknown tag", in: "<br>", err: `Unsupported start tag "br" at byte offset 0`},
		{name: "unclosed start", in: "x <b", err: "Unclosed start tag at byte offset 2"},
		{name: "missing end", in: "<b>x", err: `Can't find end tag corresponding to start tag "b"`},
		{name: "mismatched end", in: "<b><i>x</b></i>", err: `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{name: "unexpected end", in: "x</b>", err: "Unexpected end tag at byte offset 1"},
		{name: "span without class", in: "<span>x</span>", err: `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{name: "attribute without value", in: "<a href>x</a>", err: `Expected equal sign in declaration of an attribute of the tag "a" at byte offset 7`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, entities, errText := parseHTML(tt.in)
			require.Equal(t, tt.err, errText)
			if tt.err != "" {
				return
			}
			require.Equal(t, tt.plain, plain)
			require.Equal(t, tt.entities, entities)
		})
	}
}

func TestUTF16Len(t *testing.T) {
	require.Equal(t, 0, utf16Len(""))
	require.Equal(t, 3, utf16Len("abc"))
	require.Equal(t, 2, utf16Len("é€"))
	require.Equal(t, 4, utf16Len("😀😀"))
	require.Equal(t, 4096, utf16Len(strings.Repeat("😀", 2048)))
}

func TestTrimTextMovesEntities(t *testing.T) {
	plain, entities := trimText("  <ab> \n", []MessageEntity{{Type: "bold", Offset: 0, Length: 4}, {Type: "code", Offset: 6, Length: 2}})
	require.Equal(t, "<ab>", plain)
	require.Equal(t, []MessageEntity{{Type: "bold", Offset: 0, Length: 2}}, entities)
}
