package t4

import (
	"encoding/binary"
	"math/bits"
)

// A row is coded from its changing elements: the positions where the
// colour differs from the pixel to the left, the imaginary pixel left of
// the row being white. A changing-element list holds them in increasing
// order, all below the width, followed by Sentinels copies of the width,
// so that the 2D coders can look past the last change without bounds
// checks. AppendChanges, Decode1D and Decode2D return such lists.

// Sentinels is the number of width entries ending a changing-element list.
const Sentinels = 3

func terminate(dst []int32, width int) []int32 {
	w := int32(width)
	return append(dst, w, w, w)
}

// addChange appends x (>= the last change) to a list under construction;
// a change at the same position as the last one cancels it (a zero-length
// run inside a row).
func addChange(dst []int32, x int) []int32 {
	if n := len(dst); n > 0 && int(dst[n-1]) == x {
		return dst[:n-1]
	}
	return append(dst, int32(x))
}

// AppendChanges appends the changing elements of a packed row (MSB first,
// 1 = black, at least (width+7)/8 bytes) to dst and terminates the list.
// Bits past width are ignored.
func AppendChanges(dst []int32, row []byte, width int) []int32 {
	nbytes := (width + 7) >> 3
	row = row[:nbytes]
	var last uint64 // the pel before the current word (1 = black)
	for i := 0; i < nbytes; i += 8 {
		var w uint64
		if i+8 <= nbytes {
			w = binary.BigEndian.Uint64(row[i:])
		} else {
			for k := 0; k < 8; k++ {
				w <<= 8
				if i+k < nbytes {
					w |= uint64(row[i+k])
				}
			}
		}
		// A one bit wherever a pel differs from the pel before it.
		t := w ^ (w>>1 | last<<63)
		last = w & 1
		for t != 0 {
			z := bits.LeadingZeros64(t)
			x := i<<3 + z
			if x >= width {
				return terminate(dst, width)
			}
			dst = append(dst, int32(x))
			t ^= 1 << 63 >> uint(z)
		}
	}
	return terminate(dst, width)
}

// FillRow writes the pixels of a changing-element list into row (at least
// (width+7)/8 bytes), clearing it first.
func FillRow(row []byte, changes []int32, width int) {
	nbytes := (width + 7) >> 3
	row = row[:nbytes]
	clear(row)
	n := 0
	for n < len(changes) && int(changes[n]) < width {
		n++
	}
	if n < 24 {
		// Few runs: fill them one by one.
		for k := 0; k < n; k += 2 {
			x1 := width
			if k+1 < n {
				x1 = int(changes[k+1])
			}
			fillBlack(row, int(changes[k]), x1)
		}
		return
	}
	// Many runs: mark each change, then turn the marks into pixels with a
	// prefix XOR over 64-pel words (a pel is black when an odd number of
	// changes lie at or before it).
	for _, c := range changes[:n] {
		row[c>>3] ^= 0x80 >> uint(c&7)
	}
	var carry uint64 // all ones when the previous pel was black
	i := 0
	for ; i+8 <= nbytes; i += 8 {
		w := binary.BigEndian.Uint64(row[i:])
		w ^= w >> 1
		w ^= w >> 2
		w ^= w >> 4
		w ^= w >> 8
		w ^= w >> 16
		w ^= w >> 32
		w ^= carry
		binary.BigEndian.PutUint64(row[i:], w)
		carry = -(w & 1)
	}
	cb := byte(carry)
	for ; i < nbytes; i++ {
		b := row[i]
		b ^= b >> 1
		b ^= b >> 2
		b ^= b >> 4
		b ^= cb
		row[i] = b
		cb = -(b & 1)
	}
	if r := width & 7; r != 0 { // a row ending black leaves the pad bits set
		row[nbytes-1] &= byte(0xff << uint(8-r))
	}
}

// fillBlack sets bits [x0, x1) of row.
func fillBlack(row []byte, x0, x1 int) {
	if x0 >= x1 {
		return
	}
	i0, i1 := x0>>3, (x1-1)>>3
	m0 := byte(0xff >> uint(x0&7))
	m1 := byte(0xff << uint(7-(x1-1)&7))
	if i0 == i1 {
		row[i0] |= m0 & m1
		return
	}
	row[i1] |= m1
	row[i0] |= m0
	for i := i0 + 1; i < i1; i++ {
		row[i] = 0xff
	}
}

// makeup2560 is the index of the 2560 make-up code in the make-up tables.
const makeup2560 = 2560/64 - 1

// run writes the code words for a run of one colour (T.4 §4.1.1: runs of
// 2624 and more start with make-up codes of 2560).
func (w *BitWriter) run(n int, white bool) {
	term, makeup := blackTerm[:], blackMakeup[:]
	if white {
		term, makeup = whiteTerm[:], whiteMakeup[:]
	}
	for n >= 2624 {
		w.put(makeup[makeup2560])
		n -= 2560
	}
	if n >= 64 {
		w.put(makeup[n>>6-1])
		n &= 63
	}
	w.put(term[n])
}

// Code1D writes a row as MH code words (no EOL), from its changing
// elements.
func (w *BitWriter) Code1D(changes []int32, width int) {
	prev, white := 0, true
	for _, c := range changes {
		x := int(c)
		if x >= width {
			break
		}
		if n := x - prev; n < 64 { // the common case: one terminating code
			e := blackTerm[n&63]
			if white {
				e = whiteTerm[n&63]
			}
			w.WriteBits(e&0xffff, uint(e>>16))
		} else {
			w.run(n, white)
		}
		prev, white = x, !white
	}
	w.run(width-prev, white)
}

// vertCode[d+3] is the code for vertical mode with a1 - b1 = d.
var vertCode = [7]uint32{
	7<<16 | 0b0000010, // VL3
	6<<16 | 0b000010,  // VL2
	3<<16 | 0b010,     // VL1
	1<<16 | 0b1,       // V0
	3<<16 | 0b011,     // VR1
	6<<16 | 0b000011,  // VR2
	7<<16 | 0b0000011, // VR3
}

const (
	passCode  = 4<<16 | 0b0001
	horizCode = 3<<16 | 0b001
)

// Code2D writes a row as 2D (READ) code words against the reference row
// ref, both given as terminated changing-element lists (T.4 §4.2.1.3).
func (w *BitWriter) Code2D(cur, ref []int32, width int) {
	a0, white := -1, true
	ci, ri := 0, 0
	for a0 < width {
		for int(cur[ci]) <= a0 {
			ci++
		}
		a1 := int(cur[ci])
		for int(ref[ri]) <= a0 {
			ri++
		}
		j := ri
		if (j&1 == 1) == white {
			j++ // b1 has the colour opposite to a0's
		}
		b1, b2 := int(ref[j]), int(ref[j+1])
		if b2 < a1 {
			w.put(passCode)
			a0 = b2
			continue
		}
		if d := a1 - b1; d >= -3 && d <= 3 {
			w.put(vertCode[d+3])
			a0, white = a1, !white
			continue
		}
		a2 := int(cur[ci+1])
		w.put(horizCode)
		w.run(a1-max(a0, 0), white)
		w.run(a2-a1, !white)
		a0 = a2
	}
}

// runEntry decodes the code word for a run of one colour at Pos: the
// table entry, or an error. It does not move Pos.
func (r *BitReader) runEntry(white bool) (uint16, error) {
	v := r.peek()
	var e uint16
	idx := 12
	if white {
		e = whiteDecode[v>>20]
	} else {
		e = blackDecode[v>>19]
		idx = 13
	}
	n := int(e & 15)
	avail := r.End - r.Pos
	if n != 0 {
		if n > avail {
			return 0, ErrShort
		}
		return e, nil
	}
	if e == eolEntry {
		if avail < 11 {
			return 0, ErrShort
		}
		return 0, ErrEOL
	}
	if avail < idx {
		return 0, ErrShort
	}
	return 0, ErrInvalidCode
}

// readRun decodes one run (make-up codes and a terminating code).
func (r *BitReader) readRun(white bool, limit int) (int, error) {
	run := 0
	for {
		e, err := r.runEntry(white)
		if err != nil {
			return 0, err
		}
		r.Pos += int(e & 15)
		rl := int(e >> 4)
		run += rl
		if rl < 64 {
			return run, nil
		}
		if run > limit {
			return 0, ErrRowLength
		}
	}
}

// Decode1D decodes one MH-coded row at Pos, appending its changing
// elements to dst (normally dst[:0] of a reused slice) and returning the
// terminated list. On error Pos is left at the offending code word (at
// the EOL for ErrEOL).
func (r *BitReader) Decode1D(dst []int32, width int) ([]int32, error) {
	a0, white := 0, true
	for {
		// The common case, a run with a terminating code only, is
		// decoded inline.
		v := r.peek()
		var e uint16
		if white {
			e = whiteDecode[v>>20]
		} else {
			e = blackDecode[v>>19]
		}
		n := int(e & 15)
		var run int
		if n != 0 && e < 64<<4 && n <= r.End-r.Pos {
			r.Pos += n
			run = int(e >> 4)
		} else {
			var err error
			if run, err = r.readRun(white, width); err != nil {
				return dst, err
			}
		}
		a0 += run
		if a0 >= width {
			if a0 > width {
				return dst, ErrRowLength
			}
			return terminate(dst, width), nil
		}
		dst = addChange(dst, a0)
		white = !white
	}
}

// vertDelta[mode] is a1 - b1 for the vertical modes.
var vertDelta = [...]int{modeV0: 0, modeVR1: 1, modeVR2: 2, modeVR3: 3, modeVL1: -1, modeVL2: -2, modeVL3: -3}

// Decode2D decodes one 2D-coded row at Pos against the reference row ref
// (a terminated changing-element list), appending the row's changing
// elements to dst and returning the terminated list. dst must not share
// memory with ref. On error Pos is left at the offending code word.
func (r *BitReader) Decode2D(dst, ref []int32, width int) ([]int32, error) {
	if len(ref) < Sentinels || int(ref[len(ref)-1]) != width {
		return dst, ErrRowLength // not a terminated list for this width
	}
	a0, white := -1, true
	ri := 0
	for a0 < width {
		for int(ref[ri]) <= a0 {
			ri++
		}
		j := ri
		if (j&1 == 1) == white {
			j++
		}
		b1 := int(ref[j])
		v := r.peek()
		e := modeDecode[v>>25]
		n := int(e & 15)
		if n == 0 {
			avail := r.End - r.Pos
			if v>>21 == 0 { // 11 zeros
				if avail < 11 {
					return dst, ErrShort
				}
				return dst, ErrEOL
			}
			if avail < 11 {
				return dst, ErrShort
			}
			return dst, ErrInvalidCode
		}
		if n > r.End-r.Pos {
			return dst, ErrShort
		}
		switch mode := int(e >> 4); mode {
		case modeV0, modeVR1, modeVR2, modeVR3, modeVL1, modeVL2, modeVL3:
			a1 := b1 + vertDelta[mode]
			if a1 <= a0 || a1 > width {
				return dst, ErrRowLength
			}
			r.Pos += n
			if a1 < width {
				dst = append(dst, int32(a1))
			}
			a0, white = a1, !white
		case modePass:
			r.Pos += n
			a0 = int(ref[j+1])
		case modeHoriz:
			r.Pos += n
			r1, err := r.readRun(white, width)
			if err == nil {
				var r2 int
				r2, err = r.readRun(!white, width)
				a1 := max(a0, 0) + r1
				a2 := a1 + r2
				if err == nil && a2 > width {
					err = ErrRowLength
				}
				if err == nil {
					if a1 < width {
						dst = addChange(dst, a1)
					}
					if a2 < width {
						dst = addChange(dst, a2)
					}
					a0 = a2
				}
			}
			if err != nil {
				return dst, err
			}
		default: // modeExt
			if v>>22 == 0b1111 { // 0000001111: uncompressed mode
				return dst, ErrUncompressed
			}
			return dst, ErrInvalidCode
		}
	}
	return terminate(dst, width), nil
}
