package dsp

import "math"

// This file holds small complex64 helpers used by the QAM modems' inner
// loops. Go's complex64 is used directly; these helpers avoid the float64
// round trips of math/cmplx.

// Abs2 returns |c|², the power of c.
func Abs2(c complex64) float32 {
	return real(c)*real(c) + imag(c)*imag(c)
}

// Conj returns the complex conjugate of c.
func Conj(c complex64) complex64 {
	return complex(real(c), -imag(c))
}

// Expj returns e^(j·phase).
func Expj(phase float64) complex64 {
	s, c := math.Sincos(phase)
	return complex(float32(c), float32(s))
}

// Arg returns the angle of c in radians, in (-π, π].
func Arg(c complex64) float32 {
	return float32(math.Atan2(float64(imag(c)), float64(real(c))))
}

// Scale returns c·k for a real k.
func Scale(c complex64, k float32) complex64 {
	return complex(real(c)*k, imag(c)*k)
}

// Round16 rounds x to the nearest int16 (ties to even), saturating at the
// ends of the range. It has no data-dependent branches: adding 1.5·2²³
// makes the float32 unit itself round to an integer.
func Round16(x float32) int16 {
	// Plain comparisons: the builtin min and max on floats also order NaNs
	// and signed zeros, which costs more than the rounding itself.
	if x > 32767 {
		x = 32767
	} else if x < -32768 {
		x = -32768
	}
	return int16(int32(x+12582912) - 12582912)
}
