package fsk

import (
	"encoding/binary"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// FuzzReceiver: arbitrary audio must not panic the receiver, and bits come
// out only while the carrier is up.
func FuzzReceiver(f *testing.F) {
	f.Add([]byte{0, 0x80, 0xff, 0x7f})
	var seed []byte
	for _, v := range modulate(&sliceSource{lead: 20, data: prbs(40, 1)}, 0) {
		seed = binary.LittleEndian.AppendUint16(seed, uint16(v))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		sig := make([]int16, len(data)/2)
		for i := range sig {
			sig[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		c := &carrierCheck{t: t}
		rx := NewReceiver(c)
		for range 3 {
			rx.Process(sig)
		}
		_ = rx.Quality()
		_ = rx.SignalLevel()
	})
}

type carrierCheck struct {
	t  *testing.T
	up bool
}

func (c *carrierCheck) PutBit(b int) {
	if !c.up || (b != 0 && b != 1) {
		c.t.Fatalf("bit %d with carrier up=%v", b, c.up)
	}
}

func (c *carrierCheck) Status(s modem.Status) {
	switch s {
	case modem.CarrierUp:
		if c.up {
			c.t.Fatal("carrier up twice")
		}
		c.up = true
	case modem.CarrierDown:
		if !c.up {
			c.t.Fatal("carrier down while down")
		}
		c.up = false
	}
}
