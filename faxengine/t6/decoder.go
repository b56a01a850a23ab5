package t6

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
)

// DecoderOptions control a Decoder.
type DecoderOptions struct {
	// MSBFirst means the bytes given to Write carry the first bit in
	// their most significant bit (TIFF FillOrder 1). PutBit is not
	// affected.
	MSBFirst bool
	// OnRow, if set, receives each row as it is completed (the slice is
	// only valid during the call). If nil, rows are collected in the
	// bitmap that Bitmap returns.
	OnRow func(row []byte)
	// MaxRows ends the page after that many rows (0: t4.DefaultMaxRows).
	MaxRows int
}

// ErrTruncated is reported when the data ends inside a row.
var ErrTruncated = errors.New("t6: data ends inside a row")

// Decoder is a streaming MMR page decoder: feed it with Write (or PutBit)
// and call Close when the data ends. The page ends at EOFB, at Close, at
// MaxRows or at the first error, which Err reports (wrapping the t4 error
// that describes it, e.g. t4.ErrInvalidCode); the rows before the error
// are kept. A Decoder allocates nothing per row once its buffers have
// grown.
type Decoder struct {
	width, stride int
	opts          DecoderOptions
	maxRows       int

	buf     []byte
	nbits   int
	pos     int
	lastTry int // nbits at the last decoding attempt from PutBit

	done, closed bool
	err          error
	rows         int
	cur, ref     []int32
	row          []byte
	page         *raster.Bitmap
}

// NewDecoder returns a decoder for a page of the given width.
func NewDecoder(width int, opts DecoderOptions) (*Decoder, error) {
	if width <= 0 || width > t4.MaxWidth {
		return nil, fmt.Errorf("t6: width %d out of range 1..%d", width, t4.MaxWidth)
	}
	d := &Decoder{width: width, stride: (width + 7) / 8, opts: opts, maxRows: opts.MaxRows}
	if d.maxRows <= 0 {
		d.maxRows = t4.DefaultMaxRows
	}
	d.cur = make([]int32, 0, 256)
	d.ref = make([]int32, 0, 256)
	d.row = make([]byte, d.stride)
	d.Reset()
	return d, nil
}

// Reset prepares the decoder for a new page, discarding pending data.
func (d *Decoder) Reset() {
	d.buf = d.buf[:0]
	d.nbits, d.pos, d.lastTry = 0, 0, 0
	d.done, d.closed, d.err, d.rows = false, false, nil, 0
	clear(d.row)
	d.ref = t4.AppendChanges(d.ref[:0], d.row, d.width) // imaginary white row
	d.page = nil
	if d.opts.OnRow == nil {
		d.page = &raster.Bitmap{Width: d.width, Stride: d.stride}
	}
}

// PutBit takes the next bit (0 or 1; other values are ignored).
func (d *Decoder) PutBit(bit int) {
	if d.done || bit&^1 != 0 {
		return
	}
	if d.nbits&7 == 0 {
		d.buf = append(d.buf, 0)
	}
	if bit == 1 {
		d.buf[d.nbits>>3] |= 0x80 >> uint(d.nbits&7)
	}
	d.nbits++
	if d.nbits-d.lastTry >= 1024 {
		d.lastTry = d.nbits
		d.process()
	}
}

// Write decodes bytes of coded data. It returns the error that ended the
// page, if any; data after the end of the page is ignored.
func (d *Decoder) Write(p []byte) (int, error) {
	if d.done {
		return len(p), d.err
	}
	if d.nbits&7 != 0 {
		for _, b := range p {
			if !d.opts.MSBFirst {
				b = bits.Reverse8(b)
			}
			for i := 7; i >= 0; i-- {
				d.PutBit(int(b>>uint(i)) & 1)
			}
		}
		d.process()
	} else {
		n := len(d.buf)
		d.buf = append(d.buf, p...)
		if !d.opts.MSBFirst {
			t4.ReverseBits(d.buf[n:])
		}
		d.nbits += len(p) * 8
		d.process()
	}
	return len(p), d.err
}

// Close tells the decoder that the data ended and returns the error that
// ended the page, if any. A page without EOFB that ends on a row boundary
// (as TIFF G4 strips do) is complete, not an error.
func (d *Decoder) Close() error {
	if !d.done {
		d.closed = true
		d.process()
		d.done = true
	}
	return d.err
}

// Done reports whether the page has ended.
func (d *Decoder) Done() bool { return d.done }

// Err returns the error that ended the page early, if any.
func (d *Decoder) Err() error { return d.err }

// Rows returns the number of rows decoded so far.
func (d *Decoder) Rows() int { return d.rows }

// Bitmap returns the rows collected so far when OnRow is nil.
func (d *Decoder) Bitmap() *raster.Bitmap { return d.page }

func (d *Decoder) zerosFrom(pos int) bool {
	for ; pos < d.nbits; pos++ {
		if d.buf[pos>>3]&(0x80>>uint(pos&7)) != 0 {
			return false
		}
	}
	return true
}

func (d *Decoder) fail(err error) {
	d.err = fmt.Errorf("t6: row %d: %w", d.rows, err)
	d.done = true
}

func (d *Decoder) process() {
	r := t4.BitReader{Data: d.buf, Pos: d.pos, End: d.nbits}
	for !d.done {
		if d.rows >= d.maxRows {
			d.done = true
			break
		}
		start := r.Pos
		var err error
		d.cur, err = r.Decode2D(d.cur[:0], d.ref, d.width)
		switch err {
		case nil:
			t4.FillRow(d.row, d.cur, d.width)
			d.cur, d.ref = d.ref, d.cur
			d.rows++
			if d.opts.OnRow != nil {
				d.opts.OnRow(d.row)
			} else {
				d.page.AppendRow(d.row)
			}
			continue
		case t4.ErrEOL: // EOFB is two EOLs
			if r.Pos != start {
				d.fail(err)
				break
			}
			_, err1 := r.SkipEOL()
			var err2 error
			if err1 == nil {
				_, err2 = r.SkipEOL()
			}
			switch {
			case err1 == nil && err2 == nil:
				d.done = true
			case (err1 == t4.ErrShort || err2 == t4.ErrShort) && !d.closed:
				r.Pos = start
				d.pos = start
				return
			case err1 == nil && d.zerosFrom(r.Pos):
				d.done = true // a single EOL, then the data ended
			default:
				d.fail(t4.ErrInvalidCode)
			}
		case t4.ErrShort:
			if !d.closed && r.End-start > t4.MaxRowBits(d.width) {
				d.fail(t4.ErrRowLength) // no valid row is that long
				break
			}
			if !d.closed {
				d.pos = start
				d.compact()
				return
			}
			if d.zerosFrom(start) {
				d.done = true // end of data on a row boundary
			} else {
				d.fail(ErrTruncated)
			}
		default:
			d.fail(err)
		}
	}
	d.pos = r.Pos
}

func (d *Decoder) compact() {
	if n := d.pos >> 3; n >= 4096 && n*2 >= len(d.buf) {
		m := copy(d.buf, d.buf[n:])
		d.buf = d.buf[:m]
		d.pos -= n * 8
		d.nbits -= n * 8
		d.lastTry -= n * 8
	}
}
