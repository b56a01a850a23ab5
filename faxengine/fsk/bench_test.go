package fsk

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

type discard struct{}

func (discard) PutBit(int)          {}
func (discard) Status(modem.Status) {}

func BenchmarkReceiver(b *testing.B) {
	sig := modulate(&sliceSource{lead: 40, data: prbs(3000, 1)}, -10)
	rx := NewReceiver(discard{})
	b.SetBytes(2 * int64(len(sig)))
	b.ResetTimer()
	for range b.N {
		rx.Process(sig)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(sig)), "ns/sample")
}

func BenchmarkTransmitter(b *testing.B) {
	data := prbs(1<<15, 1)
	i := 0
	tx := NewTransmitter(modem.BitFunc(func() int { i++; return int(data[i&(1<<15-1)]) }))
	buf := make([]int16, 8000)
	b.ResetTimer()
	for range b.N {
		tx.Fill(buf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(buf)), "ns/sample")
}
