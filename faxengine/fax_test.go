package faxengine

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/test/testenv"
)

func run(t *testing.T, a, b *Fax, limit int) {
	t.Helper()
	ba, bb := make([]int16, 160), make([]int16, 160)
	for n := 0; n < limit && !(a.Done() && b.Done()); n += 160 {
		a.Tx(ba)
		b.Tx(bb)
		a.Rx(bb)
		b.Rx(ba)
	}
}

func readPages(t *testing.T, name string) []*raster.Bitmap {
	t.Helper()
	pages, err := tiff.ReadBitmaps(name)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// A sender and a receiver made from files exchange a document; the TIFF
// written holds exactly the pages the sender prepared.
func TestSendReceiveFiles(t *testing.T) {
	in := filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
	out := filepath.Join(t.TempDir(), "out.tif")
	fixed := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	o := Options{Caller: true, Ident: "+4930123", Header: "rayofax test", Now: fixed}
	tx, err := NewSender(in, o)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := NewReceiver(out, Options{Ident: "+15551234567", Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	run(t, tx, rx, 8000*600)
	rt, rr := tx.Report(), rx.Report()
	if rt.Result != t30.OK || rr.Result != t30.OK || rr.Pages != 1 || rr.FileSize == 0 || rr.RemoteIdent != "+4930123" {
		t.Fatalf("reports:\n%+v\n%+v", rt, rr)
	}
	if rr.Rate != (t30.Rate{Modulation: t30.V17, BitRate: 14400}) || !rr.ECM {
		t.Errorf("rate %v ecm %v", rr.Rate, rr.ECM)
	}
	want, err := LoadDocument(in, o)
	if err != nil {
		t.Fatal(err)
	}
	got := readPages(t, out)
	if len(got) != len(want) {
		t.Fatalf("%d pages, want %d", len(got), len(want))
	}
	for i := range want {
		if !raster.Equal(got[i], want[i]) {
			t.Errorf("page %d differs", i+1)
		}
	}
}

func TestSenderErrors(t *testing.T) {
	dir := testenv.SharedDir(t)
	if _, err := NewSender(filepath.Join(dir, "testdata", "chart.ps"), Options{}); err == nil {
		t.Errorf("PostScript accepted as TIFF")
	}
	if _, err := NewSender(filepath.Join(dir, "testdata", "chart-std-g3.tif"), Options{Pages: "2-9"}); err == nil {
		t.Errorf("page range past the end accepted")
	}
	if _, err := NewSender(filepath.Join(dir, "testdata", "chart-std-g3.tif"), Options{MaxRate: 1234}); err == nil {
		t.Errorf("bad rate accepted")
	}
}
