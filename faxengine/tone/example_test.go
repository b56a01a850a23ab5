package tone_test

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/tone"
)

// Detect two bursts of CNG with their cadence.
func ExampleDetector() {
	d := tone.NewDetector(func(e tone.Event) {
		fmt.Printf("%v at %.2f s, %.2f s long, burst %d\n", e.Tone, float64(e.At)/8000, float64(e.Duration)/8000, e.Bursts)
	})
	cng := tone.NewCNG()
	buf := make([]int16, 160)
	for range 2 * (tone.CNGOn + tone.CNGOff) / len(buf) {
		cng.Fill(buf)
		d.Process(buf)
	}
	// Output:
	// CNG at 0.00 s, 0.50 s long, burst 1
	// CNG at 3.50 s, 0.50 s long, burst 2
}
