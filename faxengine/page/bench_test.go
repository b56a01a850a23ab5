package page

import (
	"image"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// BenchmarkFit fits an A4 page scanned at 300 dpi to a fine fax page.
func BenchmarkFit(b *testing.B) {
	gray := image.NewGray(image.Rect(0, 0, 2480, 3508))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7)
	}
	bilevel := raster.New(2480, 3508)
	for i := range bilevel.Pix {
		bilevel.Pix[i] = uint8(i * 13)
	}
	for _, tc := range []struct {
		name string
		img  image.Image
	}{{"gray-dither", gray}, {"bilevel", bilevel}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Fit(tc.img, 300, 300, Options{Resolution: Fine}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}

// BenchmarkRefit converts A4 fax pages for receivers that take less: fine
// to standard (row pairs ORed), superfine to fine, B4 to A4 (scaled), and a
// page that needs nothing (returned as it is).
func BenchmarkRefit(b *testing.B) {
	for _, tc := range []struct {
		name string
		src  Resolution
		w, h int
		to   RefitTarget
	}{
		{"fine-to-standard", Fine, 1728, 2292, RefitTarget{Standard, A4, A4Length}},
		{"superfine-to-fine", Superfine, 1728, 4573, RefitTarget{Fine, A4, A4Length}},
		{"B4-to-A4", Fine, 2048, 2716, RefitTarget{Fine, A4, Unlimited}},
		{"unchanged", Fine, 1728, 2292, RefitTarget{Fine, A3, Unlimited}},
	} {
		p := textLikePage(tc.w, tc.h, tc.src)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Refit(p, tc.to); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// textLikePage has bands of dense marks between white bands and margins,
// as a page of text has.
func textLikePage(w, h int, res Resolution) *raster.Bitmap {
	b := raster.New(w, h)
	b.XRes, b.YRes = res.X, res.Y
	seed := uint32(1)
	for y := 0; y < h; y++ {
		if y/24%2 == 1 {
			continue
		}
		for x := w / 10; x < w*9/10; x++ {
			seed = seed*1664525 + 1013904223
			if seed>>29 == 0 {
				b.Set(x, y, true)
			}
		}
	}
	return b
}
