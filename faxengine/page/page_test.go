package page

import (
	"image"
	"image/color"
	"reflect"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
)

func TestParseRanges(t *testing.T) {
	tests := []struct {
		spec string
		n    int
		want []int // one-based
		err  string
	}{
		{"1-3,5", 5, []int{1, 2, 3, 5}, ""},
		{"1-4,5,7-9", 9, []int{1, 2, 3, 4, 5, 7, 8, 9}, ""}, // mod_rayo kept only "1-4"
		{"5,1-2", 5, []int{1, 2, 5}, ""},
		{"2-3,3,1-2", 3, []int{1, 2, 3}, ""},
		{" 1 - 2 , 4 ", 4, []int{1, 2, 4}, ""},
		{"3", 3, []int{3}, ""},
		{"1-4,5,7-9", 8, nil, "range 7-9 is past the end of the document (8 pages)"},
		{"4", 3, nil, "range 4 is past the end"},
		{"", 3, nil, "empty page range"},
		{"1,,2", 3, nil, `"": empty item`},
		{"0", 3, nil, "page numbers start at 1"},
		{"3-1", 3, nil, "range ends before it starts"},
		{"1-2-3", 3, nil, "not a page number"},
		{"-2", 3, nil, "missing page number"},
		{"2-", 3, nil, "missing page number"},
		{"a", 3, nil, "not a page number"},
		{"+1", 3, nil, "not a page number"},
		{"1;2", 3, nil, "not a page number"},
		{"99999999", 3, nil, "too large"},
		{"1,", 3, nil, "empty item"},
	}
	for _, tt := range tests {
		rs, err := ParseRanges(tt.spec)
		var got []int
		if err == nil {
			var idx []int
			idx, err = rs.Select(tt.n)
			for _, i := range idx {
				got = append(got, i+1)
			}
		}
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q of %d: %v, %v; want %v", tt.spec, tt.n, got, err, tt.want)
		}
	}
	if got, err := SelectPages("", 3); err != nil || !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("empty spec: %v %v", got, err)
	}
	rs, _ := ParseRanges("1-4,5,7-9")
	if rs.String() != "1-4,5,7-9" {
		t.Errorf("String: %q", rs.String())
	}
}

func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"1-3,5", "1-4,5,7-9", "", "0", "1-", ",", " 2 ", "9999999-1"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n & 0xfff
		rs, err := ParseRanges(s)
		if err != nil {
			return
		}
		// What parses prints back to something that parses the same.
		again, err := ParseRanges(rs.String())
		if err != nil || !reflect.DeepEqual(again, rs) {
			t.Fatalf("%q -> %q -> %v, %v", s, rs.String(), again, err)
		}
		idx, err := rs.Select(n)
		if err != nil {
			return
		}
		for k, i := range idx {
			if i < 0 || i >= n || k > 0 && idx[k-1] >= i {
				t.Fatalf("%q of %d: bad selection %v", s, n, idx)
			}
		}
	})
}

func TestDimensions(t *testing.T) {
	tests := []struct {
		r      Resolution
		w      Width
		pels   int
		a4, b4 int
	}{
		{Standard, A4, 1728, 1146, 1404},
		{Fine, B4, 2048, 2292, 2809},
		{Superfine, A3, 2432, 4572, 5603},
		{R16, A4, 3456, 4572, 5603},
		{R200, A3, 2432, 2339, 2866},
		{R300, A4, 2592, 3508, 4299},
		{R300, B4, 3072, 3508, 4299},
		{R400, A3, 4864, 4677, 5732},
	}
	for _, tt := range tests {
		if got := tt.r.Pels(tt.w); got != tt.pels {
			t.Errorf("%s %v: %d pels, want %d", tt.r.Name, tt.w, got, tt.pels)
		}
		if a4, b4 := tt.r.Rows(A4Length), tt.r.Rows(B4Length); a4 != tt.a4 || b4 != tt.b4 {
			t.Errorf("%s: rows A4 %d B4 %d, want %d %d", tt.r.Name, a4, b4, tt.a4, tt.b4)
		}
	}
}

func pattern(w, h int) *raster.Bitmap {
	b := raster.New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if (x*x+y*3)%7 == 0 {
				b.Set(x, y, true)
			}
		}
	}
	return b
}

func TestFitKeepsFaxPages(t *testing.T) {
	for _, tc := range []struct {
		w, h       int
		xres, yres float64
		o          Options
	}{
		{1728, 1143, 204, 98, Options{}},
		{1728, 3000, 204, 196, Options{}},                    // longer than A4: kept whole
		{2048, 100, 204, 391, Options{Width: B4}},            // B4 asked for and already B4
		{2432, 100, 203.2, 195.6, Options{Resolution: Fine}}, // metric values
		{1728, 100, 0, 0, Options{}},                         // fax width, resolution unknown
		{3456, 50, 408, 391, Options{}},
	} {
		src := pattern(tc.w, tc.h)
		src.XRes, src.YRes = tc.xres, tc.yres
		out, err := Fit(src, 0, 0, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || !raster.Equal(out[0], src) {
			t.Errorf("%dx%d at %vx%v: pixels not kept", tc.w, tc.h, tc.xres, tc.yres)
		}
	}
}

func TestFitScales(t *testing.T) {
	// A 300 dpi letter-size bilevel page with a 1-inch black square at
	// (1in, 1in) becomes a fine A4 page with the square where it was.
	src := raster.New(2550, 3300)
	for y := 300; y < 600; y++ {
		for x := 300; x < 600; x++ {
			src.Set(x, y, true)
		}
	}
	out, err := Fit(src, 300, 300, Options{Resolution: Fine})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("%d pages", len(out))
	}
	p := out[0]
	if p.Width != 1728 || p.XRes != 204 || p.YRes != 196 {
		t.Fatalf("page %dx%d at %vx%v", p.Width, p.Height, p.XRes, p.YRes)
	}
	want := 2149
	if p.Height < want-1 || p.Height > want+1 { // 11 in * 196 * s
		t.Errorf("height %d, want about %d", p.Height, want)
	}
	// 8.5 in = 1734 pels at 204 dpi > 1728: scaled by 1728/1734, centred.
	s := 1728.0 / 1734
	x0, y0 := int(204*s), int(196*s)
	if !p.Black(x0+10, y0+10) || !p.Black(x0+190, y0+180) || p.Black(x0-10, y0+10) || p.Black(x0+10, y0-10) {
		t.Error("square misplaced")
	}
	black := 0
	for y := 0; y < p.Height; y++ {
		for x := 0; x < p.Width; x++ {
			if p.Black(x, y) {
				black++
			}
		}
	}
	if want := 204 * 196 * s * s; float64(black) < want*0.97 || float64(black) > want*1.03 {
		t.Errorf("%d black pels, want about %.0f", black, want)
	}
}

func TestFitLongPages(t *testing.T) {
	src := raster.New(1000, 5000) // 1000x5000 at 100 dpi: 10 x 50 inches
	for y := 0; y < 5000; y++ {
		src.Set(y%1000, y, true)
	}
	split, err := Fit(src, 100, 100, Options{Resolution: Standard})
	if err != nil {
		t.Fatal(err)
	}
	rows := Standard.Rows(A4Length)
	total := 0
	for i, p := range split {
		if p.Height > rows || p.Width != 1728 {
			t.Errorf("page %d: %dx%d", i, p.Width, p.Height)
		}
		total += p.Height
	}
	// 10 in scaled to 8.47 in (1728 pels): 50 in becomes 4151 rows.
	if len(split) != 4 || total < 4150 || total > 4152 || split[0].Height != rows {
		t.Errorf("split into %d pages, %d rows", len(split), total)
	}
	scaled, err := Fit(src, 100, 100, Options{Resolution: Standard, LongPages: ScaleLong, Length: B4Length})
	if err != nil {
		t.Fatal(err)
	}
	if len(scaled) != 1 || scaled[0].Height != Standard.Rows(B4Length) {
		t.Errorf("scaled: %d pages, height %d", len(scaled), scaled[0].Height)
	}
}

func TestFitSlightlyLong(t *testing.T) {
	// An A4 page rendered at 300 dpi (3508 rows) and one a few rows longer
	// both become one standard page, never a page and a sliver.
	for _, h := range []int{3508, 3560} {
		out, err := Fit(raster.New(2480, h), 300, 300, Options{Resolution: Standard})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || out[0].Height > Standard.Rows(A4Length) {
			t.Errorf("%d rows: %d pages, first %d rows", h, len(out), out[0].Height)
		}
	}
}

func TestFitGray(t *testing.T) {
	// A 50% gray field dithers to about half black; thresholded, a gray
	// of 100 (darker than mid-gray) is all black and 200 all white.
	g := image.NewGray(image.Rect(0, 0, 400, 400))
	for i := range g.Pix {
		g.Pix[i] = 128
	}
	out, err := Fit(g, 100, 100, Options{Resolution: R200, Width: A4})
	if err != nil {
		t.Fatal(err)
	}
	p := out[0]
	black, area := 0, 0
	for y := 0; y < p.Height; y++ {
		for x := (1728 - 800) / 2; x < (1728+800)/2; x++ {
			area++
			if p.Black(x, y) {
				black++
			}
		}
	}
	if r := float64(black) / float64(area); r < 0.45 || r > 0.55 {
		t.Errorf("dithered 50%% gray is %.2f black", r)
	}
	for _, tc := range []struct {
		v     uint8
		black bool
	}{{100, true}, {200, false}} {
		for i := range g.Pix {
			g.Pix[i] = tc.v
		}
		out, err := Fit(g, 100, 100, Options{Resolution: R200, Method: Threshold})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Black(864, 100) != tc.black {
			t.Errorf("gray %d thresholded wrongly", tc.v)
		}
	}
	// Any other image type goes through At.
	rgba := image.NewRGBA(image.Rect(0, 0, 10, 10))
	rgba.Set(5, 5, color.Black)
	if _, err := Fit(rgba, 0, 0, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestSpans(t *testing.T) {
	for _, tc := range [][2]int{{10, 10}, {3, 10}, {10, 3}, {1728, 2550}, {7, 1}, {1, 7}} {
		n, m := tc[0], tc[1]
		lo, hi := spans(n, m)
		covered := 0
		for i := range lo {
			if lo[i] < 0 || hi[i] > m || hi[i] <= lo[i] {
				t.Fatalf("spans(%d,%d)[%d] = [%d,%d)", n, m, i, lo[i], hi[i])
			}
			covered += hi[i] - lo[i]
		}
		if n <= m && covered != m {
			t.Errorf("spans(%d,%d) covers %d source cells", n, m, covered)
		}
	}
}

func TestFitDefaultResolution(t *testing.T) {
	for _, tc := range []struct {
		xres, yres float64
		want       Resolution
	}{{204, 196, Fine}, {204, 98, Standard}, {200, 200, R200}, {203.2, 97.79, Standard}, {204, 391, Superfine}, {150, 150, Fine}} {
		src := raster.New(1728*int(tc.xres)/204, 10)
		out, err := Fit(src, tc.xres, tc.yres, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].XRes != tc.want.X || out[0].YRes != tc.want.Y {
			t.Errorf("%vx%v: fitted to %vx%v, want %s", tc.xres, tc.yres, out[0].XRes, out[0].YRes, tc.want.Name)
		}
	}
}

func TestCountMatchesFit(t *testing.T) {
	for _, tc := range []struct {
		w, h       int
		xres, yres float64
		bilevel    bool
		o          Options
	}{
		{1000, 5000, 100, 100, true, Options{Resolution: Standard}},
		{1000, 5000, 100, 100, false, Options{Resolution: Fine, LongPages: ScaleLong}},
		{1728, 20000, 204, 196, true, Options{}},
		{2480, 3508, 300, 300, false, Options{}},
		{2480, 3600, 300, 300, true, Options{Resolution: Superfine, Width: B4}},
	} {
		var img image.Image = raster.New(tc.w, tc.h)
		if !tc.bilevel {
			img = image.NewGray(image.Rect(0, 0, tc.w, tc.h))
		}
		pages, err := Fit(img, tc.xres, tc.yres, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		n, err := Count(tc.w, tc.h, tc.xres, tc.yres, tc.bilevel, tc.o)
		if err != nil || n != len(pages) {
			t.Errorf("%+v: Count %d (%v), Fit made %d", tc, n, err, len(pages))
		}
	}
	if _, err := Count(10, 1<<16, 1000, 0.001, true, Options{}); err == nil {
		t.Error("absurd resolution accepted")
	}
}

// FuzzFit checks that no geometry or resolution makes Fit panic, and that
// its pages are fax pages.
func FuzzFit(f *testing.F) {
	f.Add(uint16(1728), uint16(100), 204.0, 98.0, uint8(0))
	f.Add(uint16(300), uint16(3000), 0.0, 0.0, uint8(0xff))
	f.Add(uint16(1), uint16(1), 1e-300, 1e300, uint8(3))
	f.Fuzz(func(t *testing.T, w, h uint16, xres, yres float64, opt uint8) {
		w, h = w%1500+1, h%1500+1
		o := Options{
			Width:     Width(opt % 4),
			Length:    Length(opt >> 2 % 3),
			LongPages: LongPolicy(opt >> 4 % 2),
			Method:    Method(opt >> 5 % 2),
		}
		if opt&0x80 != 0 {
			o.Resolution = Resolutions[int(opt)%len(Resolutions)]
		}
		var img image.Image = pattern(int(w), int(h))
		if opt&0x40 != 0 {
			img = image.NewGray(image.Rect(0, 0, int(w), int(h)))
		}
		n, err := Count(int(w), int(h), xres, yres, opt&0x40 == 0, o)
		if err != nil || n > 2 {
			return // valid but slow to fuzz
		}
		pages, err := Fit(img, xres, yres, o)
		if err != nil {
			t.Fatalf("Count accepted what Fit refuses: %v", err)
		}
		if len(pages) != n {
			t.Fatalf("Count %d, Fit %d pages", n, len(pages))
		}
		for _, p := range pages {
			if faxWidth(p.Width, p.XRes) == 0 || p.Height < 1 || p.Height > MaxUnlimitedRows {
				t.Fatalf("%dx%d at %vx%v %+v: page %dx%d at %vx%v", w, h, xres, yres, o, p.Width, p.Height, p.XRes, p.YRes)
			}
		}
	})
}
