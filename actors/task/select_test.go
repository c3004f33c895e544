package task

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/messages"
)

func TestRenderSelectionPagesAndButtons(t *testing.T) {
	files := make([]messages.TorrentFile, 19)
	for i := range files {
		files[i] = messages.TorrentFile{Index: i, Path: fmt.Sprintf("Show/Season 1/%s episode %02d.mkv", strings.Repeat("x", 60), i+1), Size: 1 << 20}
	}
	tk := &Task{spec: messages.TaskSpec{ID: "abcd1234", UserID: 9_000_000_001}, snap: messages.TaskSnapshot{Name: "Show <1>"}}
	tk.sel = &selection{files: files, chosen: make([]bool, len(files))}
	for i := range tk.sel.chosen {
		tk.sel.chosen[i] = i%2 == 0
	}

	text, kb := tk.renderSelection()
	require.Contains(t, text, "Show &lt;1&gt;", "the name is escaped")
	require.Contains(t, text, "10 of 19 files chosen, 10.0 MiB")
	require.Contains(t, text, "Page 1 of 3")
	require.Len(t, kb, filesPerPage+3, "a row per file, navigation, all/none, start")
	require.True(t, strings.HasPrefix(kb[0][0].Text, "✅ 1. …"), "long paths keep their end: %q", kb[0][0].Text)
	require.True(t, strings.HasPrefix(kb[1][0].Text, "⬜ 2."))
	require.Equal(t, "f:9000000001:abcd1234:t0", kb[0][0].Data)
	require.Len(t, kb[filesPerPage], 1, "the first page has only Next")
	require.Equal(t, "f:9000000001:abcd1234:p1", kb[filesPerPage][0].Data)
	require.Equal(t, "f:9000000001:abcd1234:go", kb[len(kb)-1][0].Data)
	for _, row := range kb {
		for _, b := range row {
			require.LessOrEqual(t, len(b.Data), 64, "Telegram's callback data limit")
		}
	}

	tk.sel.page = 2
	text, kb = tk.renderSelection()
	require.Contains(t, text, "Page 3 of 3")
	require.Contains(t, text, "19. ")
	require.Len(t, kb, 3+3, "the last page holds the last three files")
	require.Equal(t, "f:9000000001:abcd1234:p1", kb[3][0].Data, "only Previous")
	require.Len(t, kb[3], 1)
}
