package archive

import (
	"compress/bzip2"
	"hash"
	"hash/crc32"
	"io"

	kflate "github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Zip compression methods this package reads besides store and deflate.
const (
	methodBzip2 = 12
	methodZstd  = 93
	methodXz    = 95
)

// zipMethods are the zip methods Extract reads.
var zipMethods = map[uint16]string{0: "store", 8: "deflate", methodBzip2: "bzip2", methodZstd: "zstd", methodXz: "xz"}

// decompress returns a reader of the data r holds compressed with a zip
// method; ok is false for a method this package does not read.
func decompress(method uint16, r io.Reader) (io.ReadCloser, bool) {
	switch method {
	case 0:
		return io.NopCloser(r), true
	case 8:
		return kflate.NewReader(r), true
	case methodBzip2:
		return io.NopCloser(bzip2.NewReader(r)), true
	case methodZstd:
		return newZstd(r), true
	case methodXz:
		return newXz(r), true
	}
	return nil, false
}

// newZstd decodes zstd in the calling goroutine (no decoder goroutines to
// leak) with a window of at most MaxDictionary.
func newZstd(r io.Reader) io.ReadCloser {
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(MaxDictionary),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		return errReadCloser{err}
	}
	return d.IOReadCloser()
}

// newXz decodes xz after the guard has checked every block's dictionary.
func newXz(r io.Reader) io.ReadCloser {
	x, err := xz.NewReader(newXzGuard(r))
	if err != nil {
		return errReadCloser{err}
	}
	return io.NopCloser(x)
}

func newGzip(r io.Reader) io.ReadCloser {
	g, err := kgzip.NewReader(r)
	if err != nil {
		return errReadCloser{err}
	}
	return g
}

type errReadCloser struct{ err error }

func (e errReadCloser) Read([]byte) (int, error) { return 0, e.err }
func (e errReadCloser) Close() error             { return nil }

// crcReader checks a CRC-32 at the end of a stream.
type crcReader struct {
	r    io.ReadCloser
	h    hash.Hash32
	want uint32
}

func newCRCReader(r io.ReadCloser, want uint32) *crcReader {
	return &crcReader{r: r, h: crc32.NewIEEE(), want: want}
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF && c.h.Sum32() != c.want {
		return n, errChecksum
	}
	return n, err
}

func (c *crcReader) Close() error { return c.r.Close() }
