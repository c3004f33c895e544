package httpdl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// controlVersion is bumped whenever the control file's meaning changes, so
// that an old file is ignored rather than misread.
const controlVersion = 1

// control is the JSON control file next to a .part file. It records which
// bytes of the .part file are known to be written and durable, and the
// identity of the remote file they belong to.
type control struct {
	Version      int    `json:"version"`
	URL          string `json:"url"`
	FinalURL     string `json:"final_url"`
	Size         int64  `json:"size"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	SegmentSize  int64  `json:"segment_size"`
	// Done is a bitmap of complete segments, bit i%8 of byte i/8 (JSON
	// encodes it as base64, about 1.4 KiB for 100 GiB in 8 MiB segments).
	Done []byte `json:"done"`
	// Partial maps an incomplete segment to the bytes written from its
	// start, so a resumed segment continues where it stopped.
	Partial map[int]int64 `json:"partial,omitempty"`
}

// remote identifies the remote file as the probe saw it.
type remote struct {
	size         int64
	etag         string // strong ETag, "" when none or weak
	lastModified string // Last-Modified header as sent
}

// validator returns the If-Range value: the strong ETag, else the
// Last-Modified date, else "" (no conditional ranges possible).
func (r remote) validator() string {
	if r.etag != "" {
		return r.etag
	}
	return r.lastModified
}

// sameVersion reports whether a response with validators got may belong to
// the version r was probed from: a validator both carry must be equal. A
// validator missing on either side proves nothing (some servers leave them
// off partial responses), so it is not taken for a change.
func (r remote) sameVersion(got remote) bool {
	return same(r.etag, got.etag) && same(r.lastModified, got.lastModified)
}

// same compares two validator values, either of which may be absent.
func same(a, b string) bool { return a == "" || b == "" || a == b }

// matches reports whether c describes the same remote file as r, fetched
// from url. Without a validator nothing proves the bytes on disk belong to
// the current file, so such downloads never resume.
func (c *control) matches(url string, r remote) bool {
	if c.Version != controlVersion || c.URL != url || c.Size != r.size || r.validator() == "" {
		return false
	}
	if r.etag != "" {
		return c.ETag == r.etag
	}
	return c.ETag == "" && c.LastModified == r.lastModified
}

// valid reports whether c is internally consistent for its own size.
func (c *control) valid() bool {
	if c.SegmentSize <= 0 || c.Size <= 0 {
		return false
	}
	n := segmentCount(c.Size, c.SegmentSize)
	if int64(len(c.Done)) != (n+7)/8 {
		return false
	}
	for i, off := range c.Partial {
		if i < 0 || int64(i) >= n || off < 0 || off >= segmentLen(c.Size, c.SegmentSize, int64(i)) {
			return false
		}
	}
	return true
}

// segmentCount is the number of segments of a file of size bytes.
func segmentCount(size, segSize int64) int64 { return (size + segSize - 1) / segSize }

// segmentLen is the length of segment i.
func segmentLen(size, segSize, i int64) int64 { return min(segSize, size-i*segSize) }

// loadControl reads the control file at p. A missing or unreadable file
// yields (nil, nil): it only means there is nothing to resume.
func loadControl(p string) (*control, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading control file: %w", err)
	}
	var c control
	if err := json.Unmarshal(b, &c); err != nil || !c.valid() {
		return nil, nil
	}
	return &c, nil
}

// saveControl writes c to p atomically: the temporary file tmp is written,
// fsynced and renamed over p, so a crash leaves either the old or the new
// control file, never a torn one.
func saveControl(p, tmp string, c *control) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding control file: %w", err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating control file: %w", err)
	}
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing control file: %w", werr)
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("renaming control file: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory so that renames in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", filepath.Base(dir), err)
	}
	return nil
}

// removeQuiet removes paths, ignoring files that do not exist.
func removeQuiet(paths ...string) error {
	var errs []error
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
