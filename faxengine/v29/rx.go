package v29

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

// The equaliser's normalised LMS step in data mode starts where training
// left off and settles, over a few hundred symbols, to a smaller value that
// adds less noise of its own.
const (
	dataMuStart = 0.15
	dataMuFinal = 0.05
)

const (
	eqTaps    = 24 // T/2 taps: 6 symbols on each side of the centre
	bitDelay  = 8  // symbols of bits held back so a lost carrier discards its debris
	ababRun   = 12 // consecutive ABAB symbols that prove segment 2
	ababLimit = seg2Len + 40
	skipBits  = 24 // segment 4 bits dropped while the descrambler fills
)

type rxState int

const (
	stSearch rxState = iota // looking for segment 2 (ABAB)
	stABAB                  // locked to segment 2, waiting for segment 3
	stTrain                 // training the equaliser on segment 3
	stData                  // segment 4 and data
)

// Receiver is a V.29 receiver. It implements modem.Receiver and delivers bits
// and status changes to a modem.BitSink. It allocates nothing after
// NewReceiver.
type Receiver struct {
	rate int
	sink modem.BitSink

	demod *dsp.Demod
	eq    *dsp.Equalizer
	pll   dsp.CarrierLoop
	pairs [128]complex64

	state     rxState
	carrier   bool // CarrierUp reported
	power     dsp.PowerMeter
	slowPower dsp.PowerMeter
	holdoff   int     // symbols to wait after losing a signal
	onLevel   float32 // absolute thresholds, baseband units at unit gain
	offLevel  float32
	dropLevel float32 // relative end-of-signal threshold in data mode

	prev      complex64 // previous centre sample (search/ABAB)
	run       int       // consecutive ABAB-looking symbols
	ababPos   int       // 0: next symbol should be A, 1: B
	ababCount int
	flipped   bool
	ta, tb    complex64
	tc, td    complex64
	tri       int // training symbol index of the next equaliser output

	errAcc    float32 // decision error power accumulator
	sigAcc    float32
	mse       float32 // smoothed decision error power
	prevState int
	scr       scrambler
	skip      int
	fifo      [64]uint8 // bit delay line
	fifoHead  int
	fifoLen   int
	levelDBm0 float64
	odd       bool    // alternate symbols in data mode
	dataMu    float32 // LMS step in data mode: starts high, settles
	dataPower float32 // slow average of the in-band power in data mode
	bitsPer   int
	pw        float32 // constellation mean power
	slicer    *dsp.Slicer
	rescale   float32 // gain change to apply to pending pairs, 0 for none
}

// NewReceiver returns a receiver expecting cfg.Rate that reports to sink.
func NewReceiver(cfg Config, sink modem.BitSink) (*Receiver, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &Receiver{
		rate:     cfg.Rate,
		sink:     sink,
		demod:    dsp.NewDemod(dsp.DemodConfig{CarrierHz: carrierHz, BaudRate: baud, RollOff: rollOff, Span: 8}),
		eq:       dsp.NewEqualizer(eqTaps),
		onLevel:  dsp.BasebandPower(carrierOnDBm0),
		offLevel: dsp.BasebandPower(carrierOffDBm0),
		pw:       meanPower(cfg.Rate),
		bitsPer:  3,
	}
	r.slicer = slicers[0]
	if cfg.Rate == 9600 {
		r.bitsPer = 4
		r.slicer = slicers[1]
	}
	r.ta, r.tb, r.tc, r.td = trainingPoints(cfg.Rate)
	r.Reset()
	return r, nil
}

// Reset returns the receiver to its initial state, waiting for a signal.
func (r *Receiver) Reset() {
	r.demod.SetGain(1)
	r.demod.Reset()
	r.searchMode()
	r.carrier = false
	r.holdoff = 0
	r.power = dsp.NewPowerMeter(0.5)
	r.slowPower = dsp.NewPowerMeter(1.0 / 16)
	r.levelDBm0 = -100
}

func (r *Receiver) searchMode() {
	r.state = stSearch
	r.run = 0
	r.demod.TimingOn = true
	r.demod.Kp, r.demod.Ki = 0.08, 0.002
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

// SNR returns the estimated signal-to-noise ratio in dB, from the decision
// error of the equalised symbols (meaningful once trained).
func (r *Receiver) SNR() float64 {
	if r.mse <= 0 {
		return 99
	}
	return 10 * math.Log10(float64(r.pw/r.mse))
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
				// The gain changed: pairs already demodulated in this
				// batch still carry the old one.
				for j := i + 2; j < m; j++ {
					r.pairs[j] = dsp.Scale(r.pairs[j], r.rescale)
				}
				r.rescale = 0
			}
		}
	}
}

// symbol handles one (mid, centre) pair from the front end.
func (r *Receiver) symbol(mid, c complex64) {
	p := r.power.Update((dsp.Abs2(mid) + dsp.Abs2(c)) / 2)
	if r.state == stData {
		r.dataPower += (p - r.dataPower) * (1.0 / 128)
	}
	g := r.demod.Gain()
	abs := p / (g * g) // power at unit gain
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
	} else if (r.state != stData && slow < r.offLevel) || (r.state == stData && p < r.dropLevel) {
		r.lost()
		return
	}
	if r.state != stSearch {
		r.eq.Push(mid)
		r.eq.Push(c)
	}
	switch r.state {
	case stSearch:
		r.search(c)
	case stABAB:
		r.abab(c)
	case stTrain:
		r.train()
	case stData:
		r.data()
	}
	r.prev = c
}

// lost handles the end of the signal.
func (r *Receiver) lost() {
	if r.state == stData {
		r.levelDBm0 = r.SignalLevel() // keep the data-mode measurement
	}
	wasTraining := r.state == stABAB || r.state == stTrain
	r.fifoLen = 0 // bits still held back are debris of the lost signal
	r.carrier = false
	r.holdoff = holdoffSymbols
	// Back to unit gain for the next signal; keep the meters in step.
	g := r.demod.Gain()
	r.power.Level /= g * g
	r.slowPower.Level /= g * g
	r.demod.SetGain(1)
	r.searchMode()
	if wasTraining {
		r.sink.Status(modem.TrainingFailed)
	}
	r.sink.Status(modem.CarrierDown)
}

// ababAngle reports which training point c is relative to the previous
// centre sample: +1 if the step looks like A→B, -1 for B→A, 0 for neither.
func ababAngle(c, prev complex64) int {
	z := c * dsp.Conj(prev)
	if dsp.Abs2(z) == 0 {
		return 0
	}
	a := dsp.Arg(z)
	const want, tol = 3 * math.Pi / 4, math.Pi / 6
	switch {
	case math.Abs(float64(a)-want) < tol:
		return 1
	case math.Abs(float64(a)+want) < tol:
		return -1
	}
	return 0
}

func (r *Receiver) search(c complex64) {
	if !r.carrier {
		r.run = 0
		return
	}
	s := ababAngle(c, r.prev)
	if s == 0 || (r.run > 0 && s != r.ababPos*2-1) {
		// No ABAB step, or the same direction twice.
		r.run = 0
		if s != 0 {
			r.run = 1
			r.ababPos = 1 - (s+1)/2
		}
		return
	}
	r.run++
	// s = +1: c is B, so the next is A (ababPos 0).
	r.ababPos = 1 - (s+1)/2
	if r.run < ababRun {
		return
	}
	// Segment 2 found. Set the gain from the centre sample power so the
	// constellation has its nominal size: A and B average (|A|²+|B|²)/2.
	want := (dsp.Abs2(r.ta) + dsp.Abs2(r.tb)) / 2
	got := (dsp.Abs2(c) + dsp.Abs2(r.prev)) / 2
	k := dsp.AGCGain(got, want)
	r.levelDBm0 = dsp.PowerDBm0(float64(2 * r.power.Level / (r.demod.Gain() * r.demod.Gain())))
	r.demod.SetGain(r.demod.Gain() * k)
	r.rescale = k
	c = dsp.Scale(c, k)
	r.prev = dsp.Scale(r.prev, k)
	r.power.Level *= k * k
	r.slowPower.Level *= k * k
	// Phase of the last symbol.
	last := r.ta
	if r.ababPos == 0 { // c was B
		last = r.tb
	}
	r.pll.Alpha, r.pll.Beta = 0.25, 0.02
	r.pll.Set(float64(dsp.Arg(c*dsp.Conj(last))), 0)
	r.state = stABAB
	r.ababCount = 0
	r.flipped = false
	r.sink.Status(modem.TrainingInProgress)
}

func (r *Receiver) abab(c complex64) {
	r.ababCount++
	if r.ababCount > ababLimit {
		r.searchMode()
		r.sink.Status(modem.TrainingFailed)
		return
	}
	want := r.ta
	if r.ababPos == 1 {
		want = r.tb
	}
	y := r.pll.Derotate(c)
	dot := real(y * dsp.Conj(want))
	if dot < 0 {
		// The first two symbols of segment 3 (C, D) are the negatives of A
		// and B: two flips in a row, starting on an A slot, end segment 2.
		if r.flipped {
			r.startTraining()
			return
		}
		if r.ababPos == 0 {
			r.flipped = true
			r.pll.Update(0)
			r.ababPos = 1
			return
		}
	}
	r.flipped = false
	r.pll.Update(dsp.PhaseError(y, want))
	r.ababPos ^= 1
}

// startTraining is called on the second symbol of segment 3.
func (r *Receiver) startTraining() {
	// The raw symbol just seen is segment 3 symbol 1. The equaliser's next
	// output is the symbol whose centre sample went in D symbols before
	// the next one.
	d := r.eq.Delay()
	r.tri = 2 - d
	phase := r.pll.Phase + float64(1-d)*r.pll.Freq
	r.pll.Set(phase, r.pll.Freq)
	r.pll.Alpha, r.pll.Beta = 0.1, 0.004
	r.eq.ResetTaps()
	r.demod.Kp, r.demod.Ki = 0.02, 0.0002
	r.state = stTrain
	r.errAcc, r.sigAcc = 0, 0
}

func (r *Receiver) target(i int) complex64 {
	if i < 0 {
		if i&1 == 0 {
			return r.ta
		}
		return r.tb
	}
	if seg3Bits[i] == 0 {
		return r.tc
	}
	return r.td
}

func (r *Receiver) train() {
	i := r.tri
	r.tri++
	y := r.pll.Derotate(r.eq.Output())
	t := r.target(i)
	e := t - y
	mu := r.step(0.5)
	if i < 64 {
		mu *= 2
	}
	r.eq.Update(e*dsp.Conj(r.pll.Rotation()), mu)
	r.pll.Update(dsp.PhaseError(y, t))
	if i >= seg3Len-128 {
		r.errAcc += dsp.Abs2(e)
		r.sigAcc += dsp.Abs2(t)
	}
	if i < seg3Len-1 {
		return
	}
	r.mse = r.errAcc / 128 * (r.pw / (r.sigAcc / 128))
	if r.errAcc > 0.1*r.sigAcc { // worse than 10 dB: not a usable line
		r.searchMode()
		r.sink.Status(modem.TrainingFailed)
		return
	}
	r.state = stData
	r.pll.Alpha, r.pll.Beta = 0.05, 0.001
	r.demod.Kp, r.demod.Ki = 0.01, 0.0001
	r.dropLevel = r.power.Level / 25
	r.prevState = 0
	r.scr = 0
	r.skip = skipBits
	r.fifoLen = 0
	r.dataPower = r.power.Level
	r.dataMu = dataMuStart
	r.sink.Status(modem.TrainingSucceeded)
}

// step returns the LMS step for a normalised step size k: divided by the
// power in the equaliser's delay line (estimated from the front end's power
// meter), so a misjudged gain cannot make the adaptation unstable.
func (r *Receiver) step(k float32) float32 {
	return k / (eqTaps * max(r.power.Level, 0.05*r.pw))
}

// slicers decide the data points at 7200 (first 8 points) and 9600 bit/s.
var slicers = [2]*dsp.Slicer{
	dsp.NewSlicer(points[:8], 7, 128),
	dsp.NewSlicer(points[:], 7, 128),
}

func (r *Receiver) data() {
	y := r.pll.Derotate(r.eq.Output())
	k := r.slicer.Decide(y)
	t := points[k]
	e := t - y
	// In data mode the channel only drifts: adapting on every other
	// symbol, with twice the step, tracks as well for half the work.
	if r.odd = !r.odd; r.odd {
		r.eq.Update(e*dsp.Conj(r.pll.Rotation()), r.step(2*r.dataMu))
		if r.dataMu > dataMuFinal {
			r.dataMu *= 0.992
		}
	}
	r.pll.Update(dsp.PhaseError(y, t))
	r.mse += (dsp.Abs2(e) - r.mse) * (1.0 / 256)
	st := k & 7
	b := tribit[(st-r.prevState)&7]
	r.prevState = st
	if r.rate == 9600 {
		r.put(k >> 3)
	}
	r.put(b >> 2 & 1)
	r.put(b >> 1 & 1)
	r.put(b & 1)
}

// put descrambles a line bit and passes it through the delay line.
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
