package origin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Content returns the deterministic pseudo-random content of size bytes for
// seed, the same bytes an Origin serves for File{Size: size, Seed: seed}. Use
// it to compute expected checksums without holding the content in memory.
//
// The generator is counter-based (SplitMix64 of the 8-byte word index), so any
// offset is reachable in constant time: the reader is seekable and also
// implements io.ReaderAt. The byte sequence is part of this package's
// contract; a golden checksum in the tests pins it.
func Content(size int64, seed uint64) io.ReadSeeker {
	if size < 0 {
		size = 0
	}
	return &contentReader{size: size, seed: seed}
}

// contentReader generates the content on demand.
type contentReader struct {
	size int64
	seed uint64
	off  int64
}

// word returns the i-th 8-byte word of the stream for seed: the (i+1)-th
// output of SplitMix64 started at seed.
func word(seed, i uint64) uint64 {
	z := seed + (i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fill writes the content starting at off into p; the caller bounds p to the
// content's size.
func fill(p []byte, seed uint64, off int64) {
	var buf [8]byte
	// Leading partial word.
	if r := off % 8; r != 0 {
		binary.LittleEndian.PutUint64(buf[:], word(seed, uint64(off/8)))
		n := copy(p, buf[r:])
		p = p[n:]
		off += int64(n)
	}
	i := uint64(off / 8)
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, word(seed, i))
		p = p[8:]
		i++
	}
	if len(p) > 0 {
		binary.LittleEndian.PutUint64(buf[:], word(seed, i))
		copy(p, buf[:])
	}
}

// Read implements io.Reader.
func (c *contentReader) Read(p []byte) (int, error) {
	n, err := c.ReadAt(p, c.off)
	c.off += int64(n)
	return n, err
}

// ReadAt implements io.ReaderAt.
func (c *contentReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("reading content: negative offset")
	}
	if off >= c.size {
		return 0, io.EOF
	}
	var err error
	if rest := c.size - off; int64(len(p)) > rest {
		p = p[:rest]
		err = io.EOF
	}
	fill(p, c.seed, off)
	return len(p), err
}

// Seek implements io.Seeker.
func (c *contentReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = c.off + offset
	case io.SeekEnd:
		abs = c.size + offset
	default:
		return 0, fmt.Errorf("seeking content: invalid whence %d", whence)
	}
	if abs < 0 {
		return 0, errors.New("seeking content: negative position")
	}
	c.off = abs
	return abs, nil
}
