package faxengine

import (
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/faxengine/page"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/test/linesim"
	"github.com/rayofax/rayofax/test/testenv"
)

// wideDoc writes a TIFF of the first chart page fitted to B4 paper (2048
// pels at fine resolution) followed by the chart's second page (A4).
func wideDoc(t *testing.T) string {
	t.Helper()
	src := readPages(t, filepath.Join(testenv.SharedDir(t), "testdata", "chart-fine-g3.tif"))
	b4, err := page.Fit(src[0], 0, 0, page.Options{Width: page.B4})
	if err != nil {
		t.Fatal(err)
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
	if b4[0].Width != 2048 {
		t.Fatalf("B4 page is %d pels wide", b4[0].Width)
	}
	return name
}

// refitDoc converts the pages a sender prepared as a receiver that takes
// res, paper w and any length must get them.
func refitDoc(t *testing.T, d Document, res page.Resolution, w page.Width) Document {
	t.Helper()
	var out Document
	for _, p := range d {
		ps, err := page.Refit(p, page.RefitTarget{Resolution: res, Width: w, Length: page.Unlimited})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ps...)
	}
	return out
}

// A receiver that takes less than the document has gets it converted:
// fine and superfine pages at standard resolution, B4 pages at A4 width,
// through the real modems.
func TestLoopbackRefit(t *testing.T) {
	stdOnly := func(o *Options) { o.Resolutions = []t30.Resolution{} }
	a4Only := func(o *Options) { o.Paper = &t30.Paper{Width: t30.WidthA4, Length: t30.LengthUnlimited} }
	cases := []struct {
		c       loopCase
		res     page.Resolution
		width   page.Width
		wantRes t30.Resolution
	}{
		{loopCase{name: "fine to standard-only, ECM", doc: "chart-fine-g3.tif", senderCal: true, rxOpts: stdOnly},
			page.Standard, page.A3, t30.ResStandard},
		{loopCase{name: "superfine to standard-only, non-ECM", doc: "chart-p3-superfine-g4.tif", o: Options{NoECM: true},
			rxOpts: stdOnly}, page.Standard, page.A3, t30.ResStandard},
		{loopCase{name: "B4 to A4-only", senderCal: true, rxOpts: a4Only}, page.Fine, page.A4, t30.ResFine},
	}
	if raceEnabled || testing.Short() {
		cases = cases[1:]
	}
	for _, tc := range cases {
		c := tc.c
		t.Run(c.name, func(t *testing.T) {
			if c.doc == "" {
				c.doc = wideDoc(t)
			}
			c.noise = linesim.NoNoise
			r := runLoop(t, c)
			want := refitDoc(t, r.sent, tc.res, tc.width)
			for _, rep := range []Report{r.tx, r.rx} {
				if rep.Result != t30.OK || rep.Pages != len(want) || rep.Resolution != tc.wantRes {
					t.Errorf("report %+v", rep.Report)
				}
			}
			checkSame(t, r.received, want)
			for i, p := range r.received {
				if p.Width > page.Fine.Pels(tc.width) || p.YRes != tc.res.Y {
					t.Errorf("page %d: %d pels at %g lines/inch", i+1, p.Width, p.YRes)
				}
			}
		})
	}
}
