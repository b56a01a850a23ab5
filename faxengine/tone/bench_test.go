package tone

import "testing"

func BenchmarkDetector(b *testing.B) {
	sig := fill(NewCNG(), 8000)
	d := NewDetector(func(Event) {})
	b.ResetTimer()
	for range b.N {
		d.Process(sig)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(sig)), "ns/sample")
}

func BenchmarkGenerator(b *testing.B) {
	g := NewCNG()
	buf := make([]int16, 8000)
	for range b.N {
		g.Fill(buf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(buf)), "ns/sample")
}
