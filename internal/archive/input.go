package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Progress receives the bytes processed of the input so far and the total;
// it is called at most about four times a second, and once more at the end.
type Progress func(done, total int64)

// progressEvery is the least time between two Progress calls.
const progressEvery = 250 * time.Millisecond

// meter counts input bytes and calls a Progress now and then. Readers on
// any goroutine may add to it.
type meter struct {
	fn    Progress
	total int64
	done  atomic.Int64
	mu    sync.Mutex
	last  time.Time
}

func (m *meter) add(n int) {
	if n <= 0 || m == nil {
		return
	}
	d := m.done.Add(int64(n))
	if m.fn == nil {
		return
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.last) >= progressEvery {
		m.last = now
		m.fn(min(d, m.total), m.total)
	}
}

// finish reports the end: everything processed.
func (m *meter) finish() {
	if m == nil || m.fn == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fn(m.total, m.total)
}

// input is one archive on disk: a file, or the volumes of a multi-volume
// set read as one byte sequence. Reads count toward the meter and stop when
// the context ends.
type input struct {
	ctx   context.Context
	name  string   // display name, relative to the extracted source
	paths []string // volumes in order
	files []*os.File
	ends  []int64 // cumulative end offset of each volume
	size  int64
	m     *meter
}

func openInput(ctx context.Context, name string, paths []string, m *meter) (*input, error) {
	in := &input{ctx: ctx, name: name, paths: paths, m: m}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("opening %s: %w", name, err)
		}
		in.files = append(in.files, f)
		fi, err := f.Stat()
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("opening %s: %w", name, err)
		}
		in.size += fi.Size()
		in.ends = append(in.ends, in.size)
	}
	return in, nil
}

// ReadAt implements io.ReaderAt across the volumes.
func (in *input) ReadAt(p []byte, off int64) (int, error) {
	if err := in.ctx.Err(); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for len(p) > 0 {
		if off >= in.size {
			return n, io.EOF
		}
		i, start := 0, int64(0)
		for off >= in.ends[i] {
			start = in.ends[i]
			i++
		}
		chunk := p
		if rest := in.ends[i] - off; int64(len(chunk)) > rest {
			chunk = chunk[:rest]
		}
		k, err := in.files[i].ReadAt(chunk, off-start)
		n += k
		in.m.add(k)
		off += int64(k)
		p = p[k:]
		if err != nil && !(errors.Is(err, io.EOF) && k == len(chunk)) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the volume shrank under us
			}
			return n, err
		}
	}
	return n, nil
}

// reader returns the whole input as a stream.
func (in *input) reader() io.Reader { return io.NewSectionReader(in, 0, in.size) }

// head returns up to n bytes from the start.
func (in *input) head(n int) []byte {
	b := make([]byte, min(int64(n), in.size))
	k, _ := in.ReadAt(b, 0)
	return b[:k]
}

func (in *input) Close() error {
	var errs []error
	for _, f := range in.files {
		errs = append(errs, f.Close())
	}
	in.files = nil
	return errors.Join(errs...)
}

// volumeFS serves the volumes of one set to a library that opens them by
// name (rardecode): only those files, from their folder, counted.
type volumeFS struct {
	ctx     context.Context
	dir     string
	allowed map[string]bool
	m       *meter
}

func newVolumeFS(ctx context.Context, paths []string, m *meter) *volumeFS {
	v := &volumeFS{ctx: ctx, dir: filepath.Dir(paths[0]), allowed: map[string]bool{}, m: m}
	for _, p := range paths {
		v.allowed[filepath.Base(p)] = true
	}
	return v
}

func (v *volumeFS) Open(name string) (fs.File, error) {
	if !v.allowed[name] {
		// A volume the set does not have (or a name outside it): to the
		// reader, the set simply ends here.
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f, err := os.Open(filepath.Join(v.dir, name))
	if err != nil {
		return nil, err
	}
	return &countedFile{f: f, ctx: v.ctx, m: v.m}, nil
}

type countedFile struct {
	f   *os.File
	ctx context.Context
	m   *meter
}

func (c *countedFile) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.f.Read(p)
	c.m.add(n)
	return n, err
}

func (c *countedFile) Seek(off int64, whence int) (int64, error) { return c.f.Seek(off, whence) }
func (c *countedFile) Stat() (fs.FileInfo, error)                { return c.f.Stat() }
func (c *countedFile) Close() error                              { return c.f.Close() }
