package board

import (
	"strconv"
	"strings"
	"time"

	"github.com/mirrorleech/mirrorleech/internal/tgtext"
)

// Stage is the stage a task is in, as the board shows it.
type Stage string

// The stages of a task, in pipeline order.
const (
	StageQueued      Stage = "queued"
	StageDownloading Stage = "downloading"
	StageArchiving   Stage = "archiving"
	StageUploading   Stage = "uploading"
	StageSeeding     Stage = "seeding"
)

// Display returns the stage's name as MLTB users know it ("Download",
// "Upload", …). An unknown stage shows its own text, or "Unknown" when empty.
func (s Stage) Display() string {
	switch s {
	case StageQueued:
		return "Queued"
	case StageDownloading:
		return "Download"
	case StageArchiving:
		return "Archive"
	case StageUploading:
		return "Upload"
	case StageSeeding:
		return "Seed"
	case "":
		return "Unknown"
	default:
		return string(s)
	}
}

// Task is what the board shows of one task.
type Task struct {
	ID     string
	Name   string
	Stage  Stage
	Engine string // "http", "telegram", "torrent", "dir", …

	Done, Total int64   // bytes; Total ≤ 0 means the size is unknown
	Speed       float64 // bytes/s
	Elapsed     time.Duration

	Node     string // node name, shown when non-empty
	QueuePos int    // position in the queue, shown when > 0

	// Torrent fields, shown when > 0.
	Peers, Seeders int
	UpSpeed        float64

	Attempt int    // > 1 shows "retry N"
	Note    string // short extra line, e.g. "metadata…", "uploading part 2/5"
}

// Footer is the node summary under the tasks.
type Footer struct {
	FreeDisk   int64 // bytes free in the download directory; < 0 when unknown
	CPUPercent float64
	MemPercent float64
	Uptime     time.Duration
	Node       string
}

// Button is one inline keyboard button: its label and its callback data.
type Button struct{ Text, Data string }

// Page is a rendered status message.
type Page struct {
	Text     string     // HTML parse mode, always < MaxTextUTF16 UTF-16 units
	Keyboard [][]Button // rows of buttons
	Page     int        // the page shown (0-based, after clamping)
	Pages    int        // number of pages, at least 1
}

const (
	// DefaultPerPage is the number of tasks per page when Render is given
	// perPage ≤ 0 (MLTB's STATUS_LIMIT).
	DefaultPerPage = 4
	// MaxTextUTF16 is Telegram's message length limit in UTF-16 code units.
	// Render keeps the raw HTML below it; the parsed text Telegram counts is
	// never longer than the HTML, so this is a safe bound.
	MaxTextUTF16 = 4096
	// MaxButtonsPerRow is how many cancel buttons share a row; Telegram
	// clients show at most eight buttons side by side.
	MaxButtonsPerRow = 8
)

// Field limits in characters, applied before HTML escaping so that an
// entity is never cut in half.
const (
	maxID     = 64 // task ids are short; this only bounds a corrupt one
	maxEngine = 16
	maxNode   = 32
	maxStage  = 16
)

// detail is one level of verbosity; Render walks down the levels until the
// text fits.
type detail struct {
	name    int  // rune limit of task names
	note    int  // rune limit of notes; 0 drops the note line
	engine  bool // whether the engine/node/peers line is shown
	minimal bool // header and progress line only
}

// levels returns the levels to try, in order. The first keeps every line with
// names that still identify a file; the last is the floor used when tasks
// must be dropped.
func levels() []detail {
	return []detail{
		{name: 64, note: 96, engine: true},
		{name: 40, note: 48, engine: true},
		{name: 24},
		{name: 16, minimal: true},
	}
}

// Render renders tasks (in the given order) on page `page` (0-based, clamped
// to the existing pages) with at most perPage tasks per page (DefaultPerPage
// when perPage ≤ 0). Tasks are numbered across pages (the first task of page
// 2 with 4 per page is number 5), and so are their cancel buttons.
//
// Each task shows a bold "N. Stage" header with the HTML-escaped name in
// <code>, a 12-cell bar and percentage (when the size is known), processed
// bytes, speed, ETA ((Total-Done)/Speed; "-" when unknown) and elapsed time,
// engine and node (with peers, seeders and upload speed for torrents and
// "retry N" for retries), the note in italics, and "/cancel ID" in <code> so
// that a tap copies the whole command (a bare /cancel link would send the
// command without its ID).
//
// The keyboard has rows of numbered cancel buttons ("✖ 1", data "c:<ID>"),
// then a row with "♻️ Refresh" (data "s:r"), between "«" and "»" page buttons
// (data "p:<n>", wrapping around) when there is more than one page.
func Render(tasks []Task, f Footer, page, perPage int) Page {
	if perPage <= 0 {
		perPage = DefaultPerPage
	}
	pages := max(1, (len(tasks)+perPage-1)/perPage)
	page = min(max(page, 0), pages-1)
	start := page * perPage
	end := min(start+perPage, len(tasks))
	shown := tasks[start:end]

	foot := renderFooter(f, page, pages, len(tasks))
	return Page{
		Text:     renderText(shown, start, foot),
		Keyboard: renderKeyboard(shown, start, page, pages),
		Page:     page,
		Pages:    pages,
	}
}

// renderText lays out the shown tasks (the first is number first+1) above
// foot, at the most detailed level that fits; at the last level it keeps as
// many tasks as fit and says how many it left out.
func renderText(shown []Task, first int, foot string) string {
	if len(shown) == 0 {
		return "<b>No active tasks</b>\n\n" + foot
	}
	lvs := levels()
	for _, lv := range lvs {
		blocks := make([]string, len(shown))
		for i, t := range shown {
			blocks[i] = renderTask(t, first+i+1, lv)
		}
		if text := strings.Join(blocks, "\n\n") + "\n\n" + foot; utf16Len(text) < MaxTextUTF16 {
			return text
		}
	}
	// Still too long (many tasks per page, or very long IDs and stage names):
	// keep whole tasks from the top while they fit with the notice.
	floor := lvs[len(lvs)-1]
	var b strings.Builder
	used := 0
	for i, t := range shown {
		block := renderTask(t, first+i+1, floor)
		notice := omittedNotice(len(shown) - i - 1)
		sep := ""
		if i > 0 {
			sep = "\n\n"
		}
		// The notice for the remaining tasks must still fit after this block.
		if used+utf16Len(sep+block)+utf16Len("\n\n"+notice+"\n\n"+foot) >= MaxTextUTF16 {
			if i > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(omittedNotice(len(shown) - i))
			return b.String() + "\n\n" + foot
		}
		b.WriteString(sep + block)
		used += utf16Len(sep + block)
	}
	return b.String() + "\n\n" + foot
}

func omittedNotice(n int) string {
	if n <= 0 {
		return ""
	}
	return "<i>… " + strconv.Itoa(n) + " more not shown</i>"
}

// renderTask renders one task as lines joined by newlines.
func renderTask(t Task, num int, lv detail) string {
	lines := make([]string, 0, 7)
	lines = append(lines, "<b>"+strconv.Itoa(num)+". "+field(t.Stage.Display(), maxStage)+
		"</b>: <code>"+field(t.Name, lv.name)+"</code>")

	queued := t.Stage == StageQueued
	var progress []string
	if !queued && t.Total > 0 {
		frac := float64(t.Done) / float64(t.Total)
		progress = append(progress, "["+Bar(frac)+"] "+Percent(frac))
	}
	if queued && t.QueuePos > 0 {
		progress = append(progress, "Queue position: "+strconv.Itoa(t.QueuePos))
	}
	if !queued || t.Done > 0 {
		p := "Processed: " + Bytes(max(t.Done, 0))
		if t.Total > 0 {
			p += " of " + Bytes(t.Total)
		}
		progress = append(progress, p)
	}
	if lv.minimal {
		if len(progress) > 0 {
			lines = append(lines, progress[0])
		}
		return strings.Join(lines, "\n")
	}
	lines = append(lines, progress...)

	switch {
	case t.Stage == StageSeeding:
		if t.Elapsed > 0 {
			lines = append(lines, "Seeding for: "+Duration(t.Elapsed))
		}
	case !queued:
		s := "Speed: " + Speed(t.Speed) + " | ETA: " + eta(t)
		if t.Elapsed > 0 {
			s += " | Elapsed: " + Duration(t.Elapsed)
		}
		lines = append(lines, s)
	}

	if lv.engine {
		var parts []string
		if t.Engine != "" {
			parts = append(parts, "Engine: "+field(t.Engine, maxEngine))
		}
		if t.Node != "" {
			parts = append(parts, "Node: "+field(t.Node, maxNode))
		}
		if t.Peers > 0 {
			parts = append(parts, "Peers: "+strconv.Itoa(t.Peers))
		}
		if t.Seeders > 0 {
			parts = append(parts, "Seeders: "+strconv.Itoa(t.Seeders))
		}
		if t.UpSpeed > 0 {
			parts = append(parts, "Up: "+Speed(t.UpSpeed))
		}
		if t.Attempt > 1 {
			parts = append(parts, "retry "+strconv.Itoa(t.Attempt))
		}
		if len(parts) > 0 {
			lines = append(lines, strings.Join(parts, " | "))
		}
	}
	if lv.note > 0 {
		if note := field(t.Note, lv.note); note != "" {
			lines = append(lines, "<i>"+note+"</i>")
		}
	}
	if id := field(t.ID, maxID); id != "" {
		lines = append(lines, "<code>/cancel "+id+"</code>")
	}
	return strings.Join(lines, "\n")
}

// eta is the remaining time at the current speed, "-" when it cannot be known.
func eta(t Task) string {
	if t.Total <= 0 || t.Speed <= 0 {
		return "-"
	}
	left := float64(max(t.Total-t.Done, 0)) / t.Speed
	// Beyond ~292 years a time.Duration overflows; such an ETA means nothing.
	if left > float64(100*365*24*3600) {
		return "-"
	}
	return Duration(time.Duration(left * float64(time.Second)))
}

func renderFooter(f Footer, page, pages, total int) string {
	var b strings.Builder
	if pages > 1 {
		b.WriteString("Page " + strconv.Itoa(page+1) + "/" + strconv.Itoa(pages) +
			" | Tasks: " + strconv.Itoa(total) + "\n")
	}
	b.WriteString("CPU " + Percent(f.CPUPercent/100) +
		" | RAM " + Percent(f.MemPercent/100) +
		" | FREE " + Bytes(f.FreeDisk) +
		" | UPTIME " + Duration(f.Uptime))
	if node := field(f.Node, maxNode); node != "" {
		b.WriteString(" | NODE " + node)
	}
	return b.String()
}

func renderKeyboard(shown []Task, first, page, pages int) [][]Button {
	var rows [][]Button
	var row []Button
	for i, t := range shown {
		data, ok := CancelData(t.ID)
		if !ok {
			continue
		}
		row = append(row, Button{Text: "✖ " + strconv.Itoa(first+i+1), Data: data})
		if len(row) == MaxButtonsPerRow {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	refresh := Button{Text: "♻️ Refresh", Data: DataRefresh}
	if pages > 1 {
		prev := (page - 1 + pages) % pages
		next := (page + 1) % pages
		rows = append(rows, []Button{
			{Text: "«", Data: PageData(prev)},
			refresh,
			{Text: "»", Data: PageData(next)},
		})
	} else {
		rows = append(rows, []Button{refresh})
	}
	return rows
}

// field sanitises s, shortens it to limit characters and escapes it for
// HTML (tgtext.Name: the cut never falls inside an escape).
func field(s string, limit int) string {
	return tgtext.Name(s, limit)
}

// utf16Len is the length of s in UTF-16 code units, the unit of Telegram's
// message limits.
func utf16Len(s string) int { return tgtext.Len(s) }
