package command

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"
)

func TestHelpText(t *testing.T) {
	h := HelpText()
	require.Less(t, len(utf16.Encode([]rune(h))), 4096, "Telegram limits a message to 4096 UTF-16 units")
	for _, s := range Specs {
		require.Contains(t, h, "\n/"+string(s.Name), s.Name)
		for _, a := range s.Aliases {
			require.Contains(t, h, ", /"+a, a)
		}
		require.Contains(t, h, escapeHTML(s.Summary))
	}
	for _, f := range FlagSpecs {
		require.Contains(t, h, "<code>"+f.Flag, f.Flag)
		require.Contains(t, h, escapeHTML(f.Help), f.Flag)
	}
	require.Contains(t, h, "<code>/cancel [TASK_ID]</code>")
	require.Contains(t, h, "/authorize, /auth, /a <i>(owner and sudo users)</i>")
	require.Contains(t, h, "<code>-z [PASSWORD]</code>")
	require.Contains(t, h, "<code>-n NAME</code>")

	// Only the tags HelpText writes may appear: everything else is escaped text.
	stripped := h
	for _, tag := range []string{"<b>", "</b>", "<i>", "</i>", "<code>", "</code>"} {
		stripped = strings.ReplaceAll(stripped, tag, "")
	}
	require.NotContains(t, stripped, "<")
	require.NotContains(t, stripped, ">")
	require.Equal(t, strings.Count(h, "<code>"), strings.Count(h, "</code>"))
}

func TestEscapeHTML(t *testing.T) {
	require.Equal(t, "a &lt;b&gt; &amp;amp; \"q\"", escapeHTML(`a <b> &amp; "q"`))
}

// TestHelpListsOnlyWhatWorks keeps /help free of promises the bot does not keep: -up (no upload
// destination but the configured one exists) and rclone remotes (refused by the configuration);
// it lists the cancel forms the gateway serves and says who may use -f.
func TestHelpListsOnlyWhatWorks(t *testing.T) {
	h := HelpText()
	for _, absent := range []string{"-up", "DEST", "rclone"} {
		require.NotContains(t, h, absent)
	}
	require.Contains(t, h, "skip the queue (owner and sudo users only)", "the gateway refuses -f to others")
	require.Contains(t, h, "as a reply to the task's command or to the status message")
	require.Contains(t, h, "every task on every node, after confirming")
	_, err := Parse("/mirror -up /srv https://example.com/a")
	require.ErrorIs(t, err, ErrUnknownFlag, "a flag /help does not list is refused by the parser")
}
