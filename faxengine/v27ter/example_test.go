package v27ter_test

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/v27ter"
)

type printSink struct{ ones, zeros int }

func (s *printSink) PutBit(b int) {
	if b == 1 {
		s.ones++
	} else {
		s.zeros++
	}
}

func (s *printSink) Status(st modem.Status) { fmt.Println(st) }

// A transmitter sends 1.5 s of zeros (a T.30 TCF) at 4800 bit/s; a receiver
// told to expect 4800 bit/s trains on it and delivers the bits.
func Example() {
	n := 0
	src := modem.BitFunc(func() int {
		if n++; n > 7200 {
			return modem.EndOfData
		}
		return 0
	})
	tx, err := v27ter.NewTransmitter(v27ter.Config{Rate: 4800}, src)
	if err != nil {
		panic(err)
	}
	sink := &printSink{}
	rx, err := v27ter.NewReceiver(v27ter.Config{Rate: 4800}, sink)
	if err != nil {
		panic(err)
	}
	buf := make([]int16, 160) // 20 ms blocks, as a call's audio arrives
	for {
		k := tx.Fill(buf)
		rx.Process(buf[:k])
		if k < len(buf) {
			break
		}
	}
	rx.Process(make([]int16, 800)) // the line goes quiet
	fmt.Printf("%d zeros, level %.0f dBm0\n", sink.zeros, rx.SignalLevel())
	// Output:
	// carrier up
	// training in progress
	// training succeeded
	// carrier down
	// 7200 zeros, level -10 dBm0
}
