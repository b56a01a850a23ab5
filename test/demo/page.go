package main

import (
	"fmt"
	"image"
	"image/draw"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/tiff"
)

// Page size of the drawn page: 1728 pixels is the fax line width (215 mm at
// 8 pels/mm); at standard resolution (3.85 lines/mm) 1100 rows is about
// 285 mm, a little less than A4, so the page is quick to send.
const (
	pageWidth  = 1728
	pageHeight = 1100
	pageXRes   = 204 // dpi, 8 pels/mm
	pageYRes   = 98  // dpi, 3.85 lines/mm
)

// drawDemoPage draws a test page: a title, some text and a few shapes, so
// the preview shows at a glance whether the fax arrived whole.
func drawDemoPage(now time.Time) *raster.Bitmap {
	bm := raster.New(pageWidth, pageHeight)
	bm.XRes, bm.YRes = pageXRes, pageYRes
	fill := func(x0, y0, x1, y1 int) {
		for y := max(y0, 0); y < min(y1, pageHeight); y++ {
			for x := max(x0, 0); x < min(x1, pageWidth); x++ {
				bm.Set(x, y, true)
			}
		}
	}
	// A frame.
	fill(80, 60, 1648, 66)
	fill(80, 1034, 1648, 1040)
	fill(80, 60, 92, 1040)
	fill(1636, 60, 1648, 1040)
	// Text, scaled from a 7x13 bitmap font. Vertical pixels are about twice
	// as tall as horizontal ones at standard resolution.
	text(bm, 140, 110, 10, 5, "rayofax demo")
	text(bm, 140, 220, 3, 2, "A fax from a far-end fax machine, through the FreeSWITCH simulator,")
	text(bm, 140, 260, 3, 2, "received by rayofaxd for the Rayo client rayoctl.")
	text(bm, 140, 300, 3, 2, "Drawn "+now.UTC().Format("2006-01-02 15:04 MST")+".")
	// A bar chart and a checkerboard: runs of many lengths for the codec.
	for i := 0; i < 12; i++ {
		h := 40 + i*28
		fill(140+i*70, 900-h, 140+i*70+44, 900)
	}
	fill(130, 900, 1000, 904)
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			if (x+y)%2 == 0 {
				fill(1120+x*56, 520+y*48, 1120+x*56+56, 520+y*48+48)
			}
		}
	}
	return bm
}

// text draws s with its top-left corner at x, y, each font pixel sx by sy
// page pixels.
func text(bm *raster.Bitmap, x, y, sx, sy int, s string) {
	face := basicfont.Face7x13
	w := font.MeasureString(face, s).Ceil()
	h := face.Metrics().Height.Ceil()
	img := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	dr := font.Drawer{Dst: img, Src: image.Black, Face: face, Dot: fixed.P(0, face.Metrics().Ascent.Ceil())}
	dr.DrawString(s)
	for py := 0; py < h; py++ {
		for px := 0; px < w; px++ {
			if img.GrayAt(px, py).Y >= 128 {
				continue
			}
			for dy := 0; dy < sy; dy++ {
				for dx := 0; dx < sx; dx++ {
					X, Y := x+px*sx+dx, y+py*sy+dy
					if X >= 0 && X < bm.Width && Y >= 0 && Y < bm.Height {
						bm.Set(X, Y, true)
					}
				}
			}
		}
	}
}

// writeDemoPage writes the drawn page as a one-page TIFF-F file (MH).
func writeDemoPage(name string) error {
	w, err := tiff.Create(name, tiff.WriterOptions{})
	if err != nil {
		return err
	}
	if err := w.WritePage(drawDemoPage(time.Now()), tiff.PageMeta{}); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return w.Close()
}
