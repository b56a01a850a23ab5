package page

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// refRefit is the slow, obvious version of Refit's conversion: target
// pixel (i, j) is black when any source pixel (x, y) with
// floor(x*dw/w) == i and floor(y*ys) == j is, the sets found by trying
// every source column and row; a target cell no source cell lands in takes
// the source cell under its start.
func refRefit(b *raster.Bitmap, dw, dh int, yp, yq int64) *raster.Bitmap {
	sets := func(n, m int, p, q int64) [][]int {
		s := make([][]int, n)
		for j := 0; j < m; j++ {
			if i := int(int64(j) * p / q); i < n {
				s[i] = append(s[i], j)
			}
		}
		for i := range s {
			if len(s[i]) == 0 {
				s[i] = []int{min(int(int64(i)*q/p), m-1)}
			}
		}
		return s
	}
	xset := sets(dw, b.Width, int64(dw), int64(b.Width))
	yset := sets(dh, b.Height, yp, yq)
	out := raster.New(dw, dh)
	for j := range dh {
		for i := range dw {
			black := false
			for _, y := range yset[j] {
				for _, x := range xset[i] {
					black = black || b.Black(x, y)
				}
			}
			out.Set(i, j, black)
		}
	}
	return out
}

func randomPage(w, h int, res Resolution, seed uint64) *raster.Bitmap {
	b := raster.New(w, h)
	b.XRes, b.YRes = res.X, res.Y
	r := rand.New(rand.NewPCG(seed, 1))
	for y := range h {
		for x := range w {
			if r.IntN(7) == 0 {
				b.Set(x, y, true)
			}
		}
	}
	return b
}

func TestRefitAgainstReference(t *testing.T) {
	cases := []struct {
		name   string
		src    Resolution
		w, h   int
		to     RefitTarget
		dw, dh int // converted size before splitting
		pages  int
	}{
		{"fine->standard", Fine, 1728, 301, RefitTarget{Standard, A3, Unlimited}, 1728, 151, 1},
		{"superfine->fine", Superfine, 1728, 200, RefitTarget{Fine, A3, Unlimited}, 1728, 100, 1},
		{"superfine->standard", Superfine, 1728, 203, RefitTarget{Standard, A3, Unlimited}, 1728, 51, 1},
		{"B4->A4 fine", Fine, 2048, 320, RefitTarget{Fine, A4, Unlimited}, 1728, 270, 1},
		{"A3->B4 standard", Standard, 2432, 100, RefitTarget{Standard, B4, Unlimited}, 2048, 85, 1},
		{"A3 fine->A4 standard", Fine, 2432, 190, RefitTarget{Standard, A4, Unlimited}, 1728, 68, 1},
		{"R16->superfine", R16, 3456, 90, RefitTarget{Superfine, A3, Unlimited}, 1728, 90, 1},
		{"400x400->fine", R400, 3456, 97, RefitTarget{Fine, A3, Unlimited}, 1728, 48, 1},
		{"200x200->fine", R200, 1728, 250, RefitTarget{Fine, A3, Unlimited}, 1728, 245, 1},
		{"300x300->fine", R300, 2592, 101, RefitTarget{Fine, A3, Unlimited}, 1728, 66, 1},
		{"fine->200x200 (enlarge)", Fine, 1728, 100, RefitTarget{R200, A3, Unlimited}, 1728, 103, 1},
		{"fine->R16 (enlarge both ways)", Fine, 1728, 50, RefitTarget{R16, A3, Unlimited}, 3456, 100, 1},
		{"standard B4->300x300 A4", Standard, 2048, 60, RefitTarget{R300, A4, Unlimited}, 2592, 156, 1},
		{"long fine->A4 split", Fine, 1728, 5000, RefitTarget{Fine, A3, A4Length}, 1728, 5000, 3},
		{"long superfine->standard A4 split", Superfine, 1728, 9500, RefitTarget{Standard, A4, A4Length}, 1728, 2375, 3},
		{"slightly long: squeezed", Fine, 1728, 2350, RefitTarget{Fine, A3, A4Length}, 1728, 2292, 1},
		{"B4 length split", Standard, 1728, 3000, RefitTarget{Standard, A3, B4Length}, 1728, 3000, 3},
	}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := randomPage(c.w, c.h, c.src, uint64(k))
			got, err := Refit(b, c.to)
			if err != nil {
				t.Fatal(err)
			}
			n, err := RefitCount(c.w, c.h, c.src.X, c.src.Y, c.to)
			if err != nil || n != len(got) || n != c.pages {
				t.Fatalf("%d pages, RefitCount %d (%v), want %d", len(got), n, err, c.pages)
			}
			g, _ := refitGeometry(c.w, c.h, c.src.X, c.src.Y, c.to)
			if g.dw != c.dw || g.dh != c.dh {
				t.Fatalf("converted to %dx%d, want %dx%d", g.dw, g.dh, c.dw, c.dh)
			}
			want := refRefit(b, c.dw, c.dh, g.ys.p, g.ys.q)
			maxRows := c.to.Resolution.Rows(c.to.Length)
			y := 0
			for i, p := range got {
				if p.XRes != c.to.Resolution.X || p.YRes != c.to.Resolution.Y || p.Width != c.dw || p.Height > maxRows {
					t.Fatalf("page %d: %dx%d at %gx%g", i+1, p.Width, p.Height, p.XRes, p.YRes)
				}
				part := &raster.Bitmap{Width: c.dw, Height: p.Height, Stride: want.Stride,
					Pix: want.Pix[y*want.Stride : (y+p.Height)*want.Stride]}
				if !raster.Equal(p, part) {
					t.Errorf("page %d differs from the reference", i+1)
				}
				y += p.Height
			}
			if y != c.dh {
				t.Errorf("pages hold %d rows, want %d", y, c.dh)
			}
			if b.XRes != c.src.X || b.YRes != c.src.Y {
				t.Errorf("the source page changed resolution")
			}
		})
	}
}

// A page the remote takes as it is comes back itself: no copy.
func TestRefitNoChange(t *testing.T) {
	for _, c := range []struct {
		res Resolution
		w   int
		to  RefitTarget
	}{
		{Fine, 1728, RefitTarget{Fine, A4, A4Length}},
		{Standard, 2048, RefitTarget{Standard, A3, Unlimited}},
		{Superfine, 1728, RefitTarget{Superfine, B4, B4Length}},
	} {
		b := randomPage(c.w, 500, c.res, 3)
		got, err := Refit(b, c.to)
		if err != nil || len(got) != 1 || got[0] != b {
			t.Errorf("%v %d: %v, %d pages, same %v", c.res.Name, c.w, err, len(got), len(got) == 1 && got[0] == b)
		}
	}
}

// One-row rules survive halving whichever row of a pair they are on, and
// one-pel lines survive a width reduction.
func TestRefitThinLines(t *testing.T) {
	b := raster.New(1728, 400)
	b.XRes, b.YRes = Fine.X, Fine.Y
	for x := 100; x < 1600; x++ {
		b.Set(x, 100, true) // even row
		b.Set(x, 201, true) // odd row
	}
	got, err := Refit(b, RefitTarget{Standard, A4, A4Length})
	if err != nil {
		t.Fatal(err)
	}
	p := got[0]
	for _, y := range []int{50, 100} {
		for x := 100; x < 1600; x++ {
			if !p.Black(x, y) {
				t.Fatalf("rule at row %d broken at %d", y*2, x)
			}
		}
	}
	// B4 to A4: vertical one-pel lines every 7 pels all survive.
	w := raster.New(2048, 50)
	w.XRes, w.YRes = Fine.X, Fine.Y
	for x := 0; x < 2048; x += 7 {
		for y := range 50 {
			w.Set(x, y, true)
		}
	}
	got, err = Refit(w, RefitTarget{Fine, A4, Unlimited})
	if err != nil {
		t.Fatal(err)
	}
	for x := 0; x < 2048; x += 7 {
		if tx := x * 1728 / 2048; !got[0].Black(tx, 10) {
			t.Fatalf("line at %d (now %d) lost", x, tx)
		}
	}
}

func TestRefitErrors(t *testing.T) {
	for _, c := range []struct {
		w, h   int
		xr, yr float64
		to     RefitTarget
	}{
		{0, 10, 204, 196, RefitTarget{Fine, A4, A4Length}},
		{1728, 10, 150, 150, RefitTarget{Fine, A4, A4Length}},
		{1700, 10, 204, 196, RefitTarget{Fine, A4, A4Length}},
		{1728, 10, 204, 196, RefitTarget{Resolution{X: 7, Y: 7}, A4, A4Length}},
		{1728, 60000, 204, 98, RefitTarget{Superfine, A4, Unlimited}},
	} {
		if _, err := RefitCount(c.w, c.h, c.xr, c.yr, c.to); err == nil {
			t.Errorf("%dx%d at %gx%g to %+v: no error", c.w, c.h, c.xr, c.yr, c.to)
		}
	}
}

func FuzzRefit(f *testing.F) {
	f.Add(uint16(1728), uint16(40), uint8(1), uint8(0), uint8(0), uint8(0), uint8(0))
	f.Add(uint16(2048), uint16(3000), uint8(2), uint8(0), uint8(0), uint8(1), uint8(9))
	f.Fuzz(func(t *testing.T, w, h uint16, src, to, width, length, seed uint8) {
		if h > 5000 {
			h %= 5000
		}
		sr, tr := Resolutions[int(src)%len(Resolutions)], Resolutions[int(to)%len(Resolutions)]
		tg := RefitTarget{tr, Width(width % 4), Length(length % 3)}
		n, cerr := RefitCount(int(w), int(h), sr.X, sr.Y, tg)
		b := &raster.Bitmap{Width: int(w), Height: int(h), Stride: (int(w) + 7) / 8, XRes: sr.X, YRes: sr.Y}
		if cerr == nil { // only then are the pixels read
			b = raster.New(int(w), int(h))
			b.XRes, b.YRes = sr.X, sr.Y
			for y := range b.Height {
				for x := 0; x < b.Width; x += int(seed%13) + 1 {
					b.Set(x, y, (x+y)%3 == 0)
				}
			}
		}
		pages, err := Refit(b, tg)
		if (err == nil) != (cerr == nil) || err == nil && n != len(pages) {
			t.Fatalf("Refit %d pages (%v), RefitCount %d (%v)", len(pages), err, n, cerr)
		}
		for _, p := range pages {
			if p.Height > tr.Rows(tg.Length) || p.Height == 0 {
				t.Fatalf("page of %d rows", p.Height)
			}
		}
	})
}

func ExampleRefit() {
	// A fine page for a receiver that takes standard resolution only.
	b := raster.New(1728, 2200)
	b.XRes, b.YRes = Fine.X, Fine.Y
	pages, err := Refit(b, RefitTarget{Resolution: Standard, Width: A4, Length: A4Length})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(pages), pages[0].Width, pages[0].Height, pages[0].YRes)
	// Output: 1 1728 1100 98
}
