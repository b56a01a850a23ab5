// Package testpage makes synthetic pages for the codec tests and
// benchmarks.
package testpage

import (
	"math/rand"
	"slices"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// Dense returns a page of random runs (1 to 60 pels) whose edges drift
// from row to row like dense text and drawings, so that every 2D mode
// occurs. It is much busier than a typical business letter: a worst case
// for the codecs' speed.
func Dense(w, h int, seed int64) *raster.Bitmap {
	b := raster.New(w, h)
	rng := rand.New(rand.NewSource(seed))
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
			if black {
				b.Set(x, y, true)
			}
		}
	}
	return b
}
