package header

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine/raster"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var sample = Header{
	Text:  "ACME Widgets Ltd",
	Ident: "+44 20 7946 0000",
	Time:  time.Date(2026, 11, 25, 21, 40, 0, 0, time.UTC),
	Page:  2,
	Pages: 3,
}

func TestLine(t *testing.T) {
	if got, want := sample.Left(), "2026-11-25 21:40   ACME Widgets Ltd   +44 20 7946 0000"; got != want {
		t.Errorf("Left %q, want %q", got, want)
	}
	if got := sample.Right(); got != "Page 2/3" {
		t.Errorf("Right %q", got)
	}
	if got := (Header{Text: "a\nb\tc"}).Left(); got != "a b c" {
		t.Errorf("control characters: %q", got)
	}
	if got := (Header{Page: 4}).Right(); got != "Page 4" {
		t.Errorf("Right without total %q", got)
	}
}

func blackIn(b *raster.Bitmap, x0, x1 int) int {
	n := 0
	for y := 0; y < b.Height; y++ {
		for x := x0; x < x1; x++ {
			if b.Black(x, y) {
				n++
			}
		}
	}
	return n
}

// TestBandGolden renders the band at fine resolution and compares it with
// the golden PNG (go test -update rewrites it).
func TestBandGolden(t *testing.T) {
	for _, tc := range []struct {
		name       string
		xres, yres float64
	}{{"fine", 204, 196}, {"standard", 204, 98}} {
		band, err := Band(sample, 1728, tc.xres, tc.yres)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := Band(sample, 1728, tc.xres, tc.yres)
		if !raster.Equal(band, again) {
			t.Fatal("rendering is not deterministic")
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, band); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "band-"+tc.name+".png")
		if *update {
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		wimg, err := png.Decode(bytes.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < band.Height; y++ {
			for x := 0; x < band.Width; x++ {
				r, _, _, _ := wimg.At(x, y).RGBA()
				if band.Black(x, y) != (r < 0x8000) {
					t.Fatalf("%s: pixel (%d,%d) differs from %s", tc.name, x, y, golden)
				}
			}
		}
	}
}

func TestBandGeometry(t *testing.T) {
	var heights []float64
	for _, r := range [][2]float64{{204, 98}, {204, 196}, {204, 391}, {408, 391}, {300, 300}} {
		w := 1728 * int(r[0]) / 204
		band, err := Band(sample, w, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		// Text on the left, the page counter at the right, white between
		// and at the margins.
		if blackIn(band, 0, w/4) == 0 || blackIn(band, w*9/10, w) == 0 {
			t.Errorf("%v: text missing", r)
		}
		if blackIn(band, w*6/10, w*8/10) != 0 || blackIn(band, 0, int(r[0]*3/25.4)) != 0 {
			t.Errorf("%v: black where the line should be white", r)
		}
		heights = append(heights, float64(band.Height)/r[1]*25.4)
	}
	for _, mm := range heights {
		if mm < 4 || mm > 7 || mm < heights[0]*0.85 || mm > heights[0]*1.15 {
			t.Errorf("band heights in mm %v: not the same physical size", heights)
			break
		}
	}
	// Text too long is cut, the page counter stays.
	long := sample
	long.Text = string(bytes.Repeat([]byte("W"), 500))
	band, err := Band(long, 1728, 204, 196)
	if err != nil {
		t.Fatal(err)
	}
	short, _ := Band(sample, 1728, 204, 196)
	if blackIn(band, 1545, 1728) != blackIn(short, 1545, 1728) || blackIn(band, 1000, 1500) == 0 {
		t.Error("page counter damaged by long text")
	}
}

func TestApply(t *testing.T) {
	page := raster.New(1728, 1000)
	page.XRes, page.YRes = 204, 196
	for x := 0; x < 1728; x++ {
		page.Set(x, 0, true)   // first row
		page.Set(x, 999, true) // last row
	}
	band, _ := Band(sample, 1728, 204, 196)

	grown, err := Apply(page, sample, 0)
	if err != nil {
		t.Fatal(err)
	}
	if grown.Height != 1000+band.Height || !grown.Black(5, band.Height) || !grown.Black(5, grown.Height-1) {
		t.Errorf("prepend: height %d", grown.Height)
	}
	capped, err := Apply(page, sample, 1010)
	if err != nil {
		t.Fatal(err)
	}
	if capped.Height != 1010 || !capped.Black(5, 1009) {
		t.Errorf("capped: height %d, last row kept %v", capped.Height, capped.Black(5, 1009))
	}
	full, err := Apply(page, sample, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if full.Height != 1000 || !full.Black(5, 999) || blackIn(full, 0, 200) == 0 {
		t.Errorf("overlay: height %d", full.Height)
	}
	if page.Height != 1000 || !page.Black(5, 0) {
		t.Error("Apply modified its input")
	}
}
