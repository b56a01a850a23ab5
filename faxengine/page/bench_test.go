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
