package httpdl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// single downloads the whole body in one stream, for servers that ignore
// ranges or do not say the size, and for empty files. Nothing of a stream
// can be resumed, so a failed attempt starts over from byte 0 and a failed
// call deletes its .part file.
func (d *Downloader) single(ctx context.Context, r Request, name string, p *probeResult, log *slog.Logger) (Result, error) {
	defer p.close()
	partPath := filepath.Join(r.Dir, partName(name))
	finalPath := filepath.Join(r.Dir, name)
	// A control file from an earlier ranged attempt of the same name
	// describes another response; it must not outlive this one.
	if err := removeQuiet(filepath.Join(r.Dir, controlName(name)), filepath.Join(r.Dir, controlTmpName(name))); err != nil {
		return Result{}, &localError{fmt.Errorf("removing stale control file: %w", err)}
	}
	f, err := os.OpenFile(partPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return Result{}, &localError{fmt.Errorf("creating %s: %w", filepath.Base(partPath), err)}
	}
	if p.remote.size > 0 {
		if err := preallocate(f, p.remote.size); err != nil {
			_ = f.Close()
			_ = os.Remove(partPath)
			return Result{}, &localError{err}
		}
	}

	var cnt counter
	total := p.remote.size
	report := func() {
		if r.Progress != nil {
			r.Progress(Progress{Name: name, Done: cnt.done.Load(), Total: total, Connections: int(cnt.active.Load())})
		}
	}
	stop := make(chan struct{})
	watched := make(chan struct{})
	if r.Progress != nil {
		go func() {
			defer close(watched)
			watch(stop, report, nil)
		}()
	} else {
		close(watched)
	}
	size, err := d.stream(ctx, f, p, r.MaxSize, &cnt, log)
	close(stop)
	<-watched
	if err == nil {
		// Preallocation or an earlier, longer attempt may have left bytes
		// past the end of this body.
		if terr := f.Truncate(size); terr != nil {
			err = &localError{fmt.Errorf("truncating %s: %w", filepath.Base(partPath), terr)}
		}
	}
	if err == nil {
		err = finish(f, partPath, finalPath) // closes f
	} else {
		_ = f.Close()
	}
	report()
	if err != nil {
		if rerr := removeQuiet(partPath); rerr != nil {
			log.Warn("removing partial download", "err", rerr)
		}
		return Result{}, err
	}
	return Result{Path: finalPath, Name: name, Size: size}, nil
}

// stream copies the probe's body into f, and on a transient failure
// requests the whole file again and starts over, up to SegmentRetries
// times. A body of unknown length fails with *TooLargeError once it passes
// maxSize (0 = no limit). It returns the size written.
func (d *Downloader) stream(ctx context.Context, f *os.File, p *probeResult, maxSize int64, cnt *counter, log *slog.Logger) (int64, error) {
	resp, a := p.resp, p.att
	p.resp, p.att = nil, nil
	if resp == nil {
		return 0, nil // an empty file: the probe saw 416 for bytes */0
	}
	failures := 0
	for {
		var (
			n   int64
			err error
		)
		if resp == nil {
			resp, a, err = d.getWhole(ctx, p.finalURL)
		}
		if resp != nil {
			if failures > 0 {
				cnt.done.Store(0)
			}
			cnt.active.Store(1)
			var body io.Reader = resp.Body
			if maxSize > 0 {
				body = &capReader{r: body, max: maxSize}
			}
			n, err = d.copyBody(a, body, f, 0, resp.ContentLength, func(n int64) { cnt.done.Add(n) })
			cnt.active.Store(0)
			_ = resp.Body.Close()
			a.end()
			resp, a = nil, nil
		}
		if err == nil {
			return n, nil
		}
		if ctx.Err() != nil {
			return n, fmt.Errorf("streaming: %w", ctx.Err())
		}
		if !retryable(err) || failures >= d.o.SegmentRetries {
			return n, err
		}
		failures++
		delay := backoff(failures)
		log.Warn("restarting single-stream download", "attempt", failures, "delay", delay, "err", err)
		if err := sleepCtx(ctx, delay); err != nil {
			return n, fmt.Errorf("streaming: %w", err)
		}
	}
}

// capReader passes at most max bytes of r and fails with *TooLargeError
// when r holds more: the limit applies to the bytes actually received,
// whatever the server declared (or did not).
type capReader struct {
	r   io.Reader
	max int64
	n   int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, &TooLargeError{Size: -1, Limit: c.max}
	}
	// One byte past the limit is enough to tell that the body is longer.
	if room := c.max - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n - 1, &TooLargeError{Size: -1, Limit: c.max}
	}
	return n, err
}
