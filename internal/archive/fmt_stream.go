package archive

import (
	"archive/tar"
	"bufio"
	"compress/bzip2"
	"errors"
	"io"
	"io/fs"
	"strings"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// openStream opens the stream formats: tar, optionally compressed, and
// single compressed files. The decompressed stream is read once, front to
// back; a tar inside is recognised by name (.tar.gz, .tgz, …) or by its
// first header.
func openStream(x *extraction, in *input, f format, name string) (walker, error) {
	var dec io.ReadCloser
	switch f {
	case fmtTar:
		dec = io.NopCloser(in.reader())
	case fmtGzip:
		dec = newGzip(in.reader())
	case fmtBzip2:
		dec = io.NopCloser(bzip2.NewReader(in.reader()))
	case fmtXz:
		dec = newXz(in.reader())
	case fmtZstd:
		dec = newZstd(in.reader())
	}
	s := &streamWalker{x: x, in: in, dec: dec, br: bufio.NewReaderSize(dec, 64<<10)}
	head, err := s.br.Peek(sniffLen)
	if err != nil && err != io.EOF {
		dec.Close()
		return nil, s.fail(err, "")
	}
	if f == fmtTar || namedTar(name) || isTarHeader(head) {
		s.tr = tar.NewReader(s.br)
		return s, nil
	}
	s.one = sanitizeComponent(Stem(name))
	if gz, ok := dec.(*kgzip.Reader); ok && !gz.ModTime.IsZero() {
		s.mtime = gz.ModTime
	}
	return s, nil
}

// streamWalker walks a tar stream, or yields the one file of a compressed
// single file.
type streamWalker struct {
	x    *extraction
	in   *input
	dec  io.ReadCloser
	br   *bufio.Reader
	tr   *tar.Reader
	one  string // the single file's name when not a tar
	n    int    // tar entries read
	done bool
	// mtime of the single file, from the gzip header
	mtime time.Time
}

func (s *streamWalker) single() bool { return s.tr == nil }

func (s *streamWalker) next() (*entry, error) {
	if s.tr == nil {
		if s.done {
			return nil, io.EOF
		}
		s.done = true
		return &entry{name: s.one, kind: kindFile, mode: 0o644, mtime: s.mtime,
			open: func() (io.ReadCloser, error) { return io.NopCloser(s.br), nil }}, nil
	}
	h, err := s.tr.Next()
	if err == io.EOF {
		// Read on to the end of the compressed stream (within reason) so
		// that its trailer checksum is verified too.
		if _, derr := io.CopyN(io.Discard, s.br, 1<<20); derr != nil && derr != io.EOF {
			return nil, derr
		}
		return nil, io.EOF
	}
	if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
		return nil, err
	}
	s.n++
	e := &entry{name: h.Name, mode: fs.FileMode(h.Mode).Perm(), mtime: h.ModTime}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		e.kind = kindFile
		e.open = func() (io.ReadCloser, error) { return io.NopCloser(s.tr), nil }
	case tar.TypeDir:
		e.kind = kindDir
	case tar.TypeSymlink, tar.TypeLink:
		e.kind = kindLink
	default:
		e.kind = kindSpecial // devices, fifos, and what this reader does not know
	}
	return e, nil
}

func (s *streamWalker) fail(err error, entry string) error {
	if c := s.x.common(err, s.in.name, entry); c != nil {
		return c
	}
	switch {
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return &LimitError{Archive: s.in.name, Limit: LimitDictionary, Max: MaxDictionary}
	case errors.Is(err, tar.ErrHeader) && s.n == 0 && sniff(s.in.head(sniffLen)) == fmtUnknown:
		return &Error{Archive: s.in.name, Kind: ErrNotArchive, Detail: "the file is not tar data", Err: err}
	case errors.Is(err, tar.ErrHeader):
		return &Error{Archive: s.in.name, Entry: entry, Kind: ErrCorrupt, Detail: "an invalid tar header", Err: err}
	case errors.Is(err, kgzip.ErrHeader), errors.Is(err, errXzFormat) && entry == "":
		if f := sniff(s.in.head(sniffLen)); f == fmtUnknown {
			return &Error{Archive: s.in.name, Kind: ErrNotArchive, Detail: "no known archive format", Err: err}
		}
	case errors.Is(err, kgzip.ErrChecksum):
		return &Error{Archive: s.in.name, Entry: entry, Kind: ErrCorrupt, Detail: "a checksum does not match", Err: err}
	case strings.Contains(err.Error(), "unsupported"):
		return &Error{Archive: s.in.name, Entry: entry, Kind: ErrUnsupported, Detail: "a feature this bot cannot read", Err: err}
	}
	return corrupt(s.in.name, entry, err)
}

func (s *streamWalker) close() error { return s.dec.Close() }
