package dsp

import "math"

// CarrierLoop is a second-order phase-locked loop for carrier recovery after
// the equaliser. Each symbol, derotate the equaliser output with Derotate,
// decide, then feed the phase error to Update.
type CarrierLoop struct {
	Phase float64 // current phase estimate, radians
	Freq  float64 // current frequency estimate, radians per symbol
	Alpha float64 // proportional gain
	Beta  float64 // integral gain
	// MaxFreq bounds |Freq| (radians per symbol); zero means π/8.
	MaxFreq float64
	rot     complex64
}

// Set sets the phase and frequency estimates.
func (l *CarrierLoop) Set(phase, freq float64) {
	l.Phase = math.Remainder(phase, 2*math.Pi)
	l.Freq = freq
	l.rot = Expj(-l.Phase)
}

// Rotation returns e^(−j·Phase), the factor Derotate applies.
func (l *CarrierLoop) Rotation() complex64 { return l.rot }

// Derotate removes the estimated carrier phase from y.
func (l *CarrierLoop) Derotate(y complex64) complex64 { return y * l.rot }

// Update advances the loop by one symbol given the phase error in radians
// (decided point's angle subtracted from the received point's angle).
func (l *CarrierLoop) Update(perr float64) {
	if perr > math.Pi/4 {
		perr = math.Pi / 4
	} else if perr < -math.Pi/4 {
		perr = -math.Pi / 4
	}
	l.Freq += l.Beta * perr
	lim := l.MaxFreq
	if lim == 0 {
		lim = math.Pi / 8
	}
	if l.Freq > lim {
		l.Freq = lim
	} else if l.Freq < -lim {
		l.Freq = -lim
	}
	l.Phase += l.Freq + l.Alpha*perr
	if l.Phase > math.Pi {
		l.Phase -= 2 * math.Pi
	} else if l.Phase < -math.Pi {
		l.Phase += 2 * math.Pi
	}
	l.rot = ExpjFast(-l.Phase)
}

// PhaseError returns the angle from target d to received y, in radians,
// using a cheap approximation (Im(y·d*)/|d|²), good for small errors.
func PhaseError(y, d complex64) float64 {
	p := y * Conj(d)
	a := Abs2(d)
	if a == 0 {
		return 0
	}
	return float64(imag(p) / a)
}
