package v17_test

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/v17"
)

type printer struct{ ones, zeros int }

func (p *printer) PutBit(b int) {
	if b == 1 {
		p.ones++
	} else {
		p.zeros++
	}
}

func (p *printer) Status(s modem.Status) { fmt.Println(s) }

// A page at 14400 bit/s after a long train, then the next page after a
// short train, into a receiver restarted for the short train as T.30 does.
func Example() {
	sent := 0
	data := modem.BitFunc(func() int {
		if sent == 14400 {
			return modem.EndOfData
		}
		sent++
		return sent & 1
	})
	tx, err := v17.NewTransmitter(v17.TxConfig{Rate: 14400}, data)
	if err != nil {
		panic(err)
	}
	p := &printer{}
	rx, err := v17.NewReceiver(v17.RxConfig{Rate: 14400}, p)
	if err != nil {
		panic(err)
	}
	buf := make([]int16, 160)
	for {
		n := tx.Fill(buf)
		rx.Process(buf[:n])
		if n < len(buf) {
			break
		}
	}
	rx.Process(make([]int16, 800)) // silence: the carrier drops
	fmt.Printf("received at least %d zeros\n", p.zeros/1000*1000)

	// Page 2: short train.
	sent = 0
	_ = tx.Restart(v17.TxConfig{Rate: 14400, ShortTrain: true})
	_ = rx.Restart(v17.RxConfig{Rate: 14400, ShortTrain: true})
	for {
		n := tx.Fill(buf)
		rx.Process(buf[:n])
		if n < len(buf) {
			break
		}
	}
	rx.Process(make([]int16, 800))
	// Output:
	// carrier up
	// training in progress
	// training succeeded
	// carrier down
	// received at least 7000 zeros
	// carrier up
	// training in progress
	// training succeeded
	// carrier down
}
