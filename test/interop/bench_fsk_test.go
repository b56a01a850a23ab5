//go:build spandsp

package interop

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/fsk"
	"github.com/rayofax/rayofax/faxengine/modem"
)

type nullSink struct{}

func (nullSink) PutBit(int)          {}
func (nullSink) Status(modem.Status) {}

func v21Signal(n int) []int16 {
	data := PRBSBits(n, 7)
	return Modulate(fsk.NewTransmitter(&KnownBits{Lead: 40, FillBit: 1, Data: data}), 160, 1<<24)
}

func BenchmarkV21Rx(b *testing.B) {
	sig := Loop(v21Signal(3000), 8000)[:8000]
	ours := fsk.NewReceiver(nullSink{})
	ref := NewSpanV21Rx(nullSink{})
	defer ref.Close()
	BenchRatio(b, len(sig), func() { ours.Process(sig) }, func() { ref.Process(sig) })
}

func BenchmarkV21Tx(b *testing.B) {
	data := PRBSBits(1<<15, 3)
	i := 0
	ours := fsk.NewTransmitter(modem.BitFunc(func() int { i++; return int(data[i&(1<<15-1)]) }))
	ref := NewSpanV21Tx(data, true)
	defer ref.Close()
	buf := make([]int16, 8000)
	BenchRatio(b, len(buf), func() { ours.Fill(buf) }, func() { ref.Fill(buf) })
}
