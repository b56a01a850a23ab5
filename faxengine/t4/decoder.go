package t4

import (
	"fmt"
	"math/bits"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// DefaultMaxRows bounds the rows of a page when DecoderOptions.MaxRows is
// 0: more than any real page (A3 at 400 lines/inch is under 7000 rows)
// while keeping memory bounded on hostile input.
const DefaultMaxRows = 1 << 16

// DecoderOptions control a Decoder.
type DecoderOptions struct {
	Encoding Encoding // MH, MR or RLE
	// MSBFirst means the bytes given to Write carry the first bit in
	// their most significant bit (TIFF FillOrder 1). The default is line
	// order (first bit in bit 0, FillOrder 2). PutBit is not affected.
	MSBFirst bool
	// OnRow, if set, receives each row as it is completed (the slice is
	// only valid during the call), with bad set when the row could not
	// be decoded and is a copy of the previous good row. If nil, rows are
	// collected in the bitmap that Bitmap returns.
	OnRow func(row []byte, bad bool)
	// FirstEOLOptional accepts a first row with no EOL before it, as
	// some TIFF writers make G3 strips (for MR that row must be 1D). Off
	// for the line, where bits before the first EOL are noise.
	FirstEOLOptional bool
	// MaxRows ends the page after that many rows (0: DefaultMaxRows); the
	// caller can tell by Stats().Rows == MaxRows. A TIFF reader sets it to
	// the rows of the strip.
	MaxRows int
}

type decState int

const (
	stSync decState = iota // looking for an EOL
	stTag                  // after an EOL: the MR tag bit comes next
	stLine                 // at the start of a coded row
	stDone                 // end of page
)

// Decoder is a streaming, tolerant T.4 page decoder. Feed it with PutBit
// (bits from a modem) or Write (bytes, e.g. ECM frames or TIFF strips) and
// call Close when the data ends (carrier loss, end of strip). It delivers
// every row it completes; it stops at RTC, at Close or at MaxRows.
//
// For MH and MR a row is accepted only when it has exactly the page width
// and the next EOL follows it; otherwise it is counted as bad, replaced by
// the previous good row, and decoding resumes at the next EOL. In MR, 2D
// rows that follow a bad row are bad too, up to the next 1D row. RLE (TIFF
// Compression 2) has no EOLs: a damaged row ends the page with an error.
//
// A Decoder allocates nothing per row once its buffers have grown.
type Decoder struct {
	width, stride int
	opts          DecoderOptions
	maxRows       int

	buf   []byte // received data, MSB first
	nbits int    // bits in buf
	pos   int    // next bit to decode
	zeros int    // trailing zero bits seen by PutBit

	state    decState
	twoD     bool // the coming row is 2D coded (MR tag 0)
	eols     int  // consecutive EOLs with no row between them
	refBad   bool // MR: the reference row was not decoded
	seenData bool // a row or EOL was decoded (for RLE end detection)
	closed   bool
	err      error

	cur, ref []int32
	row      []byte // scratch row
	last     []byte // the last row delivered
	stats    Stats
	badRun   int
	page     *raster.Bitmap
}

// NewDecoder returns a decoder for a page of the given width.
func NewDecoder(width int, opts DecoderOptions) (*Decoder, error) {
	if width <= 0 || width > MaxWidth {
		return nil, fmt.Errorf("t4: width %d out of range 1..%d", width, MaxWidth)
	}
	switch opts.Encoding {
	case MH, MR, RLE:
	default:
		return nil, fmt.Errorf("t4: decoder does not support %v", opts.Encoding)
	}
	d := &Decoder{width: width, stride: (width + 7) / 8, opts: opts, maxRows: opts.MaxRows}
	if d.maxRows <= 0 {
		d.maxRows = DefaultMaxRows
	}
	d.cur = make([]int32, 0, 256)
	d.ref = make([]int32, 0, 256)
	d.row = make([]byte, d.stride)
	d.last = make([]byte, d.stride)
	d.Reset()
	return d, nil
}

// Reset prepares the decoder for a new page, discarding pending data.
func (d *Decoder) Reset() {
	d.buf = d.buf[:0]
	d.nbits, d.pos, d.zeros = 0, 0, 0
	d.state = stSync
	if d.opts.Encoding == RLE {
		d.state = stLine
	}
	d.twoD, d.eols, d.refBad, d.seenData, d.closed, d.err = false, 0, false, false, false, nil
	d.ref = terminate(d.ref[:0], d.width)
	clear(d.last)
	d.stats, d.badRun = Stats{}, 0
	d.page = nil
	if d.opts.OnRow == nil {
		d.page = &raster.Bitmap{Width: d.width, Stride: d.stride}
	}
}

// PutBit takes the next bit from the line (0 or 1; other values are
// ignored, so modem.EndOfData can be passed through: call Close for it).
// Decoding happens when an EOL completes, so rows come out with the EOL
// that ends them.
func (d *Decoder) PutBit(bit int) {
	if d.state == stDone || bit&^1 != 0 {
		return
	}
	if d.nbits&7 == 0 {
		d.buf = append(d.buf, 0)
	}
	if bit == 1 {
		d.buf[d.nbits>>3] |= 0x80 >> uint(d.nbits&7)
	}
	d.nbits++
	if bit == 0 {
		d.zeros++
		return
	}
	// Also decode now and then without an EOL, so that noise or an RLE
	// page does not pile up.
	if d.zeros >= 11 || d.nbits-d.pos >= 8192 && d.nbits&1023 == 0 {
		d.process()
	}
	d.zeros = 0
}

// Write decodes bytes of coded data. It never fails for MH and MR (errors
// are counted as bad rows); for RLE it returns the error that ended the
// page. Data after the end of the page is ignored.
func (d *Decoder) Write(p []byte) (int, error) {
	if d.state == stDone {
		if d.opts.Encoding == RLE {
			return len(p), d.err
		}
		return len(p), nil
	}
	if d.nbits&7 != 0 { // after PutBit: bit by bit
		for _, b := range p {
			if !d.opts.MSBFirst {
				b = bits.Reverse8(b)
			}
			for i := 7; i >= 0; i-- {
				d.PutBit(int(b>>uint(i)) & 1)
			}
		}
	} else {
		n := len(d.buf)
		d.buf = append(d.buf, p...)
		if !d.opts.MSBFirst {
			ReverseBits(d.buf[n:])
		}
		d.nbits += len(p) * 8
		d.zeros = 0
		d.process()
	}
	if d.opts.Encoding == RLE {
		return len(p), d.err
	}
	return len(p), nil
}

// Close tells the decoder that the data ended: a last row not yet closed
// by an EOL is delivered if it is complete. It returns the error that
// ended the page, if any (nil for MH and MR, which count errors instead).
func (d *Decoder) Close() error {
	if d.state != stDone {
		d.closed = true
		d.process()
		d.state = stDone
	}
	if d.opts.Encoding == RLE {
		return d.err
	}
	return nil
}

// Done reports whether the page has ended (RTC, Close, MaxRows or, for
// RLE, an error).
func (d *Decoder) Done() bool { return d.state == stDone }

// Err returns the error that ended the page early, if any.
func (d *Decoder) Err() error { return d.err }

// Stats returns the row counts so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Bitmap returns the rows collected so far when OnRow is nil (nil
// otherwise). Its resolution is left for the caller to set.
func (d *Decoder) Bitmap() *raster.Bitmap { return d.page }

func (d *Decoder) deliver(row []byte, bad bool) {
	d.stats.Rows++
	if bad {
		d.stats.BadRows++
		d.badRun++
		d.stats.ConsecutiveBadRows = max(d.stats.ConsecutiveBadRows, d.badRun)
	} else {
		d.badRun = 0
	}
	if d.opts.OnRow != nil {
		d.opts.OnRow(row, bad)
	} else {
		d.page.AppendRow(row)
	}
}

func (d *Decoder) good() {
	FillRow(d.row, d.cur, d.width)
	copy(d.last, d.row)
	d.cur, d.ref = d.ref, d.cur
	d.refBad = false
	d.deliver(d.row, false)
}

func (d *Decoder) bad() {
	d.refBad = true
	d.deliver(d.last, true)
}

// process decodes as much of the buffered data as possible.
func (d *Decoder) process() {
	r := BitReader{Data: d.buf, Pos: d.pos, End: d.nbits}
	for d.state != stDone {
		if d.stats.Rows >= d.maxRows {
			d.state = stDone
			break
		}
		switch d.state {
		case stSync:
			if d.opts.FirstEOLOptional && !d.seenData {
				_, err := r.SkipEOL()
				switch err {
				case ErrShort:
					if !d.closed {
						d.pos = r.Pos
						return
					}
				case ErrInvalidCode: // data, not an EOL: a first row without one
					d.seenData = true
					d.twoD = false
					d.state = stLine
					continue
				}
				// An EOL (SkipEOL moved past it) or only zeros up to
				// the end: carry on as usual.
				if err == nil {
					d.seenData = true
					d.eols = 1
					d.state = stTag
					continue
				}
			}
			if !r.FindEOL() {
				d.pos = r.Pos
				if d.closed {
					d.state = stDone
				}
				d.compact()
				return
			}
			d.seenData = true
			d.eols = 1
			d.state = stTag
		case stTag:
			if d.opts.Encoding == MR {
				if r.Pos >= r.End {
					d.pos = r.Pos
					if d.closed {
						d.state = stDone
					}
					d.compact()
					return
				}
				d.twoD = r.Data[r.Pos>>3]&(0x80>>uint(r.Pos&7)) == 0
				r.Pos++
			}
			d.state = stLine
		case stLine:
			if !d.line(&r) {
				d.pos = r.Pos
				d.compact()
				return
			}
		}
	}
	d.pos = r.Pos
	d.compact()
}

// line decodes one row at r.Pos. It returns false if it needs more data
// (r.Pos is then where decoding must resume).
func (d *Decoder) line(r *BitReader) bool {
	start := r.Pos
	if d.opts.Encoding == RLE {
		return d.rleLine(r)
	}
	var err error
	switch {
	case d.twoD && d.refBad:
		err = ErrRowLength // no reference row: skip to the next EOL
	case d.twoD:
		d.cur, err = r.Decode2D(d.cur[:0], d.ref, d.width)
	default:
		d.cur, err = r.Decode1D(d.cur[:0], d.width)
	}
	if err == nil {
		_, err = r.SkipEOL()
		switch err {
		case nil:
			d.good()
			d.eols = 1
			d.state = stTag
			return true
		case ErrShort:
			if d.closed { // data ended after a complete row: TIFF has no RTC
				d.good()
				d.state = stDone
				return true
			}
			r.Pos = start
			return false
		}
		// Something other than an EOL follows the row.
		err = ErrRowLength
	}
	switch err {
	case ErrShort:
		if d.closed {
			if !d.onlyZerosBetween(start, r.End) {
				d.bad()
			}
			d.state = stDone
			return true
		}
		if r.End-start <= MaxRowBits(d.width) {
			r.Pos = start
			return false
		}
		// Far more bits than any row of this width takes, and no
		// EOL: damaged (e.g. endless zero-length runs).
	case ErrEOL:
		if r.Pos == start || d.onlyZerosBetween(start, r.Pos) {
			// An empty line: part of RTC (or stray EOLs).
			if _, err := r.SkipEOL(); err != nil {
				r.Pos = start
				return false
			}
			d.eols++
			if d.eols >= 6 {
				d.state = stDone
			} else {
				d.state = stTag
			}
			return true
		}
		// A short row: the EOL that cut it starts the next line.
		d.bad()
		if _, err := r.SkipEOL(); err != nil {
			r.Pos = start // cannot happen: ErrEOL means 11 zeros are there
			return false
		}
		d.eols = 1
		d.state = stTag
		return true
	}
	// A damaged row: count it now and resynchronise at the next EOL
	// after its start.
	d.bad()
	r.Pos = start
	d.state = stSync
	return true
}

func (d *Decoder) onlyZerosBetween(from, to int) bool {
	r := BitReader{Data: d.buf, Pos: from, End: to}
	for r.Pos < r.End {
		n := min(r.End-r.Pos, 32)
		if r.peek()>>uint(32-n) != 0 {
			return false
		}
		r.Pos += n
	}
	return true
}

// rleLine decodes one TIFF Compression 2 row: MH codes, then fill to the
// next byte boundary.
func (d *Decoder) rleLine(r *BitReader) bool {
	start := r.Pos
	var err error
	d.cur, err = r.Decode1D(d.cur[:0], d.width)
	if err == ErrShort {
		if !d.closed {
			r.Pos = start
			return false
		}
		if d.onlyZerosBetween(start, r.End) {
			d.state = stDone
			return true
		}
	}
	if err != nil {
		d.err = fmt.Errorf("t4: RLE row %d: %w", d.stats.Rows, err)
		d.state = stDone
		return true
	}
	r.Pos = (r.Pos + 7) &^ 7
	d.good()
	return true
}

// compact drops consumed bytes once they are many.
func (d *Decoder) compact() {
	if n := d.pos >> 3; n >= 4096 && n*2 >= len(d.buf) {
		m := copy(d.buf, d.buf[n:])
		d.buf = d.buf[:m]
		d.pos -= n * 8
		d.nbits -= n * 8
	}
}
