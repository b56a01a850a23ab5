package dsp

import "math"

// interpPhases is the number of fractional-delay phases of the receive
// matched filter: timing is quantised to 1/64 of a sample.
const interpPhases = 64

// DemodConfig describes the front end of a QAM/PSK receiver.
type DemodConfig struct {
	CarrierHz float64 // nominal carrier frequency
	BaudRate  float64 // symbols per second
	RollOff   float64 // root-raised-cosine roll-off of the matched filter
	Span      int     // matched filter length in symbols (default 8)
}

// Demod is the front end shared by the QAM receivers: it mixes the 8000 Hz
// line signal down to baseband with a fixed-frequency NCO, applies a
// root-raised-cosine matched filter that also interpolates, and recovers
// symbol timing with a Gardner detector so that it delivers exactly two
// baseband samples per symbol (T/2 spacing): a mid-symbol sample and a
// symbol-centre sample. Carrier phase and frequency errors are left for the
// caller to remove after its equaliser.
//
// Process runs the matched filter, with the mixing folded into it, only at
// the T/2 output instants, so the per-sample cost is storing the sample.
type Demod struct {
	nco       NCO
	carrierHz float64
	offsetHz  float64
	gain      float32
	taps      int
	coef      []float32 // [phase][tap]: the real matched filter
	// The filter is applied to the real line signal with the carrier
	// folded into complex coefficients (cre, cim: coef·e^{jωj}), and the
	// output turned down by the oscillator's phase at the newest sample:
	// the same result as mixing every sample down first, for none of the
	// per-sample multiplies.
	cre, cim []float32 // [phase][tap]
	tabRate  uint32    // oscillator rate that cre, cim were made for
	line     []float32 // doubled delay line of the line signal, newest at pos
	pos      int
	n        float64 // time of the newest input sample, in samples
	next     float64 // time of the next output
	step     float64 // nominal half-symbol period, in samples
	half     float64 // current half-symbol period (loop frequency term applied)
	delay    float64 // group delay of the matched filter, in samples

	mid     complex64 // pending mid-symbol sample
	prevC   complex64 // previous centre sample
	haveMid bool

	// Timing loop.
	TimingOn bool    // run the timing loop
	Kp, Ki   float64 // proportional and integral gains (per symbol)
	// TimingFloor is the baseband power (at unit gain, see BasebandPower)
	// below which the timing loop holds still: the Gardner error is
	// normalised by the signal power, so on near-silence it would be noise.
	TimingFloor float32
	power       float32 // smoothed |y|² used to normalise the timing error
	freqAdj     float64 // integral term, samples per half symbol
}

// NewDemod returns a front end for cfg.
func NewDemod(cfg DemodConfig) *Demod {
	if cfg.Span <= 0 {
		cfg.Span = 8
	}
	sps := 8000 / cfg.BaudRate
	taps := int(math.Ceil(float64(cfg.Span)*sps)) | 1
	d := &Demod{
		nco:       NewNCO(-cfg.CarrierHz, 8000),
		carrierHz: cfg.CarrierHz,
		gain:      1,
		taps:      taps,
		coef:      make([]float32, interpPhases*taps),
		cre:       make([]float32, interpPhases*taps),
		cim:       make([]float32, interpPhases*taps),
		line:      make([]float32, 2*taps),
		step:      sps / 2,
		half:      sps / 2,
		delay:     float64(taps-1) / 2,
		Kp:        0.01, Ki: 0.0002,
		TimingFloor: BasebandPower(-65),
	}
	g := float64(taps-1) / 2
	for p := 0; p < interpPhases; p++ {
		mu := float64(p) / interpPhases
		row := d.coef[p*taps : (p+1)*taps]
		var sum float64
		for j := range row {
			sum += RRC((float64(j)-mu-g)/sps, cfg.RollOff)
		}
		for j := range row {
			row[j] = float32(RRC((float64(j)-mu-g)/sps, cfg.RollOff) / sum)
		}
	}
	d.Reset()
	return d
}

// Reset clears the filter and timing state (not the gain).
func (d *Demod) Reset() {
	clear(d.line)
	d.offsetHz = 0
	d.nco.Rate = NCORate(-d.carrierHz, 8000)
	d.pos = 0
	d.n = 0
	d.next = d.step
	d.half = d.step
	d.freqAdj = 0
	d.haveMid = false
	d.mid, d.prevC = 0, 0
	d.power = 0
}

// AdjustCarrier moves the mixing frequency by hz, for a receiver that has
// measured the far end's carrier offset and wants its equaliser to see a
// still constellation. Reset restores the nominal frequency.
func (d *Demod) AdjustCarrier(hz float64) {
	d.offsetHz += hz
	d.nco.Rate = NCORate(-(d.carrierHz + d.offsetHz), 8000)
}

// CarrierOffset returns the total adjustment made by AdjustCarrier, in Hz.
func (d *Demod) CarrierOffset() float64 { return d.offsetHz }

// SetGain sets the gain applied to input samples before mixing. Samples
// already in the filter are rescaled, so outputs change gain at once.
func (d *Demod) SetGain(g float32) {
	if d.gain != 0 && g != d.gain {
		k := g / d.gain
		for i := range d.line {
			d.line[i] *= k
		}
		d.mid = Scale(d.mid, k)
		d.prevC = Scale(d.prevC, k)
		d.power *= k * k
	}
	d.gain = g
}

// Gain returns the input gain.
func (d *Demod) Gain() float32 { return d.gain }

// Delay returns the matched filter's group delay in samples.
func (d *Demod) Delay() float64 { return d.delay }

// TimingOffset returns the loop's correction of the symbol clock, as a
// fraction of the nominal rate (positive: the far end's clock is slow).
func (d *Demod) TimingOffset() float64 { return d.freqAdj / (2 * d.step) }

// SlipHalf delays the sample clock by half a symbol, swapping the roles of
// mid and centre samples; receivers use it when they find the timing loop
// settled on the wrong half.
func (d *Demod) SlipHalf() {
	d.next += d.half
}

// Process consumes input samples and writes (mid, centre) pairs to out,
// mid at even and centre at odd indexes. It stops when src is used up or
// out has no room for another pair, and returns the number of samples
// consumed and of complex values written (always even).
func (d *Demod) Process(src []int16, out []complex64) (consumed, produced int) {
	if d.tabRate != d.nco.Rate {
		d.mixTable()
	}
	// The per-sample state lives in locals for the loop, so the compiler
	// can keep it in registers; it is written back on every return.
	taps := d.taps
	line := d.line[:2*taps]
	pos, n, gain := d.pos, d.n, d.gain
	phase, rate := d.nco.Phase, d.nco.Rate
	defer func() {
		d.pos, d.n, d.nco.Phase = pos, n, phase
	}()
	for i, s := range src {
		if produced+2 > len(out) {
			return i, produced
		}
		x := float32(s) * gain
		if pos--; pos < 0 {
			pos = taps - 1
		}
		line[pos], line[pos+taps] = x, x
		for d.next <= n {
			mu := n - d.next
			if mu >= 1 { // only after a large negative timing step
				mu = 1 - 1.0/interpPhases
			}
			p := int(mu*interpPhases + 0.5)
			// The oscillator's phase at the newest sample, or at the one
			// before when the rounding moves the filter there.
			k := phase >> (32 - ncoBits)
			at := pos
			if p >= interpPhases { // rounds into the previous sample
				p -= interpPhases
				at++
				k = (phase - rate) >> (32 - ncoBits)
			}
			y := dot2(line[at:at+taps], d.cre[p*taps:], d.cim[p*taps:])
			y *= complex(ncoTable[k+1<<(ncoBits-2)], ncoTable[k])
			if !d.haveMid {
				d.mid = y
				d.haveMid = true
				d.next += d.half
				continue
			}
			d.haveMid = false
			out[produced] = d.mid
			out[produced+1] = y
			produced += 2
			d.timing(y)
		}
		phase += rate
		n++
	}
	return len(src), produced
}

// mixTable folds the oscillator's current frequency into the matched
// filter: tap j, applied to the sample j before the newest, gets e^{-jrj}
// for the oscillator's step of r radians per sample.
func (d *Demod) mixTable() {
	r := float64(int32(d.nco.Rate)) * (2 * math.Pi / (1 << 32))
	for j := range d.taps {
		s, c := math.Sincos(-r * float64(j))
		for p := range interpPhases {
			h := d.coef[p*d.taps+j]
			d.cre[p*d.taps+j] = h * float32(c)
			d.cim[p*d.taps+j] = h * float32(s)
		}
	}
	d.tabRate = d.nco.Rate
}

// timing runs the Gardner loop on a new (mid, centre) pair and schedules
// the next one.
func (d *Demod) timing(y complex64) {
	adj := 0.0
	pw := Abs2(y) + Abs2(d.prevC)
	d.power += (pw - d.power) * 0.05
	if d.TimingOn && d.power > d.TimingFloor*d.gain*d.gain && d.power > 0 {
		// Gardner: the mid sample should sit on the zero crossing between
		// two centre samples.
		e32 := (real(d.prevC-y)*real(d.mid) + imag(d.prevC-y)*imag(d.mid)) / d.power
		if e32 > 1 {
			e32 = 1
		} else if e32 < -1 {
			e32 = -1
		}
		e := float64(e32)
		d.freqAdj += d.Ki * e
		if lim := d.step * 0.01; d.freqAdj > lim {
			d.freqAdj = lim
		} else if d.freqAdj < -lim {
			d.freqAdj = -lim
		}
		adj = d.Kp * e
	}
	d.prevC = y
	d.half = d.step + d.freqAdj/2
	d.next += d.half + adj
}

// dot returns the inner product of a and b (len(b) ≥ len(a)), with four
// partial sums so the additions do not wait on each other.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dot2 returns the inner products of a with b and with c (len(b), len(c) ≥
// len(a)) in one pass: the real and imaginary parts of a real filter
// applied to a complex signal.
func dot2(a, b, c []float32) complex64 {
	b = b[:len(a)]
	c = c[:len(a)]
	var r0, r1, i0, i1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		r0 += a[i] * b[i]
		i0 += a[i] * c[i]
		r1 += a[i+1] * b[i+1]
		i1 += a[i+1] * c[i+1]
	}
	if i < len(a) {
		r0 += a[i] * b[i]
		i0 += a[i] * c[i]
	}
	return complex(r0+r1, i0+i1)
}
