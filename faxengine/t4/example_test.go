package t4_test

import (
	"fmt"
	"log"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
)

// A transmitter codes a page for the line: MR with K=4 at fine resolution,
// 20 ms minimum scan-line time at 9600 bit/s; a receiver decodes it bit by
// bit as the modem delivers the bits.
func Example() {
	page := raster.New(1728, 100)
	for x := 100; x < 1600; x++ {
		page.Set(x, 50, true) // a rule across the page
	}
	coded, err := t4.Encode(page, t4.Options{Encoding: t4.MR, K: 4, MinRowBits: t4.MinRowBits(9600, 20)})
	if err != nil {
		log.Fatal(err)
	}

	d, err := t4.NewDecoder(1728, t4.DecoderOptions{Encoding: t4.MR})
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range coded {
		for i := 0; i < 8; i++ { // line order: bit 0 first
			d.PutBit(int(b>>i) & 1)
		}
	}
	st := d.Stats()
	fmt.Println("end of page:", d.Done(), "rows:", st.Rows, "bad:", st.BadRows)
	fmt.Println("same pixels:", raster.Equal(d.Bitmap(), page))
	// Output:
	// end of page: true rows: 100 bad: 0
	// same pixels: true
}

// TIFF Class F stores MH rows with an EOL before each, no RTC, EOLs
// byte-aligned (T4Options bit 2) and, usually, FillOrder 1.
func ExampleOptions_tiff() {
	page := raster.New(1728, 10)
	strip, err := t4.Encode(page, t4.Options{NoRTC: true, AlignEOL: true, MSBFirst: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("% x\n", strip[:6])
	// Output:
	// 00 01 4d 9a 80 01
}

// A TIFF reader decodes each strip with its own decoder state, bounded by
// the rows the strip holds.
func ExampleDecoder_tiff() {
	page := raster.New(1728, 10)
	strip, _ := t4.Encode(page, t4.Options{NoRTC: true, MSBFirst: true})

	d, _ := t4.NewDecoder(1728, t4.DecoderOptions{Encoding: t4.MH, MSBFirst: true, MaxRows: 10})
	d.Write(strip)
	d.Close() // the strip ended: the last row has no EOL after it
	fmt.Println(d.Bitmap().Height, d.Stats().BadRows)
	// Output:
	// 10 0
}
