// Package dsp holds small signal-processing helpers shared by the fax modems:
// level conversions and (in other files) filters and oscillators.
package dsp

import "math"

// FullScaleDBm0 is the power, in dBm0, of a full-scale (peak 32767) sine wave.
// This follows the G.711 convention used by spandsp: 0 dBm0 is a sine whose
// peak is 3.14 dB below full scale.
const FullScaleDBm0 = 3.14

// SineAmplitude returns the peak amplitude of a sine wave at dbm0.
func SineAmplitude(dbm0 float64) float64 {
	return 32767 * math.Pow(10, (dbm0-FullScaleDBm0)/20)
}

// RMS returns the root-mean-square value of a signal at dbm0 (any waveform).
func RMS(dbm0 float64) float64 {
	return SineAmplitude(dbm0) / math.Sqrt2
}

// PowerDBm0 returns the level, in dBm0, of a signal with the given mean
// square value (in squared sample units). It returns -100 for silence.
func PowerDBm0(meanSquare float64) float64 {
	if meanSquare <= 0 {
		return -100
	}
	full := 32767.0 * 32767.0 / 2
	return 10*math.Log10(meanSquare/full) + FullScaleDBm0
}
