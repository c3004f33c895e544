package board

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

const (
	kib = 1024
	mib = 1024 * kib
	gib = 1024 * mib
)

func footer() Footer {
	return Footer{
		FreeDisk:   12*gib + 3*gib/10,
		CPUPercent: 17.25,
		MemPercent: 41.5,
		Uptime:     time.Hour + 2*time.Minute + 7*time.Second,
		Node:       "n1",
	}
}

// dump serialises a page for a golden file: the text, then one line per
// keyboard row.
func dump(p Page) string {
	var b strings.Builder
	b.WriteString(p.Text)
	fmt.Fprintf(&b, "\n\n--- page %d/%d, keyboard ---\n", p.Page+1, p.Pages)
	for _, row := range p.Keyboard {
		for i, btn := range row {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "[%s → %s]", btn.Text, btn.Data)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestRenderGolden(t *testing.T) {
	download := Task{
		ID: "t1a2b3", Name: "ubuntu-24.04-desktop-amd64.iso", Stage: StageDownloading, Engine: "http",
		Done: 235 * mib, Total: gib, Speed: 12.3 * mib, Elapsed: 19 * time.Second, Node: "n1",
	}
	many := make([]Task, 6)
	for i := range many {
		many[i] = Task{
			ID: fmt.Sprintf("t%d", i+1), Name: fmt.Sprintf("file-%d.bin", i+1), Stage: StageDownloading,
			Engine: "http", Done: int64(i+1) * 100 * mib, Total: gib, Speed: 2 * mib,
		}
	}
	tests := []struct {
		name    string
		tasks   []Task
		page    int
		perPage int
	}{
		{name: "http_download", tasks: []Task{download}},
		{name: "unknown_size", tasks: []Task{{
			ID: "u7", Name: "<script>&amp; \"report\".pdf", Stage: StageDownloading, Engine: "http",
			Done: 3*mib + 512*kib, Speed: 800 * kib, Elapsed: 4 * time.Second, Attempt: 2,
		}}},
		{name: "queued", tasks: []Task{download, {
			ID: "q9", Name: "debian-13.0.0-amd64-netinst.iso", Stage: StageQueued, Engine: "http", QueuePos: 3,
		}}},
		{name: "two_pages", tasks: many, page: 1, perPage: 4},
		{name: "torrent_peers", tasks: []Task{{
			ID: "tt42", Name: "Big Buck Bunny", Stage: StageDownloading, Engine: "torrent",
			Done: 150 * mib, Total: 263 * mib, Speed: 5 * mib, Elapsed: 31 * time.Second, Node: "n2",
			Peers: 17, Seeders: 9, UpSpeed: 300 * kib,
		}, {
			ID: "tt43", Name: "Sintel", Stage: StageSeeding, Engine: "torrent",
			Done: 650 * mib, Total: 650 * mib, Elapsed: 2*time.Hour + 5*time.Minute, Peers: 3, UpSpeed: 1.5 * mib,
		}}},
		{name: "uploading_note", tasks: []Task{{
			ID: "up5", Name: "backup.tar.zst", Stage: StageUploading, Engine: "telegram",
			Done: 1200 * mib, Total: 4 * gib, Speed: 20 * mib, Elapsed: 75 * time.Second, Node: "n1",
			Note: "uploading part 2/5",
		}}},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dump(Render(tt.tasks, footer(), tt.page, tt.perPage))
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run `go test ./internal/board -update` to create the golden file")
			require.Equal(t, string(want), got)
		})
	}
}

func TestRenderPagination(t *testing.T) {
	tasks := make([]Task, 9)
	for i := range tasks {
		tasks[i] = Task{ID: fmt.Sprintf("id%d", i), Name: fmt.Sprintf("n%d", i), Stage: StageDownloading}
	}
	tests := []struct {
		page, perPage        int
		wantPage, wantPages  int
		wantFirst, wantCount int
	}{
		{page: 0, perPage: 0, wantPage: 0, wantPages: 3, wantFirst: 1, wantCount: 4}, // default 4
		{page: 2, perPage: 4, wantPage: 2, wantPages: 3, wantFirst: 9, wantCount: 1},
		{page: 7, perPage: 4, wantPage: 2, wantPages: 3, wantFirst: 9, wantCount: 1}, // clamped
		{page: -3, perPage: 5, wantPage: 0, wantPages: 2, wantFirst: 1, wantCount: 5},
		{page: 0, perPage: 9, wantPage: 0, wantPages: 1, wantFirst: 1, wantCount: 9},
	}
	for _, tt := range tests {
		p := Render(tasks, Footer{}, tt.page, tt.perPage)
		require.Equal(t, tt.wantPage, p.Page)
		require.Equal(t, tt.wantPages, p.Pages)
		require.Contains(t, p.Text, fmt.Sprintf("<b>%d. Download</b>", tt.wantFirst))
		require.Equal(t, tt.wantCount, strings.Count(p.Text, ". Download</b>"))
		var cancels []Button
		for _, row := range p.Keyboard {
			for _, b := range row {
				if strings.HasPrefix(b.Data, DataCancelPrefix) {
					cancels = append(cancels, b)
				}
			}
		}
		require.Len(t, cancels, tt.wantCount)
		require.Equal(t, fmt.Sprintf("✖ %d", tt.wantFirst), cancels[0].Text)

		nav := p.Keyboard[len(p.Keyboard)-1]
		if tt.wantPages == 1 {
			require.Equal(t, []Button{{Text: "♻️ Refresh", Data: DataRefresh}}, nav)
			continue
		}
		require.Len(t, nav, 3)
		prev, err := ParseCallback(nav[0].Data)
		require.NoError(t, err)
		next, err := ParseCallback(nav[2].Data)
		require.NoError(t, err)
		require.Equal(t, (tt.wantPage-1+tt.wantPages)%tt.wantPages, prev.Page)
		require.Equal(t, (tt.wantPage+1)%tt.wantPages, next.Page)
	}
}

func TestRenderCancelButtons(t *testing.T) {
	long := strings.Repeat("x", MaxCallbackData) // "c:" + 64 bytes is too long
	fits := strings.Repeat("y", MaxCallbackData-len(DataCancelPrefix))
	tasks := []Task{
		{ID: "a", Name: "a"},
		{ID: long, Name: "long"},
		{ID: "", Name: "no id"},
		{ID: fits, Name: "fits"},
	}
	p := Render(tasks, Footer{}, 0, 10)
	require.Equal(t, []Button{{Text: "✖ 1", Data: "c:a"}, {Text: "✖ 4", Data: "c:" + fits}}, p.Keyboard[0])
	// The long ID keeps its /cancel line, the fallback when there is no button.
	require.Contains(t, p.Text, "<code>/cancel "+long+"</code>")

	// More cancel buttons than fit in one row wrap onto further rows.
	many := make([]Task, 11)
	for i := range many {
		many[i] = Task{ID: fmt.Sprint(i), Name: "n"}
	}
	p = Render(many, Footer{}, 0, 11)
	require.Len(t, p.Keyboard, 3)
	require.Len(t, p.Keyboard[0], MaxButtonsPerRow)
	require.Len(t, p.Keyboard[1], 11-MaxButtonsPerRow)
}

func TestParseCallback(t *testing.T) {
	data, ok := CancelData("t1a2b3")
	require.True(t, ok)
	tests := []struct {
		data string
		want Action
		bad  bool
	}{
		{data: DataRefresh, want: Action{Kind: ActionRefresh}},
		{data: data, want: Action{Kind: ActionCancel, TaskID: "t1a2b3"}},
		{data: PageData(3), want: Action{Kind: ActionPage, Page: 3}},
		{data: "p:-1", bad: true},
		{data: "p:x", bad: true},
		{data: "c:", bad: true},
		{data: "status 1 ref", bad: true},
		{data: "", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseCallback(tt.data)
		if tt.bad {
			require.ErrorIs(t, err, ErrBadCallback, "data %q", tt.data)
			continue
		}
		require.NoError(t, err, "data %q", tt.data)
		require.Equal(t, tt.want, got)
	}
	_, ok = CancelData(strings.Repeat("z", MaxCallbackData))
	require.False(t, ok)
	_, ok = CancelData("\xff")
	require.False(t, ok)
}

func TestRenderEscapesAndSanitises(t *testing.T) {
	p := Render([]Task{{
		ID:     "i<1>",
		Name:   "a<b>&c\nd\u202egpj.exe\xff",
		Stage:  Stage("<weird>"),
		Engine: "h&t",
		Note:   "line1\r\nline2",
	}}, Footer{Node: "<n>"}, 0, 0)
	require.Contains(t, p.Text, "<b>1. &lt;weird&gt;</b>: <code>a&lt;b&gt;&amp;c d"+"gpj.exe\uFFFD</code>")
	require.Contains(t, p.Text, "Engine: h&amp;t")
	require.Contains(t, p.Text, "<i>line1 line2</i>")
	require.Contains(t, p.Text, "<code>/cancel i&lt;1&gt;</code>")
	require.Contains(t, p.Text, "NODE &lt;n&gt;")
	require.True(t, utf8.ValidString(p.Text))
	requireBalanced(t, p.Text)
}

// requireBalanced checks that the only tags are the ones Render writes and
// that they are properly nested and closed, so that escaping leaked nothing.
func requireBalanced(t *testing.T, text string) {
	t.Helper()
	var stack []string
	for i := 0; i < len(text); i++ {
		if text[i] != '<' {
			continue
		}
		end := strings.IndexByte(text[i:], '>')
		require.Positive(t, end, "unterminated tag at %d", i)
		tag := text[i+1 : i+end]
		i += end
		if strings.HasPrefix(tag, "/") {
			require.NotEmpty(t, stack, "closing %q without opening", tag)
			require.Equal(t, stack[len(stack)-1], tag[1:])
			stack = stack[:len(stack)-1]
			continue
		}
		require.Contains(t, []string{"b", "i", "code"}, tag)
		stack = append(stack, tag)
	}
	require.Empty(t, stack)
}

// TestRenderLengthProperty checks the invariants that keep Telegram from
// rejecting the message: text below 4096 UTF-16 units, well-formed HTML,
// valid UTF-8 and callback data within 64 bytes, for long and hostile input.
func TestRenderLengthProperty(t *testing.T) {
	check := func(t *testing.T, tasks []Task, perPage int) Page {
		t.Helper()
		p := Render(tasks, Footer{Node: strings.Repeat("ñ", 500), FreeDisk: -1}, 0, perPage)
		require.Less(t, utf16Len(p.Text), MaxTextUTF16)
		require.True(t, utf8.ValidString(p.Text))
		requireBalanced(t, p.Text)
		for _, row := range p.Keyboard {
			require.LessOrEqual(t, len(row), MaxButtonsPerRow)
			for _, b := range row {
				require.NotEmpty(t, b.Data)
				require.LessOrEqual(t, len(b.Data), MaxCallbackData)
			}
		}
		return p
	}

	t.Run("four tasks with 1000-char names", func(t *testing.T) {
		for _, unit := range []string{"a", "&", "<", "€", "😀"} {
			tasks := make([]Task, 4)
			for i := range tasks {
				tasks[i] = Task{
					ID: fmt.Sprintf("t%d", i), Name: strings.Repeat(unit, 1000), Stage: StageDownloading,
					Engine: "http", Done: 1, Total: 2, Speed: 1, Node: "n1", Note: strings.Repeat(unit, 1000),
				}
			}
			p := check(t, tasks, 0)
			// Every task is still there, with its name shortened.
			for i := range tasks {
				require.Contains(t, p.Text, fmt.Sprintf("<b>%d. Download</b>", i+1))
				require.Contains(t, p.Text, fmt.Sprintf("/cancel t%d", i))
			}
			require.Contains(t, p.Text, "…")
		}
	})

	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		alphabet := []string{"a", "Z", "&", "<", ">", "\"", "€", "😀", "\n", "\u202e", "\xff", " "}
		randText := func(maxLen int) string {
			var b strings.Builder
			for range rng.IntN(maxLen + 1) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			return b.String()
		}
		stages := []Stage{StageQueued, StageDownloading, StageArchiving, StageUploading, StageSeeding, "x"}
		for range 80 {
			tasks := make([]Task, rng.IntN(60))
			for i := range tasks {
				tasks[i] = Task{
					ID: randText(100), Name: randText(1200), Stage: stages[rng.IntN(len(stages))],
					Engine: randText(50), Done: rng.Int64(), Total: rng.Int64N(3) - 1 + rng.Int64(),
					Speed: rng.Float64() * 1e9, Elapsed: time.Duration(rng.Int64()), Node: randText(100),
					QueuePos: rng.IntN(5), Peers: rng.IntN(3), Seeders: rng.IntN(3), UpSpeed: rng.Float64(),
					Attempt: rng.IntN(4), Note: randText(500),
				}
			}
			check(t, tasks, rng.IntN(70)-5)
		}
	})

	t.Run("too many tasks for one message", func(t *testing.T) {
		tasks := make([]Task, 200)
		for i := range tasks {
			tasks[i] = Task{ID: fmt.Sprintf("id%d", i), Name: strings.Repeat("😀", 100), Stage: StageDownloading, Total: 10, Done: 5}
		}
		p := check(t, tasks, 200)
		require.Contains(t, p.Text, "more not shown</i>")
		require.Contains(t, p.Text, "<b>1. Download</b>")
	})
}

func BenchmarkRender(b *testing.B) {
	tasks := make([]Task, 4)
	for i := range tasks {
		tasks[i] = Task{ID: fmt.Sprint(i), Name: "ubuntu-24.04-desktop-amd64.iso", Stage: StageDownloading,
			Engine: "http", Done: 235 * mib, Total: gib, Speed: 12 * mib, Node: "n1"}
	}
	for b.Loop() {
		Render(tasks, footer(), 0, 0)
	}
}
