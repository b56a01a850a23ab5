package tiff

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t6"
)

// encode codes a page for the Writer and returns the strip (appended to
// dst), its Compression and its T4Options.
func (w *Writer) encode(dst []byte, bm *raster.Bitmap, yres float64) ([]byte, Compression, uint32, error) {
	switch w.opts.Coding {
	case Uncompressed:
		n := (bm.Width + 7) / 8
		out := dst
		for y := 0; y < bm.Height; y++ {
			out = append(out, bm.Row(y)[:n]...)
			if r := bm.Width % 8; r != 0 {
				out[len(out)-1] &= byte(0xff << uint(8-r))
			}
		}
		if w.opts.FillOrder == 2 {
			tail := out[len(dst):]
			for i, b := range tail {
				tail[i] = bits.Reverse8(b)
			}
		}
		return out, CompressionNone, 0, nil
	case MH, MR:
		opts := t4.Options{Encoding: t4.MH, AlignEOL: w.opts.ByteAlignEOL, NoRTC: true, MSBFirst: w.opts.FillOrder == 1}
		var t4opt uint32
		if w.opts.ByteAlignEOL {
			t4opt |= T4FillBits
		}
		if w.opts.Coding == MR {
			opts.Encoding = t4.MR
			t4opt |= T4TwoD
			opts.K = w.opts.K
			if opts.K == 0 {
				opts.K = 2
				if yres > 150 {
					opts.K = 4
				}
			}
		}
		data, err := t4.AppendEncode(dst, bm, opts)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("T.4 %v: %w", opts.Encoding, err)
		}
		return data, CompressionT4, t4opt, nil
	case MMR:
		data, err := t6.AppendEncode(dst, bm, t6.Options{MSBFirst: w.opts.FillOrder == 1})
		if err != nil {
			return nil, 0, 0, fmt.Errorf("T.6: %w", err)
		}
		return data, CompressionT6, 0, nil
	}
	return nil, 0, 0, errors.New("unknown coding")
}
