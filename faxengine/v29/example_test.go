package v29_test

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/v29"
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

// A transmitter sends 1.5 s of zeros (a T.30 TCF) at 9600 bit/s; a receiver
// told to expect 9600 bit/s trains on it and delivers the bits.
func Example() {
	n := 0
	src := modem.BitFunc(func() int {
		if n++; n > 14400 {
			return modem.EndOfData
		}
		return 0
	})
	tx, err := v29.NewTransmitter(v29.Config{Rate: 9600}, src)
	if err != nil {
		panic(err)
	}
	sink := &printSink{}
	rx, err := v29.NewReceiver(v29.Config{Rate: 9600}, sink)
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
	// 14400 zeros, level -10 dBm0
}
