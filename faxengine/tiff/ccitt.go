package tiff

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/image/ccitt"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
)

// newCCITT decodes one CCITT-coded strip or tile of rows rows. Rows come out
// packed most significant bit first, 1 for a black pel (white runs are 0
// bits, as in libtiff).
func newCCITT(src *io.SectionReader, p *Page, width, rows int) (rowReader, error) {
	if p.Compression == CompressionT6 {
		order := ccitt.MSB
		if p.FillOrder == 2 {
			order = ccitt.LSB
		}
		return &readerRows{r: ccitt.NewReader(src, order, ccitt.Group4, width, rows, &ccitt.Options{Invert: true})}, nil
	}
	opts := t4.DecoderOptions{Encoding: t4.MH, MSBFirst: p.FillOrder == 1, MaxRows: rows}
	switch {
	case p.Compression == CompressionCCITTRLE:
		opts.Encoding = t4.RLE
	case p.T4Options&T4TwoD != 0:
		opts.Encoding = t4.MR
	}
	dec, err := t4.NewDecoder(width, opts)
	if err != nil {
		return nil, fmt.Errorf("T.4: %w", err)
	}
	buf := make([]byte, 32<<10)
	for !dec.Done() {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dec.Write(buf[:n]); err != nil {
				return nil, fmt.Errorf("T.4 (%v): %w", opts.Encoding, err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	if err := dec.Close(); err != nil {
		return nil, fmt.Errorf("T.4 (%v): %w", opts.Encoding, err)
	}
	st := dec.Stats()
	if st.BadRows > 0 {
		return nil, fmt.Errorf("T.4 (%v): %d damaged rows (longest run %d)", opts.Encoding, st.BadRows, st.ConsecutiveBadRows)
	}
	return &bitmapRows{b: dec.Bitmap()}, nil
}

// bitmapRows yields the rows of a decoded bitmap, then reports truncation.
type bitmapRows struct {
	b *raster.Bitmap
	y int
}

func (br *bitmapRows) readRow(dst []byte) error {
	if br.b == nil || br.y >= br.b.Height {
		return errTruncated
	}
	copy(dst, br.b.Row(br.y))
	br.y++
	return nil
}

type readerRows struct{ r io.Reader }

func (rr *readerRows) readRow(dst []byte) error {
	if _, err := io.ReadFull(rr.r, dst); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errTruncated
		}
		return err
	}
	return nil
}
