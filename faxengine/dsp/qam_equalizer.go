package dsp

// Equalizer is a complex, fractionally spaced (T/2) adaptive transversal
// equaliser trained by LMS. Push every T/2 sample; call Output once per
// symbol, after pushing the symbol-centre sample; then call Update with the
// decision error (target − output).
//
// With Len taps and the centre tap at Len/2 (even), the output is for the
// symbol whose centre sample was pushed D = Len/4 symbols ago: Delay returns
// D. Taps and samples are kept as separate real and imaginary float32 arrays
// so the inner loops are plain multiply-adds.
type Equalizer struct {
	cre, cim []float32 // taps: c[j] weights the sample pushed j T/2-steps ago
	bre, bim []float32 // doubled delay line, newest at pos
	pos      int
	n        int
}

// NewEqualizer returns an equaliser with n taps (n is rounded up to a
// multiple of 4), reset to a unit centre tap.
func NewEqualizer(n int) *Equalizer {
	n = (n + 3) &^ 3
	e := &Equalizer{
		cre: make([]float32, n), cim: make([]float32, n),
		bre: make([]float32, 2*n), bim: make([]float32, 2*n),
		n: n,
	}
	e.Reset()
	return e
}

// Len returns the number of taps.
func (e *Equalizer) Len() int { return e.n }

// Delay returns the equaliser's delay in symbols.
func (e *Equalizer) Delay() int { return e.n / 4 }

// Tap returns tap j (weighting the sample pushed j T/2 steps ago).
func (e *Equalizer) Tap(j int) complex64 { return complex(e.cre[j], e.cim[j]) }

// SetTap sets tap j.
func (e *Equalizer) SetTap(j int, c complex64) { e.cre[j], e.cim[j] = real(c), imag(c) }

// Reset sets the taps to a unit centre tap and clears the delay line.
func (e *Equalizer) Reset() {
	e.ResetTaps()
	clear(e.bre)
	clear(e.bim)
	e.pos = 0
}

// ResetTaps sets the taps to a unit centre tap, keeping the delay line.
func (e *Equalizer) ResetTaps() {
	clear(e.cre)
	clear(e.cim)
	e.cre[e.n/2] = 1
}

// ScaleTaps multiplies every tap by k (used to set the initial gain or to
// rotate the whole response).
func (e *Equalizer) ScaleTaps(k complex64) {
	for j := range e.cre {
		c := complex(e.cre[j], e.cim[j]) * k
		e.cre[j], e.cim[j] = real(c), imag(c)
	}
}

// ScaleHistory multiplies the samples in the delay line by k, for when the
// gain in front of the equaliser changes.
func (e *Equalizer) ScaleHistory(k float32) {
	for i := range e.bre {
		e.bre[i] *= k
		e.bim[i] *= k
	}
}

// Push adds a T/2 sample.
func (e *Equalizer) Push(x complex64) {
	e.pos--
	if e.pos < 0 {
		e.pos = e.n - 1
	}
	e.bre[e.pos], e.bre[e.pos+e.n] = real(x), real(x)
	e.bim[e.pos], e.bim[e.pos+e.n] = imag(x), imag(x)
}

// Output returns the equalised sample for the current symbol.
func (e *Equalizer) Output() complex64 {
	cr, ci := e.cre, e.cim[:len(e.cre)]
	br, bi := e.bre[e.pos:e.pos+len(cr)], e.bim[e.pos:e.pos+len(cr)]
	var re0, re1, im0, im1 float32
	for j := range cr {
		re0 += cr[j] * br[j]
		re1 -= ci[j] * bi[j]
		im0 += cr[j] * bi[j]
		im1 += ci[j] * br[j]
	}
	return complex(re0+re1, im0+im1)
}

// Update adapts the taps by LMS: c += mu·err·conj(x). err is the error in the
// equaliser's own output frame (rotate it back if the caller derotates the
// output for carrier recovery).
func (e *Equalizer) Update(err complex64, mu float32) {
	er, ei := real(err)*mu, imag(err)*mu
	cr, ci := e.cre, e.cim[:len(e.cre)]
	br, bi := e.bre[e.pos:e.pos+len(cr)], e.bim[e.pos:e.pos+len(cr)]
	for j := range cr {
		// err · conj(x)
		cr[j] += er*br[j] + ei*bi[j]
		ci[j] += ei*br[j] - er*bi[j]
	}
}

// Leak pulls the taps towards zero by a factor (1-k), keeping the adaptive
// filter from drifting in directions the signal does not constrain.
func (e *Equalizer) Leak(k float32) {
	f := 1 - k
	for j := range e.cre {
		e.cre[j] *= f
		e.cim[j] *= f
	}
}
