package t6_test

import (
	"fmt"
	"log"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t6"
)

// An ECM transmitter codes a page in MMR; the receiver writes the frames'
// bytes as they arrive and stops at EOFB.
func Example() {
	page := raster.New(1728, 200)
	for y := 20; y < 180; y++ {
		page.Set(y*8, y, true) // a diagonal
	}
	coded, err := t6.Encode(page, t6.Options{})
	if err != nil {
		log.Fatal(err)
	}
	d, _ := t6.NewDecoder(1728, t6.DecoderOptions{})
	for len(coded) > 0 {
		n := min(len(coded), 256) // one ECM frame
		if _, err := d.Write(coded[:n]); err != nil {
			log.Fatal(err)
		}
		coded = coded[n:]
	}
	fmt.Println("end of page:", d.Done(), "rows:", d.Rows(), "same:", raster.Equal(d.Bitmap(), page))
	// Output:
	// end of page: true rows: 200 same: true
}
