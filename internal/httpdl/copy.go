package httpdl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// copyBody writes body into f from offset off: exactly limit bytes, or up
// to EOF when limit is negative. Bytes are gathered in a pooled buffer and
// written with one pwrite per buffer; advance is called with each written
// count after the write returned, so that whoever reads the counters never
// claims bytes that are not in the file. Whatever arrived before an error is
// still written. Every writebackEvery bytes, and at the end, the written
// range is handed to startWriteback, so that the disk works while the
// network does and the next datasync finds little left to write. It returns
// the bytes written.
func (d *Downloader) copyBody(a *attempt, body io.Reader, f *os.File, off, limit int64, advance func(int64)) (int64, error) {
	bp := d.bufs.Get().(*[]byte)
	defer d.bufs.Put(bp)
	buf := *bp

	var written, kicked int64
	filled := 0
	lastFlush := time.Now()
	// kick starts writeback of the bytes written since the last kick. Its
	// error is ignored: it is a hint, and datasync reports real failures.
	kick := func() {
		if written > kicked {
			_ = startWriteback(f, off+kicked, written-kicked)
			kicked = written
		}
	}
	defer kick()
	flush := func() error {
		if filled == 0 {
			return nil
		}
		if _, err := f.WriteAt(buf[:filled], off+written); err != nil {
			return &localError{fmt.Errorf("writing %s: %w", filepath.Base(f.Name()), err)}
		}
		written += int64(filled)
		advance(int64(filled))
		filled = 0
		lastFlush = time.Now()
		if written-kicked >= writebackEvery {
			kick()
		}
		return nil
	}

	for {
		want := len(buf) - filled
		if limit >= 0 {
			want = int(min(int64(want), limit-written-int64(filled)))
			if want == 0 {
				break
			}
		}
		n, rerr := body.Read(buf[filled : filled+want])
		if n > 0 {
			a.alive()
			filled += n
		}
		if filled == len(buf) || (limit >= 0 && written+int64(filled) == limit) ||
			rerr != nil || time.Since(lastFlush) >= flushEvery {
			if err := flush(); err != nil {
				return written, err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			rerr = a.wrap(rerr)
			if errors.Is(rerr, io.ErrUnexpectedEOF) {
				return written, fmt.Errorf("%w: got %d of %d bytes: %w", ErrSizeMismatch, written, limit, rerr)
			}
			return written, fmt.Errorf("reading body: %w", rerr)
		}
	}
	if err := flush(); err != nil {
		return written, err
	}
	if limit < 0 {
		return written, nil
	}
	if written < limit {
		return written, fmt.Errorf("%w: got %d of %d bytes: %w", ErrSizeMismatch, written, limit, io.ErrUnexpectedEOF)
	}
	// The body must end here. With a Content-Length net/http guarantees it;
	// a chunked body could carry more than its Content-Range said.
	var one [1]byte
	for {
		n, err := body.Read(one[:])
		if n > 0 {
			return written, fmt.Errorf("%w: more than %d bytes", ErrSizeMismatch, limit)
		}
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, fmt.Errorf("reading body end: %w", a.wrap(err))
		}
	}
}
