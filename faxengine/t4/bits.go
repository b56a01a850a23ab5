package t4

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// BitWriter collects code words most significant bit first. It is the
// low-level sink of the row coders; Encoder wraps it for whole pages.
type BitWriter struct {
	buf []byte
	acc uint64 // pending bits, left-aligned
	n   uint   // number of pending bits, < 32 between calls
}

// WriteBits appends the low n bits of code (n <= 32; code has no bits
// above them), first bit first.
func (w *BitWriter) WriteBits(code uint32, n uint) {
	// The masks tell the compiler the shifts are below 64 (for n = 0,
	// code is 0 anyway).
	w.acc |= uint64(code) << ((64 - n) & 63) >> (w.n & 63)
	w.n += n
	if w.n >= 32 {
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(w.acc>>32))
		w.acc <<= 32
		w.n -= 32
	}
}

// Grow makes room for n more bytes, so that writing them allocates
// nothing.
func (w *BitWriter) Grow(n int) { w.buf = slices.Grow(w.buf, n) }

// put writes a generated table entry (length<<16 | code).
func (w *BitWriter) put(e uint32) { w.WriteBits(e&0xffff, uint(e>>16)) }

// Len returns the number of bits written since the last Consume, including
// those not yet in whole bytes.
func (w *BitWriter) Len() int { return len(w.buf)*8 + int(w.n) }

// Align writes zero bits up to the next byte boundary.
func (w *BitWriter) Align() {
	if r := w.n & 7; r != 0 {
		w.WriteBits(0, 8-r)
	}
}

// Zeros writes n zero bits (fill).
func (w *BitWriter) Zeros(n int) {
	for ; n > 32; n -= 32 {
		w.WriteBits(0, 32)
	}
	if n > 0 {
		w.WriteBits(0, uint(n))
	}
}

// EOL writes the end-of-line code word, 000000000001.
func (w *BitWriter) EOL() { w.WriteBits(eolBits, eolLen) }

// Bytes returns the whole bytes written since the last Consume; fewer
// than 8 bits may remain pending.
func (w *BitWriter) Bytes() []byte {
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc>>56))
		w.acc <<= 8
		w.n -= 8
	}
	return w.buf
}

// Consume forgets the bytes returned by Bytes, keeping pending bits.
func (w *BitWriter) Consume() { w.buf = w.buf[:0] }

// BitReader reads code words from Data, most significant bit first, from
// bit position Pos up to bit position End (exclusive). Bytes of Data past
// End/8 are ignored; bits past End in the last byte must be zero.
type BitReader struct {
	Data     []byte
	Pos, End int
}

// peek returns the 32 bits at Pos (zeros past the end of Data).
func (r *BitReader) peek() uint32 {
	i := r.Pos >> 3
	if i+8 <= len(r.Data) {
		return uint32(binary.BigEndian.Uint64(r.Data[i:]) << uint(r.Pos&7) >> 32)
	}
	var v uint64
	for k := 0; k < 8; k++ {
		v <<= 8
		if i+k < len(r.Data) {
			v |= uint64(r.Data[i+k])
		}
	}
	return uint32(v << uint(r.Pos&7) >> 32)
}

// SkipEOL looks at the bits from Pos: if they are at least 11 zeros
// followed by a one (an EOL, after any fill), it moves Pos past them and
// reports the number of bits skipped. It returns 0 and ErrShort if the data
// ends first, or 0 and ErrInvalidCode if a one comes after fewer than 11
// zeros, leaving Pos unchanged in both cases.
func (r *BitReader) SkipEOL() (int, error) {
	p := r.Pos
	for {
		if p >= r.End {
			return 0, ErrShort
		}
		save := r.Pos
		r.Pos = p
		v := r.peek()
		r.Pos = save
		z := bits.LeadingZeros32(v)
		if z == 32 {
			p += 32
			continue
		}
		p += z
		if p >= r.End {
			return 0, ErrShort
		}
		if p-r.Pos < 11 {
			return 0, ErrInvalidCode
		}
		n := p + 1 - r.Pos
		r.Pos = p + 1
		return n, nil
	}
}

// FindEOL moves Pos just past the next EOL (11 or more zeros and a one) and
// reports whether it found one. If not, Pos is left where a partial EOL may
// begin, so that the search can resume when more data has arrived.
func (r *BitReader) FindEOL() bool {
	zeros := 0
	for r.Pos < r.End {
		v := r.peek()
		avail := r.End - r.Pos
		if avail > 32 {
			avail = 32
		} else {
			v &= ^uint32(0) << uint(32-avail) // ignore bits past End
		}
		if v == 0 {
			zeros += avail
			r.Pos += avail
			continue
		}
		z := bits.LeadingZeros32(v)
		zeros += z
		r.Pos += z + 1
		if zeros >= 11 {
			return true
		}
		zeros = 0
	}
	// Leave Pos at the start of the trailing zeros.
	if zeros > 11 {
		zeros = 11
	}
	r.Pos -= zeros
	return false
}
