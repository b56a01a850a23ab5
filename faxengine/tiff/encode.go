package tiff

import (
	"errors"
	"math/bits"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// encode codes a page for the Writer and returns the strip, its
// Compression and its T4Options.
func (w *Writer) encode(bm *raster.Bitmap, yres float64) ([]byte, Compression, uint32, error) {
	switch w.opts.Coding {
	case Uncompressed:
		n := (bm.Width + 7) / 8
		out := make([]byte, 0, n*bm.Height)
		for y := 0; y < bm.Height; y++ {
			out = append(out, bm.Row(y)[:n]...)
			if r := bm.Width % 8; r != 0 {
				out[len(out)-1] &= byte(0xff << uint(8-r))
			}
		}
		if w.opts.FillOrder == 2 {
			for i, b := range out {
				out[i] = bits.Reverse8(b)
			}
		}
		return out, CompressionNone, 0, nil
	}
	return nil, 0, 0, errors.New("CCITT coding not available yet")
}
