package archive

import (
	"errors"
	"hash/crc32"
	"io"
)

// Traditional PKWARE encryption ("ZipCrypto", APPNOTE 6.1), read-only: it is
// weak, so Zip never writes it, but many archives still use it. Each entry
// starts with a 12-byte encrypted header whose last byte must equal the high
// byte of the CRC (or of the DOS time when a data descriptor follows); that
// byte rejects 255 of 256 wrong passwords, the CRC catches the rest.

var errZipCryptoCheck = errors.New("wrong password (ZipCrypto check byte)")

type zipCrypto struct{ k0, k1, k2 uint32 }

func newZipCrypto(password []byte) *zipCrypto {
	z := &zipCrypto{k0: 0x12345678, k1: 0x23456789, k2: 0x34567890}
	for _, b := range password {
		z.update(b)
	}
	return z
}

func crcByte(crc uint32, b byte) uint32 {
	return crc32.IEEETable[byte(crc)^b] ^ crc>>8
}

func (z *zipCrypto) update(b byte) {
	z.k0 = crcByte(z.k0, b)
	z.k1 = (z.k1+z.k0&0xff)*134775813 + 1
	z.k2 = crcByte(z.k2, byte(z.k1>>24))
}

func (z *zipCrypto) decrypt(buf []byte) {
	for i, c := range buf {
		t := z.k2 | 2
		p := c ^ byte((t*(t^1))>>8)
		z.update(p)
		buf[i] = p
	}
}

type zipCryptoReader struct {
	r io.Reader
	z *zipCrypto
}

// newZipCryptoReader reads and checks the encryption header of raw and
// returns the decrypting reader of the rest.
func newZipCryptoReader(raw io.Reader, password string, check byte) (io.Reader, error) {
	z := newZipCrypto([]byte(password))
	var head [12]byte
	if _, err := io.ReadFull(raw, head[:]); err != nil {
		return nil, err
	}
	z.decrypt(head[:])
	if head[11] != check {
		return nil, errZipCryptoCheck
	}
	return &zipCryptoReader{r: raw, z: z}, nil
}

func (r *zipCryptoReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.z.decrypt(p[:n])
	return n, err
}
