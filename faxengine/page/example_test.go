package page_test

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/page"
	"github.com/rayofax/rayofax/faxengine/raster"
)

func ExampleParseRanges() {
	rs, err := page.ParseRanges("1-4,5,7-9")
	if err != nil {
		fmt.Println(err)
		return
	}
	sel, err := rs.Select(10)
	fmt.Println(sel, err) // zero-based
	_, err = rs.Select(8)
	fmt.Println(err)
	// Output:
	// [0 1 2 3 4 6 7 8] <nil>
	// pages: range 7-9 is past the end of the document (8 pages)
}

func ExampleFit() {
	// A 300 dpi US letter page becomes a fine A4 fax page.
	scan := raster.New(2550, 3300)
	pages, err := page.Fit(scan, 300, 300, page.Options{Resolution: page.Fine, Width: page.A4})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pages {
		fmt.Printf("%dx%d at %gx%g\n", p.Width, p.Height, p.XRes, p.YRes)
	}
	// Output:
	// 1728x2149 at 204x196
}
