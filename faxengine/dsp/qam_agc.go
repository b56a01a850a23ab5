package dsp

import "math"

// PowerMeter is a one-pole smoother of signal power (mean square), used by
// the QAM receivers for carrier detect, AGC and end-of-signal detection.
type PowerMeter struct {
	Level float32 // smoothed mean square
	k     float32
}

// NewPowerMeter returns a meter with smoothing factor k (0 < k ≤ 1): each
// update moves Level by k of the way to the new value.
func NewPowerMeter(k float32) PowerMeter { return PowerMeter{k: k} }

// Update adds a squared magnitude and returns the new level.
func (m *PowerMeter) Update(sq float32) float32 {
	m.Level += (sq - m.Level) * m.k
	return m.Level
}

// AGCGain returns the gain that brings a signal of mean square measured to
// mean square target, or 1 if measured is zero.
func AGCGain(measured, target float32) float32 {
	if measured <= 0 {
		return 1
	}
	return sqrt32(target / measured)
}

func sqrt32(x float32) float32 {
	if x <= 0 {
		return 0
	}
	return float32(math.Sqrt(float64(x)))
}

// BasebandPower returns the mean |y|² that a Demod with unit gain reports for
// a line signal at dbm0: mixing halves the amplitude, so |y|² is half the
// line signal's mean square.
func BasebandPower(dbm0 float64) float32 {
	r := RMS(dbm0)
	return float32(r * r / 2)
}
