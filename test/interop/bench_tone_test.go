//go:build spandsp

package interop

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/tone"
)

// BenchmarkToneRxCNG: our CNG/CED detector (both tones at once) beside
// spandsp's CNG detector, on CNG with its cadence.
func BenchmarkToneRxCNG(b *testing.B) {
	sig := Modulate(tone.NewCNG(), 160, 8000*4)[:8000*4]
	ours := tone.NewDetector(func(tone.Event) {})
	ref := NewSpanToneRx(SpanToneCNG)
	defer ref.Close()
	BenchRatio(b, len(sig), func() { ours.Process(sig) }, func() {
		ref.Process(sig)
		ref.Reports = ref.Reports[:0]
	})
}

// BenchmarkToneRxCED: the same on CED, against spandsp's CED detector.
func BenchmarkToneRxCED(b *testing.B) {
	sig := Loop(Modulate(tone.NewCED(), 160, 8000*4), 8000*4)[:8000*4]
	ours := tone.NewDetector(func(tone.Event) {})
	ref := NewSpanToneRx(SpanToneCED)
	defer ref.Close()
	BenchRatio(b, len(sig), func() { ours.Process(sig) }, func() {
		ref.Process(sig)
		ref.Reports = ref.Reports[:0]
	})
}

// BenchmarkToneTxCNG: our CNG generator beside spandsp's.
func BenchmarkToneTxCNG(b *testing.B) {
	ours := tone.NewCNG()
	ref := NewSpanToneTx(SpanToneCNG)
	defer ref.Close()
	buf := make([]int16, 8000)
	BenchRatio(b, len(buf), func() { ours.Fill(buf) }, func() { ref.Fill(buf) })
}
