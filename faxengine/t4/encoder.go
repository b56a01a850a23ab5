package t4

import (
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// Options control an Encoder. The zero value gives an MH page as T.30
// sends it without ECM at 0 ms minimum scan-line time: EOL before every
// row, RTC at the end, bytes in line order (first bit in bit 0).
type Options struct {
	Encoding Encoding // MH, MR or RLE
	// K is the MR parameter: every K-th row (the first, K+1-th, ...) is
	// coded 1D, the others 2D. T.4 uses 2 at standard resolution and 4 at
	// fine and higher resolutions. 0 means 2.
	K int
	// MinRowBits is the minimum length of a coded scan line, from the
	// start of its EOL to the start of the next EOL, filled with zero bits
	// before the EOL when the row is shorter (see MinRowBits).
	MinRowBits int
	// AlignEOL adds fill so that every EOL ends on a byte boundary: TIFF
	// T4Options bit 2 ("EOL padding"). The tag bit of MR then starts the
	// next byte.
	AlignEOL bool
	// NoRTC leaves out the return-to-control sequence at the end of the
	// page: TIFF G3 data (Compression 3, TIFF-F) carries no RTC.
	NoRTC bool
	// MSBFirst writes the first bit in the most significant bit of each
	// byte: TIFF FillOrder 1. The default is line order (FillOrder 2).
	MSBFirst bool
}

// flushBytes is how much coded data an Encoder collects before writing.
const flushBytes = 8 << 10

// Encoder codes rows into a page. Create it with NewEncoder, give it every
// row with WriteRow (or a whole bitmap with Encode) and finish the page
// with Close.
type Encoder struct {
	w        io.Writer
	width    int
	opts     Options
	bw       BitWriter
	base     int // bits handed to w before bw's current contents
	cur, ref []int32
	rows     int
	eolAt    int // bit position of the last EOL, -1 before the first
	err      error
	closed   bool
}

// ErrClosed is returned when an Encoder is used after Close.
var ErrClosed = errors.New("t4: encoder closed")

// NewEncoder returns an encoder for rows of the given width writing the
// coded page to w.
func NewEncoder(w io.Writer, width int, opts Options) (*Encoder, error) {
	if width <= 0 || width > MaxWidth {
		return nil, fmt.Errorf("t4: width %d out of range 1..%d", width, MaxWidth)
	}
	switch opts.Encoding {
	case MH, RLE:
	case MR:
		if opts.K < 0 {
			return nil, fmt.Errorf("t4: MR K=%d must be positive", opts.K)
		}
		if opts.K == 0 {
			opts.K = 2
		}
	default:
		return nil, fmt.Errorf("t4: encoder does not support %v", opts.Encoding)
	}
	if opts.MinRowBits < 0 {
		opts.MinRowBits = 0
	}
	e := &Encoder{
		w: w, width: width, opts: opts, eolAt: -1,
		cur: make([]int32, 0, 256), ref: terminate(make([]int32, 0, 256), width),
	}
	e.bw.Grow(flushBytes + 1<<10) // a flush's worth and the row that crosses it
	return e, nil
}

func (e *Encoder) pos() int { return e.base + e.bw.Len() }

func (e *Encoder) tagLen() int {
	if e.opts.Encoding == MR {
		return 1
	}
	return 0
}

// eol writes fill and an EOL, with the tag bit for MR (tag 1 = next row
// 1D). The fill for the minimum scan-line time applies to an EOL that ends
// a row, not to the EOLs after the first one of RTC.
func (e *Encoder) eol(tag uint32) {
	if e.eolAt >= 0 && e.eolAt != e.pos()-eolLen-e.tagLen() {
		if fill := e.opts.MinRowBits - (e.pos() - e.eolAt); fill > 0 {
			e.bw.Zeros(fill)
		}
	}
	if e.opts.AlignEOL {
		e.bw.Zeros((8 - (e.pos()+eolLen)&7) & 7)
	}
	e.eolAt = e.pos()
	e.bw.EOL()
	if e.opts.Encoding == MR {
		e.bw.WriteBits(tag, 1)
	}
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
		return fmt.Errorf("t4: row of %d bytes is too short for width %d", len(row), e.width)
	}
	e.cur = AppendChanges(e.cur[:0], row, e.width)
	switch e.opts.Encoding {
	case MH:
		e.eol(1)
		e.bw.Code1D(e.cur, e.width)
	case MR:
		if e.rows%e.opts.K == 0 {
			e.eol(1)
			e.bw.Code1D(e.cur, e.width)
		} else {
			e.eol(0)
			e.bw.Code2D(e.cur, e.ref, e.width)
		}
	case RLE:
		e.bw.Code1D(e.cur, e.width)
		e.bw.Align()
	}
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
		return fmt.Errorf("t4: bitmap width %d, encoder width %d", b.Width, e.width)
	}
	for y := 0; y < b.Height; y++ {
		if err := e.WriteRow(b.Row(y)); err != nil {
			return err
		}
	}
	return nil
}

// Close ends the page: RTC (six EOLs, each with tag bit 1 for MR) unless
// NoRTC, zero bits to the byte boundary (at least one after RTC), and a
// final write.
func (e *Encoder) Close() error {
	if e.err != nil {
		return e.err
	}
	if e.closed {
		return nil
	}
	e.closed = true
	if e.opts.Encoding != RLE && !e.opts.NoRTC {
		for i := 0; i < 6; i++ {
			e.eol(1)
		}
		// At least one fill bit follows RTC: spandsp's decoder only
		// recognises the last EOL on the bit after it, and the modem
		// may stop right after the last byte.
		if e.pos()&7 == 0 {
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
		ReverseBits(p)
	}
	e.base += len(p) * 8
	e.bw.Consume()
	if _, err := e.w.Write(p); err != nil {
		e.err = fmt.Errorf("t4: write: %w", err)
		return e.err
	}
	return nil
}

// ReverseBits reverses the bit order of every byte of p in place,
// converting between line order (FillOrder 2) and TIFF's usual FillOrder 1.
func ReverseBits(p []byte) {
	for i, b := range p {
		p[i] = bits.Reverse8(b)
	}
}

// sliceWriter appends to a byte slice.
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
