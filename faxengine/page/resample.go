package page

import (
	"image"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// spans maps each of n destination cells onto [lo[i], hi[i]) of m source
// cells: the source cells whose centres fall into the destination cell, or
// the nearest one when none does (upscaling).
func spans(n, m int) (lo, hi []int) {
	lo, hi = make([]int, n), make([]int, n)
	for i := 0; i < n; i++ {
		// Source cell j's centre (j+0.5)*n/m lies in [i, i+1) when
		// (2im-n)/2n <= j < (2(i+1)m-n)/2n.
		lo[i] = clamp(ceilDiv(2*i*m-n, 2*n), 0, m)
		hi[i] = clamp(ceilDiv(2*(i+1)*m-n, 2*n), 0, m)
		if hi[i] <= lo[i] {
			c := clamp((2*i+1)*m/(2*n), 0, m-1)
			lo[i], hi[i] = c, c+1
		}
	}
	return lo, hi
}

func ceilDiv(a, b int) int {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -(-a / b)
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

// darkness reads row y of img as darkness values 0 (white) .. 255 (black).
func darkness(img image.Image, y int, dst []int32) {
	switch im := img.(type) {
	case *raster.Bitmap:
		row := im.Row(y)
		for x := range dst {
			dst[x] = int32(row[x>>3]>>(7-uint(x&7))&1) * 255
		}
	case *image.Gray:
		i := im.PixOffset(im.Rect.Min.X, im.Rect.Min.Y+y)
		row := im.Pix[i : i+im.Rect.Dx()]
		for x := range dst {
			dst[x] = 255 - int32(row[x])
		}
	default:
		b := img.Bounds()
		for x := range dst {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			l := (299*r + 587*g + 114*bl) / 1000 >> 8
			dst[x] = 255 - int32(l)
		}
	}
}

// resample area-averages img into out, the content cw pels wide starting at
// column x0 and out.Height rows, then reduces it to black and white.
func resample(out *raster.Bitmap, x0, cw int, img image.Image, method Method) {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	xlo, xhi := spans(cw, sw)
	ylo, yhi := spans(out.Height, sh)
	row := make([]int32, sw)
	colSum := make([]int64, sw)
	prefix := make([]int64, sw+1)
	// Error diffusion carries two rows of error.
	cur := make([]int32, cw+2)
	next := make([]int32, cw+2)
	for oy := 0; oy < out.Height; oy++ {
		for i := range colSum {
			colSum[i] = 0
		}
		for sy := ylo[oy]; sy < yhi[oy]; sy++ {
			darkness(img, sy, row)
			for x, v := range row {
				colSum[x] += int64(v)
			}
		}
		for x := 0; x < sw; x++ {
			prefix[x+1] = prefix[x] + colSum[x]
		}
		rows := int64(yhi[oy] - ylo[oy])
		dst := out.Row(oy)
		ltr := oy%2 == 0 // serpentine
		for k := 0; k < cw; k++ {
			ox := k
			if !ltr && method == Dither {
				ox = cw - 1 - k
			}
			area := rows * int64(xhi[ox]-xlo[ox])
			v := int32((prefix[xhi[ox]] - prefix[xlo[ox]] + area/2) / area)
			black := false
			if method == Dither {
				v += cur[ox+1]
				black = v >= 128
				e := v
				if black {
					e = v - 255
				}
				if ltr {
					cur[ox+2] += e * 7 / 16
					next[ox] += e * 3 / 16
					next[ox+1] += e * 5 / 16
					next[ox+2] += e / 16
				} else {
					cur[ox] += e * 7 / 16
					next[ox+2] += e * 3 / 16
					next[ox+1] += e * 5 / 16
					next[ox] += e / 16
				}
			} else {
				black = v >= 128
			}
			if black {
				px := x0 + ox
				dst[px>>3] |= 0x80 >> uint(px&7)
			}
		}
		cur, next = next, cur
		for i := range next {
			next[i] = 0
		}
	}
}
