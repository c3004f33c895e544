package archive

// A test-only writer of RAR archives with the "store" method, used to make
// the committed fixtures in testdata/rar (no rar binary is packaged in
// Debian main). It follows the published format descriptions: RAR 5.0
// (rarlab.com/technote.htm) and RAR 2.9-4.x (technote.txt of unrar). The
// fixtures are checked independently with 7-Zip, which reads both formats.
//
// Regenerate with: go test ./internal/archive -run TestRARFixtures -update

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"time"
	"unicode/utf16"
)

// rarFile is one entry of a generated archive.
type rarFile struct {
	name string
	data []byte
	dir  bool
	perm uint32 // unix permission bits; 0 means 0644 (files) or 0755 (folders)
	link string // a unix symlink to this target (data unused)
}

// rarSpec describes a generated archive.
type rarSpec struct {
	version   int // 4 or 5
	files     []rarFile
	volume    int // most data bytes per volume; 0 for one volume
	password  string
	oldNaming bool // RAR 4: name.rar, name.r00, … instead of name.partN.rar
	seed      uint64
}

var rarTime = time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)

func (f rarFile) mode() uint32 {
	switch {
	case f.link != "":
		return 0o120777
	case f.dir:
		if f.perm == 0 {
			return 0o40755
		}
		return 0o40000 | f.perm
	case f.perm == 0:
		return 0o100644
	}
	return 0o100000 | f.perm
}

// rarPiece is the part of one file that goes into one volume.
type rarPiece struct {
	f           rarFile
	data        []byte // packed bytes of this piece
	first, last bool
}

// buildRAR returns the volumes of an archive named base ("x" gives x.rar,
// or x.part1.rar, … for several volumes).
func buildRAR(spec rarSpec, base string) (names []string, vols [][]byte) {
	// Encrypt whole files first (store + AES): the packed data is the
	// ciphertext, padded to the block size.
	type packed struct {
		f      rarFile
		data   []byte
		salt   []byte
		iv     []byte
		encKey []byte
	}
	var ps []packed
	for i, f := range spec.files {
		p := packed{f: f, data: f.data}
		if f.link != "" && spec.version == 4 {
			p.data = []byte(f.link) // RAR 4 stores a link's target as its data
		}
		if spec.password != "" && !f.dir && f.link == "" {
			rnd := pseudo(spec.seed+uint64(i)+100, 32)
			if spec.version == 5 {
				p.salt, p.iv = rnd[:16], rnd[16:32]
				p.encKey, _, _ = rar5Keys(spec.password, p.salt, rar5KDF)
			} else {
				p.salt = rnd[:8]
				p.encKey, p.iv = rar4Keys(spec.password, p.salt)
			}
			p.data = cbcEncrypt(p.encKey, p.iv, f.data)
		}
		ps = append(ps, p)
	}
	// Cut into volumes.
	var volPieces [][]rarPiece
	var cur []rarPiece
	room := spec.volume
	for _, p := range ps {
		data, first := p.data, true
		for {
			take := len(data)
			if spec.volume > 0 && take > room {
				take = room
			}
			piece := rarPiece{f: p.f, data: data[:take], first: first, last: take == len(data)}
			cur = append(cur, piece)
			data, first = data[take:], false
			room -= take
			if piece.last {
				break
			}
			volPieces, cur, room = append(volPieces, cur), nil, spec.volume
		}
	}
	volPieces = append(volPieces, cur)

	crcOf := func(f rarFile) uint32 { return crc32.ChecksumIEEE(f.data) }
	for v, pieces := range volPieces {
		last := v == len(volPieces)-1
		multi := len(volPieces) > 1
		var out []byte
		if spec.version == 5 {
			out = append(out, "Rar!\x1a\x07\x01\x00"...)
			var arcFlags []byte
			switch {
			case multi && v > 0:
				arcFlags = vint(vint(nil, 0x1|0x2), uint64(v))
			case multi:
				arcFlags = vint(nil, 0x1)
			default:
				arcFlags = vint(nil, 0)
			}
			out = append(out, rar5Block(1, 0, nil, -1, arcFlags)...)
			for _, pc := range pieces {
				out = append(out, rar5FileBlock(spec, pc, crcOf)...)
			}
			endFlags := uint64(0)
			if !last {
				endFlags = 1
			}
			out = append(out, rar5Block(5, 0, nil, -1, vint(nil, endFlags))...)
		} else {
			out = append(out, "Rar!\x1a\x07\x00"...)
			flags := uint16(0)
			if multi {
				flags |= 0x0001
				if !spec.oldNaming {
					flags |= 0x0010
				}
				if v == 0 {
					flags |= 0x0100
				}
			}
			out = append(out, rar4Block(0x73, flags, make([]byte, 6), nil)...)
			for _, pc := range pieces {
				out = append(out, rar4FileBlock(spec, pc)...)
			}
			endFlags := uint16(0)
			if !last {
				endFlags = 1
			}
			out = append(out, rar4Block(0x7b, endFlags, nil, nil)...)
		}
		vols = append(vols, out)
		switch {
		case !multi:
			names = append(names, base+".rar")
		case spec.version == 4 && spec.oldNaming && v == 0:
			names = append(names, base+".rar")
		case spec.version == 4 && spec.oldNaming:
			names = append(names, base+".r"+twoDigits(v-1))
		default:
			names = append(names, base+".part"+strconv.Itoa(v+1)+".rar")
		}
	}
	return names, vols
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// vint appends a RAR 5 variable-length integer.
func vint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// rar5Block encodes a RAR 5 block: CRC32, header size, type, flags,
// [extra area size], [data size], the type's fields, the extra area.
func rar5Block(htype, flags uint64, extra []byte, dataSize int64, fields []byte) []byte {
	if len(extra) > 0 {
		flags |= 0x0001
	}
	if dataSize >= 0 {
		flags |= 0x0002
	}
	h := vint(nil, htype)
	h = vint(h, flags)
	if len(extra) > 0 {
		h = vint(h, uint64(len(extra)))
	}
	if dataSize >= 0 {
		h = vint(h, uint64(dataSize))
	}
	h = append(h, fields...)
	h = append(h, extra...)
	body := append(vint(nil, uint64(len(h))), h...)
	out := binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(body))
	return append(out, body...)
}

// rar5KDF is the log2 of the PBKDF2 iterations (RAR's default is 15).
const rar5KDF = 15

func rar5FileBlock(spec rarSpec, pc rarPiece, crcOf func(rarFile) uint32) []byte {
	f := pc.f
	flags := uint64(0)
	if !pc.first {
		flags |= 0x0008
	}
	if !pc.last {
		flags |= 0x0010
	}
	fileFlags := uint64(0x0002) // mtime
	if f.dir {
		fileFlags |= 0x0001
	} else {
		fileFlags |= 0x0004 // CRC32
	}
	fields := vint(nil, fileFlags)
	fields = vint(fields, uint64(len(f.data)))
	fields = vint(fields, uint64(f.mode()))
	fields = binary.LittleEndian.AppendUint32(fields, uint32(rarTime.Unix()))
	if !f.dir {
		sum := crcOf(f)
		if !pc.last {
			sum = crc32.ChecksumIEEE(pc.data) // a part's own packed data
		}
		fields = binary.LittleEndian.AppendUint32(fields, sum)
	}
	fields = vint(fields, 0) // compression: version 0, store
	fields = vint(fields, 1) // host OS: Unix
	fields = vint(fields, uint64(len(f.name)))
	fields = append(fields, f.name...)

	var extra []byte
	if spec.password != "" && !f.dir && f.link == "" {
		i := fileIndex(spec, f)
		rnd := pseudo(spec.seed+uint64(i)+100, 32)
		salt, iv := rnd[:16], rnd[16:32]
		_, _, check := rar5Keys(spec.password, salt, rar5KDF)
		rec := vint(nil, 0)   // AES-256
		rec = vint(rec, 0x01) // password check present
		rec = append(rec, rar5KDF)
		rec = append(rec, salt...)
		rec = append(rec, iv...)
		rec = append(rec, check...)
		extra = append(extra, rar5Record(0x01, rec)...)
	}
	if f.link != "" {
		rec := vint(nil, 1) // Unix symlink
		rec = vint(rec, 0)
		rec = vint(rec, uint64(len(f.link)))
		rec = append(rec, f.link...)
		extra = append(extra, rar5Record(0x05, rec)...)
	}
	dataSize := int64(-1)
	if len(pc.data) > 0 {
		dataSize = int64(len(pc.data))
	}
	out := rar5Block(2, flags, extra, dataSize, fields)
	return append(out, pc.data...)
}

func rar5Record(rtype uint64, data []byte) []byte {
	body := append(vint(nil, rtype), data...)
	return append(vint(nil, uint64(len(body))), body...)
}

func fileIndex(spec rarSpec, f rarFile) int {
	for i, g := range spec.files {
		if g.name == f.name {
			return i
		}
	}
	return -1
}

// rar5Keys derives the AES key, the checksum key and the password check
// value of RAR 5: PBKDF2-HMAC-SHA256 over 2^log2 iterations, continued 16
// more iterations for the checksum key and 16 more for the check value,
// which is folded to 8 bytes and followed by 4 bytes of its SHA-256.
func rar5Keys(password string, salt []byte, log2 int) (key, hashKey, check []byte) {
	prf := hmac.New(sha256.New, []byte(password))
	prf.Write(salt)
	prf.Write([]byte{0, 0, 0, 1})
	u := prf.Sum(nil)
	t := append([]byte(nil), u...)
	var out [][]byte
	for _, n := range []int{1<<log2 - 1, 16, 16} {
		for i := 0; i < n; i++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for j := range t {
				t[j] ^= u[j]
			}
		}
		out = append(out, append([]byte(nil), t...))
	}
	fold := make([]byte, 8)
	for i, b := range out[2] {
		fold[i%8] ^= b
	}
	sum := sha256.Sum256(fold)
	return out[0], out[1], append(fold, sum[:4]...)
}

// rar4Keys derives RAR 2.9-4.x's AES-128 key and IV: 2^18 rounds of SHA-1
// over the UTF-16LE password, the salt and a 3-byte round counter; every
// 2^14th round gives one IV byte; the key is the final digest's first 16
// bytes, each 32-bit word byte-swapped.
func rar4Keys(password string, salt []byte) (key, iv []byte) {
	var seed []byte
	for _, u := range utf16.Encode([]rune(password)) {
		seed = append(seed, byte(u), byte(u>>8))
	}
	seed = append(seed, salt...)
	const rounds = 1 << 18
	h := sha1.New()
	iv = make([]byte, 16)
	for i := 0; i < rounds; i++ {
		h.Write(seed)
		h.Write([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		if i%(rounds/16) == 0 {
			iv[i/(rounds/16)] = h.Sum(nil)[19]
		}
	}
	d := h.Sum(nil)
	key = make([]byte, 16)
	for w := 0; w < 4; w++ {
		for b := 0; b < 4; b++ {
			key[w*4+b] = d[w*4+3-b]
		}
	}
	return key, iv
}

func cbcEncrypt(key, iv, data []byte) []byte {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, (len(data)+15)/16*16)
	copy(out, data)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, out)
	return out
}

// rar4Block encodes a RAR 2.9-4.x block: CRC16 (low half of a CRC32 of
// the rest), type, flags, size, [ADD_SIZE when data follows], fields.
func rar4Block(htype byte, flags uint16, fields, data []byte) []byte {
	if data != nil {
		flags |= 0x8000
	}
	size := 7 + len(fields)
	if data != nil {
		size += 4
	}
	h := []byte{htype}
	h = binary.LittleEndian.AppendUint16(h, flags)
	h = binary.LittleEndian.AppendUint16(h, uint16(size))
	if data != nil {
		h = binary.LittleEndian.AppendUint32(h, uint32(len(data)))
	}
	h = append(h, fields...)
	out := binary.LittleEndian.AppendUint16(nil, uint16(crc32.ChecksumIEEE(h)))
	out = append(out, h...)
	return append(out, data...)
}

func rar4FileBlock(spec rarSpec, pc rarPiece) []byte {
	f := pc.f
	flags := uint16(0)
	if !pc.first {
		flags |= 0x01
	}
	if !pc.last {
		flags |= 0x02
	}
	if f.dir {
		flags |= 0xe0
	}
	unpacked := f.data
	if f.link != "" {
		unpacked = []byte(f.link)
	}
	sum := crc32.ChecksumIEEE(unpacked)
	if !pc.last {
		sum = crc32.ChecksumIEEE(pc.data)
	}
	var salt []byte
	encrypted := spec.password != "" && !f.dir && f.link == ""
	if encrypted {
		flags |= 0x04 | 0x0400
		salt = pseudo(spec.seed+uint64(fileIndex(spec, f))+100, 32)[:8]
	}
	ver := byte(20)
	if encrypted {
		ver = 29
	}
	fields := binary.LittleEndian.AppendUint32(nil, uint32(len(unpacked)))
	fields = append(fields, 3) // host OS: Unix
	fields = binary.LittleEndian.AppendUint32(fields, sum)
	date, tm := msdosTime(rarTime)
	fields = binary.LittleEndian.AppendUint32(fields, uint32(date)<<16|uint32(tm))
	fields = append(fields, ver, 0x30) // version to unpack, store
	fields = binary.LittleEndian.AppendUint16(fields, uint16(len(f.name)))
	fields = binary.LittleEndian.AppendUint32(fields, f.mode())
	fields = append(fields, f.name...)
	fields = append(fields, salt...)
	data := pc.data
	if data == nil {
		data = []byte{}
	}
	return rar4Block(0x74, flags, fields, data)
}
