package fsk

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
)

// The correlation window is one bit long (80/3 samples, rounded up): the
// matched filter for a non-coherent FSK symbol.
const winLen = 27

// refScale is the amplitude of the reference oscillators. It keeps a window
// sum of full-scale products inside an int32: 27 * 32768 * 2047 < 2^31.
const refScale = 2047

// Reference oscillators, cos and -sin of each tone over one table cycle.
var refMarkI, refMarkQ, refSpaceI, refSpaceQ = func() (mi, mq, si, sq [tableLen]int32) {
	for i := range tableLen {
		a := 2 * math.Pi * float64(i) / tableLen
		mi[i] = int32(math.Round(refScale * math.Cos(a*markStep)))
		mq[i] = int32(math.Round(-refScale * math.Sin(a*markStep)))
		si[i] = int32(math.Round(refScale * math.Cos(a*spaceStep)))
		sq[i] = int32(math.Round(-refScale * math.Sin(a*spaceStep)))
	}
	return
}()

// energyPerMeanSquare converts the correlator energy (|mark|² + |space|²) of
// a steady tone into the tone's mean square: a sine of peak A gives
// (A·winLen·refScale/2)² at its own frequency plus the leakage into the other
// correlator, (sin(πΔf·N/fs) / (N·sin(πΔf/fs)))² of that.
var energyPerMeanSquare = func() float64 {
	x := math.Pi * (SpaceHz - MarkHz) / 8000
	leak := math.Sin(x*winLen) / (winLen * math.Sin(x))
	on := winLen * refScale / 2.0
	return on * on * (1 + leak*leak) * 2 // mean square of a sine is A²/2
}()

// Carrier detection thresholds and timing. V.21 asks for carrier on above
// -43 dBm0 and off below -48 dBm0; the thresholds sit in between.
const (
	DefaultOnLevel  = -45.0 // dBm0
	DefaultOffLevel = -48.0 // dBm0

	// The in-band share of the whole-band power (both averaged over some
	// 30 ms) must be at least onPurity to bring the carrier up and stay
	// above offPurity to hold it: a V.21 signal has nearly all its power in
	// band, white noise about an eighth, CED, CNG, V.21 channel 1 or speech
	// far less. So noise alone does not hold the carrier up, yet a V.21
	// signal is heard down to some -5 dB SNR.
	onPurity  = 0.3
	offPurity = 0.22

	// Samples above the on thresholds before carrier up (5 ms), and below
	// either off threshold before carrier down (30 ms, so that a 20 ms
	// drop-out keeps the carrier and the bit clock).
	onDelay  = 40
	offDelay = 240
)

// timingGain is the reciprocal of the settled timing loop gain.
const timingGain = 24

// glitchSamples is how long the metric must stay on the far side of zero
// for a crossing to count.
const glitchSamples = 6

// reacquireMisses is the run of crossings, each more than a quarter bit
// off, that makes the loop acquire afresh. Noise alone almost never does
// this many in a row.
const reacquireMisses = 16

// timingBias: the window (winLen samples) is a little longer than a bit, so
// the best sampling instant, when the window has just filled with one bit,
// lies half the difference after "crossing plus half a bit".
const timingBias = (winLen*sampleUnits - bitUnits) / 2

// Receiver is a V.21 channel 2 demodulator. It implements modem.Receiver and
// pushes bits (1 = mark) and carrier status into a modem.BitSink. Bits are
// delivered only while the carrier is up.
type Receiver struct {
	sink modem.BitSink

	// Sliding correlators: window of products and their running sums.
	win  [winLen][4]int32
	wpos int
	osc  int
	sum  [4]int32 // mark I, mark Q, space I, space Q

	// Carrier detection on the in-band energy.
	power     float64 // smoothed correlator energy
	slow      float64 // the same, smoothed over some 30 ms
	total     float64 // whole-band power, in the same units as slow
	onThresh  float64
	offThresh float64
	carrier   bool
	holdCount int

	// Signal quality: mean and mean square of the normalised metric at the
	// decision instants.
	eyeMean, eyeMS float64

	// Bit timing.
	phase     int32 // position in the current bit, in timing units
	crossings int   // zero crossings seen since carrier up
	misses    int   // consecutive crossings far from the expected place
	pending   bool  // a crossing may still turn out to be a glitch
	pendAge   int32 // samples since it
	decided   bool  // a bit was decided since it
	held      int   // the last bit decided, not yet delivered (-1: none)
	redo      bool  // decide the held bit again when phase reaches 0
	// What the pending crossing changed, to take it back.
	undoPhase                 int32
	undoCrossings, undoMisses int
	prevD                     int64 // previous decision metric (mark energy - space energy)
}

// NewReceiver returns a receiver that delivers into sink.
func NewReceiver(sink modem.BitSink) *Receiver {
	r := &Receiver{}
	r.SetSink(sink)
	r.SetThresholds(DefaultOnLevel, DefaultOffLevel)
	r.Reset()
	return r
}

// SetSink replaces the sink (nil discards everything).
func (r *Receiver) SetSink(sink modem.BitSink) {
	if sink == nil {
		sink = discardSink{}
	}
	r.sink = sink
}

type discardSink struct{}

func (discardSink) PutBit(int)          {}
func (discardSink) Status(modem.Status) {}

// SetThresholds sets the carrier on and off levels in dBm0 (on should be the
// higher, for hysteresis).
func (r *Receiver) SetThresholds(onDBm0, offDBm0 float64) {
	r.onThresh = levelToEnergy(onDBm0)
	r.offThresh = levelToEnergy(offDBm0)
}

func levelToEnergy(dbm0 float64) float64 {
	a := dsp.SineAmplitude(dbm0)
	return a * a / 2 * energyPerMeanSquare
}

// Reset returns the receiver to its idle state (carrier down) without
// reporting anything.
func (r *Receiver) Reset() {
	r.win = [winLen][4]int32{}
	r.sum = [4]int32{}
	r.wpos, r.osc = 0, 0
	r.power, r.slow, r.total = 0, 0, 0
	r.eyeMean, r.eyeMS = 0, 0
	r.carrier = false
	r.holdCount = 0
	r.phase, r.crossings, r.prevD = 0, 0, 0
	r.misses, r.pending, r.pendAge, r.decided = 0, false, 0, false
	r.held, r.redo = -1, false
}

// Carrier reports whether a V.21 channel 2 carrier is being received.
func (r *Receiver) Carrier() bool { return r.carrier }

// SignalLevel returns the in-band signal level in dBm0 (smoothed over a few
// milliseconds).
func (r *Receiver) SignalLevel() float64 {
	return dsp.PowerDBm0(r.power / energyPerMeanSquare)
}

// MaxQuality is the highest value Quality reports, in dB.
const MaxQuality = 40.0

// Quality rates the received signal from the last few dozen bit decisions,
// in dB: the squared mean over the variance of the decision metric
// normalised by the in-band energy (an eye opening). It falls as noise
// grows: some 29 dB on a clean line (21 dB with a 10 Hz carrier offset),
// 20 dB at 10 dB SNR, 10 dB at 0 dB SNR where bit errors are common (below
// 10 dB SNR it runs about 10 dB above the line SNR). It is meaningful only
// while the carrier is up; it is a relative figure, not a calibrated SNR.
func (r *Receiver) Quality() float64 {
	v := r.eyeMS - r.eyeMean*r.eyeMean
	if r.eyeMean <= 0 {
		return -MaxQuality
	}
	if v <= 0 {
		return MaxQuality
	}
	return max(min(10*math.Log10(r.eyeMean*r.eyeMean/v), MaxQuality), -MaxQuality)
}

// Process demodulates src.
func (r *Receiver) Process(src []int16) {
	sum := r.sum
	wpos, osc := r.wpos, r.osc
	for _, s := range src {
		x := int32(s)
		p0 := x * refMarkI[osc]
		p1 := x * refMarkQ[osc]
		p2 := x * refSpaceI[osc]
		p3 := x * refSpaceQ[osc]
		w := &r.win[wpos]
		sum[0] += p0 - w[0]
		sum[1] += p1 - w[1]
		sum[2] += p2 - w[2]
		sum[3] += p3 - w[3]
		w[0], w[1], w[2], w[3] = p0, p1, p2, p3
		if wpos++; wpos == winLen {
			wpos = 0
		}
		if osc++; osc == tableLen {
			osc = 0
		}
		m0, m1, s0, s1 := int64(sum[0]), int64(sum[1]), int64(sum[2]), int64(sum[3])
		mark := m0*m0 + m1*m1
		space := s0*s0 + s1*s1
		r.step(mark-space, mark+space, x)
	}
	r.sum = sum
	r.wpos, r.osc = wpos, osc
}

// step runs carrier detection and bit timing for one sample, given the
// decision metric d (> 0 for mark) and the in-band energy e.
func (r *Receiver) step(d, e int64, x int32) {
	fe := float64(e)
	r.power += (fe - r.power) * (1.0 / 32)
	r.slow += (fe - r.slow) * (1.0 / 256)
	fx := float64(x)
	r.total += (fx*fx*energyPerMeanSquare - r.total) * (1.0 / 256)
	if !r.carrier {
		if r.power > r.onThresh && r.slow > onPurity*r.total {
			if r.holdCount++; r.holdCount >= onDelay {
				r.carrier = true
				r.holdCount = 0
				r.phase = 0
				r.crossings, r.misses = 0, 0
				r.pending = false
				r.held, r.redo = -1, false
				r.prevD = d
				r.sink.Status(modem.CarrierUp)
			}
		} else {
			r.holdCount = 0
		}
		return
	}
	if r.power < r.offThresh || r.slow < offPurity*r.total {
		if r.holdCount++; r.holdCount >= offDelay {
			r.carrier = false
			r.holdCount = 0
			if r.held >= 0 {
				r.sink.PutBit(r.held)
			}
			r.held, r.redo = -1, false
			r.sink.Status(modem.CarrierDown)
			return
		}
	} else {
		r.holdCount = 0
	}

	// A signal starting on top of noise that already holds the carrier
	// up: the in-band power jumps. Acquire the timing afresh.
	if r.power > 4*r.slow {
		r.crossings, r.misses = 0, 0
	}

	prev := r.prevD
	r.prevD = d
	r.phase += sampleUnits
	if r.redo && r.phase >= 0 {
		// The timing moved back past the last decision, which came too
		// early: decide that bit again now.
		r.redo = false
		r.held = decide(d, prev, r.phase)
	}
	if r.phase >= bitUnits {
		// The ideal sampling instant lay over/sampleUnits of a sample ago.
		over := r.phase - bitUnits
		r.phase = over
		r.decided = true
		v := interpolate(d, prev, over)
		if fe > 0 {
			u := math.Abs(v) / fe
			r.eyeMean += (u - r.eyeMean) * (1.0 / 32)
			r.eyeMS += (u*u - r.eyeMS) * (1.0 / 32)
		}
		// Each bit is held until the next decision, so that a timing
		// correction can still revise it.
		if r.held >= 0 {
			r.sink.PutBit(r.held)
		}
		r.held = 0
		if v > 0 {
			r.held = 1
		}
	}
	// A zero crossing of the metric marks the middle of the window's passage
	// over a bit boundary: half a bit before the next sampling instant. Only
	// trust it when there is signal in band. Noise that dips the metric
	// through zero and straight back inside a bit is not a transition: a
	// crossing followed by another within glitchSamples has its correction
	// taken back (unless a bit was decided in between), and the second is
	// ignored.
	crossed := (d > 0) != (prev > 0) && fe > r.offThresh
	if r.pending {
		r.pendAge++
		if crossed {
			if !r.decided {
				r.phase += r.undoPhase
				r.crossings, r.misses = r.undoCrossings, r.undoMisses
			}
			r.pending, crossed = false, false
		} else if r.pendAge >= glitchSamples {
			r.pending = false
		}
	}
	if crossed {
		frac := float64(d) / float64(d-prev) // how far back the crossing was, 0..1
		cross := r.phase - int32(frac*sampleUnits)
		err := cross - bitUnits/2 - timingBias
		if err < -bitUnits/2 {
			err += bitUnits
		} else if err >= bitUnits/2 {
			err -= bitUnits
		}
		r.undoCrossings, r.undoMisses = r.crossings, r.misses
		before := r.phase
		r.adjust(err)
		r.undoPhase = before - r.phase
		r.pending, r.pendAge, r.decided = true, 0, false
	}
	r.redo = r.phase < 0 && r.held >= 0
}

// interpolate returns the metric at over timing units before the current
// sample, between it (d) and the one before (prev).
func interpolate(d, prev int64, over int32) float64 {
	return float64(d) - float64(d-prev)*float64(over)/sampleUnits
}

// decide is the bit the metric gives at over units before the current sample.
func decide(d, prev int64, over int32) int {
	if interpolate(d, prev, over) > 0 {
		return 1
	}
	return 0
}

// adjust moves the bit clock by a crossing's timing error.
//
// It acquires fast (the first crossing sets the phase outright), then
// settles to a slow loop whose corrections are clamped, so the spurious
// crossings of a noisy metric cannot walk the clock off a bit; a real clock
// offset (±100 ppm is 0.003 samples a bit) needs next to nothing.
//
// A new signal that starts while the carrier is still up (after loud noise,
// say) shows up as a run of crossings all far from where the loop expects
// them: then it acquires afresh.
func (r *Receiver) adjust(err int32) {
	if err > bitUnits/4 || err < -bitUnits/4 {
		if r.misses++; r.misses >= reacquireMisses {
			r.crossings, r.misses = 0, 0
		}
	} else {
		r.misses = 0
	}
	g := int32(r.crossings + 1)
	if g >= timingGain {
		g = timingGain
		err = max(min(err, bitUnits/4), -bitUnits/4)
	} else {
		r.crossings++
	}
	r.phase -= err / g
}
