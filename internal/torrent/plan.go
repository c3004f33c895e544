package torrent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
)

// plan maps a file selection onto pieces.
type plan struct {
	chosen     []int  // selected file indices, sorted
	selected   []bool // by file index
	everything bool   // every file but padding is selected
	total      int64  // bytes of the selected files
	// cum[i] is the number of selected bytes in pieces [0, i): a piece's
	// share of the selection is cum[i+1]-cum[i].
	cum []int64
}

func newPlan(t *atorrent.Torrent, chosen []int) *plan {
	files := t.Files()
	p := &plan{chosen: chosen, selected: make([]bool, len(files)), everything: true}
	for _, i := range chosen {
		p.selected[i] = true
	}
	info := t.Info()
	pieceLen, length, n := info.PieceLength, t.Length(), t.NumPieces()
	share := make([]int64, n)
	for i, f := range files {
		if !p.selected[i] {
			if !isPadding(f.FileInfo()) {
				p.everything = false
			}
			continue
		}
		p.total += f.Length()
		begin, end := f.Offset(), f.Offset()+f.Length()
		for pi := begin / pieceLen; pi < int64(n) && pi*pieceLen < end; pi++ {
			ps, pe := pi*pieceLen, min((pi+1)*pieceLen, length)
			share[pi] += min(pe, end) - max(ps, begin)
		}
	}
	p.cum = make([]int64, n+1)
	for i, s := range share {
		p.cum[i+1] = p.cum[i] + s
	}
	return p
}

// apply sets the file priorities: selected files normal, the rest none
// (their pieces are only fetched where they share one with a chosen file).
func (p *plan) apply(t *atorrent.Torrent) {
	for i, f := range t.Files() {
		if p.selected[i] {
			f.SetPriority(atorrent.PiecePriorityNormal)
		} else {
			f.SetPriority(atorrent.PiecePriorityNone)
		}
	}
}

// scan returns the verified selected bytes, whether every piece holding
// selected bytes is verified, and how many pieces are being hashed or
// marked.
func (p *plan) scan(t *atorrent.Torrent) (done int64, complete bool, checking int) {
	complete = true
	i := 0
	for _, run := range t.PieceStateRuns() {
		end := i + run.Length
		share := p.cum[end] - p.cum[i]
		if run.Ok && run.Complete {
			done += share
		} else if share > 0 {
			complete = false
		}
		if run.Hashing || run.QueuedForHash || run.Marking {
			checking += run.Length
		}
		i = end
	}
	return done, complete, checking
}

// finish runs once the selection is verified: it stops fetching, removes
// the files that were not selected (pieces shared with a chosen file wrote
// into them) and the folders this empties, marks the pieces that lost data
// as incomplete, and records the completion for later calls.
func (d *download) finish(p *plan) error {
	t := d.t
	t.DisallowDataDownload()
	files := t.Files()
	root := filepath.Join(d.dir, dataDir)
	var dirs []string
	for i, f := range files {
		if p.selected[i] {
			continue
		}
		name := d.dataPath(f)
		err := os.Remove(name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the unselected file %s: %w", f.DisplayPath(), err)
		}
		for dir := filepath.Dir(name); dir != root && strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
			dirs = append(dirs, dir)
		}
		if f.Length() > 0 {
			d.forgetPieces(f)
		}
	}
	// Deepest first; Remove fails on folders that still hold chosen files.
	slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) })
	for _, dir := range slices.Compact(dirs) {
		_ = os.Remove(dir)
	}
	return d.st.saveChoice(completeFile, d.key, p.chosen)
}

// forgetPieces marks f's pieces incomplete after its data was removed, so
// they are never offered to peers and a later run fetches them if needed.
func (d *download) forgetPieces(f *atorrent.File) {
	for i := f.BeginPieceIndex(); i < f.EndPieceIndex(); i++ {
		if err := d.st.pc.Set(metainfo.PieceKey{InfoHash: d.key, Index: i}, false); err != nil {
			d.log.Warn("marking a piece incomplete", "piece", i, "err", err)
		}
		d.t.Piece(i).UpdateCompletion()
	}
}

// settle keeps a stopped download running for up to budget, fetching only
// the missing chunks of pieces it has partly: the piece database records
// whole verified pieces, so partial pieces would be fetched again in full
// by the next run. It also lets pieces already queued for hashing finish.
func (d *download) settle(budget time.Duration) {
	t := d.t
	start := time.Now()
	var partial []int
	i := 0
	for _, run := range t.PieceStateRuns() {
		if run.Partial && !(run.Ok && run.Complete) {
			for j := i; j < i+run.Length; j++ {
				partial = append(partial, j)
			}
		}
		i += run.Length
	}
	var missing int64
	for _, j := range partial {
		missing += t.PieceBytesMissing(j)
	}
	if len(partial) > 0 {
		for _, f := range t.Files() {
			f.SetPriority(atorrent.PiecePriorityNone)
		}
		for _, j := range partial {
			t.Piece(j).SetPriority(atorrent.PiecePriorityNormal)
		}
		// Lowering priorities leaves requests for other pieces in flight;
		// cancelling everything and allowing again leaves only requests
		// for the partial pieces' missing chunks.
		t.DisallowDataDownload()
		t.AllowDataDownload()
	}
	for n := 0; time.Since(start) < budget; n++ {
		var waiting []int
		for _, j := range partial {
			ps := t.PieceState(j)
			if !(ps.Ok && ps.Complete) && (ps.Partial || ps.Hashing || ps.QueuedForHash) {
				waiting = append(waiting, j)
			}
		}
		hashing := false
		for _, run := range t.PieceStateRuns() {
			if run.Hashing || run.QueuedForHash || run.Marking {
				hashing = true
				break
			}
		}
		if len(waiting) == 0 && !hashing {
			d.log.Debug("kept the partial pieces", "pieces", len(partial), "missing", missing, "took", time.Since(start))
			return
		}
		if n%3 == 2 {
			// A peer whose cancelled requests were all rejected asks for
			// nothing until something other than a reject wakes it up (the
			// library ignores reject-triggered updates); a piece becoming
			// wanted again is such a wake-up.
			for _, j := range waiting {
				t.Piece(j).SetPriority(atorrent.PiecePriorityNone)
				t.Piece(j).SetPriority(atorrent.PiecePriorityNormal)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.log.Info("stopped with partial pieces, they will be fetched again",
		"pieces", len(partial), "missing", missing, "budget", budget)
}
