package tiff

import (
	"fmt"
	"io"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t6"
)

// ccittDecoder is what t4.Decoder and t6.Decoder have in common.
type ccittDecoder interface {
	Write(p []byte) (int, error)
	Done() bool
	Close() error
	Bitmap() *raster.Bitmap
}

// newCCITT decodes one CCITT-coded strip or tile of rows rows, with
// faxengine/t4 (Compression 2 and 3) or faxengine/t6 (Compression 4). Rows
// come out packed most significant bit first, 1 for a black pel (white runs
// are 0 bits, as in libtiff). Damaged data is an error: a file is not a
// phone line, and nothing good comes of guessing.
func newCCITT(src *io.SectionReader, p *Page, width, rows int) (rowReader, error) {
	var dec ccittDecoder
	var t4dec *t4.Decoder
	var name string
	if p.Compression == CompressionT6 {
		d, err := t6.NewDecoder(width, t6.DecoderOptions{MSBFirst: p.FillOrder == 1, MaxRows: rows})
		if err != nil {
			return nil, fmt.Errorf("T.6: %w", err)
		}
		dec, name = d, "T.6"
	} else {
		opts := t4.DecoderOptions{Encoding: t4.MH, MSBFirst: p.FillOrder == 1, MaxRows: rows}
		switch {
		case p.Compression == CompressionCCITTRLE:
			opts.Encoding = t4.RLE
		case p.T4Options&T4TwoD != 0:
			opts.Encoding = t4.MR
		}
		d, err := t4.NewDecoder(width, opts)
		if err != nil {
			return nil, fmt.Errorf("T.4: %w", err)
		}
		dec, t4dec, name = d, d, "T.4 "+opts.Encoding.String()
	}
	buf := make([]byte, 32<<10)
	for !dec.Done() {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dec.Write(buf[:n]); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
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
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if t4dec != nil {
		if st := t4dec.Stats(); st.BadRows > 0 {
			return nil, fmt.Errorf("%s: %d damaged rows (longest run %d)", name, st.BadRows, st.ConsecutiveBadRows)
		}
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
