package v17

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// sliceBits is a bit source over a slice that hands out several bits at
// once (modem.BitsSource).
type sliceBits struct {
	data []int
	i    int
}

func (s *sliceBits) GetBit() int {
	if s.i >= len(s.data) {
		return modem.EndOfData
	}
	s.i++
	return s.data[s.i-1]
}

func (s *sliceBits) GetBits(n int) (uint32, int) {
	var v uint32
	k := 0
	for ; k < n && s.i < len(s.data); k++ {
		v |= uint32(s.data[s.i]) << k
		s.i++
	}
	return v, k
}

// oneAtATime hides a source's GetBits.
type oneAtATime struct{ src modem.BitSource }

func (o oneAtATime) GetBit() int { return o.src.GetBit() }

// TestTransmitGetBits: a source's GetBits gives the same signal as its
// GetBit, whether the data end on a symbol boundary or inside a symbol.
func TestTransmitGetBits(t *testing.T) {
	for _, rate := range []int{14400, 12000, 9600, 7200} {
		bits, _ := bitsPerSymbol(rate)
		for _, n := range []int{bits * 50, bits*50 + 1, bits*50 + bits - 1} {
			data := randomBits(n, 5)
			var sigs [2][]int16
			for k, src := range []modem.BitSource{&sliceBits{data: data}, oneAtATime{&sliceBits{data: data}}} {
				tx, err := NewTransmitter(TxConfig{Rate: rate, ShortTrain: true}, src)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]int16, 160)
				for {
					c := tx.Fill(buf)
					sigs[k] = append(sigs[k], buf[:c]...)
					if c < len(buf) {
						break
					}
				}
			}
			if !slices.Equal(sigs[0], sigs[1]) {
				t.Errorf("rate %d, %d bits: GetBits and GetBit give different signals", rate, n)
			}
		}
	}
}

// bulkRecorder is a BitsSink that records the bits it gets either way.
type bulkRecorder struct {
	recorder
	calls int
}

func (b *bulkRecorder) PutBits(v uint64, n int) {
	b.calls++
	for i := range n {
		b.PutBit(int(v >> i & 1))
	}
}

// TestReceivePutBits: a sink's PutBits gets the same bits as PutBit.
func TestReceivePutBits(t *testing.T) {
	for _, rate := range []int{14400, 7200} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			data := randomBits(rate/2, 9)
			sig := append(silence(400), transmit(t, TxConfig{Rate: rate}, -20, data)...)
			sig = append(sig, silence(2000)...)
			one, bulk := &recorder{}, &bulkRecorder{}
			for _, sink := range []modem.BitSink{one, bulk} {
				rx, err := NewReceiver(RxConfig{Rate: rate}, sink)
				if err != nil {
					t.Fatal(err)
				}
				receive(t, rx, sig)
			}
			if bulk.calls == 0 || !slices.Equal(one.bits, bulk.bits) || !slices.Equal(one.status, bulk.status) {
				t.Errorf("PutBits (%d calls): %d bits, PutBit: %d bits", bulk.calls, len(bulk.bits), len(one.bits))
			}
			if errs, _ := align(bulk.bits, data); errs != 0 {
				t.Errorf("%d bit errors", errs)
			}
		})
	}
}
