package torrent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
)

// Phase is the stage a torrent download is in.
type Phase int

// The phases, in the order a download usually goes through them.
const (
	PhaseMetadata    Phase = iota // fetching the info dictionary from peers (magnets)
	PhaseDownloading              // fetching pieces
	PhaseVerifying                // hashing data found on disk before fetching (a resumed task)
)

func (p Phase) String() string {
	switch p {
	case PhaseMetadata:
		return "metadata"
	case PhaseDownloading:
		return "downloading"
	case PhaseVerifying:
		return "verifying"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// SeedLimits bounds seeding after a download: until the torrent uploaded
// Ratio times its (selected) size, or for Time, whichever comes first. A
// zero field sets no limit of its kind; both zero means no seeding.
type SeedLimits struct {
	Ratio float64
	Time  time.Duration
}

func (s SeedLimits) enabled() bool { return s.Ratio > 0 || s.Time > 0 }

// File is one file of a torrent, as offered for selection.
type File struct {
	Index int    // position in the torrent's file list
	Path  string // slash-separated, relative to the torrent's root folder, with its folders
	Size  int64
}

// Progress is a snapshot of a download.
type Progress struct {
	Phase Phase
	Name  string
	// Done and Total count the selected files' bytes: Done only what was
	// verified against the piece hashes (it never goes down).
	Done, Total int64
	Peers       int // connected peers
	Seeders     int // connected peers that have everything
	// Uploaded is the total sent to peers, Downloaded the wanted piece data
	// received from them, both since this Download call began.
	Uploaded, Downloaded int64
}

// Request is one torrent to download.
type Request struct {
	Magnet   string // a magnet URI, or
	MetaInfo []byte // the bytes of a .torrent file
	// Dir is the task's own directory (created if missing). The engine owns
	// its layout: the data under Dir/data, its state under Dir/.torrent.
	Dir   string
	Peers []string // extra peers, "host:port"
	// Select is called once, in Download's goroutine, when the file list is
	// known, unless an earlier run saved a selection in Dir. It may block
	// until the user answers and must return ctx.Err() when ctx is done.
	// nil selects everything. The result holds File.Index values; an empty
	// one fails the download with ErrNothingSelected.
	Select   func(ctx context.Context, files []File) ([]int, error)
	Progress func(Progress) // about four times a second, and once when Download returns
	// StallTimeout fails the download with ErrStalled when no metadata (or,
	// later, no data) arrives for this long; 0 waits forever.
	StallTimeout time.Duration
	Seed         SeedLimits
}

// Result describes a finished download.
type Result struct {
	// Path is the file of a single-file torrent or the root folder of a
	// multi-file one, under Request.Dir/data.
	Path string
	Name string
	Size int64 // bytes of the selected files
	// Files counts the selected files.
	Files int
}

const (
	progressEvery = 250 * time.Millisecond
	// settleBudget bounds how long a stopped download keeps fetching the
	// pieces it has partly, so they are verified and kept for the next run
	// (the piece database records whole pieces only).
	settleBudget = 700 * time.Millisecond
)

// Download fetches the torrent into r.Dir and returns when the selected
// files are complete and verified. With r.Seed set the torrent then keeps
// seeding in the background; otherwise it is dropped (its files closed)
// before Download returns. Cancelling ctx stops the download within a
// second and returns ctx.Err() wrapped; the pieces verified so far stay in
// r.Dir for the next call with the same Dir.
func (c *Client) Download(ctx context.Context, r Request) (Result, error) {
	spec, key, err := parseSource(r)
	if err != nil {
		return Result{}, err
	}
	// The peers the link names are vetted here, not only by the library's
	// filter, so that a link whose peers are all refused, with nothing
	// else to find peers through, fails at once with the reason instead of
	// waiting for the stall timeout.
	direct, refused, refusal := c.peers.vetDirect(append(spec.PeerAddrs, r.Peers...))
	if refused > 0 && len(direct) == 0 && !c.otherPeerSources(spec) {
		return Result{}, fmt.Errorf("the torrent has no peer left to ask: %w", refusal)
	}
	spec.PeerAddrs = direct
	if r.Dir == "" {
		return Result{}, errors.New("the torrent request has no directory")
	}
	dir, err := filepath.Abs(r.Dir)
	if err != nil {
		return Result{}, fmt.Errorf("resolving %s: %w", r.Dir, err)
	}
	if err := c.claim(key, dir); err != nil {
		return Result{}, err
	}
	defer c.jobs.Done()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(c.ctx, func() { cancel(ErrClosed) })
	defer stop()

	d := &download{c: c, r: r, dir: dir, key: key, refused: refused,
		log: c.log.With(slog.String("infohash", key.HexString()))}
	res, err := d.run(ctx, spec)
	if err != nil && ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), ErrClosed) {
			err = fmt.Errorf("downloading the torrent: %w", ErrClosed)
		} else if !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("downloading the torrent: %w", ctx.Err())
		}
	}
	return res, err
}

// claim registers a Download of torrent key into dir. A torrent that is
// seeding is stopped first: a new task for it wins over optional seeding.
func (c *Client) claim(key metainfo.Hash, dir string) error {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		if _, ok := c.busy[key]; ok {
			c.mu.Unlock()
			return ErrDuplicate
		}
		if s, ok := c.byHash[key]; ok {
			if s.dir == dir {
				// The new task writes into this folder: never remove it.
				s.retained = false
			}
			c.mu.Unlock()
			s.halt()
			continue
		}
		c.busy[key] = dir
		c.jobs.Add(1)
		c.mu.Unlock()
		return nil
	}
}

func (c *Client) release(key metainfo.Hash) {
	c.mu.Lock()
	delete(c.busy, key)
	c.mu.Unlock()
}

// download is the state of one Download call.
type download struct {
	c   *Client
	r   Request
	dir string
	key metainfo.Hash
	log *slog.Logger

	st *taskState
	t  *atorrent.Torrent

	writeErr chan error // the first error writing a chunk to disk

	// direct are the peers named by the request and the magnet (x.pe),
	// and redialed is when they were last given to the library again.
	direct   []string
	redialed time.Time
	// refused counts the peers the link named that the peer rule refused.
	refused int

	lastReport time.Time
	progress   Progress
}

// redialEvery is how long a download without any peer waits before it
// offers its direct peers to the library again.
const redialEvery = 3 * time.Second

// redialDirect offers the direct peers again when the torrent has no peer
// at all: connected, being dialed or waiting to be. The library drops a
// peer whose dial failed or whose connection closed and never tries it
// again; with no tracker or DHT to name it anew (a magnet with x.pe, a
// private swarm), a peer that was briefly unreachable would leave the
// download waiting for nothing until the stall timeout.
func (d *download) redialDirect(s atorrent.TorrentStats) {
	if len(d.direct) == 0 || s.ActivePeers+s.HalfOpenPeers+s.PendingPeers > 0 {
		return
	}
	if time.Since(d.redialed) < redialEvery {
		return
	}
	d.redialed = time.Now()
	peers := make([]atorrent.PeerInfo, 0, len(d.direct))
	for _, a := range d.direct {
		peers = append(peers, atorrent.PeerInfo{Addr: atorrent.StringAddr(a), Source: atorrent.PeerSourceDirect, Trusted: true})
	}
	n := d.t.AddPeers(peers)
	d.log.Debug("no peers left: dialing the direct peers again", slog.Int("peers", n))
}

func (d *download) run(ctx context.Context, spec *atorrent.TorrentSpec) (res Result, err error) {
	handedOff := false
	defer func() {
		if !handedOff {
			d.c.release(d.key)
		}
	}()
	st, err := openState(d.dir)
	if err != nil {
		return Result{}, err
	}
	d.st = st
	if spec.InfoBytes == nil {
		if b := st.loadInfo(d.key); infoMatches(b, d.key) {
			spec.InfoBytes = b
		}
	}
	spec.Storage = st.storage
	d.direct = spec.PeerAddrs
	d.redialed = time.Now()
	t, isNew, err := d.c.cl.AddTorrentSpec(spec)
	if err != nil {
		// AddTorrentSpec drops a new torrent it could not set up.
		return Result{}, errors.Join(fmt.Errorf("%w: %v", ErrBadTorrent, err), st.close())
	}
	if !isNew {
		// Only a Download or a seeding torrent of this client adds torrents,
		// and claim keeps them apart, so this is a bug; never share a torrent.
		return Result{}, errors.Join(ErrDuplicate, st.close())
	}
	d.t = t
	// The library's default reaction to a failed write (a full disk) is to
	// stop downloading silently; fail the download with the cause instead.
	d.writeErr = make(chan error, 1)
	t.SetOnWriteChunkError(func(err error) {
		select {
		case d.writeErr <- err:
		default:
		}
	})
	defer func() {
		if !handedOff {
			err = errors.Join(err, d.drop())
		}
	}()

	if t.Info() == nil {
		if err := d.awaitInfo(ctx); err != nil {
			return Result{}, d.stopped(ctx, err, false)
		}
	}
	info := t.Info()
	if err := checkInfo(info); err != nil {
		return Result{}, err
	}
	mi := t.Metainfo()
	if err := st.saveInfo(mi.InfoBytes); err != nil {
		return Result{}, err
	}
	d.progress.Name = info.BestName()
	// The name is news now (a .torrent or magnet reports none before):
	// the selection question (-s) shows it.
	d.report(true)

	chosen, err := d.choose(ctx)
	if err != nil {
		return Result{}, d.stopped(ctx, err, false)
	}
	plan := newPlan(t, chosen)
	d.progress.Total = plan.total

	if !d.alreadyComplete(plan) {
		if err := d.await(ctx, plan); err != nil {
			return Result{}, d.stopped(ctx, err, true)
		}
		if err := d.finish(plan); err != nil {
			return Result{}, err
		}
	}
	d.progress.Done = plan.total
	d.report(true)
	res = Result{
		Path:  filepath.Join(d.dir, dataDir, info.BestName()),
		Name:  info.BestName(),
		Size:  plan.total,
		Files: len(plan.chosen),
	}
	if d.r.Seed.enabled() && d.c.startSeeding(d, plan.total) {
		handedOff = true
	}
	return res, nil
}

// awaitInfo waits for the info dictionary from peers.
func (d *download) awaitInfo(ctx context.Context) error {
	t := d.t
	d.progress.Name = t.Name()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	lastChunks := int64(0)
	lastChange := time.Now()
	for {
		s := t.Stats()
		d.progress.Peers, d.progress.Seeders = s.ActivePeers, s.ConnectedSeeders
		d.report(false)
		d.redialDirect(s)
		if n := s.MetadataChunksRead.Int64(); n != lastChunks {
			lastChunks, lastChange = n, time.Now()
		}
		if d.r.StallTimeout > 0 && time.Since(lastChange) >= d.r.StallTimeout {
			return fmt.Errorf("%w: no peer sent the torrent's metadata for %s%s", ErrStalled, d.r.StallTimeout, d.refusedNote())
		}
		select {
		case <-t.GotInfo():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.Closed():
			return ErrClosed
		case <-tick.C:
		}
	}
}

// files lists the torrent's files without padding files.
func (d *download) files() []File {
	var out []File
	for i, f := range d.t.Files() {
		if isPadding(f.FileInfo()) {
			continue
		}
		out = append(out, File{Index: i, Path: f.DisplayPath(), Size: f.Length()})
	}
	return out
}

// choose returns the selected file indices: saved by an earlier run, asked
// from r.Select (and saved), or every file.
func (d *download) choose(ctx context.Context) ([]int, error) {
	files := d.files()
	if saved, ok := d.st.loadChoice(selectionFile, d.key); ok {
		if chosen, err := validChoice(saved, files); err == nil {
			return chosen, nil
		}
	}
	if d.r.Select == nil {
		all := make([]int, len(files))
		for i, f := range files {
			all[i] = f.Index
		}
		if len(all) == 0 {
			return nil, ErrNothingSelected
		}
		return all, nil
	}
	picked, err := d.r.Select(ctx, files)
	if err != nil {
		return nil, fmt.Errorf("selecting files: %w", err)
	}
	chosen, err := validChoice(picked, files)
	if err != nil {
		return nil, err
	}
	if err := d.st.saveChoice(selectionFile, d.key, chosen); err != nil {
		return nil, err
	}
	return chosen, nil
}

func validChoice(picked []int, files []File) ([]int, error) {
	known := make(map[int]bool, len(files))
	for _, f := range files {
		known[f.Index] = true
	}
	chosen := sortedUnique(picked)
	for _, i := range chosen {
		if !known[i] {
			return nil, fmt.Errorf("the selection names file %d, which the torrent does not have", i)
		}
	}
	if len(chosen) == 0 {
		return nil, ErrNothingSelected
	}
	return chosen, nil
}

// alreadyComplete reports whether an earlier run finished this selection
// and its files are still all there.
func (d *download) alreadyComplete(p *plan) bool {
	saved, ok := d.st.loadChoice(completeFile, d.key)
	if !ok || !equalInts(saved, p.chosen) {
		return false
	}
	files := d.t.Files()
	for _, i := range p.chosen {
		fi, err := os.Stat(d.dataPath(files[i]))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != files[i].Length() {
			return false
		}
	}
	d.t.DisallowDataDownload()
	return true
}

func (d *download) dataPath(f *atorrent.File) string {
	return filepath.Join(d.dir, dataDir, filepath.FromSlash(f.Path()))
}

// await waits until every piece of the selected files is verified.
func (d *download) await(ctx context.Context, p *plan) error {
	t := d.t
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	var allDone <-chan struct{}
	if p.everything {
		// The library's own flag, set after the last piece's hash: more
		// reliable than the return of VerifyData (docs/torrent-library.md §5).
		allDone = t.Complete().On()
	}
	var last struct{ useful, done, hashed int64 }
	lastChange := time.Now()
	applied := false
	for {
		done, complete, checking := p.scan(t)
		if !applied && checking == 0 {
			// Only once the pieces of unknown state (all of them, for a new
			// torrent) are checked: priorities set while that check runs
			// can leave pieces never requested (a race in the library that
			// stalled about one download in 20 under the race detector).
			p.apply(t)
			applied = true
		}
		s := t.Stats()
		d.progress.Done = done
		d.progress.Peers, d.progress.Seeders = s.ActivePeers, s.ConnectedSeeders
		d.progress.Uploaded = s.BytesWrittenData.Int64()
		d.progress.Downloaded = s.BytesReadUsefulData.Int64()
		d.progress.Phase = PhaseDownloading
		if !applied || checking > 0 && d.progress.Downloaded == 0 {
			d.progress.Phase = PhaseVerifying
		}
		if complete {
			return nil
		}
		d.report(false)
		d.redialDirect(s)
		now := struct{ useful, done, hashed int64 }{d.progress.Downloaded, done, s.BytesHashed.Int64()}
		if now != last {
			last, lastChange = now, time.Now()
		}
		if d.r.StallTimeout > 0 && time.Since(lastChange) >= d.r.StallTimeout {
			return fmt.Errorf("%w: no peers sent any data for %s%s", ErrStalled, d.r.StallTimeout, d.refusedNote())
		}
		next := tick.C
		if !applied {
			next = time.After(10 * time.Millisecond) // the check is quick on a new torrent
		}
		select {
		case err := <-d.writeErr:
			return fmt.Errorf("writing the torrent's data: %w", err)
		case <-allDone:
			allDone = nil // scan again, then return
		case <-ctx.Done():
			return ctx.Err()
		case <-t.Closed():
			return ErrClosed
		case <-next:
		}
	}
}

// refusedNote tells, in a stall message, that peers the link named were
// refused: they may have been the only ones with the torrent.
func (d *download) refusedNote() string {
	switch d.refused {
	case 0:
		return ""
	case 1:
		return " (1 peer named by the link refused: private addresses are not allowed on this bot)"
	}
	return fmt.Sprintf(" (%d peers named by the link refused: private addresses are not allowed on this bot)", d.refused)
}

// report calls r.Progress at most every progressEvery, or now if final.
func (d *download) report(final bool) {
	if d.r.Progress == nil {
		return
	}
	if !final && time.Since(d.lastReport) < progressEvery {
		return
	}
	d.lastReport = time.Now()
	d.r.Progress(d.progress)
}

// stopped ends a download that did not complete: it keeps fetching the
// pieces already partly received for a moment (settle), so the next run
// does not fetch them again, then returns err for the caller to drop the
// torrent.
func (d *download) stopped(ctx context.Context, err error, haveData bool) error {
	if haveData && ctx.Err() != nil {
		d.settle(settleBudget)
	}
	if d.t != nil && d.t.Info() != nil {
		s := d.t.Stats()
		d.progress.Uploaded = s.BytesWrittenData.Int64()
		d.progress.Downloaded = s.BytesReadUsefulData.Int64()
	}
	d.report(true)
	return err
}

// drop removes the torrent from the client and closes its storage.
func (d *download) drop() error {
	d.t.Drop()
	return d.st.close()
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
