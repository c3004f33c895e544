package archive

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/nwaples/rardecode/v2"
)

// rarWalker reads RAR 1.5-7 archives with nwaples/rardecode/v2, volumes
// opened by the library from the set's own files only, the dictionary
// capped at MaxDictionary.
type rarWalker struct {
	x     *extraction
	in    *input
	r     *rardecode.Reader
	rc    *rardecode.ReadCloser
	cur   *rardecode.FileHeader
	j     job
	probe *bool
}

func (w *rarWalker) options(pw bool) []rardecode.Option {
	opts := []rardecode.Option{rardecode.MaxDictionarySize(MaxDictionary)}
	if pw && w.x.pw != "" {
		opts = append(opts, rardecode.Password(w.x.pw))
	}
	return opts
}

func openRar(x *extraction, in *input, j job) (walker, error) {
	w := &rarWalker{x: x, in: in, j: j}
	if err := w.openReader(true); err != nil {
		return nil, w.fail(err, "")
	}
	return w, nil
}

// openReader opens the set: by name for real volume sets (the library finds
// the next volumes), as one stream for a byte-split .rar.001 set.
func (w *rarWalker) openReader(pw bool) error {
	if v, ok := parseVolume(filepath.Base(w.j.paths[0])); ok && v.scheme == schemeSplit {
		r, err := rardecode.NewReader(w.in.reader(), w.options(pw)...)
		if err != nil {
			return err
		}
		w.r = r
		return nil
	}
	vfs := newVolumeFS(w.x.ctx, w.j.paths, w.x.m)
	rc, err := rardecode.OpenReader(filepath.Base(w.j.paths[0]), append(w.options(pw), rardecode.FileSystem(vfs))...)
	if err != nil {
		return err
	}
	w.rc, w.r = rc, &rc.Reader
	return nil
}

func (w *rarWalker) next() (*entry, error) {
	h, err := w.r.Next()
	if err != nil {
		return nil, err
	}
	w.cur = h
	mode := h.Mode()
	e := &entry{name: h.Name, mode: mode.Perm(), mtime: h.ModificationTime}
	switch {
	case h.LinkType != 0 || mode&fs.ModeSymlink != 0:
		e.kind = kindLink
	case h.IsDir:
		e.kind = kindDir
	case mode.Type() != 0:
		e.kind = kindSpecial
	default:
		e.kind = kindFile
		e.open = func() (io.ReadCloser, error) {
			if h.Encrypted && w.x.pw == "" {
				return nil, rardecode.ErrArchivedFileEncrypted
			}
			return io.NopCloser(w.r), nil
		}
	}
	return e, nil
}

func (w *rarWalker) fail(err error, entry string) error {
	if c := w.x.common(err, w.in.name, entry); c != nil {
		return c
	}
	pwErr := func() error {
		if w.x.pw == "" {
			return &Error{Archive: w.in.name, Kind: ErrPasswordRequired, Err: err}
		}
		return &Error{Archive: w.in.name, Kind: ErrWrongPassword, Err: err}
	}
	switch {
	case errors.Is(err, rardecode.ErrArchiveEncrypted), errors.Is(err, rardecode.ErrArchivedFileEncrypted):
		return &Error{Archive: w.in.name, Kind: ErrPasswordRequired, Err: err}
	case errors.Is(err, rardecode.ErrBadPassword):
		return &Error{Archive: w.in.name, Kind: ErrWrongPassword, Err: err}
	case errors.Is(err, rardecode.ErrDictionaryTooLarge):
		return &LimitError{Archive: w.in.name, Limit: LimitDictionary, Max: MaxDictionary}
	case errors.Is(err, rardecode.ErrUnknownVersion), errors.Is(err, rardecode.ErrUnknownEncryptMethod):
		return &Error{Archive: w.in.name, Kind: ErrUnsupported, Detail: "an unknown RAR version or encryption", Err: err}
	case w.cur != nil && w.cur.Encrypted && w.x.pw != "" && errors.Is(err, rardecode.ErrBadFileChecksum):
		// RAR 4 stores no password check: a wrong password shows as bad data.
		return &Error{Archive: w.in.name, Kind: ErrWrongPassword, Detail: "or the archive is damaged", Err: err}
	case w.cur == nil && w.headersEncrypted():
		return pwErr()
	case w.cur == nil && sniff(w.in.head(sniffLen)) != fmtRar:
		return &Error{Archive: w.in.name, Kind: ErrNotArchive, Detail: "the file is not rar data", Err: err}
	}
	return corrupt(w.in.name, entry, err)
}

// headersEncrypted reports whether the archive's headers are encrypted
// (then a wrong password only shows as unreadable headers): opened without
// a password, such an archive says so.
func (w *rarWalker) headersEncrypted() bool {
	if w.probe != nil {
		return *w.probe
	}
	p := &rarWalker{x: w.x, in: w.in, j: w.j}
	err := p.openReader(false)
	if err == nil {
		_, err = p.r.Next()
		p.close()
	}
	enc := errors.Is(err, rardecode.ErrArchiveEncrypted)
	w.probe = &enc
	return enc
}

func (w *rarWalker) close() error {
	if w.rc != nil {
		return w.rc.Close()
	}
	return nil
}
