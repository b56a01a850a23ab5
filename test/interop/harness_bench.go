package interop

import (
	"testing"
	"time"
)

// BenchRatio measures ours and ref (the spandsp equivalent) in one
// benchmark, so both run under the same conditions. Each function must
// process samplesPerCall samples per call. It runs ours b.N times, then ref
// b.N times, and reports:
//
//	ns/sample        ours, per sample
//	ref-ns/sample    spandsp's, per sample
//	ours/ref         the CPU ratio (≤ 1 means ours is no slower)
//	channels/core    real-time 8 kHz channels one core can run with ours
//	ref-channels/core the same for spandsp
//
// Set up state outside the timed functions; keep allocations out of them
// (b.ReportAllocs counts both).
func BenchRatio(b *testing.B, samplesPerCall int, ours, ref func()) {
	b.Helper()
	b.ReportAllocs()
	ours() // warm up both once
	ref()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		ours()
	}
	tOurs := time.Since(start)
	start = time.Now()
	for range b.N {
		ref()
	}
	tRef := time.Since(start)
	b.StopTimer()
	n := float64(b.N) * float64(samplesPerCall)
	nsOurs := float64(tOurs.Nanoseconds()) / n
	nsRef := float64(tRef.Nanoseconds()) / n
	b.ReportMetric(nsOurs, "ns/sample")
	b.ReportMetric(nsRef, "ref-ns/sample")
	if nsRef > 0 {
		b.ReportMetric(nsOurs/nsRef, "ours/ref")
	}
	if nsOurs > 0 {
		b.ReportMetric(1e9/(nsOurs*8000), "channels/core")
	}
	if nsRef > 0 {
		b.ReportMetric(1e9/(nsRef*8000), "ref-channels/core")
	}
}

// BenchSamples reports ns/sample and channels/core for a function (ours
// alone, when there is no reference to compare with) that processes
// samplesPerCall samples per call.
func BenchSamples(b *testing.B, samplesPerCall int, f func()) {
	b.Helper()
	b.ReportAllocs()
	f()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		f()
	}
	el := time.Since(start)
	b.StopTimer()
	ns := float64(el.Nanoseconds()) / (float64(b.N) * float64(samplesPerCall))
	b.ReportMetric(ns, "ns/sample")
	if ns > 0 {
		b.ReportMetric(1e9/(ns*8000), "channels/core")
	}
}

// Loop returns sig repeated to at least n samples, so a benchmark can feed a
// receiver an endless stream without generating it in the timed loop.
func Loop(sig []int16, n int) []int16 {
	if len(sig) == 0 {
		return make([]int16, n)
	}
	out := make([]int16, 0, n+len(sig))
	for len(out) < n {
		out = append(out, sig...)
	}
	return out
}
