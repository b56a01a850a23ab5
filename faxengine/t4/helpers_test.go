package t4

import (
	"math/rand"
	"slices"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// Test pages: each function returns a bitmap of the given size.
var testPages = []struct {
	name string
	make func(w, h int) *raster.Bitmap
}{
	{"white", func(w, h int) *raster.Bitmap { return raster.New(w, h) }},
	{"black", func(w, h int) *raster.Bitmap {
		b := raster.New(w, h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				b.Set(x, y, true)
			}
		}
		return b
	}},
	{"checker", func(w, h int) *raster.Bitmap { // alternating pixels
		b := raster.New(w, h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				b.Set(x, y, (x+y)&1 == 1)
			}
		}
		return b
	}},
	{"noise", func(w, h int) *raster.Bitmap { // random pixels
		b := raster.New(w, h)
		rng := rand.New(rand.NewSource(int64(w*h + 1)))
		rng.Read(b.Pix)
		clearPad(b)
		return b
	}},
	{"runs", randomRuns},
	{"stripes", func(w, h int) *raster.Bitmap { // long runs past 2560
		b := raster.New(w, h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				b.Set(x, y, (x/(2600+y*37))&1 == 1)
			}
		}
		return b
	}},
	{"edges", func(w, h int) *raster.Bitmap { // first and last pixels
		b := raster.New(w, h)
		for y := 0; y < h; y++ {
			b.Set(0, y, y&1 == 0)
			b.Set(w-1, y, y&2 == 0)
		}
		return b
	}},
}

// randomRuns makes rows of random runs, similar from row to row like text
// and drawings, so that all 2D modes occur.
func randomRuns(w, h int) *raster.Bitmap {
	b := raster.New(w, h)
	rng := rand.New(rand.NewSource(int64(w + 7*h)))
	var edges []int
	for x := 0; x < w; x += 1 + rng.Intn(60) {
		edges = append(edges, x)
	}
	for y := 0; y < h; y++ {
		for i := range edges {
			switch rng.Intn(8) {
			case 0:
				edges[i] += rng.Intn(7) - 3
			case 1:
				edges[i] += rng.Intn(41) - 20
			}
		}
		slices.Sort(edges)
		black := false
		for x, i := 0, 0; x < w; x++ {
			for i < len(edges) && edges[i] <= x {
				black = !black
				i++
			}
			b.Set(x, y, black)
		}
	}
	return b
}

func clearPad(b *raster.Bitmap) {
	if r := b.Width % 8; r != 0 {
		for y := 0; y < b.Height; y++ {
			b.Row(y)[b.Stride-1] &= byte(0xff << uint(8-r))
		}
	}
}

var testWidths = []int{1728, 2048, 2432, 2592, 3072, 3456, 3648, 4096, 4864, 1, 7, 9, 100, 8192}

// bitString renders coded bytes (MSB first) as "0101...".
func bitString(p []byte) string {
	s := make([]byte, 0, len(p)*8)
	for _, b := range p {
		for i := 7; i >= 0; i-- {
			s = append(s, '0'+b>>uint(i)&1)
		}
	}
	return string(s)
}
