package task

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/internal/tgtext"
	"github.com/mirrorleech/mirrorleech/messages"
)

// filesPerPage keeps a selection message well inside Telegram's 4096
// characters and its keyboard short enough to use on a phone.
const filesPerPage = 8

// maxButtonPath bounds a file's path on its button; the message body shows
// more of it.
const maxButtonPath = 40

// selection is a torrent's file choice in progress (-s): every file starts
// chosen, the user toggles files page by page and presses start.
type selection struct {
	files  []messages.TorrentFile
	chosen []bool
	page   int
	msgID  int
	gen    int // tells this selection's timeout from an earlier one's
	timer  *time.Timer
}

type selectTimedOut struct{ gen int }

// askFiles posts the file list of a torrent with toggle buttons. A question
// asked again (the download stage restarted) replaces the earlier message.
func (t *Task) askFiles(ctx actor.Context, m *messages.ChooseFiles) {
	if t.end != 0 || t.stage != messages.StageDownloading {
		return
	}
	t.closeSelection(ctx, "")
	t.selGen++
	s := &selection{files: m.Files, chosen: make([]bool, len(m.Files)), gen: t.selGen}
	for i := range s.chosen {
		s.chosen[i] = true
	}
	t.sel = s
	self, root, gen := ctx.Self(), ctx.ActorSystem().Root, s.gen
	s.timer = time.AfterFunc(t.o.SelectTimeout, func() { root.Send(self, &selectTimedOut{gen: gen}) })
	t.snap.Note = "waiting for you to choose the files"
	t.push(ctx)
	text, kb := t.renderSelection()
	ctx.Request(t.outbox(ctx), &messages.SendText{ChatID: t.spec.ChatID, ReplyTo: t.spec.ReplyTo, HTML: true,
		Text: text, Keyboard: kb})
}

func (t *Task) outbox(ctx actor.Context) *actor.PID {
	return messages.Local(ctx.ActorSystem(), messages.OutboxName)
}

// onSelection applies one button press: t<i> toggles file i, p<n> shows
// page n, a and n choose all or none, go starts the download.
func (t *Task) onSelection(ctx actor.Context, m *messages.SelectionPressed) {
	answer := func(text string, alert bool) {
		ctx.Send(t.outbox(ctx), &messages.AnswerCallback{CallbackID: m.CallbackID, Text: text, Alert: alert})
	}
	s := t.sel
	if s == nil || t.end != 0 || (s.msgID != 0 && m.MessageID != s.msgID) {
		answer("This file list is closed.", true)
		return
	}
	switch {
	case m.Data == "go":
		var idx []int
		for i, c := range s.chosen {
			if c {
				idx = append(idx, s.files[i].Index)
			}
		}
		if len(idx) == 0 {
			answer("Choose at least one file.", true)
			return
		}
		if t.child != nil {
			ctx.Send(t.child, &messages.FilesChosen{Indices: idx})
		}
		answer("Starting the download.", false)
		n, size := s.count()
		t.closeSelection(ctx, fmt.Sprintf("📥 Downloading %d of %d files (%s) of <b>%s</b>.", n, len(s.files),
			board.Bytes(size), tgtext.Name(t.snap.Name, tgtext.NameLen)))
		t.snap.Note = ""
		t.push(ctx)
		return
	case m.Data == "a" || m.Data == "n":
		for i := range s.chosen {
			s.chosen[i] = m.Data == "a"
		}
	case strings.HasPrefix(m.Data, "t"):
		i, err := strconv.Atoi(m.Data[1:])
		if err != nil || i < 0 || i >= len(s.files) {
			answer("This button is no longer valid.", true)
			return
		}
		s.chosen[i] = !s.chosen[i]
	case strings.HasPrefix(m.Data, "p"):
		p, err := strconv.Atoi(m.Data[1:])
		if err != nil || p < 0 || p >= s.pages() {
			answer("This button is no longer valid.", true)
			return
		}
		s.page = p
	default:
		answer("This button is no longer valid.", true)
		return
	}
	answer("", false)
	if s.msgID != 0 {
		text, kb := t.renderSelection()
		ctx.Send(t.outbox(ctx), &messages.EditText{ChatID: t.spec.ChatID, MessageID: s.msgID, HTML: true, Text: text, Keyboard: kb})
	}
}

// closeSelection ends a selection in progress: its message gets final text
// without buttons, or is deleted when text is empty.
func (t *Task) closeSelection(ctx actor.Context, text string) {
	s := t.sel
	if s == nil {
		return
	}
	t.sel = nil
	s.timer.Stop()
	if s.msgID == 0 {
		return
	}
	if text == "" {
		ctx.Send(t.outbox(ctx), &messages.DeleteMessage{ChatID: t.spec.ChatID, MessageID: s.msgID})
		return
	}
	ctx.Send(t.outbox(ctx), &messages.EditText{ChatID: t.spec.ChatID, MessageID: s.msgID, HTML: true, Text: text})
}

func (s *selection) pages() int { return max(1, (len(s.files)+filesPerPage-1)/filesPerPage) }

func (s *selection) count() (n int, size int64) {
	for i, c := range s.chosen {
		if c {
			n++
			size += s.files[i].Size
		}
	}
	return n, size
}

// renderSelection is the message and keyboard of the current page.
func (t *Task) renderSelection() (string, messages.Keyboard) {
	s := t.sel
	n, size := s.count()
	var b strings.Builder
	fmt.Fprintf(&b, "<b>Choose the files of %s</b>\n%d of %d files chosen, %s.\n", tgtext.Name(t.snap.Name, tgtext.NameLen),
		n, len(s.files), board.Bytes(size))
	first := s.page * filesPerPage
	last := min(first+filesPerPage, len(s.files))
	data := func(action string) string {
		return "f:" + strconv.FormatInt(t.spec.UserID, 10) + ":" + t.spec.ID + ":" + action
	}
	var kb messages.Keyboard
	for i := first; i < last; i++ {
		f := s.files[i]
		mark := "⬜"
		if s.chosen[i] {
			mark = "✅"
		}
		fmt.Fprintf(&b, "\n%s %d. <code>%s</code> (%s)", mark, i+1, tgtext.Name(f.Path, 200), board.Bytes(f.Size))
		kb = append(kb, []messages.Button{{Text: fmt.Sprintf("%s %d. %s", mark, i+1, shorten(f.Path, maxButtonPath)),
			Data: data("t" + strconv.Itoa(i))}})
	}
	if pages := s.pages(); pages > 1 {
		fmt.Fprintf(&b, "\n\nPage %d of %d", s.page+1, pages)
		var nav []messages.Button
		if s.page > 0 {
			nav = append(nav, messages.Button{Text: "◀ Previous", Data: data("p" + strconv.Itoa(s.page-1))})
		}
		if s.page < pages-1 {
			nav = append(nav, messages.Button{Text: "Next ▶", Data: data("p" + strconv.Itoa(s.page+1))})
		}
		kb = append(kb, nav)
	}
	kb = append(kb, []messages.Button{{Text: "All", Data: data("a")}, {Text: "None", Data: data("n")}},
		[]messages.Button{{Text: fmt.Sprintf("▶ Start (%d files)", n), Data: data("go")}})
	return b.String(), kb
}

// shorten keeps the end of a path (the file name) when it is too long.
func shorten(p string, limit int) string {
	r := []rune(p)
	if len(r) <= limit {
		return p
	}
	return "…" + string(r[len(r)-limit+1:])
}
