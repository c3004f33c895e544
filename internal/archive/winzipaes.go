package archive

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// WinZip AES (AE-1/AE-2), as specified at winzip.com/en/support/aes-encryption:
// the entry's method is 99 and an extra field 0x9901 holds the real method
// and the key strength. The entry data is salt, a 2-byte password verifier,
// the AES-CTR encrypted (compressed) data and a 10-byte HMAC-SHA1 of the
// encrypted data. Keys come from PBKDF2-HMAC-SHA1 with 1000 iterations. The
// CTR counter is a little-endian 128-bit integer starting at 1 (Brian
// Gladman's fcrypt, which WinZip and 7-Zip use), unlike crypto/cipher's
// big-endian CTR, so the keystream is made here block by block.
const (
	methodAES     = 99
	aesExtraID    = 0x9901
	aesIterations = 1000
	aesMACLen     = 10
	aesVerifyLen  = 2
	aesStrength   = 3 // AES-256, the only strength this package writes
)

var (
	errAESVerifier = errors.New("wrong password (AES verifier)")
	errAESAuth     = errors.New("AES authentication code mismatch")
)

// aesExtra is the content of a 0x9901 extra field.
type aesExtra struct {
	version  uint16 // 1 = AE-1 (CRC checked), 2 = AE-2 (CRC not stored)
	strength byte   // 1, 2, 3 = AES-128, -192, -256
	method   uint16 // the real compression method
}

// parseAESExtra finds the 0x9901 field in a zip extra area.
func parseAESExtra(extra []byte) (aesExtra, bool) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return aesExtra{}, false
		}
		if id == aesExtraID && size >= 7 && extra[2] == 'A' && extra[3] == 'E' {
			return aesExtra{
				version:  binary.LittleEndian.Uint16(extra),
				strength: extra[4],
				method:   binary.LittleEndian.Uint16(extra[5:]),
			}, true
		}
		extra = extra[size:]
	}
	return aesExtra{}, false
}

// aesExtraField encodes a 0x9901 field: AE-2, AES-256, the real method.
func aesExtraField(method uint16) []byte {
	b := make([]byte, 11)
	binary.LittleEndian.PutUint16(b, aesExtraID)
	binary.LittleEndian.PutUint16(b[2:], 7)
	binary.LittleEndian.PutUint16(b[4:], 2)
	b[6], b[7] = 'A', 'E'
	b[8] = aesStrength
	binary.LittleEndian.PutUint16(b[9:], method)
	return b
}

func aesKeyLen(strength byte) (int, error) {
	switch strength {
	case 1:
		return 16, nil
	case 2:
		return 24, nil
	case 3:
		return 32, nil
	}
	return 0, fmt.Errorf("AES strength %d", strength)
}

// aesKeys derives the encryption key, the HMAC key and the verifier.
func aesKeys(password string, salt []byte, keyLen int) (enc, mac, verifier []byte, err error) {
	dk, err := pbkdf2.Key(sha1.New, password, salt, aesIterations, 2*keyLen+aesVerifyLen)
	if err != nil {
		return nil, nil, nil, err
	}
	return dk[:keyLen], dk[keyLen : 2*keyLen], dk[2*keyLen:], nil
}

// ctrLE is AES in counter mode with WinZip's little-endian counter.
type ctrLE struct {
	block cipher.Block
	ctr   [aes.BlockSize]byte
	ks    [aes.BlockSize * 64]byte
	used  int // bytes of ks consumed
}

func newCtrLE(key []byte) (*ctrLE, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	c := &ctrLE{block: b}
	c.used = len(c.ks)
	return c, nil
}

func (c *ctrLE) refill() {
	for i := 0; i < len(c.ks); i += aes.BlockSize {
		for j := range c.ctr { // increment, little-endian
			c.ctr[j]++
			if c.ctr[j] != 0 {
				break
			}
		}
		c.block.Encrypt(c.ks[i:i+aes.BlockSize], c.ctr[:])
	}
	c.used = 0
}

// xor applies the keystream to src into dst (which may be src).
func (c *ctrLE) xor(dst, src []byte) {
	for len(src) > 0 {
		if c.used == len(c.ks) {
			c.refill()
		}
		n := subtle.XORBytes(dst, src, c.ks[c.used:])
		c.used += n
		dst, src = dst[n:], src[n:]
	}
}

// aesReader decrypts one entry's data: raw is the entry's whole raw data
// (salt, verifier, ciphertext, code), size its length.
type aesReader struct {
	raw  io.Reader
	data io.Reader // the ciphertext part of raw
	ctr  *ctrLE
	mac  hash.Hash
	done bool
}

func newAESReader(raw io.Reader, size int64, password string, strength byte) (*aesReader, error) {
	keyLen, err := aesKeyLen(strength)
	if err != nil {
		return nil, err
	}
	saltLen := keyLen / 2
	head := make([]byte, saltLen+aesVerifyLen)
	if size < int64(len(head)+aesMACLen) {
		return nil, io.ErrUnexpectedEOF
	}
	if _, err := io.ReadFull(raw, head); err != nil {
		return nil, err
	}
	enc, macKey, verifier, err := aesKeys(password, head[:saltLen], keyLen)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(verifier, head[saltLen:]) != 1 {
		return nil, errAESVerifier
	}
	ctr, err := newCtrLE(enc)
	if err != nil {
		return nil, err
	}
	return &aesReader{raw: raw, data: io.LimitReader(raw, size-int64(len(head))-aesMACLen), ctr: ctr,
		mac: hmac.New(sha1.New, macKey)}, nil
}

func (r *aesReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	n, err := r.data.Read(p)
	r.mac.Write(p[:n])
	r.ctr.xor(p[:n], p[:n])
	if err == io.EOF {
		r.done = true
		code := make([]byte, aesMACLen)
		if _, cerr := io.ReadFull(r.raw, code); cerr != nil {
			return n, io.ErrUnexpectedEOF
		}
		if !hmac.Equal(code, r.mac.Sum(nil)[:aesMACLen]) {
			return n, errAESAuth
		}
	}
	return n, err
}

// aesWriter encrypts an entry's data for Zip: it writes salt and verifier
// first, then the encrypted stream; Close appends the authentication code.
type aesWriter struct {
	w   io.Writer
	ctr *ctrLE
	mac hash.Hash
	buf []byte
	n   int64 // bytes written to w
}

func newAESWriter(w io.Writer, password string, salt []byte) (*aesWriter, error) {
	enc, macKey, verifier, err := aesKeys(password, salt, len(salt)*2)
	if err != nil {
		return nil, err
	}
	ctr, err := newCtrLE(enc)
	if err != nil {
		return nil, err
	}
	aw := &aesWriter{w: w, ctr: ctr, mac: hmac.New(sha1.New, macKey), buf: make([]byte, 64<<10)}
	if err := aw.raw(salt); err != nil {
		return nil, err
	}
	if err := aw.raw(verifier); err != nil {
		return nil, err
	}
	return aw, nil
}

func (a *aesWriter) raw(b []byte) error {
	n, err := a.w.Write(b)
	a.n += int64(n)
	return err
}

func (a *aesWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), len(a.buf))]
		out := a.buf[:len(chunk)]
		a.ctr.xor(out, chunk)
		a.mac.Write(out)
		if err := a.raw(out); err != nil {
			return done, err
		}
		done += len(chunk)
		p = p[len(chunk):]
	}
	return done, nil
}

// Close writes the authentication code; it does not close w.
func (a *aesWriter) Close() error {
	return a.raw(a.mac.Sum(nil)[:aesMACLen])
}
