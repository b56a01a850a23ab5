package v27ter

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
)

// holdoffSymbols is how long, after a signal is lost, the receiver waits
// before declaring a new carrier: the old one's filter tail takes a few
// symbols to die away.
const holdoffSymbols = 12

// Receiver thresholds, in dBm0 of the in-band signal.
const (
	carrierOnDBm0  = -47.0
	carrierOffDBm0 = -50.0
)

const (
	eqTaps   = 16 // T/2 taps: 8 symbols (24 cost 30% more per symbol and no BER)
	bitDelay = 8  // symbols of bits held back so a lost carrier discards its debris
	bpskRun  = 16 // consecutive two-phase symbols that start a training
	alignWin = 20 // phase changes compared to place ourselves in the training
	pw       = 2  // power of the constellation points
)

type rxState int

const (
	stSearch rxState = iota
	stTrain          // segments 3 and 4: two-phase, decision-directed
	stData           // segment 5 and data
)

// Receiver is a V.27 ter receiver. It implements modem.Receiver and delivers
// bits and status changes to a modem.BitSink. It allocates nothing after
// NewReceiver (and Restart).
type Receiver struct {
	cfg  Config
	sink modem.BitSink

	demod *dsp.Demod
	eq    *dsp.Equalizer
	pll   dsp.CarrierLoop
	pairs [128]complex64

	state     rxState
	carrier   bool
	trained   bool // the equaliser holds a previous training
	cold      bool // this training is a short one on an untrained equaliser
	power     dsp.PowerMeter
	slowPower dsp.PowerMeter
	holdoff   int // symbols to wait after losing a signal
	onLevel   float32
	offLevel  float32
	drop      float32
	rescale   float32

	prev    complex64
	run     int
	revs    int       // phase reversals in the run
	sqAcc   complex64 // Σ y² over the detection run, for the carrier phase
	rotAcc  complex64 // Σ (y·y'*)² over the run, for the frequency offset
	rotMag  float32   // Σ |y·y'*|², to judge how steady rotAcc is
	pwrAcc  float32
	changes []uint8 // observed phase changes since training started (1: reversal)
	known   []uint8 // phase changes of segments 3 and 4
	after4  scrambler
	pos     int // index in known of the next equaliser output; -1 while unaligned
	lastDec int
	errAcc  float32
	nAcc    int
	mse     float32

	prevState int
	scr       scrambler
	skip      int
	fifo      [64]uint8
	fifoHead  int
	fifoLen   int
	levelDBm0 float64
	dataPower float32 // slow average of the in-band power in data mode
	bitsPer   int
	odd       bool // alternate symbols in data mode
	slicer    *dsp.Slicer
}

// slicers decide 8-phase (4800 bit/s) and 4-phase (2400 bit/s) symbols; the
// 4-phase one uses the even points of the same table.
var slicer8 = dsp.NewSlicer(points[:], 3, 64)
var slicer4 = dsp.NewSlicer([]complex64{points[0], points[0], points[2], points[2], points[4], points[4], points[6], points[6]}, 3, 64)

// NewReceiver returns a receiver for cfg reporting to sink.
func NewReceiver(cfg Config, sink modem.BitSink) (*Receiver, error) {
	r := &Receiver{
		sink:     sink,
		eq:       dsp.NewEqualizer(eqTaps),
		onLevel:  dsp.BasebandPower(carrierOnDBm0),
		offLevel: dsp.BasebandPower(carrierOffDBm0),
		changes:  make([]uint8, 0, 50+1074+64),
	}
	if err := r.Restart(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// Restart prepares the receiver for a new signal described by cfg. With
// cfg.ShortTrain, an equaliser trained by an earlier long training is kept.
func (r *Receiver) Restart(cfg Config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if r.demod == nil || cfg.Rate != r.cfg.Rate {
		r.demod = dsp.NewDemod(dsp.DemodConfig{CarrierHz: carrierHz, BaudRate: baudOf(cfg.Rate), RollOff: rollOff, Span: 6})
		r.trained = false
	}
	if !cfg.ShortTrain {
		r.trained = false
	}
	r.cfg = cfg
	s3, s4 := trainLens(cfg.ShortTrain)
	bits, after := segment4(s4)
	r.known = r.known[:0]
	for range s3 {
		r.known = append(r.known, 1)
	}
	r.known = append(r.known, bits...)
	r.after4 = after
	r.bitsPer = 3
	r.slicer = slicer8
	if cfg.Rate == 2400 {
		r.bitsPer = 2
		r.slicer = slicer4
	}
	r.demod.SetGain(1)
	r.demod.Reset()
	r.searchMode()
	r.carrier = false
	r.holdoff = 0
	r.power = dsp.NewPowerMeter(0.5)
	r.slowPower = dsp.NewPowerMeter(1.0 / 16)
	r.levelDBm0 = -100
	return nil
}

func (r *Receiver) searchMode() {
	r.state = stSearch
	r.run = 0
	r.demod.TimingOn = true
	r.demod.Kp, r.demod.Ki = 0.1, 0
	r.fifoLen = 0
}

// SignalLevel returns the level of the received signal in dBm0: measured
// over the data once trained, else as estimated at the start of the
// training (or -100 before any signal).
func (r *Receiver) SignalLevel() float64 {
	if r.state != stData {
		return r.levelDBm0
	}
	g := r.demod.Gain()
	// The matched filter passes 1 - β/4 of a root-raised-cosine signal's
	// power; the mixer halves the amplitude (see dsp.BasebandPower).
	return dsp.PowerDBm0(float64(2 * r.dataPower / (g * g) / (1 - rollOff/4)))
}

// SNR returns the estimated signal-to-noise ratio in dB from the decision
// error of the equalised symbols.
func (r *Receiver) SNR() float64 {
	if r.mse <= 0 {
		return 99
	}
	return 10 * math.Log10(pw/float64(r.mse))
}

// Trained reports whether the receiver is in data mode.
func (r *Receiver) Trained() bool { return r.state == stData }

// Process consumes a block of samples.
func (r *Receiver) Process(src []int16) {
	for len(src) > 0 {
		n, m := r.demod.Process(src, r.pairs[:])
		src = src[n:]
		for i := 0; i < m; i += 2 {
			r.symbol(r.pairs[i], r.pairs[i+1])
			if r.rescale != 0 {
				for j := i + 2; j < m; j++ {
					r.pairs[j] = dsp.Scale(r.pairs[j], r.rescale)
				}
				r.rescale = 0
			}
		}
	}
}

func (r *Receiver) symbol(mid, c complex64) {
	p := r.power.Update((dsp.Abs2(mid) + dsp.Abs2(c)) / 2)
	if r.state == stData {
		r.dataPower += (p - r.dataPower) * (1.0 / 128)
	}
	g := r.demod.Gain()
	abs := p / (g * g)
	// Outside data mode the carrier is declared lost on a slower meter, so
	// noise hovering near the threshold does not make it flicker.
	slow := r.slowPower.Update(p) / (g * g)
	if !r.carrier {
		if r.holdoff > 0 {
			// Just lost a signal: let its tail die away before
			// listening for the next one.
			r.holdoff--
		} else if abs > r.onLevel {
			r.carrier = true
			r.slowPower.Level = r.power.Level // start the slow meter level
			r.sink.Status(modem.CarrierUp)
		}
	} else if (r.state != stData && slow < r.offLevel) || (r.state == stData && p < r.drop) {
		r.lost()
		return
	}
	// The equaliser's delay line runs all the time, so it is full when a
	// training starts.
	r.eq.Push(mid)
	r.eq.Push(c)
	switch r.state {
	case stSearch:
		r.search(c)
	case stTrain:
		r.train()
	case stData:
		r.data()
	}
	r.prev = c
}

func (r *Receiver) lost() {
	if r.state == stData {
		r.levelDBm0 = r.SignalLevel() // keep the data-mode measurement
	}
	r.fifoLen = 0
	r.carrier = false
	r.holdoff = holdoffSymbols
	training := r.state == stTrain
	// Back to unit gain for the next signal; keep the meters in step.
	g := r.demod.Gain()
	r.power.Level /= g * g
	r.slowPower.Level /= g * g
	r.demod.SetGain(1)
	r.searchMode()
	if training {
		r.sink.Status(modem.TrainingFailed)
	}
	r.sink.Status(modem.CarrierDown)
}

// twoPhase reports whether the step from prev to c is a 0° or 180° change.
func twoPhase(c, prev complex64) bool {
	z := c * dsp.Conj(prev)
	return float64(dsp.Abs2(z)) > 0 && math.Abs(float64(imag(z))) < 0.38*math.Abs(float64(real(z)))
}

func (r *Receiver) search(c complex64) {
	if !r.carrier || !twoPhase(c, r.prev) {
		r.run, r.revs = 0, 0
		r.sqAcc, r.pwrAcc, r.rotAcc, r.rotMag = 0, 0, 0, 0
		return
	}
	r.run++
	z := c * dsp.Conj(r.prev)
	if real(z) < 0 {
		r.revs++
	}
	r.rotAcc += z * z
	r.rotMag += dsp.Abs2(z)
	r.sqAcc += c * c
	r.pwrAcc += dsp.Abs2(c)
	if r.run < bpskRun {
		return
	}
	if r.revs < bpskRun/4 {
		// Two-phase but hardly any reversals: an unmodulated carrier (the
		// echo protection tone), not a training. Keep looking.
		r.run, r.revs = 0, 0
		r.sqAcc, r.pwrAcc, r.rotAcc, r.rotMag = 0, 0, 0, 0
		return
	}
	// Training found: set the gain so the points have power 2, and the
	// carrier phase from the squared symbols (two-phase, so the 180°
	// ambiguity is harmless: the data are differentially coded).
	k := dsp.AGCGain(r.pwrAcc/float32(r.run), pw)
	r.levelDBm0 = dsp.PowerDBm0(float64(2 * r.power.Level / (r.demod.Gain() * r.demod.Gain())))
	r.demod.SetGain(r.demod.Gain() * k)
	r.rescale = k
	r.eq.ScaleHistory(k)
	r.power.Level *= k * k
	r.slowPower.Level *= k * k
	r.pll.Alpha, r.pll.Beta = 0.2, 0.01
	r.cold = r.cfg.ShortTrain && !r.trained
	if r.cold {
		// A short training on a fresh equaliser has only ~50 symbols to
		// converge in. Before the equaliser has settled, its residual
		// intersymbol interference shows up as a phase error that a fast
		// integrator turns into a false frequency (measured: -0.038
		// rad/symbol where the line had +0.009); lean on the proportional
		// term and integrate slowly.
		r.pll.Alpha, r.pll.Beta = 0.3, 0.003
	}
	// The phase of the squared symbols is that of the middle of the run;
	// move it to the equaliser's output, D symbols behind the last one.
	f := float64(dsp.Arg(r.rotAcc)) / 2
	// Trust the estimate only if the run turned steadily (timing may still
	// have been settling) and by a plausible amount (V.27 ter allows the
	// line ±7 Hz); otherwise leave the offset to the carrier loop.
	if hz := f * baudOf(r.cfg.Rate) / (2 * math.Pi); dsp.Abs2(r.rotAcc) < 0.8*0.8*r.rotMag*r.rotMag || math.Abs(hz) > 15 {
		f = 0
	}
	mid := float64(r.run-1) / 2
	r.pll.Set(float64(dsp.Arg(r.sqAcc))/2+(mid-float64(r.eq.Delay()))*f, f)
	// Take the measured frequency offset out in the mixer, so the
	// equaliser sees a still constellation; the loop tracks what is left.
	r.demod.AdjustCarrier(f * baudOf(r.cfg.Rate) / (2 * math.Pi))
	r.pll.Freq = 0
	if !r.trained {
		r.eq.ResetTaps()
	}
	r.demod.Kp, r.demod.Ki = 0.03, 0.0005
	r.changes = r.changes[:0]
	r.pos = -1
	r.lastDec = 0
	r.errAcc, r.nAcc = 0, 0
	r.state = stTrain
	r.sink.Status(modem.TrainingInProgress)
}

// decide2 returns the two-phase decision (state 0 or 4) for y.
func decide2(y complex64) int {
	if real(y) >= 0 {
		return 0
	}
	return 4
}

func (r *Receiver) train() {
	y := r.pll.Derotate(r.eq.Output())
	d := decide2(y)
	if r.pos >= 0 {
		// Aligned: the training is known, so the target is the previous
		// target turned by the known phase change, not a decision.
		if r.pos < len(r.known) {
			d = (r.lastDec + 4*int(r.known[r.pos])) & 7
		}
		if decide2(y) != d && r.judging() {
			r.errAcc += 4 // a wrong decision counts as a gross error
		}
	}
	t := points[d]
	e := t - y
	mu := r.step(0.4)
	if r.pos < 0 && !r.cold {
		// Decision-directed until aligned: go gently with an equaliser
		// that already holds a training. A cold short training cannot
		// spare the symbols (two-phase decisions at a usable SNR are
		// reliable enough to adapt on at full step).
		mu /= 4
	}
	r.eq.Update(e*dsp.Conj(r.pll.Rotation()), mu)
	r.pll.Update(dsp.PhaseError(y, t))
	change := uint8(0)
	if d != r.lastDec {
		change = 1
	}
	r.lastDec = d
	if r.pos < 0 {
		// Place ourselves in the known sequence of phase changes.
		if len(r.changes) < cap(r.changes) {
			r.changes = append(r.changes, change)
		}
		if len(r.changes) >= alignWin+4 {
			r.align()
		}
		if len(r.changes) > len(r.known)+bpskRun {
			r.fail()
		}
		return
	}
	if r.judging() {
		r.errAcc += dsp.Abs2(e)
		r.nAcc++
	}
	r.pos++
	if r.pos < len(r.known) {
		return
	}
	r.mse = r.errAcc / float32(r.nAcc)
	if r.nAcc < 8 || r.mse > 0.2*pw {
		r.fail()
		return
	}
	r.trained = true
	r.state = stData
	r.pll.Alpha, r.pll.Beta = 0.1, 0.002
	r.demod.Kp, r.demod.Ki = 0.01, 0.0001
	r.drop = r.power.Level / 25
	r.prevState = d
	r.scr = r.after4
	r.skip = seg5Len * r.bitsPer
	r.fifoLen = 0
	r.dataPower = r.power.Level
	r.sink.Status(modem.TrainingSucceeded)
}

// step returns the LMS step for a normalised step size k: divided by the
// power in the equaliser's delay line (estimated from the front end's
// power meter), so a misjudged gain cannot make the adaptation unstable.
func (r *Receiver) step(k float32) float32 {
	return k / (eqTaps * max(r.power.Level, 0.05*pw))
}

// judging reports whether the current training symbol counts towards the
// training verdict: only the later part of the known sequence does, once
// the equaliser has had time to converge (half of a short training, the
// last 256 symbols of a long one).
func (r *Receiver) judging() bool {
	return r.pos >= len(r.known)-min(len(r.known)/2, 256)
}

func (r *Receiver) fail() {
	r.searchMode()
	r.sink.Status(modem.TrainingFailed)
}

// align finds where the observed phase changes sit in the known training
// sequence. Segment 3 is all reversals, so this succeeds once segment 4's
// pattern has been seen.
func (r *Receiver) align() {
	obs := r.changes[len(r.changes)-alignWin:]
	zeros := 0
	for _, c := range obs {
		zeros += int(1 - c)
	}
	if zeros < 3 {
		return
	}
	best, bestErr, second := -1, alignWin+1, alignWin+1
	for o := 0; o+alignWin <= len(r.known); o++ {
		e := 0
		for j, c := range obs {
			if r.known[o+j] != c {
				e++
				if e > 2 {
					break
				}
			}
		}
		if e < bestErr {
			best, second, bestErr = o, bestErr, e
		} else if e < second {
			second = e
		}
	}
	if best < 0 || bestErr > 1 || second <= bestErr {
		return
	}
	r.pos = best + alignWin
}

func (r *Receiver) data() {
	y := r.pll.Derotate(r.eq.Output())
	k := r.slicer.Decide(y)
	t := points[k]
	e := t - y
	// In data mode the channel only drifts: adapting on every other
	// symbol, with twice the step, tracks as well for half the work.
	if r.odd = !r.odd; r.odd {
		r.eq.Update(e*dsp.Conj(r.pll.Rotation()), r.step(0.16))
	}
	r.pll.Update(dsp.PhaseError(y, t))
	r.mse += (dsp.Abs2(e) - r.mse) * (1.0 / 256)
	dlt := (k - r.prevState) & 7
	r.prevState = k
	if r.cfg.Rate == 4800 {
		b := inv4800[dlt]
		r.put(b >> 2 & 1)
		r.put(b >> 1 & 1)
		r.put(b & 1)
	} else {
		b := inv2400[dlt]
		r.put(b >> 1 & 1)
		r.put(b & 1)
	}
}

func (r *Receiver) put(bit int) {
	d := r.scr.descramble(bit)
	if r.skip > 0 {
		r.skip--
		return
	}
	if r.fifoLen == bitDelay*r.bitsPer {
		r.sink.PutBit(int(r.fifo[r.fifoHead]))
		r.fifoHead = (r.fifoHead + 1) % len(r.fifo)
		r.fifoLen--
	}
	r.fifo[(r.fifoHead+r.fifoLen)%len(r.fifo)] = uint8(d)
	r.fifoLen++
}
