package tiff_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/tiff"
)

// A receiver writes each page as soon as it is complete; the file is a
// valid TIFF after every WritePage.
func ExampleWriter() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "fax.tif")

	w, err := tiff.Create(name, tiff.WriterOptions{Coding: tiff.MMR})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		page := raster.New(1728, 1146)
		page.XRes, page.YRes = 204, 98
		page.Set(100, 100, true)
		meta := tiff.PageMeta{Time: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
		if i == 1 {
			meta.BadLines, meta.ConsecutiveBadLines, meta.Regenerated = 3, 2, true
		}
		if err := w.WritePage(page, meta); err != nil {
			log.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := tiff.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < f.NumPages(); i++ {
		p := f.Page(i)
		fmt.Printf("page %d/%d: %dx%d at %gx%g dpi, %v, bad lines %d\n",
			p.PageNumber+1, p.PageTotal, p.Width, p.Height, p.XRes, p.YRes, p.Compression, p.BadFaxLines)
	}
	// Output:
	// page 1/2: 1728x1146 at 204x98 dpi, CCITT T.6 (G4), bad lines -1
	// page 2/2: 1728x1146 at 204x98 dpi, CCITT T.6 (G4), bad lines 3
}
