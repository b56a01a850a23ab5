package v17

import "testing"

// BenchmarkReceiver14400 measures the receiver on a looped long-train
// signal carrying pseudo-random data (the spandsp comparison is in
// test/interop).
func BenchmarkReceiver14400(b *testing.B) {
	sig := transmit(b, TxConfig{Rate: 14400}, -10, randomBits(14400*4, 1))
	rx, _ := NewReceiver(RxConfig{Rate: 14400}, &nullSink{})
	const block = 160
	b.ReportAllocs()
	b.SetBytes(2 * block)
	p := 0
	for b.Loop() {
		rx.Process(sig[p : p+block])
		if p += block; p+block > len(sig) {
			p = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*block), "ns/sample")
}

type ones struct{}

func (ones) GetBit() int { return 1 }

func BenchmarkTransmitter14400(b *testing.B) {
	tx, _ := NewTransmitter(TxConfig{Rate: 14400}, ones{})
	buf := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		tx.Fill(buf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*160), "ns/sample")
}
