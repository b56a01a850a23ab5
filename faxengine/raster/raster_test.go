package raster

import "testing"

func TestSetBlackEqual(t *testing.T) {
	a, b := New(13, 3), New(13, 3)
	a.Set(0, 0, true)
	a.Set(12, 2, true)
	if !a.Black(0, 0) || !a.Black(12, 2) || a.Black(1, 0) {
		t.Fatal("Set/Black disagree")
	}
	if Equal(a, b) {
		t.Fatal("different bitmaps compare equal")
	}
	b.Set(0, 0, true)
	b.Set(12, 2, true)
	b.Pix[b.Stride*2+1] |= 0x01 // a bit past Width must not count
	if !Equal(a, b) {
		t.Fatal("equal bitmaps compare different")
	}
	a.Set(12, 2, false)
	if a.Black(12, 2) {
		t.Fatal("Set false left pixel black")
	}
	a.AppendRow(make([]byte, a.Stride))
	if a.Height != 4 || len(a.Pix) != 4*a.Stride {
		t.Fatalf("AppendRow: height %d len %d", a.Height, len(a.Pix))
	}
}
