// Package t6 implements the fax coding scheme of ITU-T Recommendation T.6,
// modified modified READ (MMR, "Group 4"): every row coded two-dimensionally
// against the row above (an imaginary white row for the first), no EOLs,
// and EOFB (two EOLs) at the end of the page.
//
// MMR has no way to resynchronise after an error, so T.30 only uses it
// with error correction (ECM). The Decoder here stops at the first damaged
// row and keeps the rows before it. The row coding is package t4's.
package t6

import (
	"errors"
	"fmt"
	"io"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
)

// Options control an Encoder. The zero value gives a page as ECM carries
// it: EOFB at the end, bytes in line order (first bit in bit 0).
type Options struct {
	// NoEOFB leaves out the end-of-facsimile-block code (TIFF allows
	// either; libtiff writes none).
	NoEOFB bool
	// MSBFirst writes the first bit in the most significant bit of each
	// byte: TIFF FillOrder 1.
	MSBFirst bool
}

const flushBytes = 8 << 10

// ErrClosed is returned when an Encoder is used after Close.
var ErrClosed = errors.New("t6: encoder closed")

// Encoder codes rows into an MMR page.
type Encoder struct {
	w        io.Writer
	width    int
	opts     Options
	bw       t4.BitWriter
	cur, ref []int32
	rows     int
	err      error
	closed   bool
}

// NewEncoder returns an encoder for rows of the given width writing to w.
func NewEncoder(w io.Writer, width int, opts Options) (*Encoder, error) {
	if width <= 0 || width > t4.MaxWidth {
		return nil, fmt.Errorf("t6: width %d out of range 1..%d", width, t4.MaxWidth)
	}
	e := &Encoder{
		w: w, width: width, opts: opts,
		cur: make([]int32, 0, 256),
		ref: t4.AppendChanges(make([]int32, 0, 256), make([]byte, (width+7)/8), width),
	}
	e.bw.Grow(flushBytes + 1<<10) // a flush's worth and the row that crosses it
	return e, nil
}

// WriteRow codes one row, packed MSB first with 1 = black, at least
// (width+7)/8 bytes.
func (e *Encoder) WriteRow(row []byte) error {
	if e.err != nil {
		return e.err
	}
	if e.closed {
		return ErrClosed
	}
	if len(row) < (e.width+7)/8 {
		return fmt.Errorf("t6: row of %d bytes is too short for width %d", len(row), e.width)
	}
	e.cur = t4.AppendChanges(e.cur[:0], row, e.width)
	e.bw.Code2D(e.cur, e.ref, e.width)
	e.cur, e.ref = e.ref, e.cur
	e.rows++
	if e.bw.Len() >= flushBytes*8 {
		return e.flush()
	}
	return nil
}

// Encode codes every row of b, whose width must be the encoder's.
func (e *Encoder) Encode(b *raster.Bitmap) error {
	if b.Width != e.width {
		return fmt.Errorf("t6: bitmap width %d, encoder width %d", b.Width, e.width)
	}
	for y := 0; y < b.Height; y++ {
		if err := e.WriteRow(b.Row(y)); err != nil {
			return err
		}
	}
	return nil
}

// Close ends the page with EOFB (unless NoEOFB) and zero bits to the byte
// boundary (at least one after EOFB), and writes out what remains.
func (e *Encoder) Close() error {
	if e.err != nil {
		return e.err
	}
	if e.closed {
		return nil
	}
	e.closed = true
	if !e.opts.NoEOFB {
		e.bw.EOL()
		e.bw.EOL()
		// At least one fill bit follows EOFB: spandsp's decoder only
		// recognises it on the bit after it.
		if e.bw.Len()&7 == 0 {
			e.bw.WriteBits(0, 8)
		}
	}
	e.bw.Align()
	return e.flush()
}

// Rows returns the number of rows coded so far.
func (e *Encoder) Rows() int { return e.rows }

func (e *Encoder) flush() error {
	p := e.bw.Bytes()
	if !e.opts.MSBFirst {
		t4.ReverseBits(p)
	}
	e.bw.Consume()
	if _, err := e.w.Write(p); err != nil {
		e.err = fmt.Errorf("t6: write: %w", err)
		return e.err
	}
	return nil
}

type sliceWriter struct{ p []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.p = append(s.p, p...)
	return len(p), nil
}

// Encode codes a whole page and returns the coded bytes.
func Encode(b *raster.Bitmap, opts Options) ([]byte, error) {
	return AppendEncode(nil, b, opts)
}

// AppendEncode codes a whole page and appends the coded bytes to dst
// (which may be a buffer of an earlier page, dst[:0], to reuse its
// memory).
func AppendEncode(dst []byte, b *raster.Bitmap, opts Options) ([]byte, error) {
	s := sliceWriter{p: dst}
	e, err := NewEncoder(&s, b.Width, opts)
	if err != nil {
		return nil, err
	}
	if err := e.Encode(b); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return s.p, nil
}
