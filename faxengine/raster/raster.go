// Package raster holds the bilevel page image shared by the fax codecs, the
// TIFF layer and the T.30 terminal.
//
// A Bitmap stores one bit per pixel, rows packed most significant bit first,
// 1 for black (the T.4 convention: fax pages are mostly white, so a zeroed
// bitmap is a blank page).
package raster

import (
	"image"
	"image/color"
)

// Bitmap is a bilevel image.
type Bitmap struct {
	Width, Height int
	Stride        int    // bytes per row, at least (Width+7)/8
	Pix           []byte // Height*Stride bytes
	// XRes and YRes are the resolution in pixels per inch (0 when unknown).
	// Fax resolutions are given in T.4 terms, e.g. 8 pels/mm = 203.2 dpi.
	XRes, YRes float64
}

// New returns a white bitmap of the given size.
func New(width, height int) *Bitmap {
	stride := (width + 7) / 8
	return &Bitmap{Width: width, Height: height, Stride: stride, Pix: make([]byte, stride*height)}
}

// Row returns row y's packed bytes (Stride long; bits past Width are zero).
func (b *Bitmap) Row(y int) []byte {
	return b.Pix[y*b.Stride : (y+1)*b.Stride]
}

// Black reports whether pixel (x, y) is black.
func (b *Bitmap) Black(x, y int) bool {
	return b.Pix[y*b.Stride+x>>3]&(0x80>>uint(x&7)) != 0
}

// Set paints pixel (x, y) black or white.
func (b *Bitmap) Set(x, y int, black bool) {
	i, m := y*b.Stride+x>>3, byte(0x80>>uint(x&7))
	if black {
		b.Pix[i] |= m
	} else {
		b.Pix[i] &^= m
	}
}

// AppendRow adds a row at the bottom. row must hold at least Stride bytes.
func (b *Bitmap) AppendRow(row []byte) {
	b.Pix = append(b.Pix, row[:b.Stride]...)
	b.Height++
}

// Equal reports whether a and b have the same size and pixels (resolution is
// not compared; bits past Width are ignored).
func Equal(a, b *Bitmap) bool {
	if a.Width != b.Width || a.Height != b.Height {
		return false
	}
	full := a.Width / 8
	var tail byte
	if r := a.Width % 8; r != 0 {
		tail = byte(0xff << uint(8-r))
	}
	for y := 0; y < a.Height; y++ {
		ra, rb := a.Row(y), b.Row(y)
		for i := 0; i < full; i++ {
			if ra[i] != rb[i] {
				return false
			}
		}
		if tail != 0 && (ra[full]^rb[full])&tail != 0 {
			return false
		}
	}
	return true
}

// ColorModel implements image.Image.
func (b *Bitmap) ColorModel() color.Model { return color.GrayModel }

// Bounds implements image.Image.
func (b *Bitmap) Bounds() image.Rectangle { return image.Rect(0, 0, b.Width, b.Height) }

// At implements image.Image: black or white.
func (b *Bitmap) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= b.Width || y >= b.Height || !b.Black(x, y) {
		return color.Gray{Y: 0xff}
	}
	return color.Gray{Y: 0}
}
