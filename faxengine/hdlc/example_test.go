package hdlc_test

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/hdlc"
	"github.com/rayofax/rayofax/faxengine/modem"
)

// Frames go from an Encoder to a Decoder bit by bit, as they would across
// any modem.
func Example() {
	enc := hdlc.NewEncoder(hdlc.EncoderConfig{
		OnIdle: func() { fmt.Println("all frames sent") },
	})
	enc.Queue([]byte{0xFF, 0x03, 0x80, 0x00, 0xCE}) // e.g. a T.30 DIS
	enc.End()

	dec := hdlc.NewDecoder(hdlc.DecoderConfig{
		OnFrame:  func(f []byte, ok bool) { fmt.Printf("frame % x, FCS good: %v\n", f, ok) },
		OnStatus: func(s modem.Status) { fmt.Println(s) },
	})
	for b := enc.GetBit(); b != modem.EndOfData; b = enc.GetBit() {
		dec.PutBit(b)
	}
	// Output:
	// framing ok
	// frame ff 03 80 00 ce, FCS good: true
	// all frames sent
}
