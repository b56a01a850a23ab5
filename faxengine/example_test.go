package faxengine_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/tiff"
)

// Two terminals connected back to back: each block one sends is the block
// the other receives. A telephony stream does the same with the call's
// audio, 160 samples (20 ms) at a time.
func Example() {
	dir, err := os.MkdirTemp("", "fax")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A one-page document: a fine-resolution A4 page with a black bar.
	page := raster.New(1728, 400)
	page.XRes, page.YRes = 204, 196
	for y := 100; y < 140; y++ {
		for x := 200; x < 1500; x++ {
			page.Set(x, y, true)
		}
	}
	doc := filepath.Join(dir, "doc.tif")
	w, err := tiff.Create(doc, tiff.WriterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.WritePage(page, tiff.PageMeta{}); err != nil {
		log.Fatal(err)
	}
	w.Close()

	tx, err := faxengine.NewSender(doc, faxengine.Options{Caller: true, Ident: "+4930123456"})
	if err != nil {
		log.Fatal(err)
	}
	rx, err := faxengine.NewReceiver(filepath.Join(dir, "received.tif"), faxengine.Options{Ident: "+15551234567"})
	if err != nil {
		log.Fatal(err)
	}
	a, b := make([]int16, 160), make([]int16, 160)
	for !tx.Done() || !rx.Done() {
		tx.Tx(a)
		rx.Tx(b)
		rx.Rx(a)
		tx.Rx(b)
	}
	r := rx.Report()
	fmt.Printf("%s: %d page from %s at %v, ECM %v, %dx%d %v\n", r.Result.String(), r.Pages, r.RemoteIdent, r.Rate, r.ECM,
		r.Width, r.Height, r.Resolution)
	// Output: OK: 1 page from +4930123456 at V.17 14400, ECM true, 1728x400 fine
}
