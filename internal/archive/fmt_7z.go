package archive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"strings"

	"github.com/bodgit/sevenzip"
	"github.com/ulikunitz/xz/lzma"
)

// The LZMA and LZMA2 decoders bodgit/sevenzip registers allocate the
// dictionary the archive declares (up to 4 GiB) before reading a byte. These
// replacements refuse more than MaxDictionary, and size the dictionary to
// the stream when the stream is smaller (a decoder never looks back further
// than its output). The registry is global to the process: this package is
// the only user of sevenzip in it.
func init() {
	sevenzip.RegisterDecompressor([]byte{0x03, 0x01, 0x01}, sevenzip.Decompressor(newLZMA))
	sevenzip.RegisterDecompressor([]byte{0x21}, sevenzip.Decompressor(newLZMA2))
}

var errCoderInput = errors.New("7z coder: need exactly one input and its properties")

// dictFor returns the dictionary a stream of size bytes needs with a
// declared dictionary of dict bytes, or a limit error.
func dictFor(dict, size uint64) (int, error) {
	need := min(dict, size)
	if need > MaxDictionary {
		return 0, &LimitError{Limit: LimitDictionary, Max: MaxDictionary}
	}
	return max(int(need), lzma.MinDictCap), nil
}

func newLZMA(props []byte, size uint64, in []io.ReadCloser) (io.ReadCloser, error) {
	if len(in) != 1 || len(props) != 5 {
		return nil, errCoderInput
	}
	if _, err := dictFor(uint64(binary.LittleEndian.Uint32(props[1:])), size); err != nil {
		return nil, err
	}
	// The classic LZMA header is the 5 property bytes and the size.
	head := binary.LittleEndian.AppendUint64(append([]byte(nil), props...), size)
	var src io.Reader = io.MultiReader(bytes.NewReader(head), in[0]) // the decoder buffers it
	if br, ok := in[0].(io.ByteReader); ok {
		src = &prefixReader{head: head, r: in[0], br: br}
	}
	r, err := lzma.ReaderConfig{DictCap: 1<<31 - 1}.NewReader(src)
	if err != nil {
		return nil, err
	}
	return &coderReader{Reader: r, c: in[0]}, nil
}

func newLZMA2(props []byte, size uint64, in []io.ReadCloser) (io.ReadCloser, error) {
	if len(in) != 1 || len(props) != 1 || props[0] > 40 {
		return nil, errCoderInput
	}
	dict := uint64(0xffffffff)
	if p := props[0]; p < 40 {
		dict = uint64(2|p&1) << (p/2 + 11)
	}
	capacity, err := dictFor(dict, size)
	if err != nil {
		return nil, err
	}
	r, err := lzma.Reader2Config{DictCap: capacity}.NewReader2(in[0])
	if err != nil {
		return nil, err
	}
	return &coderReader{Reader: r, c: in[0]}, nil
}

type coderReader struct {
	io.Reader
	c io.Closer
}

func (c *coderReader) Close() error { return c.c.Close() }

// prefixReader reads head, then r, byte by byte too, so the LZMA decoder
// reads r without a buffer of its own.
type prefixReader struct {
	head []byte
	r    io.Reader
	br   io.ByteReader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.r.Read(b)
}

func (p *prefixReader) ReadByte() (byte, error) {
	if len(p.head) > 0 {
		c := p.head[0]
		p.head = p.head[1:]
		return c, nil
	}
	return p.br.ReadByte()
}

// sevenWalker reads a 7z archive with bodgit/sevenzip. The library checks
// no content CRC, so this walker does; it tells a missing or wrong
// password from damage by probing (see encrypted).
type sevenWalker struct {
	x     *extraction
	in    *input
	r     *sevenzip.Reader
	i     int
	probe *bool // cached answer of encrypted
}

func open7z(x *extraction, in *input) (walker, error) {
	w := &sevenWalker{x: x, in: in}
	r, err := sevenzip.NewReaderWithPassword(in, in.size, x.pw)
	if err != nil {
		return nil, w.fail(err, "")
	}
	w.r = r
	return w, nil
}

func (w *sevenWalker) declared() int64 {
	var n uint64
	for _, f := range w.r.File {
		n += f.UncompressedSize
		if n > 1<<62 {
			break
		}
	}
	return int64(min(n, 1<<62))
}

// Windows file attributes that mark links.
const winReparsePoint = 0x400

func (w *sevenWalker) next() (*entry, error) {
	if w.i >= len(w.r.File) {
		return nil, io.EOF
	}
	f := w.r.File[w.i]
	w.i++
	mode := f.Mode()
	e := &entry{name: f.Name, mode: mode.Perm(), mtime: f.Modified}
	switch {
	case mode&fs.ModeSymlink != 0 || f.Attributes&winReparsePoint != 0:
		e.kind = kindLink
	case mode.IsDir():
		e.kind = kindDir
	case mode.Type() != 0:
		e.kind = kindSpecial
	default:
		e.kind = kindFile
		e.open = func() (io.ReadCloser, error) {
			rc, err := f.Open()
			if err != nil || f.UncompressedSize == 0 || f.CRC32 == 0 {
				return rc, err
			}
			return newCRCReader(rc, f.CRC32), nil
		}
	}
	return e, nil
}

func (w *sevenWalker) fail(err error, entry string) error {
	if c := w.x.common(err, w.in.name, entry); c != nil {
		return c
	}
	var re *sevenzip.ReadError
	if errors.As(err, &re) && re.Encrypted || w.encrypted() {
		if w.x.pw == "" {
			return &Error{Archive: w.in.name, Kind: ErrPasswordRequired, Err: err}
		}
		return &Error{Archive: w.in.name, Kind: ErrWrongPassword, Err: err}
	}
	if w.r == nil && sniff(w.in.head(sniffLen)) != fmt7z {
		return &Error{Archive: w.in.name, Kind: ErrNotArchive, Detail: "the file is not 7z data", Err: err}
	}
	if strings.Contains(err.Error(), "unsupported") {
		return &Error{Archive: w.in.name, Entry: entry, Kind: ErrUnsupported, Detail: "a compression method this bot cannot read", Err: err}
	}
	return corrupt(w.in.name, entry, err)
}

// encrypted reports whether the archive is encrypted at all. 7z derives a
// key from any password, the empty one included, so "no password" and
// "wrong password" both just decode garbage. The probe opens the archive
// with two different passwords: an encrypted header fails to parse, and
// encrypted data decodes differently; plain data decodes the same.
func (w *sevenWalker) encrypted() bool {
	if w.probe != nil {
		return *w.probe
	}
	enc := w.probeEncrypted()
	w.probe = &enc
	return enc
}

func (w *sevenWalker) probeEncrypted() bool {
	ra, errA := sevenzip.NewReaderWithPassword(w.in, w.in.size, "\x00probe-a")
	rb, errB := sevenzip.NewReaderWithPassword(w.in, w.in.size, "\x00probe-b")
	var re *sevenzip.ReadError
	if errors.As(errA, &re) && re.Encrypted || errors.As(errB, &re) && re.Encrypted {
		return true
	}
	if errA != nil || errB != nil {
		return false
	}
	for i, f := range ra.File {
		if f.UncompressedSize == 0 || f.FileInfo().IsDir() || i >= len(rb.File) {
			continue
		}
		a, errA := readHead(ra.File[i])
		b, errB := readHead(rb.File[i])
		if errors.As(errA, &re) && re.Encrypted || errors.As(errB, &re) && re.Encrypted {
			return true
		}
		return errA == nil && errB == nil && !bytes.Equal(a, b)
	}
	return false
}

func readHead(f *sevenzip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b := make([]byte, 64)
	n, err := io.ReadFull(rc, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:n], err
}

func (w *sevenWalker) close() error { return nil }
