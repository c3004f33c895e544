package archive

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"unicode/utf8"

	kflate "github.com/klauspost/compress/flate"
	"golang.org/x/text/encoding/charmap"
)

// zipWalker reads a zip (standard library reader, with WinZip AES and
// ZipCrypto decryption added here).
type zipWalker struct {
	x     *extraction
	in    *input
	r     *zip.Reader
	i     int
	cur   *zip.File
	crypt bool // the current entry is encrypted
}

func openZip(x *extraction, in *input, claimed format) (walker, error) {
	if n, ok := zipRecordCount(in); ok && n > uint64(x.bud.lim.MaxEntries-x.bud.entries) {
		// Refused before the reader allocates a File per record.
		return nil, &LimitError{Archive: in.name, Limit: LimitEntries, Max: int64(x.bud.lim.MaxEntries)}
	}
	r, err := zip.NewReader(in, in.size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure names are handled per entry
		if c := x.common(err, in.name, ""); c != nil {
			return nil, c
		}
		if sniff(in.head(sniffLen)) != fmtZip {
			detail := "the file is not zip data"
			if claimed != fmtZip && claimed != fmtUnknown {
				detail = "the file is not " + claimed.String() + " data"
			}
			return nil, &Error{Archive: in.name, Kind: ErrNotArchive, Detail: detail, Err: err}
		}
		return nil, &Error{Archive: in.name, Kind: ErrCorrupt, Detail: "its central directory is missing or damaged", Err: err}
	}
	for m := range zipMethods {
		if m != 0 && m != 8 {
			r.RegisterDecompressor(m, func(rd io.Reader) io.ReadCloser { rc, _ := decompress(m, rd); return rc })
		}
	}
	r.RegisterDecompressor(zip.Deflate, kflate.NewReader)
	return &zipWalker{x: x, in: in, r: r}, nil
}

// zipRecordCount reads the number of central directory records from the
// end of central directory record (zip64 when needed).
func zipRecordCount(in *input) (uint64, bool) {
	const eocdLen, maxComment = 22, 65535
	tail := min(in.size, eocdLen+maxComment+20)
	buf := make([]byte, tail)
	if _, err := in.ReadAt(buf, in.size-tail); err != nil {
		return 0, false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < eocdLen || i+eocdLen+int(binary.LittleEndian.Uint16(buf[i+20:])) != len(buf) {
		return 0, false // no record, or the signature was inside the comment
	}
	n := uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	if n != 0xffff || i < 20 || !bytes.Equal(buf[i-20:i-16], []byte("PK\x06\x07")) {
		return n, true
	}
	off := int64(binary.LittleEndian.Uint64(buf[i-20+8:]))
	rec := make([]byte, 56)
	if off < 0 || off > in.size-56 {
		return 0, false
	}
	if _, err := in.ReadAt(rec, off); err != nil || !bytes.Equal(rec[:4], []byte("PK\x06\x06")) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(rec[32:]), true
}

func (w *zipWalker) declared() int64 {
	var n uint64
	for _, f := range w.r.File {
		n += f.UncompressedSize64
		if n > 1<<62 {
			break
		}
	}
	return int64(min(n, 1<<62))
}

func (w *zipWalker) next() (*entry, error) {
	if w.i >= len(w.r.File) {
		return nil, io.EOF
	}
	f := w.r.File[w.i]
	w.i++
	w.cur = f
	w.crypt = f.Flags&1 != 0
	name := f.Name
	if !utf8.ValidString(name) {
		// Not UTF-8, so the legacy encoding of the zip spec: IBM 437.
		if dec, err := charmap.CodePage437.NewDecoder().String(name); err == nil {
			name = dec
		}
	}
	mode := f.Mode()
	e := &entry{name: name, mode: mode.Perm(), mtime: f.Modified}
	switch {
	case mode&fs.ModeSymlink != 0:
		e.kind = kindLink
	case mode.IsDir() || len(f.Name) > 0 && f.Name[len(f.Name)-1] == '/':
		e.kind = kindDir
	case mode.Type() != 0:
		e.kind = kindSpecial
	default:
		e.kind = kindFile
		e.open = func() (io.ReadCloser, error) { return w.open(f) }
	}
	return e, nil
}

func (w *zipWalker) open(f *zip.File) (io.ReadCloser, error) {
	method := f.Method
	var aesx aesExtra
	if method == methodAES {
		var ok bool
		if aesx, ok = parseAESExtra(f.Extra); !ok {
			return nil, &Error{Kind: ErrCorrupt, Detail: "an AES entry without its AES field"}
		}
		method = aesx.method
	}
	if _, ok := zipMethods[method]; !ok {
		return nil, &Error{Kind: ErrUnsupported, Detail: "zip compression method " + strconv.Itoa(int(method))}
	}
	if !w.crypt && f.Method != methodAES {
		return f.Open() // the reader checks the CRC
	}
	if f.Flags&0x40 != 0 {
		return nil, &Error{Kind: ErrUnsupported, Detail: "PKWARE strong encryption"}
	}
	if w.x.pw == "" {
		return nil, &Error{Kind: ErrPasswordRequired}
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	if f.Method == methodAES {
		dec, err := newAESReader(raw, int64(f.CompressedSize64), w.x.pw, aesx.strength)
		if err != nil {
			return nil, err
		}
		rc, _ := decompress(method, dec)
		if aesx.version == 1 {
			return newCRCReader(rc, f.CRC32), nil
		}
		return rc, nil
	}
	check := byte(f.CRC32 >> 24)
	if f.Flags&0x8 != 0 {
		check = byte(f.ModifiedTime >> 8)
	}
	dec, err := newZipCryptoReader(raw, w.x.pw, check)
	if err != nil {
		return nil, err
	}
	rc, _ := decompress(method, dec)
	return newCRCReader(rc, f.CRC32), nil
}

func (w *zipWalker) fail(err error, entry string) error {
	if c := w.x.common(err, w.in.name, entry); c != nil {
		return c
	}
	var ce kflate.CorruptInputError
	switch {
	case errors.Is(err, errAESVerifier), errors.Is(err, errZipCryptoCheck):
		return &Error{Archive: w.in.name, Kind: ErrWrongPassword, Err: err}
	case w.crypt && w.cur != nil && w.cur.Method != methodAES && (errors.Is(err, errChecksum) || errors.As(err, &ce)):
		// ZipCrypto's check byte lets 1 in 256 wrong passwords through;
		// their output then fails to inflate or to match the CRC.
		return &Error{Archive: w.in.name, Kind: ErrWrongPassword, Detail: "or the archive is damaged", Err: err}
	case errors.Is(err, errAESAuth):
		return &Error{Archive: w.in.name, Entry: entry, Kind: ErrCorrupt, Detail: "the AES authentication code does not match", Err: err}
	case errors.Is(err, zip.ErrChecksum):
		return corrupt(w.in.name, entry, fmt.Errorf("%w: %w", errChecksum, err))
	case errors.Is(err, zip.ErrAlgorithm):
		return &Error{Archive: w.in.name, Entry: entry, Kind: ErrUnsupported, Detail: "a compression method this bot cannot read", Err: err}
	}
	return corrupt(w.in.name, entry, err)
}

func (w *zipWalker) close() error { return nil }
