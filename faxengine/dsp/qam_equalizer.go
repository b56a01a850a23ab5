package dsp

// Equalizer is a complex, fractionally spaced (T/2) adaptive transversal
// equaliser trained by LMS. Push every T/2 sample; call Output once per
// symbol, after pushing the symbol-centre sample; then call Update with the
// decision error (target − output).
//
// With Len taps and the centre tap at Len/2 (even), the output for the symbol
// whose centre sample was pushed D = Len/4 symbols ago: Delay returns D.
type Equalizer struct {
	Coef []complex64 // Coef[j] weights the sample pushed j T/2-steps ago
	buf  []complex64 // doubled delay line, newest at pos
	pos  int
	n    int
}

// NewEqualizer returns an equaliser with n taps (n is rounded up to a
// multiple of 4), reset to a unit centre tap.
func NewEqualizer(n int) *Equalizer {
	n = (n + 3) &^ 3
	e := &Equalizer{Coef: make([]complex64, n), buf: make([]complex64, 2*n), n: n}
	e.Reset()
	return e
}

// Len returns the number of taps.
func (e *Equalizer) Len() int { return e.n }

// Delay returns the equaliser's delay in symbols.
func (e *Equalizer) Delay() int { return e.n / 4 }

// Reset sets the taps to a unit centre tap and clears the delay line.
func (e *Equalizer) Reset() {
	clear(e.Coef)
	e.Coef[e.n/2] = 1
	clear(e.buf)
	e.pos = 0
}

// ResetTaps sets the taps to a unit centre tap, keeping the delay line.
func (e *Equalizer) ResetTaps() {
	clear(e.Coef)
	e.Coef[e.n/2] = 1
}

// ScaleTaps multiplies every tap by k (used to set the initial gain or to
// rotate the whole response).
func (e *Equalizer) ScaleTaps(k complex64) {
	for i := range e.Coef {
		e.Coef[i] *= k
	}
}

// ScaleHistory multiplies the samples in the delay line by k, for when the
// gain in front of the equaliser changes.
func (e *Equalizer) ScaleHistory(k float32) {
	for i := range e.buf {
		e.buf[i] = Scale(e.buf[i], k)
	}
}

// Push adds a T/2 sample.
func (e *Equalizer) Push(x complex64) {
	e.pos--
	if e.pos < 0 {
		e.pos = e.n - 1
	}
	e.buf[e.pos] = x
	e.buf[e.pos+e.n] = x
}

// Output returns the equalised sample for the current symbol.
func (e *Equalizer) Output() complex64 {
	b := e.buf[e.pos : e.pos+e.n]
	var re, im float32
	for j, c := range e.Coef {
		x := b[j]
		re += real(c)*real(x) - imag(c)*imag(x)
		im += real(c)*imag(x) + imag(c)*real(x)
	}
	return complex(re, im)
}

// Update adapts the taps by LMS: c += mu·err·conj(x). err is the error in the
// equaliser's own output frame (rotate it back if the caller derotates the
// output for carrier recovery).
func (e *Equalizer) Update(err complex64, mu float32) {
	b := e.buf[e.pos : e.pos+e.n]
	er, ei := real(err)*mu, imag(err)*mu
	for j := range e.Coef {
		x := b[j]
		// err · conj(x)
		e.Coef[j] += complex(er*real(x)+ei*imag(x), ei*real(x)-er*imag(x))
	}
}

// Leak pulls the taps towards zero by a factor (1-k), keeping the adaptive
// filter from drifting in directions the signal does not constrain.
func (e *Equalizer) Leak(k float32) {
	f := 1 - k
	for j := range e.Coef {
		e.Coef[j] = complex(real(e.Coef[j])*f, imag(e.Coef[j])*f)
	}
}
