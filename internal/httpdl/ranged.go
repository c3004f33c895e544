package httpdl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// errNoReprobe tells a worker that the one re-probe of this call is used up.
var errNoReprobe = errors.New("re-probe already used")

// rangedJob is one ranged download: segments fetched in parallel into a
// preallocated .part file, with a control file for resume.
type rangedJob struct {
	d        *Downloader
	log      *slog.Logger
	url      string // as requested; re-probes go here
	name     string
	partPath string
	ctlPath  string
	ctlTmp   string
	rem      remote
	segSize  int64
	nseg     int64
	// cursors holds the absolute offset up to which each segment is
	// written; a segment is complete when its cursor reaches its end.
	cursors []atomic.Int64
	next    atomic.Int64 // next segment index to hand out
	file    *os.File
	cnt     counter

	// loc is the URL segments are fetched from (the probe's final URL) and
	// the state of the single re-probe allowed per call.
	loc struct {
		mu       sync.Mutex
		url      string
		gen      int
		reprobed bool
	}

	saveMu    sync.Mutex // serializes control file saves
	savedDone int64      // done count at the last save, under saveMu
}

func (j *rangedJob) segStart(i int64) int64 { return i * j.segSize }
func (j *rangedJob) segEnd(i int64) int64   { return min((i+1)*j.segSize, j.rem.size) }

// resumable reports whether the remote has a validator; without one the
// bytes on disk cannot be matched to the remote file later, so no control
// file is kept.
func (j *rangedJob) resumable() bool { return j.rem.validator() != "" }

// ranged runs a ranged download to completion or failure.
func (d *Downloader) ranged(ctx context.Context, r Request, name string, p *probeResult, log *slog.Logger) (Result, error) {
	p.close()
	j := &rangedJob{
		d:        d,
		log:      log,
		url:      r.URL,
		name:     name,
		partPath: filepath.Join(r.Dir, partName(name)),
		ctlPath:  filepath.Join(r.Dir, controlName(name)),
		ctlTmp:   filepath.Join(r.Dir, controlTmpName(name)),
		rem:      p.remote,
	}
	j.loc.url = p.finalURL
	if err := j.open(); err != nil {
		return Result{}, err
	}
	resumed := j.cnt.done.Load()
	if resumed > 0 {
		log.Info("resuming download", "resumed", resumed, "size", j.rem.size)
	}

	err := j.run(ctx, r.Progress)
	report := func() {
		if r.Progress != nil {
			r.Progress(Progress{Name: name, Done: j.cnt.done.Load(), Total: j.rem.size})
		}
	}
	switch {
	case err == nil:
		if err := finish(j.file, j.partPath, filepath.Join(r.Dir, name)); err != nil {
			return Result{}, err
		}
		if err := removeQuiet(j.ctlPath, j.ctlTmp); err != nil {
			log.Warn("removing control file", "err", err)
		}
		report()
		return Result{Path: filepath.Join(r.Dir, name), Name: name, Size: j.rem.size, Resumed: resumed}, nil
	case errors.Is(err, ErrRemoteChanged) || !j.resumable():
		// Bytes that belong to another version of the file, or that
		// nothing could match to the file later, are worthless.
		_ = j.file.Close()
		if rerr := removeQuiet(j.partPath, j.ctlPath, j.ctlTmp); rerr != nil {
			log.Warn("removing partial download", "err", rerr)
		}
	default:
		if serr := j.save(); serr != nil {
			log.Warn("saving control file", "err", serr)
		}
		_ = j.file.Close()
	}
	report()
	return Result{}, err
}

// open reuses the .part file when the control file describes the same
// remote file, and otherwise starts a fresh, preallocated one.
func (j *rangedJob) open() error {
	ctl, err := loadControl(j.ctlPath)
	if err != nil {
		j.log.Warn("ignoring control file", "err", err)
	}
	if ctl != nil && ctl.matches(j.url, j.rem) {
		if f, err := os.OpenFile(j.partPath, os.O_RDWR, 0); err == nil {
			if st, err := f.Stat(); err == nil && st.Size() == j.rem.size {
				j.file = f
				j.restore(ctl)
				return nil
			}
			_ = f.Close()
		}
	}
	if ctl != nil {
		j.log.Info("discarding partial download of another version")
	}
	if err := removeQuiet(j.ctlPath, j.ctlTmp); err != nil {
		return &localError{fmt.Errorf("removing stale control file: %w", err)}
	}
	f, err := os.OpenFile(j.partPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return &localError{fmt.Errorf("creating %s: %w", filepath.Base(j.partPath), err)}
	}
	if err := preallocate(f, j.rem.size); err == nil {
		err = f.Truncate(j.rem.size)
	} else {
		_ = f.Close()
		_ = os.Remove(j.partPath)
		return &localError{err}
	}
	j.file = f
	j.segSize = j.d.o.SegmentSize
	j.nseg = segmentCount(j.rem.size, j.segSize)
	j.cursors = make([]atomic.Int64, j.nseg)
	for i := range j.nseg {
		j.cursors[i].Store(j.segStart(i))
	}
	return nil
}

// restore sets the cursors from a matching control file.
func (j *rangedJob) restore(c *control) {
	j.segSize = c.SegmentSize
	j.nseg = segmentCount(j.rem.size, j.segSize)
	j.cursors = make([]atomic.Int64, j.nseg)
	var done int64
	for i := range j.nseg {
		cur := j.segStart(i)
		if c.Done[i/8]&(1<<(i%8)) != 0 {
			cur = j.segEnd(i)
		} else {
			cur += c.Partial[int(i)]
		}
		j.cursors[i].Store(cur)
		done += cur - j.segStart(i)
	}
	j.cnt.done.Store(done)
	j.savedDone = done
}

// snapshot captures the cursors as a control file. Each cursor only ever
// moves after its bytes were written, so the snapshot never claims more
// than the file holds.
func (j *rangedJob) snapshot() (*control, int64) {
	j.loc.mu.Lock()
	finalURL := j.loc.url
	j.loc.mu.Unlock()
	c := &control{
		Version:      controlVersion,
		URL:          j.url,
		FinalURL:     finalURL,
		Size:         j.rem.size,
		ETag:         j.rem.etag,
		LastModified: j.rem.lastModified,
		SegmentSize:  j.segSize,
		Done:         make([]byte, (j.nseg+7)/8),
	}
	var done int64
	for i := range j.nseg {
		n := j.cursors[i].Load() - j.segStart(i)
		done += n
		switch {
		case n == j.segEnd(i)-j.segStart(i):
			c.Done[i/8] |= 1 << (i % 8)
		case n > 0:
			if c.Partial == nil {
				c.Partial = make(map[int]int64)
			}
			c.Partial[int(i)] = n
		}
	}
	return c, done
}

// save writes the control file when there is news. The data is fsynced
// first, so that after a crash the control file never vouches for bytes
// that only ever reached the page cache.
func (j *rangedJob) save() error {
	if !j.resumable() {
		return nil
	}
	j.saveMu.Lock()
	defer j.saveMu.Unlock()
	c, done := j.snapshot()
	if done == j.savedDone {
		if _, err := os.Stat(j.ctlPath); err == nil {
			return nil
		}
	}
	if err := datasync(j.file); err != nil {
		return &localError{fmt.Errorf("syncing %s: %w", filepath.Base(j.partPath), err)}
	}
	if err := saveControl(j.ctlPath, j.ctlTmp, c); err != nil {
		return &localError{err}
	}
	j.savedDone = done
	return nil
}

// run fetches every incomplete segment with up to Connections workers. The
// first worker error cancels the others and is returned; the caller's
// cancellation wins over it.
func (j *rangedJob) run(parent context.Context, progress func(Progress)) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	var pending int64
	for i := range j.nseg {
		if j.cursors[i].Load() < j.segEnd(i) {
			pending++
		}
	}
	workers := int(min(int64(j.d.o.Connections), pending))

	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			if err := j.work(ctx); err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
				cancel(err)
			}
		})
	}

	stop := make(chan struct{})
	var report func()
	if progress != nil {
		report = func() {
			progress(Progress{Name: j.name, Done: j.cnt.done.Load(), Total: j.rem.size,
				Connections: int(j.cnt.active.Load())})
		}
	}
	// Progress and saves run apart, so that a long fsync on a slow disk
	// does not freeze the progress reports.
	var watchers sync.WaitGroup
	watchers.Go(func() { watch(stop, report, nil) })
	watchers.Go(func() {
		watch(stop, nil, func() {
			if err := j.save(); err != nil {
				j.log.Warn("saving control file", "err", err)
			}
		})
	})
	wg.Wait()
	close(stop)
	watchers.Wait()

	incomplete := int64(-1)
	for i := range j.nseg {
		if j.cursors[i].Load() != j.segEnd(i) {
			incomplete = i
			break
		}
	}
	switch {
	case incomplete < 0:
		// Complete, even if the caller cancelled in the last moment.
		return nil
	case parent.Err() != nil:
		return parent.Err()
	case firstErr != nil:
		return firstErr
	default:
		// Unreachable unless a worker returned nil early; checked because
		// a false "complete" would hand out a corrupt file.
		return fmt.Errorf("segment %d left incomplete: %w", incomplete, ErrSizeMismatch)
	}
}

// work takes segments until none is left or one fails.
func (j *rangedJob) work(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		i := j.next.Add(1) - 1
		if i >= j.nseg {
			return nil
		}
		if j.cursors[i].Load() >= j.segEnd(i) {
			continue
		}
		if err := j.segment(ctx, i); err != nil {
			return err
		}
	}
}

// segment fetches segment i, retrying transient failures from the bytes
// already written, and re-probing once on 403 or 410 (a signed final URL
// may have expired while the original URL still hands out a fresh one).
func (j *rangedJob) segment(ctx context.Context, i int64) error {
	failures := 0
	for {
		j.loc.mu.Lock()
		u, gen := j.loc.url, j.loc.gen
		j.loc.mu.Unlock()

		err := j.fetch(ctx, i, u)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		var se *StatusError
		isStatus := errors.As(err, &se)
		if isStatus && (se.Code == http.StatusForbidden || se.Code == http.StatusGone) {
			rerr := j.reprobe(ctx, gen)
			if errors.Is(rerr, errNoReprobe) {
				return err
			}
			if rerr != nil {
				return rerr
			}
			continue
		}
		if !retryable(err) || failures >= j.d.o.SegmentRetries {
			return err
		}
		failures++
		delay := backoff(failures)
		if isStatus && se.RetryAfter > 0 {
			if se.RetryAfter > maxRetryAfter {
				return err
			}
			delay = max(delay, se.RetryAfter)
		}
		j.log.Warn("retrying segment", "segment", i, "attempt", failures, "delay", delay, "err", err)
		if err := sleepCtx(ctx, delay); err != nil {
			return err
		}
	}
}

// fetch makes one attempt at the rest of segment i from url. The request
// carries If-Range, so a changed file answers 200 instead of splicing new
// bytes into old ones; the answer must be 206 with no other ETag or
// Last-Modified than the probe's (for servers that ignore If-Range),
// exactly the range asked for and the known total.
func (j *rangedJob) fetch(ctx context.Context, i int64, url string) error {
	start, end := j.cursors[i].Load(), j.segEnd(i)
	a := j.d.newAttempt(ctx)
	defer a.end()
	req, err := j.d.newRequest(a.ctx, url)
	if err != nil {
		return err
	}
	req.Header.Set("Range", "bytes="+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end-1, 10))
	if v := j.rem.validator(); v != "" {
		req.Header.Set("If-Range", v)
	}
	j.cnt.active.Add(1)
	defer j.cnt.active.Add(-1)
	resp, err := j.d.client.Do(req)
	if err != nil {
		return fmt.Errorf("requesting bytes %d-%d: %w", start, end-1, a.wrap(unwrapURLError(err)))
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK, http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%w: %s to a range request", ErrRemoteChanged, resp.Status)
	default:
		drainClose(resp.Body)
		return newStatusError(resp, time.Now())
	}
	// If-Range alone is not trusted: a server that ignores it answers 206
	// with bytes of another version, which would be spliced into the file.
	if !j.rem.sameVersion(remoteOf(resp)) {
		return fmt.Errorf("%w: the validators of bytes %d-%d differ from the probe's", ErrRemoteChanged, start, end-1)
	}
	cr := resp.Header.Get("Content-Range")
	s, e, total, ok := parseContentRange(cr)
	switch {
	case !ok || total < 0:
		return fmt.Errorf("content-range %q: %w", cr, ErrBadResponse)
	case total != j.rem.size:
		return fmt.Errorf("%w: size is now %d, was %d", ErrRemoteChanged, total, j.rem.size)
	case s != start || e != end-1:
		return fmt.Errorf("asked for bytes %d-%d, got %q: %w", start, end-1, cr, ErrBadResponse)
	}
	cur := &j.cursors[i]
	_, err = j.d.copyBody(a, resp.Body, j.file, start, end-start, func(n int64) {
		cur.Add(n)
		j.cnt.done.Add(n)
	})
	if err != nil {
		return fmt.Errorf("fetching bytes %d-%d: %w", start, end-1, err)
	}
	return nil
}

// reprobe probes the original URL again, once per call, after the URL of
// generation gen was refused. It returns nil when the segments may go on
// with the (possibly new) final URL.
func (j *rangedJob) reprobe(ctx context.Context, gen int) error {
	j.loc.mu.Lock()
	defer j.loc.mu.Unlock()
	if j.loc.gen != gen {
		return nil // another worker re-probed meanwhile
	}
	if j.loc.reprobed {
		return errNoReprobe
	}
	j.loc.reprobed = true
	p, err := j.d.probe(ctx, j.url)
	if err != nil {
		return fmt.Errorf("re-probing: %w", err)
	}
	p.close()
	if !p.ranged || p.remote != j.rem {
		return fmt.Errorf("%w: re-probe found another file", ErrRemoteChanged)
	}
	j.loc.url = p.finalURL
	j.loc.gen++
	j.log.Info("re-probed after refusal", "final_url", redactRaw(p.finalURL))
	return nil
}
