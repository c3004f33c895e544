package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"
)

// maxVariants bounds the "name (n)" alternatives tried for a duplicate.
const maxVariants = 100

// errConflict: an entry cannot be placed because a file stands where a
// folder is needed (or all variants of its name are taken); it is skipped.
var errConflict = errors.New("name conflict")

// readError marks an error of the archive side of a copy (decompression,
// decryption, checksums), as opposed to the disk side.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// sink writes entries under one os.Root: names are already sanitised, no
// existing file is ever replaced (O_EXCL; duplicates get "name (2).ext"),
// modes are 0644 or 0755 and every byte counts against the budget.
type sink struct {
	ctx  context.Context
	root *os.Root
	bud  *budget
	res  *ExtractResult
	buf  []byte
	dirs map[string]bool // folders known to exist
}

func newSink(ctx context.Context, root *os.Root, bud *budget, res *ExtractResult) *sink {
	return &sink{ctx: ctx, root: root, bud: bud, res: res, buf: make([]byte, 256<<10), dirs: map[string]bool{".": true}}
}

// mkdirAll creates rel and its parents; a file in the way is a conflict.
func (s *sink) mkdirAll(rel string) error {
	if s.dirs[rel] {
		return nil
	}
	if err := s.root.MkdirAll(rel, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
			return errConflict
		}
		return fmt.Errorf("creating folder %s: %w", rel, err)
	}
	for d := rel; d != "." && !s.dirs[d]; d = path.Dir(d) {
		s.dirs[d] = true
	}
	return nil
}

// uniqueDir creates a new folder named rel, or its first free variant.
func (s *sink) uniqueDir(rel string) (string, error) {
	if err := s.mkdirAll(path.Dir(rel)); err != nil {
		return "", err
	}
	for i := 1; i <= maxVariants; i++ {
		cand := rel
		if i > 1 {
			cand = variant(rel, i)
		}
		err := s.root.Mkdir(cand, 0o755)
		if err == nil {
			s.dirs[cand] = true
			return cand, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("creating folder %s: %w", cand, err)
		}
	}
	return "", errConflict
}

// create opens a new file at rel or at its first free variant.
func (s *sink) create(rel string, perm fs.FileMode) (*os.File, string, error) {
	if err := s.mkdirAll(path.Dir(rel)); err != nil {
		return nil, "", err
	}
	for i := 1; i <= maxVariants; i++ {
		cand := rel
		if i > 1 {
			cand = variant(rel, i)
		}
		f, err := s.root.OpenFile(cand, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			if i > 1 {
				s.res.Renamed++
			}
			return f, cand, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			if errors.Is(err, syscall.ENOTDIR) {
				return nil, "", errConflict
			}
			return nil, "", fmt.Errorf("creating %s: %w", cand, err)
		}
	}
	return nil, "", errConflict
}

// filePerm maps an archive's mode to 0644, or 0755 when any x bit is set:
// no setuid, setgid, sticky or world-writable files.
func filePerm(mode fs.FileMode) fs.FileMode {
	if mode&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// write copies one entry's content to a new file at rel. The content is
// opened only now, so refused entries are never decompressed. Errors of the
// content are *readError; a limit is a *LimitError; anything else is the
// disk's.
func (s *sink) write(rel string, mode fs.FileMode, mtime time.Time, open func() (io.ReadCloser, error)) error {
	room, limit := s.bud.room()
	f, name, err := s.create(rel, filePerm(mode))
	if err != nil {
		return err
	}
	rc, err := open()
	if err != nil {
		f.Close()
		return &readError{err}
	}
	n, err := s.copy(f, rc, room, limit)
	s.bud.add(n)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = &readError{cerr}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing %s: %w", name, cerr)
	}
	if err != nil {
		return err
	}
	s.res.Files++
	s.res.Bytes += n
	if !mtime.IsZero() && mtime.Year() > 1970 && mtime.Year() < 3000 {
		_ = s.root.Chtimes(name, mtime, mtime) // best effort: the content is what matters
	}
	return nil
}

// copy moves at most room bytes from r to w; one byte more is a limit.
func (s *sink) copy(w io.Writer, r io.Reader, room int64, limit *LimitError) (int64, error) {
	var n int64
	for {
		if err := s.ctx.Err(); err != nil {
			return n, err
		}
		nr, rerr := r.Read(s.buf)
		if nr > 0 {
			if int64(nr) > room-n {
				return n, limit
			}
			nw, werr := w.Write(s.buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, fmt.Errorf("writing: %w", werr)
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, &readError{rerr}
		}
	}
}
