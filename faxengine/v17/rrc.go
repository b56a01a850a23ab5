package v17

import "math"

// rrc is the root-raised-cosine pulse with roll-off beta at t symbol
// periods from its centre, normalised to 1 at t = 0 for beta = 0.
func rrc(t, beta float64) float64 {
	if t == 0 {
		return 1 - beta + 4*beta/math.Pi
	}
	if x := 4 * beta * t; math.Abs(math.Abs(x)-1) < 1e-9 {
		return beta / math.Sqrt2 * ((1+2/math.Pi)*math.Sin(math.Pi/(4*beta)) +
			(1-2/math.Pi)*math.Cos(math.Pi/(4*beta)))
	}
	num := math.Sin(math.Pi*t*(1-beta)) + 4*beta*t*math.Cos(math.Pi*t*(1+beta))
	den := math.Pi * t * (1 - 16*beta*beta*t*t)
	return num / den
}

// rect truncates a pulse to |t| < half. A root-raised-cosine pulse cut at
// four or five symbols either side leaves intersymbol interference near
// -43 dB between two such filters; smoother windows (Hann: -23 dB) cost
// more than the side lobes they remove.
func rect(t, half float64) float64 {
	if math.Abs(t) >= half {
		return 0
	}
	return 1
}

// carrierTable holds one period of the 1800 Hz carrier at 8000 Hz: 9 cycles
// in 40 samples, exactly.
const carrierPeriod = 40

// carrierCos and carrierSin are set by variable initialisation, which
// precedes every init function that uses them.
var carrierCos, carrierSin = carrierTables()

func carrierTables() (cos, sin [carrierPeriod]float64) {
	for n := range cos {
		s, c := math.Sincos(2 * math.Pi * CarrierHz * float64(n) / 8000)
		cos[n], sin[n] = c, s
	}
	return cos, sin
}
