package archive

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// xzGuard sits between an .xz file and ulikunitz/xz and refuses any block
// whose LZMA2 dictionary exceeds MaxDictionary before the decoder sees its
// header. ulikunitz/xz allocates the dictionary a block header declares (up
// to 4 GiB, ulikunitz/xz#46), so a 100-byte file could make the process
// allocate gigabytes. The guard walks the container (xz-file-format 1.0.4)
// as the bytes pass: stream header, block headers, LZMA2 chunk headers
// (whose sizes let it skip the compressed data undecoded), block padding and
// check, index, footer, stream padding. Only the framing is parsed here;
// checksums and the data are left to the decoder.
type xzGuard struct {
	r       *bufio.Reader
	out     []byte // parsed framing bytes not yet handed on
	pass    int64  // data bytes to hand on unparsed
	state   xzState
	check   int    // size of each block's check field
	block   int64  // bytes of the current block so far (header + data), for its padding
	index   int64  // bytes of the index so far, for its padding
	records uint64 // index records left to parse
	err     error
}

type xzState uint8

const (
	xzStreamHeader xzState = iota
	xzBlockOrIndex
	xzChunk
	xzBlockEnd
	xzIndex
	xzIndexRecords
	xzFooter
	xzStreamPadding
)

var errXzFormat = errors.New("xz: invalid container framing")

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

func newXzGuard(r io.Reader) *xzGuard {
	return &xzGuard{r: bufio.NewReaderSize(r, 64<<10)}
}

func (g *xzGuard) Read(p []byte) (int, error) {
	for len(g.out) == 0 && g.pass == 0 {
		if g.err != nil {
			return 0, g.err
		}
		if g.err = g.step(); g.err != nil {
			// Nothing of a unit that failed its check reaches the decoder.
			g.out, g.pass = nil, 0
		}
	}
	if len(g.out) > 0 {
		n := copy(p, g.out)
		g.out = g.out[n:]
		return n, nil
	}
	if int64(len(p)) > g.pass {
		p = p[:g.pass]
	}
	n, err := g.r.Read(p)
	g.pass -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// take reads n framing bytes and queues them for the decoder.
func (g *xzGuard) take(n int) ([]byte, error) {
	start := len(g.out)
	g.out = append(g.out, make([]byte, n)...)
	if _, err := io.ReadFull(g.r, g.out[start:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return g.out[start:], nil
}

// varint reads an xz multibyte integer.
func (g *xzGuard) varint() (uint64, int, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		b, err := g.take(1)
		if err != nil {
			return 0, 0, err
		}
		v |= uint64(b[0]&0x7f) << (7 * i)
		if b[0]&0x80 == 0 {
			if i > 0 && b[0] == 0 {
				return 0, 0, errXzFormat
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, errXzFormat
}

// step parses the next framing unit.
func (g *xzGuard) step() error {
	switch g.state {
	case xzStreamHeader:
		h, err := g.take(12)
		if err != nil {
			return err
		}
		if !bytes.Equal(h[:6], xzMagic) || h[6] != 0 || h[7]&0xf0 != 0 {
			return errXzFormat
		}
		g.check = xzCheckSize(h[7] & 0x0f)
		g.state = xzBlockOrIndex
	case xzBlockOrIndex:
		b, err := g.r.Peek(1)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if b[0] == 0 {
			g.state = xzIndex
			return nil
		}
		h, err := g.take((int(b[0]) + 1) * 4)
		if err != nil {
			return err
		}
		if err := checkXzBlockHeader(h); err != nil {
			return err
		}
		g.block = int64(len(h))
		g.state = xzChunk
	case xzChunk:
		c, err := g.take(1)
		if err != nil {
			return err
		}
		g.block++
		switch ctl := c[0]; {
		case ctl == 0:
			g.state = xzBlockEnd
		case ctl == 1 || ctl == 2:
			s, err := g.take(2)
			if err != nil {
				return err
			}
			g.pass = int64(s[0])<<8 | int64(s[1]) + 1
			g.block += 2 + g.pass
		case ctl >= 0x80:
			n := 4
			if (ctl>>5)&3 >= 2 {
				n = 5 // a new properties byte follows
			}
			s, err := g.take(n)
			if err != nil {
				return err
			}
			g.pass = int64(s[2])<<8 | int64(s[3]) + 1
			g.block += int64(n) + g.pass
		default:
			return errXzFormat
		}
	case xzBlockEnd:
		pad := (4 - g.block%4) % 4
		b, err := g.take(int(pad) + g.check)
		if err != nil {
			return err
		}
		for _, z := range b[:pad] {
			if z != 0 {
				return errXzFormat
			}
		}
		g.state = xzBlockOrIndex
	case xzIndex:
		if _, err := g.take(1); err != nil { // the 0x00 indicator
			return err
		}
		count, n, err := g.varint()
		if err != nil {
			return err
		}
		g.index, g.records = int64(1+n), count
		g.state = xzIndexRecords
	case xzIndexRecords:
		// Records are parsed a batch per step, so a huge index never
		// piles up in memory.
		for ; g.records > 0 && len(g.out) < 64<<10; g.records-- {
			for k := 0; k < 2; k++ {
				_, n, err := g.varint()
				if err != nil {
					return err
				}
				g.index += int64(n)
			}
		}
		if g.records > 0 {
			return nil
		}
		if _, err := g.take(int((4-g.index%4)%4) + 4); err != nil { // padding, CRC32
			return err
		}
		g.state = xzFooter
	case xzFooter:
		f, err := g.take(12)
		if err != nil {
			return err
		}
		if f[10] != 'Y' || f[11] != 'Z' {
			return errXzFormat
		}
		g.state = xzStreamPadding
	case xzStreamPadding:
		b, err := g.r.Peek(4)
		if len(b) == 0 && err == io.EOF {
			return io.EOF
		}
		if len(b) == 4 && bytes.Equal(b, []byte{0, 0, 0, 0}) {
			_, err := g.take(4)
			return err
		}
		if len(b) >= 1 && b[0] == xzMagic[0] {
			g.state = xzStreamHeader
			return nil
		}
		return errXzFormat
	}
	return nil
}

// checkXzBlockHeader refuses a block whose LZMA2 dictionary is too large.
func checkXzBlockHeader(h []byte) error {
	flags := h[1]
	if flags&0x3c != 0 {
		return errXzFormat
	}
	b := h[2 : len(h)-4]
	uv := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && i < len(b); i++ {
			v |= uint64(b[i]&0x7f) << (7 * i)
			if b[i]&0x80 == 0 {
				b = b[i+1:]
				return v, true
			}
		}
		return 0, false
	}
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			if _, ok := uv(); !ok {
				return errXzFormat
			}
		}
	}
	for i := 0; i <= int(flags&3); i++ {
		id, ok := uv()
		if !ok {
			return errXzFormat
		}
		size, ok := uv()
		if !ok || size > uint64(len(b)) {
			return errXzFormat
		}
		props := b[:size]
		b = b[size:]
		if id == 0x21 { // LZMA2
			if len(props) != 1 || props[0]&0x3f > 40 {
				return errXzFormat
			}
			if v := props[0] & 0x3f; v == 40 || int64(2|v&1)<<(v/2+11) > MaxDictionary {
				return &LimitError{Limit: LimitDictionary, Max: MaxDictionary}
			}
		}
	}
	return nil
}

// xzCheckSize is the size of a block check for a check type.
func xzCheckSize(t byte) int {
	if t == 0 {
		return 0
	}
	return 4 << ((t - 1) / 3)
}
