package dsp

import "math"

// RRC returns the root-raised-cosine pulse with roll-off beta at time t,
// measured in symbol periods. The pulse has unit energy over one symbol
// period (∫h² dt = 1 with t in symbols), so a baseband signal built from
// symbols a_k has mean power E|a|².
func RRC(t, beta float64) float64 {
	if beta <= 0 {
		if t == 0 {
			return 1
		}
		return math.Sin(math.Pi*t) / (math.Pi * t)
	}
	if math.Abs(t) < 1e-9 {
		return 1 - beta + 4*beta/math.Pi
	}
	if math.Abs(math.Abs(t)-1/(4*beta)) < 1e-9 {
		a := math.Pi / (4 * beta)
		return beta / math.Sqrt2 * ((1+2/math.Pi)*math.Sin(a) + (1-2/math.Pi)*math.Cos(a))
	}
	num := math.Sin(math.Pi*t*(1-beta)) + 4*beta*t*math.Cos(math.Pi*t*(1+beta))
	den := math.Pi * t * (1 - 16*beta*beta*t*t)
	return num / den
}

// PulseShaper is a polyphase root-raised-cosine transmit filter for a symbol
// period that is a rational number of samples, Num/Den (10/3 for 2400 baud at
// 8000 Hz). Push a symbol whenever Tick reports one is due, then read the
// filtered complex baseband sample with Output.
type PulseShaper struct {
	num, den int
	span     int
	acc      int
	coef     []float32 // [phase][tap], phase = acc (0..num-1)
	bre, bim []float32 // doubled symbol history, newest at pos
	pos      int
}

// NewPulseShaper designs a shaper for a symbol period of num/den samples,
// roll-off beta, spanning span symbols.
func NewPulseShaper(num, den int, beta float64, span int) *PulseShaper {
	p := &PulseShaper{num: num, den: den, span: span,
		coef: make([]float32, num*span),
		bre:  make([]float32, 2*span),
		bim:  make([]float32, 2*span),
		acc:  num - den, // first Tick asks for a symbol
	}
	for a := 0; a < num; a++ {
		for j := 0; j < span; j++ {
			t := float64(a)/float64(num) + float64(j) - float64(span)/2
			p.coef[a*span+j] = float32(RRC(t, beta))
		}
	}
	return p
}

// Delay returns the filter's group delay in symbols.
func (p *PulseShaper) Delay() int { return p.span / 2 }

// Tick advances one sample and reports whether a new symbol must be pushed
// before Output is called.
func (p *PulseShaper) Tick() bool {
	p.acc += p.den
	if p.acc >= p.num {
		p.acc -= p.num
		return true
	}
	return false
}

// Push adds the next symbol.
func (p *PulseShaper) Push(s complex64) {
	p.pos--
	if p.pos < 0 {
		p.pos = p.span - 1
	}
	p.bre[p.pos], p.bre[p.pos+p.span] = real(s), real(s)
	p.bim[p.pos], p.bim[p.pos+p.span] = imag(s), imag(s)
}

// Output returns the shaped baseband sample for the current sample time.
func (p *PulseShaper) Output() complex64 {
	c := p.coef[p.acc*p.span : (p.acc+1)*p.span]
	return dot2(c, p.bre[p.pos:], p.bim[p.pos:])
}

// Reset clears the filter history and restarts the symbol clock.
func (p *PulseShaper) Reset() {
	clear(p.bre)
	clear(p.bim)
	p.pos = 0
	p.acc = p.num - p.den
}
