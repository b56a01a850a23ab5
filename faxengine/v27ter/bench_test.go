package v27ter

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

type nopSink struct{}

func (nopSink) PutBit(int)          {}
func (nopSink) Status(modem.Status) {}

func benchSignal(b *testing.B, rate int) []int16 {
	tx, err := NewTransmitter(Config{Rate: rate}, newPRBS(rate*4))
	if err != nil {
		b.Fatal(err)
	}
	sig := make([]int16, 800)
	buf := make([]int16, 160)
	for {
		n := tx.Fill(buf)
		sig = append(sig, buf[:n]...)
		if n < len(buf) {
			return append(sig, make([]int16, 800)...)
		}
	}
}

func benchRx(b *testing.B, rate int) {
	sig := benchSignal(b, rate)
	rx, _ := NewReceiver(Config{Rate: rate}, nopSink{})
	const block = 160
	b.ReportAllocs()
	b.ResetTimer()
	pos := 0
	for range b.N {
		if pos+block > len(sig) {
			pos = 0
		}
		rx.Process(sig[pos : pos+block])
		pos += block
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*block), "ns/sample")
}

func benchTx(b *testing.B, rate int) {
	tx, _ := NewTransmitter(Config{Rate: rate}, modem.BitFunc(func() int { return 1 }))
	buf := make([]int16, 160)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tx.Fill(buf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(buf)), "ns/sample")
}

func BenchmarkReceiver4800(b *testing.B)    { benchRx(b, 4800) }
func BenchmarkReceiver2400(b *testing.B)    { benchRx(b, 2400) }
func BenchmarkTransmitter4800(b *testing.B) { benchTx(b, 4800) }
func BenchmarkTransmitter2400(b *testing.B) { benchTx(b, 2400) }
