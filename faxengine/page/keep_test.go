package page

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// A page that is already a fax page is not copied: Fit returns it, or a
// header on its pixels when only the stated resolution changes; bits set
// past the width (which codecs must not see) force a clean copy.
func TestFitKeepsWithoutCopy(t *testing.T) {
	b := randomPage(1728, 300, Fine, 9)
	got, err := Fit(b, 0, 0, Options{})
	if err != nil || len(got) != 1 || got[0] != b {
		t.Fatalf("fine page: %v, same %v", err, len(got) == 1 && got[0] == b)
	}

	b2 := randomPage(1728, 300, Fine, 10)
	b2.XRes, b2.YRes = 203.2, 195.58 // T.4's exact values
	got, err = Fit(b2, 0, 0, Options{})
	if err != nil || len(got) != 1 || got[0] == b2 || &got[0].Pix[0] != &b2.Pix[0] ||
		got[0].XRes != 204 || got[0].YRes != 196 || b2.XRes != 203.2 {
		t.Fatalf("203.2 dpi page: %v %+v", err, got)
	}

	dirty := raster.New(1731, 20) // 1731 is no fax width: build by hand
	dirty = &raster.Bitmap{Width: 1728, Height: 20, Stride: dirty.Stride, Pix: dirty.Pix, XRes: 204, YRes: 196}
	dirty.Pix[dirty.Stride-1] = 0xff // past the width
	dirty.Set(5, 3, true)
	got, err = Fit(dirty, 0, 0, Options{})
	if err != nil || len(got) != 1 || got[0] == dirty || !raster.Equal(got[0], dirty) {
		t.Fatalf("dirty padding: %v", err)
	}
	if p := got[0]; p.Stride != 216 {
		t.Errorf("copy stride %d", p.Stride)
	}
	if dirty.Pix[dirty.Stride-1] != 0xff {
		t.Errorf("the source changed")
	}

	long := randomPage(1728, MaxUnlimitedRows+10, Standard, 11)
	got, err = Fit(long, 0, 0, Options{})
	if err != nil || len(got) != 2 || got[0].Height != MaxUnlimitedRows || got[1].Height != 10 ||
		&got[0].Pix[0] != &long.Pix[0] {
		t.Fatalf("long page: %v, %d pages", err, len(got))
	}
}
