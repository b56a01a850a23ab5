package fsk_test

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/fsk"
	"github.com/rayofax/rayofax/faxengine/hdlc"
)

// Send two T.30 frames as V.21 HDLC and receive them again.
func Example() {
	enc := hdlc.NewEncoder(hdlc.EncoderConfig{})
	enc.Queue([]byte{0xFF, 0x03, 0x40, 'C', 'S', 'I'})
	enc.Queue([]byte{0xFF, 0x13, 0x80, 0x00, 0xCE})
	enc.End()
	tx := fsk.NewTransmitter(enc)

	dec := hdlc.NewDecoder(hdlc.DecoderConfig{
		OnFrame: func(f []byte, ok bool) { fmt.Printf("frame % x ok=%v\n", f, ok) },
	})
	rx := fsk.NewReceiver(dec)

	buf := make([]int16, 160) // 20 ms blocks
	for {
		n := tx.Fill(buf)
		rx.Process(buf[:n])
		if n < len(buf) {
			break
		}
	}
	rx.Process(make([]int16, 800)) // silence: the carrier drops
	fmt.Println("carrier:", rx.Carrier())
	// Output:
	// frame ff 03 40 43 53 49 ok=true
	// frame ff 13 80 00 ce ok=true
	// carrier: false
}
