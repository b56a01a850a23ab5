package dsp

import "math"

// ncoBits is the log2 size of the oscillator's sine table. 4096 entries give
// a worst-case phase error of 0.044°, far below what a QAM slicer notices.
const ncoBits = 12

var ncoTable = func() (t [1<<ncoBits + 1<<(ncoBits-2)]float32) {
	// One full cycle plus a quarter, so cos(x) = table[i + N/4].
	n := 1 << ncoBits
	for i := range t {
		t[i] = float32(math.Sin(2 * math.Pi * float64(i) / float64(n)))
	}
	return t
}()

// NCO is a numerically controlled oscillator: a 32-bit phase accumulator
// driving a sine table. The full 2^32 range of Phase is one cycle, so the
// phase wraps for free. The zero value is a stopped oscillator at phase 0.
type NCO struct {
	Phase uint32 // current phase, 2^32 = one cycle
	Rate  uint32 // phase increment per sample (two's complement for negative)
}

// NCORate returns the per-sample phase increment for a frequency in Hz at
// sample rate fs. Negative frequencies wrap to the equivalent increment.
func NCORate(hz, fs float64) uint32 {
	return uint32(int64(math.Round(hz / fs * (1 << 32))))
}

// NewNCO returns an oscillator at hz for sample rate fs.
func NewNCO(hz, fs float64) NCO {
	return NCO{Rate: NCORate(hz, fs)}
}

// Next returns e^(j·phase) and advances the phase by one sample.
func (o *NCO) Next() complex64 {
	i := o.Phase >> (32 - ncoBits)
	o.Phase += o.Rate
	return complex(ncoTable[i+1<<(ncoBits-2)], ncoTable[i])
}

// Advance adds a phase offset in radians.
func (o *NCO) Advance(rad float64) {
	o.Phase += uint32(int64(math.Round(rad / (2 * math.Pi) * (1 << 32))))
}

// ExpjFast returns e^(j·phase) from the oscillator's sine table (phase
// quantised to 2π/4096), for per-symbol rotations in receiver loops.
func ExpjFast(phase float64) complex64 {
	const turns = (1 << 32) / (2 * math.Pi)
	u := uint32(int64(phase * turns))
	i := u >> (32 - ncoBits)
	return complex(ncoTable[i+1<<(ncoBits-2)], ncoTable[i])
}
