package v17

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
)

// RxConfig selects what a Receiver expects.
type RxConfig struct {
	Rate int // 14400, 12000, 9600 or 7200 bit/s
	// ShortTrain keeps the adaptive equaliser and carrier frequency learnt
	// from the previous successful training (T.30: the same sender's long
	// train before the first page), so that a short training sequence,
	// which is too short to train an equaliser from nothing, works on any
	// line. Without it each signal starts from scratch. The receiver tells a
	// long from a short training sequence itself either way.
	ShortTrain bool
}

// Receiver front end: the input is moved to baseband with the nominal
// carrier, then interpolated by a polyphase root-raised-cosine low-pass
// filter at instants half a symbol apart, set by the symbol timing loop.
const (
	rxBeta   = 0.25
	rxHalf   = 12 // taps either side of the interpolation instant
	rxTaps   = 2 * rxHalf
	rxPhases = 64
	rxRing   = 64 // input history, a power of two > rxTaps

	halfStep = 8000.0 / (2 * BaudRate) // input samples per half symbol

	eqTaps   = 17 // half-symbol spaced equaliser taps
	eqCentre = 8  // an even tap: the equaliser delays by 4 symbols
	eqRing   = 64

	trainEnergy = 40.0 // |A|², the energy of each training symbol
)

// rxFilter[p] is the interpolating low-pass filter for an instant t whose
// fraction of a sample is p/rxPhases: tap j weighs input sample
// floor(t)-rxHalf+1+j. Each phase has unit gain at DC.
var rxFilter [rxPhases + 1][rxTaps]float64

// rxTapRe and rxTapIm are rxFilter with the mixing down to baseband folded
// in: tap j times e^{-jωj}, ω the nominal carrier per sample. Filtering
// the real line signal with them and turning the result by e^{-jωk}, k the
// first sample under the filter, is the same as mixing every sample down
// and filtering with rxFilter, without a multiply per input sample.
var rxTapRe, rxTapIm [rxPhases + 1][rxTaps]float64

func init() {
	const sps = 8000.0 / BaudRate
	for p := 0; p <= rxPhases; p++ {
		frac := float64(p) / rxPhases
		sum := 0.0
		for j := 0; j < rxTaps; j++ {
			tau := frac + rxHalf - 1 - float64(j) // samples from the instant
			v := rrc(tau/sps, rxBeta) * rect(tau, rxHalf+1)
			rxFilter[p][j] = v
			sum += v
		}
		for j := range rxFilter[p] {
			rxFilter[p][j] /= sum
			c := j % carrierPeriod
			rxTapRe[p][j] = rxFilter[p][j] * carrierCos[c]
			rxTapIm[p][j] = -rxFilter[p][j] * carrierSin[c]
		}
	}
}

// Reference symbols of training segments 2 and 3, as indices into abcd, and
// the scrambler state when segment 4 begins after a short and a long train.
var (
	trainRef                    [seg2LongSymbols + seg3Symbols]uint8
	shortScrState, longScrState uint32
)

func init() {
	s := scrambler(scramblerSeed)
	st := 0
	for i := 0; i < seg2LongSymbols; i++ {
		b := s.scramble(1)<<1 | s.scramble(1)
		st = [4]int{2, 3, 1, 0}[b]
		trainRef[i] = uint8(st)
		if i == seg2ShortSymbols-1 {
			shortScrState = uint32(s)
		}
	}
	for i := 0; i < seg3Symbols; i++ {
		sh := (i & 7) * 2
		b := s.scramble(bridgeWord>>sh&1)<<1 | s.scramble(bridgeWord>>(sh+1)&1)
		st = (st + [4]int{1, 0, 2, 3}[b]) & 3
		trainRef[seg2LongSymbols+i] = uint8(st)
	}
	longScrState = uint32(s)
}

// Receiver states.
const (
	rxIdle  = iota // waiting for carrier
	rxSeg1         // carrier up: acquiring on ABAB...
	rxTrain        // segments 2 and 3 against the known sequence
	rxData         // trained: decoding data
)

// Carrier detection thresholds and timing.
const (
	carrierOnDBm0   = -47.0
	carrierOffDBm0  = -52.0
	carrierOffRatio = 0.1 // power 10 dB below the trained level counts as off
	carrierOffHold  = 400 // samples (50 ms) the power must stay down: rides out 20 ms gaps
	decideAt        = seg2ShortSymbols
	decideLen       = 8
)

// Receiver is a V.17 receiver. It implements modem.Receiver.
type Receiver struct {
	cfg  RxConfig
	sink modem.BitSink
	bulk modem.BitsSink // sink, if it takes several bits at once
	bits int
	sl   *slicer
	vit  viterbi

	state int

	// power meter and carrier detection
	power    float64 // mean square input, smoothed
	onLevel  float64 // mean square thresholds
	offLevel float64
	offCount int
	offNow   float64 // the off level in force
	level    float64 // mean square of the trained signal

	// front end
	line [2 * rxRing]float64 // the input, stored twice over
	n    int                 // input samples so far
	nf   float64             // n, as a float
	pos  float64             // time of the next half-symbol instant, in input samples
	half bool                // the next instant is a symbol centre

	// carrier
	rot   complex128 // e^-jθ, θ the correction phase
	omega float64    // correction frequency, radians per symbol

	// timing loop
	drift float64 // samples per symbol

	// AGC and equaliser
	gain   float64
	symPow float64 // smoothed energy of symbol-centre samples before gain
	eqBuf  [2 * eqRing]complex128
	eqPos  int
	coef   [eqTaps]complex128
	haveEq bool // coef holds a trained equaliser

	// training
	inProgress bool // TrainingInProgress reported, outcome not yet
	count      int  // symbols in the current state
	run        int  // consecutive ABAB-like symbols
	bad        int  // consecutive symbols that are not
	prev       [8]complex128
	freqAcc    complex128
	ti         int // index into trainRef
	errAcc     float64
	pending    [decideLen]complex128
	trainedOm  float64

	// data
	diff   int
	descr  batchDescrambler
	snrErr float64
	dist   [8]int32
	num    [8]uint8
}

// NewReceiver returns a receiver for cfg that delivers to sink (which may
// be nil until SetBitSink).
func NewReceiver(cfg RxConfig, sink modem.BitSink) (*Receiver, error) {
	r := &Receiver{}
	r.SetBitSink(sink)
	if err := r.Restart(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// Restart makes the receiver wait for a new signal with cfg. With
// cfg.ShortTrain it keeps what the last successful training learnt.
func (r *Receiver) Restart(cfg RxConfig) error {
	bits, err := bitsPerSymbol(cfg.Rate)
	if err != nil {
		return err
	}
	r.cfg = cfg
	r.sl = slicerFor(bits)
	r.bits = bits
	r.onLevel = msLevel(carrierOnDBm0)
	r.offLevel = msLevel(carrierOffDBm0)
	if !cfg.ShortTrain {
		r.haveEq = false
		r.trainedOm = 0
	}
	// Look for a training sequence afresh; if there is energy on the line
	// already, the next sample raises carrier again.
	r.state = rxIdle
	r.offCount = 0
	return nil
}

// SetBitSink changes where bits and status go (nil: nowhere). A sink that
// also implements modem.BitsSink is given the bits of several symbols in
// one call.
func (r *Receiver) SetBitSink(sink modem.BitSink) {
	if sink == nil {
		sink = discard{}
	}
	r.sink = sink
	r.bulk, _ = sink.(modem.BitsSink)
}

type discard struct{}

func (discard) PutBit(int)          {}
func (discard) Status(modem.Status) {}

func msLevel(dbm0 float64) float64 {
	a := dsp.RMS(dbm0)
	return a * a
}

// SignalLevel returns the received signal level in dBm0: the level of the
// current signal, or of the last one once it has gone.
func (r *Receiver) SignalLevel() float64 {
	if r.state == rxData || r.state == rxIdle && r.level > 0 {
		return dsp.PowerDBm0(r.level)
	}
	return dsp.PowerDBm0(r.power)
}

// SNR returns the signal-to-noise ratio, in dB, estimated from the distance
// of received symbols from the decisions since training.
func (r *Receiver) SNR() float64 {
	if r.snrErr <= 0 {
		return 99
	}
	return 10 * math.Log10(trainEnergy/r.snrErr)
}

// CarrierOffset returns the estimated offset of the received carrier from
// 1800 Hz.
func (r *Receiver) CarrierOffset() float64 {
	return r.omega * BaudRate / (2 * math.Pi)
}

// Trained reports whether the receiver holds a trained equaliser.
func (r *Receiver) Trained() bool { return r.haveEq }

// Process implements modem.Receiver.
func (r *Receiver) Process(src []int16) {
	for _, s := range src {
		x := float64(s)
		r.power += (x*x - r.power) * (1.0 / 32)
		switch {
		case r.state == rxIdle:
			if r.power >= r.onLevel {
				r.start()
			}
		case r.power < r.offNow:
			r.quiet()
		default:
			r.offCount = 0
		}

		w := r.n & (rxRing - 1)
		r.line[w] = x
		r.line[w+rxRing] = x
		r.n++
		r.nf++
		if r.state == rxIdle {
			continue
		}
		// Half-symbol instants whose filter span is now complete: the
		// newest tap is input sample floor(pos)+rxHalf.
		for r.pos+rxHalf < r.nf {
			r.instant()
			r.pos += halfStep
			if r.half {
				r.pos += r.drift
			}
		}
	}
}

// quiet counts a sample below the carrier-off level and drops the carrier
// once they have lasted carrierOffHold samples.
func (r *Receiver) quiet() {
	if r.offCount++; r.offCount < carrierOffHold {
		return
	}
	r.state = rxIdle
	r.offCount = 0
	if r.inProgress {
		r.inProgress = false
		r.sink.Status(modem.TrainingFailed)
	}
	r.sink.Status(modem.CarrierDown)
}

// setOff sets the carrier-off level: the absolute one, or, once trained,
// 10 dB below the signal if that is higher (so that line noise does not
// hold the carrier up).
func (r *Receiver) setOff() {
	r.offNow = r.offLevel
	if v := r.level * carrierOffRatio; r.state == rxData && v > r.offNow {
		r.offNow = v
	}
}

// start begins acquisition on a new carrier.
func (r *Receiver) start() {
	r.state = rxSeg1
	r.setOff()
	r.sink.Status(modem.CarrierUp)
	if !r.cfg.ShortTrain {
		r.haveEq = false
	}
	r.pos = float64(r.n) + rxHalf // allow a full filter span of history
	r.half = false
	r.rot = 1
	r.omega = 0
	if r.haveEq {
		r.omega = r.trainedOm
	}
	r.drift = 0
	r.gain = 0
	r.symPow = 0
	r.eqBuf = [2 * eqRing]complex128{}
	r.eqPos = 0
	if !r.haveEq {
		r.coef = [eqTaps]complex128{}
		r.coef[eqCentre] = 1
	}
	r.count = 0
	r.run = 0
	r.bad = 0
	r.freqAcc = 0
	r.prev = [8]complex128{}
	r.offCount = 0
}

// baseband returns the input mixed down with the nominal carrier and
// interpolated at time pos (which must have a full filter span of input
// on either side in the ring).
func (r *Receiver) baseband(pos float64) complex128 {
	ti := int(pos) // pos is positive: truncation is floor
	p := int((pos-float64(ti))*rxPhases + 0.5)
	k := ti - rxHalf + 1 // the first sample under the filter
	start := k & (rxRing - 1)
	hr, hi := &rxTapRe[p], &rxTapIm[p]
	x := (*[rxTaps]float64)(r.line[start : start+rxTaps])
	// Four independent sums each for the real and imaginary parts: one
	// chain of additions would be bound by their latency.
	var r0, r1, r2, r3, i0, i1, i2, i3 float64
	for j := 0; j < rxTaps; j += 4 {
		r0 += hr[j] * x[j]
		i0 += hi[j] * x[j]
		r1 += hr[j+1] * x[j+1]
		i1 += hi[j+1] * x[j+1]
		r2 += hr[j+2] * x[j+2]
		i2 += hi[j+2] * x[j+2]
		r3 += hr[j+3] * x[j+3]
		i3 += hi[j+3] * x[j+3]
	}
	re, im := (r0+r1)+(r2+r3), (i0+i1)+(i2+i3)
	// Turn by e^{-jωk}: the carrier phase of the first sample.
	c := uint(k) % carrierPeriod
	cr, ci := carrierCos[c], -carrierSin[c]
	return complex(re*cr-im*ci, re*ci+im*cr)
}

// instant computes one half-symbol sample at time r.pos.
func (r *Receiver) instant() {
	z := r.baseband(r.pos)
	// The front end mixed with the nominal carrier; turn back by the
	// estimated offset and phase.
	z *= r.rot
	r.turn(r.omega / 2)

	centre := r.half
	r.half = !r.half
	if centre && r.state == rxSeg1 {
		// Automatic gain: symbol-centre energy to that of the training
		// symbols. Only during segment 1; later the equaliser tracks.
		e := real(z)*real(z) + imag(z)*imag(z)
		if r.symPow == 0 {
			r.symPow = e
		} else {
			r.symPow += (e - r.symPow) * 0.05
		}
		if r.symPow > 0 {
			r.gain = math.Sqrt(trainEnergy / r.symPow)
		}
	}
	z = complex(real(z)*r.gain, imag(z)*r.gain)

	r.eqPos--
	if r.eqPos < 0 {
		r.eqPos = eqRing - 1
	}
	r.eqBuf[r.eqPos] = z
	r.eqBuf[r.eqPos+eqRing] = z
	if centre {
		r.symbol()
	}
}

// equalise returns the equaliser output for the newest symbol.
func (r *Receiver) equalise() complex128 {
	x := (*[eqTaps]complex128)(r.eqBuf[r.eqPos : r.eqPos+eqTaps])
	h := &r.coef
	// Two independent sums each, to halve the chain of dependent additions.
	var r0, i0, r1, i1 float64
	for j := 0; j < eqTaps-1; j += 2 {
		c, v := h[j], x[j]
		r0 += real(c)*real(v) - imag(c)*imag(v)
		i0 += real(c)*imag(v) + imag(c)*real(v)
		c, v = h[j+1], x[j+1]
		r1 += real(c)*real(v) - imag(c)*imag(v)
		i1 += real(c)*imag(v) + imag(c)*real(v)
	}
	c, v := h[eqTaps-1], x[eqTaps-1]
	r0 += real(c)*real(v) - imag(c)*imag(v)
	i0 += real(c)*imag(v) + imag(c)*real(v)
	return complex(r0+r1, i0+i1)
}

// adapt moves the equaliser taps towards giving want for the newest symbol.
func (r *Receiver) adapt(err complex128, mu float64) {
	x := (*[eqTaps]complex128)(r.eqBuf[r.eqPos : r.eqPos+eqTaps])
	k := mu / (eqTaps * trainEnergy)
	er, ei := real(err)*k, imag(err)*k
	for j := range r.coef {
		v := x[j]
		// coef += err · conj(x)
		r.coef[j] += complex(er*real(v)+ei*imag(v), ei*real(v)-er*imag(v))
	}
}

// timing runs the Gardner timing error detector on the newest half-symbol
// samples and moves the next sampling instant.
func (r *Receiver) timing(gain, igain float64) {
	x0, x1, x2 := r.eqBuf[r.eqPos], r.eqBuf[r.eqPos+1], r.eqBuf[r.eqPos+2]
	d := x0 - x2
	e := (real(d)*real(x1) + imag(d)*imag(x1)) / trainEnergy
	if e > 1 {
		e = 1
	} else if e < -1 {
		e = -1
	}
	r.pos -= gain * e
	r.drift -= igain * e
	// Clock offsets beyond 300 ppm are not plausible.
	const maxDrift = 300e-6 * 8000 / BaudRate
	if r.drift > maxDrift {
		r.drift = maxDrift
	} else if r.drift < -maxDrift {
		r.drift = -maxDrift
	}
}

// track turns the carrier phase towards putting y on want.
func (r *Receiver) track(y, want complex128, kp, ki float64) {
	// The phase error, weighted by the point's energy: outer points, whose
	// angle is measured best, count most.
	e := (imag(y)*real(want) - real(y)*imag(want)) / trainEnergy
	r.turn(kp * e)
	r.omega += ki * e
}

// turn adds d (a small angle) to the correction phase.
func (r *Receiver) turn(d float64) {
	// e^-jd to second order: the error, d³/6, is below 1e-6 for the
	// steps the loops take.
	r.rot *= complex(1-d*d/2, -d)
}

// rotateEq turns the equaliser history by -phi, after a carrier phase step.
func (r *Receiver) rotateEq(phi float64) {
	sn, cs := math.Sincos(-phi)
	rot := complex(cs, sn)
	for i := range r.eqBuf {
		r.eqBuf[i] *= rot
	}
}

func abs2(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }

// symbol handles one symbol-centre sample.
func (r *Receiver) symbol() {
	r.count++
	// Keep |rot| at 1 against the rounding of the small-angle steps.
	r.rot *= complex((3-abs2(r.rot))/2, 0)
	switch r.state {
	case rxSeg1:
		r.seg1()
	case rxTrain:
		r.train()
	case rxData:
		r.data()
	}
}

// seg1 acquires gain, timing and carrier on the ABAB... segment and finds
// its end, where segment 2 begins with a half-turn jump.
func (r *Receiver) seg1() {
	// Fast timing acquisition until segment 1 has been seen for a while,
	// then steadier.
	if r.run < 48 {
		r.timing(0.3, 0)
	} else {
		r.timing(0.05, 0.0002)
	}
	y := r.equalise()
	p1, p2 := r.prev[0], r.prev[1]
	copy(r.prev[1:], r.prev[:7])
	r.prev[0] = y
	ey, e2 := abs2(y), abs2(p2)
	if ey < 0.2*trainEnergy || e2 < 0.2*trainEnergy {
		r.notABAB()
		return
	}
	// Half a turn from two symbols back: the first C of segment 2 (which
	// goes on C, D, C, D: a quarter turn from the symbol before, like ABAB).
	c2 := real(y * complex(real(p2), -imag(p2)))
	if r.run >= 32 && c2 < -0.5*math.Sqrt(ey*e2) {
		r.beginTrain()
		return
	}
	// ABAB: successive symbols a quarter turn apart, alternately either way.
	q := y * complex(real(p1), -imag(p1))
	if math.Abs(imag(q)) > 2*math.Abs(real(q)) {
		r.bad = 0
		r.run++
		if r.run == 16 && !r.inProgress {
			r.inProgress = true
			r.sink.Status(modem.TrainingInProgress)
		}
		if r.run > 16 {
			r.freqAcc += y * complex(real(p2), -imag(p2))
		}
		if r.run == 64 || r.run == 128 {
			// Symbols two apart are equal: their phase difference is
			// twice the carrier offset per symbol.
			f := math.Atan2(imag(r.freqAcc), real(r.freqAcc)) / 2
			r.omega += f
			if debugf != nil {
				debugf("freq step %.5f rad/symbol at run %d", f, r.run)
			}
			r.freqAcc = 0
		}
		return
	}
	r.notABAB()
}

// notABAB notes a symbol that does not fit segment 1. Noise spoils single
// symbols at low SNR, so only a few in a row end the run; a run long
// enough to have started training that ends without the jump into
// segment 2 is a failed training.
func (r *Receiver) notABAB() {
	if r.bad++; r.bad < 3 {
		return
	}
	if r.run >= 32 {
		r.fail()
	}
	r.run = 0
}

// beginTrain sets the carrier phase from the symbols around the jump and
// starts segment 2.
func (r *Receiver) beginTrain() {
	// prev[0] is trainRef[0]; before it segment 1 alternated B, A, B, ...
	var acc complex128
	acc += r.prev[0] * complex(real(abcd[trainRef[0]]), -imag(abcd[trainRef[0]]))
	for k := 1; k < 8; k++ {
		want := abcd[1] // B just before the jump, A before that, ...
		if k%2 == 0 {
			want = abcd[0]
		}
		acc += r.prev[k] * complex(real(want), -imag(want))
	}
	phi := math.Atan2(imag(acc), real(acc))
	if debugf != nil {
		debugf("jump at count %d run %d: phase %.3f omega %.5f gain %.4g drift %.5f", r.count, r.run, phi, r.omega, r.gain, r.drift)
	}
	sn, cs := math.Sincos(-phi)
	r.rot *= complex(cs, sn)
	r.rotateEq(phi)
	r.state = rxTrain
	r.ti = 1
	r.count = 0
	r.errAcc = 0
}

// debugf, when set by a test, traces the receiver's training decisions.
var debugf func(format string, args ...any)

func (r *Receiver) fail() {
	if debugf != nil {
		debugf("fail: state %d count %d run %d errAcc %.3f", r.state, r.count, r.run, r.errAcc)
	}
	r.inProgress = false
	r.sink.Status(modem.TrainingFailed)
	// Look for another training sequence while the carrier lasts: data
	// never looks like segment 1 for long.
	r.state = rxSeg1
	r.run = 0
	r.freqAcc = 0
}

// train adapts on segments 2 and 3, tells a long from a short train, and
// decides whether training worked.
func (r *Receiver) train() {
	r.timing(0.03, 0.0002)
	y := r.equalise()
	i := r.ti
	r.ti++
	if i >= decideAt && i < decideAt+decideLen {
		// A long train goes on with C, D, B, A; a short one is already
		// sending data. Hold adaptation until it is clear which.
		r.pending[i-decideAt] = y
		if i < decideAt+decideLen-1 {
			return
		}
		match := 0
		for k, p := range r.pending {
			if abs2(p-abcd[trainRef[decideAt+k]]) < 0.25*trainEnergy {
				match++
			}
		}
		if match >= decideLen-2 {
			return // long train: carry on
		}
		// Short train: these were the first symbols of segment 4.
		if !r.trained(shortScrState, 0) {
			return
		}
		for _, p := range r.pending {
			r.decode(p)
		}
		return
	}
	want := abcd[trainRef[i]]
	err := want - y
	mu := 0.1
	if i > 1000 {
		mu = 0.03
	}
	r.adapt(err, mu)
	r.track(y, want, 0.1, 0.002)
	// Mean squared error over the last symbols of the sequence.
	r.errAcc += (abs2(err) - r.errAcc) * 0.05
	if i == len(trainRef)-1 {
		r.trained(longScrState, 1)
	}
}

// trained ends training: it reports success and enters data mode, or
// reports failure. scr and diff are the scrambler and differential coder
// states at the start of segment 4.
func (r *Receiver) trained(scr uint32, diff int) bool {
	if debugf != nil {
		debugf("trained: errAcc %.4f (%.1f dB) omega %.5f drift %.5f", r.errAcc, 10*math.Log10(trainEnergy/r.errAcc), r.omega, r.drift)
	}
	if r.errAcc > 0.1*trainEnergy {
		r.fail()
		return false
	}
	r.state = rxData
	r.inProgress = false
	r.count = 0
	r.haveEq = true
	r.trainedOm = r.omega
	r.level = r.power
	r.setOff()
	r.descr = descrambler(scr).batch()
	r.diff = diff
	r.snrErr = r.errAcc
	r.vit.reset(DefaultDepth)
	r.sink.Status(modem.TrainingSucceeded)
	return true
}

// data decodes one data symbol and keeps the equaliser, carrier and timing
// tracking the signal.
func (r *Receiver) data() {
	r.timing(0.02, 0.0002)
	y := r.equalise()
	d := r.decode(y)
	err := d - y
	if debugf != nil && r.count < 200 {
		debugf("data %d: err %.3f y %.2f d %.0f omega %.5f pos-frac %.3f", r.count, abs2(err), y, d, r.omega, r.drift)
	}
	// In data mode the equaliser only has to follow slow changes: adapting
	// on every other symbol, with twice the step, tracks as well for half
	// the work.
	if r.count&1 == 0 {
		r.adapt(err, 0.02)
	}
	r.track(y, d, 0.05, 0.0005)
	if r.power > 0.5*r.level {
		r.snrErr += (abs2(err) - r.snrErr) * 0.01
		r.level += (r.power - r.level) * 0.01
		r.setOff()
	}
}

// decode runs one equalised symbol through the trellis decoder, delivers the
// bits that come out, and returns the nearest point to y.
func (r *Receiver) decode(y complex128) complex128 {
	near := r.sl.slice(y, &r.dist, &r.num)
	syms := r.vit.push(&r.dist, &r.num)
	if len(syms) == 0 {
		return r.sl.all[near]
	}
	// At most batch symbols of at most 6 bits: one word.
	var word uint64
	nb := 0
	for _, sym := range syms {
		yy := sym >> 1 & 3
		q := (sym>>3)<<2 | diffDecode(r.diff, yy)
		r.diff = yy
		word |= uint64(r.descr.descramble(uint32(q), r.bits)) << nb
		nb += r.bits
	}
	if r.bulk != nil {
		r.bulk.PutBits(word, nb)
	} else {
		for k := 0; k < nb; k++ {
			r.sink.PutBit(int(word >> k & 1))
		}
	}
	return r.sl.all[near]
}
