package header_test

import (
	"fmt"
	"time"

	"github.com/rayofax/rayofax/faxengine/header"
	"github.com/rayofax/rayofax/faxengine/raster"
)

func ExampleApply() {
	pg := raster.New(1728, 1000)
	pg.XRes, pg.YRes = 204, 98
	h := header.Header{Text: "ACME", Ident: "+1 555 0100", Page: 1, Pages: 2,
		Time: time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)}
	fmt.Println(h.Left(), "|", h.Right())
	// Room below the A4 limit (1146 rows): the band is added on top.
	out, err := header.Apply(pg, h, 1146)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Height > pg.Height, out.Height <= 1146)
	// Output:
	// 2026-11-25 21:00   ACME   +1 555 0100 | Page 1/2
	// true true
}
