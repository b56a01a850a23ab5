package t30

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t6"
)

// StdCodec is the Codec of packages t4 (MH, MR) and t6 (MMR), in line bit
// order. MR uses K = 2 at standard resolution and 4 above, as T.4 asks.
type StdCodec struct{}

// Encode implements Codec.
func (StdCodec) Encode(img *raster.Bitmap, enc Encoding, minRowBits int) ([]byte, error) {
	switch enc {
	case MH, MR:
		o := t4.Options{Encoding: t4.MH, MinRowBits: minRowBits}
		if enc == MR {
			o.Encoding, o.K = t4.MR, 4
			if img.YRes > 0 && img.YRes < 150 {
				o.K = 2
			}
		}
		b, err := t4.Encode(img, o)
		if err != nil {
			return nil, fmt.Errorf("t30: encode %v: %w", enc, err)
		}
		return b, nil
	case MMR:
		b, err := t6.Encode(img, t6.Options{})
		if err != nil {
			return nil, fmt.Errorf("t30: encode MMR: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("t30: encode: unknown encoding %d", enc)
}

// Decode implements Codec.
func (c StdCodec) Decode(data []byte, enc Encoding, width int) (*raster.Bitmap, Quality, error) {
	return c.DecodeInto(nil, data, enc, width)
}

// DecodeInto implements PageDecoder: it decodes into dst's pixel memory
// when dst is not nil.
func (StdCodec) DecodeInto(dst *raster.Bitmap, data []byte, enc Encoding, width int) (*raster.Bitmap, Quality, error) {
	switch enc {
	case MH, MR:
		img := newPage(dst, width)
		o := t4.DecoderOptions{Encoding: t4.MH, OnRow: func(row []byte, _ bool) { img.AppendRow(row) }}
		if enc == MR {
			o.Encoding = t4.MR
		}
		d, err := t4.NewDecoder(width, o)
		if err != nil {
			return nil, Quality{}, fmt.Errorf("t30: decode %v: %w", enc, err)
		}
		d.Write(data)
		d.Close()
		st := d.Stats()
		q := Quality{Rows: st.Rows, BadRows: st.BadRows, MaxConsecutive: st.ConsecutiveBadRows}
		if st.Rows == 0 {
			return nil, q, fmt.Errorf("t30: decode %v: no rows", enc)
		}
		return img, q, nil
	case MMR:
		img := newPage(dst, width)
		d, err := t6.NewDecoder(width, t6.DecoderOptions{OnRow: img.AppendRow})
		if err != nil {
			return nil, Quality{}, fmt.Errorf("t30: decode MMR: %w", err)
		}
		d.Write(data)
		err = d.Close()
		q := Quality{Rows: d.Rows()}
		if q.Rows == 0 {
			return nil, q, fmt.Errorf("t30: decode MMR: no rows: %v", err)
		}
		if err != nil {
			// MMR cannot resynchronise: count the page as one bad row more
			// than it has, so the judgement sees the damage.
			q.BadRows, q.MaxConsecutive = 1, 1
		}
		return img, q, nil
	}
	return nil, Quality{}, fmt.Errorf("t30: decode: unknown encoding %d", enc)
}

// newPage returns an empty bitmap of the given width on dst's memory, or
// with room for the rows of a typical page, so decoding does not grow it
// again and again.
func newPage(dst *raster.Bitmap, width int) *raster.Bitmap {
	img := raster.New(width, 0)
	if dst != nil && dst.Pix != nil {
		img.Pix = dst.Pix[:0]
	} else {
		img.Pix = make([]byte, 0, img.Stride*2400)
	}
	return img
}
