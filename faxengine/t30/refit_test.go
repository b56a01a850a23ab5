package t30

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/page"
	"github.com/rayofax/rayofax/faxengine/raster"
)

func TestPickResolution(t *testing.T) {
	caps := func(rs ...Resolution) Capabilities {
		return Capabilities{Resolutions: append([]Resolution{ResStandard}, rs...)}
	}
	for _, c := range []struct {
		page Resolution
		c    Capabilities
		want Resolution
	}{
		{ResFine, caps(), ResStandard},
		{ResFine, caps(ResFine), ResFine},
		{ResSuperfine, caps(ResFine), ResFine},
		{ResSuperfine, caps(), ResStandard},
		{ResR16, caps(ResFine, ResSuperfine), ResSuperfine},
		{Res400, caps(ResFine, ResSuperfine, ResR16), ResR16},
		{Res400, caps(Res200, ResFine), Res200},
		{Res300, caps(ResFine), ResFine},
		{Res200, caps(ResFine, ResSuperfine), ResFine},
		{ResFine, caps(Res200), Res200},
		{ResStandard, caps(ResFine), ResStandard},
	} {
		if got := pickResolution(c.page, c.c); got != c.want {
			t.Errorf("%v to %v: %v, want %v", c.page, c.c.Resolutions, got, c.want)
		}
	}
}

// refitted is what the receiver should get: each page converted by
// package page for the receiver's capabilities.
func refitted(t *testing.T, doc testDoc, res page.Resolution, w page.Width, l page.Length) []*raster.Bitmap {
	t.Helper()
	var out []*raster.Bitmap
	for _, p := range doc {
		ps, err := page.Refit(p, page.RefitTarget{Resolution: res, Width: w, Length: l})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ps...)
	}
	return out
}

// A sender fits its pages to a receiver that cannot take them as they are.
func TestSimRefit(t *testing.T) {
	mixed := testDoc{testPage(1, 1728, 300, ResSuperfine), testPage(2, 1728, 200, ResFine), testPage(3, 1728, 90, ResStandard)}
	wide := testDoc{testPage(4, 2048, 400, ResFine), testPage(5, 2432, 300, ResFine)}
	long := testDoc{testPage(6, 1728, 5000, ResFine), testPage(7, 1728, 100, ResFine)}
	cases := []struct {
		name    string
		doc     testDoc
		ecm     bool
		rxRes   []Resolution
		paper   *Paper
		wantRes Resolution
		want    func(*testing.T, testDoc) []*raster.Bitmap
		eom     bool // the pages need more than one DCS
	}{
		{"superfine and fine to standard-only", mixed, false, []Resolution{}, nil, ResStandard,
			func(t *testing.T, d testDoc) []*raster.Bitmap {
				return refitted(t, d, page.Standard, page.A3, page.Unlimited)
			}, false},
		{"superfine to fine-only, ECM", mixed[:2], true, []Resolution{ResFine}, nil, ResFine,
			func(t *testing.T, d testDoc) []*raster.Bitmap {
				return refitted(t, d, page.Fine, page.A3, page.Unlimited)
			}, false},
		{"B4 and A3 to A4-only", wide, true, nil, &Paper{WidthA4, LengthUnlimited}, ResFine,
			func(t *testing.T, d testDoc) []*raster.Bitmap {
				return refitted(t, d, page.Fine, page.A4, page.Unlimited)
			}, false},
		{"A3 to B4", wide[1:], false, nil, &Paper{WidthB4, LengthUnlimited}, ResFine,
			func(t *testing.T, d testDoc) []*raster.Bitmap {
				return refitted(t, d, page.Fine, page.B4, page.Unlimited)
			}, false},
		{"long page to A4 length, split", long, true, nil, &Paper{WidthA3, LengthA4}, ResFine,
			func(t *testing.T, d testDoc) []*raster.Bitmap {
				return refitted(t, d, page.Fine, page.A3, page.A4Length)
			}, false},
		{"long page non-ECM to A4 length", long[:1], false, nil, &Paper{WidthA4, LengthA4}, ResFine,
			func(t *testing.T, d testDoc) []*raster.Bitmap {
				return refitted(t, d, page.Fine, page.A4, page.A4Length)
			}, false},
		{"fine receiver: superfine down, standard kept", mixed, false, []Resolution{ResFine}, nil, ResStandard,
			func(t *testing.T, d testDoc) []*raster.Bitmap {
				return append(refitted(t, d[:2], page.Fine, page.A3, page.Unlimited), d[2])
			}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx, rx, sink, _ := configs(simCase{senderCalls: true, ecm: c.ecm, v17: true, res: ResFine, pages: 1})
			tx.Document = c.doc
			rx.Resolutions, rx.Paper = c.rxRes, c.paper
			want := c.want(t, c.doc)
			l := newSimLink(t, tx, rx)
			var dcs int
			l.a.s.cfg.OnEvent = func(e Event) {
				if e.Kind == EventFrameTx && e.Frame.FCF == FCFDCS {
					dcs++
				}
			}
			l.run(ms(900000))
			sr, rr := l.a.s.report, l.b.s.report
			if sr.Result != OK || rr.Result != OK || sr.Pages != len(want) || sr.PagesTotal != len(want) || rr.Pages != len(want) {
				t.Fatalf("sender %+v\nreceiver %+v\nwant %d pages", sr, rr, len(want))
			}
			if sr.Resolution != c.wantRes || rr.Resolution != c.wantRes {
				t.Errorf("resolution sent %v, received %v, want %v", sr.Resolution, rr.Resolution, c.wantRes)
			}
			if (dcs > 1) != c.eom {
				t.Errorf("%d DCS sent", dcs)
			}
			samePages(t, sink.pages, want)
			for i, p := range sink.pages {
				if p.Width != want[i].Width {
					t.Errorf("page %d width %d", i+1, p.Width)
				}
			}
		})
	}
}
