//go:build spandsp

package interop

// A spandsp receiver that takes less than the document has: our sender
// converts the pages after DIS (package page's Refit) and spandsp stores
// exactly those pixels.

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/faxengine/page"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/test/linesim"
	"github.com/rayofax/rayofax/test/testenv"
)

// refitWideDoc writes a two-page TIFF: the chart's first page fitted to B4
// paper (2048 pels at fine resolution), then its second page (A4).
func refitWideDoc(t *testing.T) string {
	t.Helper()
	src := readTIFF(t, filepath.Join(testenv.SharedDir(t), "testdata", "chart-fine-g3.tif"))
	b4, err := page.Fit(src[0], 0, 0, page.Options{Width: page.B4})
	if err != nil {
		t.Fatal(err)
	}
	if b4[0].Width != 2048 {
		t.Fatalf("B4 page is %d pels wide", b4[0].Width)
	}
	name := filepath.Join(t.TempDir(), "wide.tif")
	w, err := tiff.Create(name, tiff.WriterOptions{Coding: tiff.MMR})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*raster.Bitmap{b4[0], src[1]} {
		if err := w.WritePage(p, tiff.PageMeta{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

func refitPages(t *testing.T, pages []*raster.Bitmap, to page.RefitTarget) []*raster.Bitmap {
	t.Helper()
	var out []*raster.Bitmap
	for _, p := range pages {
		ps, err := page.Refit(p, to)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ps...)
	}
	return out
}

func TestRefitInterop(t *testing.T) {
	testenv.Program(t, "tiffinfo")
	stdOnly := func(sp *SpanFax) error { return sp.SetResolutions(FaxResStandard | FaxResR8) }
	a4Only := func(sp *SpanFax) error {
		return sp.SetImageSizes(FaxWidthA4 | FaxLengthUnlimit | FaxLengthA4 | FaxLengthB4)
	}
	cases := []struct {
		name    string
		c       t30Case
		to      page.RefitTarget
		wantRes t30.Resolution
	}{
		{"fine 3 pages to standard-only, V.17 ECM", t30Case{doc: "chart-fine-g3.tif", ecm: true, maxRate: 14400, spandsp: stdOnly},
			page.RefitTarget{Resolution: page.Standard, Width: page.A3, Length: page.Unlimited}, t30.ResStandard},
		{"superfine to standard-only, V.29 non-ECM", t30Case{doc: "chart-p3-superfine-g4.tif", maxRate: 9600, noV17: true, spandsp: stdOnly},
			page.RefitTarget{Resolution: page.Standard, Width: page.A3, Length: page.Unlimited}, t30.ResStandard},
		{"B4 to A4-only, V.17 ECM", t30Case{ecm: true, maxRate: 14400, spandsp: a4Only},
			page.RefitTarget{Resolution: page.Fine, Width: page.A4, Length: page.Unlimited}, t30.ResFine},
	}
	for _, tc := range cases {
		for _, weCall := range []bool{true, false} {
			c := tc.c
			c.weSend, c.weCall, c.noiseDBm0 = true, weCall, linesim.NoNoise
			t.Run(fmt.Sprintf("%s/%s", tc.name, map[bool]string{true: "we call", false: "we answer"}[weCall]), func(t *testing.T) {
				if c.doc == "" {
					c.doc = refitWideDoc(t)
				}
				r := runT30Call(t, c)
				want := refitPages(t, r.sentPgs, tc.to)
				t.Logf("ours: %v pages %d/%d %v %v; spandsp: %v", r.ours.Result, r.ours.Pages, r.ours.PagesTotal,
					r.ours.Resolution, r.ours.Rate, r.theirs)
				if r.ours.Result != t30.OK || !r.theirs.OK() {
					for _, l := range r.trace {
						t.Log(l)
					}
					t.Fatalf("call failed: ours %v, spandsp %v", r.ours.Result, r.theirs)
				}
				if r.ours.Pages != len(want) || r.theirs.Pages != len(want) {
					t.Errorf("pages: ours %d, spandsp %d, want %d", r.ours.Pages, r.theirs.Pages, len(want))
				}
				if r.ours.Resolution != tc.wantRes {
					t.Errorf("sent at %v, want %v", r.ours.Resolution, tc.wantRes)
				}
				got := readTIFF(t, r.rxFile)
				checkPages(t, got, want)
				for i, p := range got {
					if p.Width > page.Fine.Pels(tc.to.Width) {
						t.Errorf("page %d is %d pels wide", i+1, p.Width)
					}
				}
			})
		}
	}
}
