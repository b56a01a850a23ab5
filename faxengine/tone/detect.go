package tone

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
)

// Analysis block length: 8 ms. The Goertzel filters' main lobe is then
// 125 Hz either side, wide enough for CNG's ±38 Hz tolerance (and a ±10 Hz
// line offset) while a 1000 or 1004 Hz test tone, V.21 channel 1's 1180 Hz
// and V.21 channel 2's 1650/1850 Hz fall well outside.
const blockLen = 64

// Detection rules. Durations are in blocks.
const (
	// purity is the fraction of a block's energy the tone must hold.
	purity = 0.5
	// minLevel is the weakest tone detected, in dBm0.
	minLevel = -46.0
	// bridge is the longest run of non-tone blocks (drop-out) that does not
	// end a tone: 24 ms, so a 20 ms line gap does not split a burst.
	bridge = 3

	cngMinBlocks = 380 * 8 / blockLen // 0.38 s: 0.5 s -15 %, less measuring slack
	cngMaxBlocks = 660 * 8 / blockLen // 0.66 s: 0.5 s +15 %, plus slack
	// Start-to-start period of CNG bursts: 3.5 s nominal, 0.5 ±15 % on plus
	// 3 s ±15 % off, with slack.
	cngMinPeriod = 2900 * 8 / blockLen
	cngMaxPeriod = 4200 * 8 / blockLen
	// cedMinBlocks is how long 2100 Hz must last to be reported as CED:
	// 0.5 s, longer than any speech or tone burst that is not an answer tone.
	cedMinBlocks = 500 * 8 / blockLen
)

// Event reports a detected tone.
type Event struct {
	Tone Tone
	// At is the sample index (counting every sample processed since the
	// detector was made or Reset) where the tone began.
	At int64
	// Duration is how long the tone has lasted, in samples: the whole burst
	// for CNG; for CED, the time until detection, or the whole tone when
	// Ended.
	Duration int
	// Ended is set when the tone has stopped. CNG is reported once per
	// burst, when the burst ends with a valid length; CED is reported once
	// it has lasted 0.5 s and again when it ends.
	Ended bool
	// Bursts counts, for CNG, the consecutive bursts with T.30 cadence,
	// this one included (1 for a first burst).
	Bursts int
	// Level is the tone's mean level in dBm0.
	Level float64
}

// goertzel holds the coefficient of one Goertzel filter.
type goertzel struct{ coeff float64 }

func newGoertzel(hz float64) goertzel {
	return goertzel{2 * math.Cos(2*math.Pi*hz/8000)}
}

// track follows one tone through the block decisions.
type track struct {
	tone    Tone
	active  bool
	start   int64 // block index where the tone began
	last    int64 // last block with tone
	energy  float64
	blocks  int
	cedSent bool

	lastBurst int64 // CNG: start block of the previous valid burst
	bursts    int
}

// Detector finds CNG and CED in a stream of samples. It is deterministic and
// allocates nothing while running.
type Detector struct {
	onEvent func(Event)

	g      [2]goertzel
	s1, s2 [2]float64
	energy float64
	n      int   // samples in the current block
	block  int64 // blocks completed

	tracks [2]track
	minPow float64 // mean square of a sine at minLevel
}

// NewDetector returns a detector that calls onEvent for each detection.
func NewDetector(onEvent func(Event)) *Detector {
	d := &Detector{onEvent: onEvent}
	d.g = [2]goertzel{newGoertzel(CNGHz), newGoertzel(CEDHz)}
	a := dsp.SineAmplitude(minLevel)
	d.minPow = a * a / 2
	d.Reset()
	return d
}

// Reset forgets everything heard so far and restarts the sample count.
func (d *Detector) Reset() {
	d.s1, d.s2 = [2]float64{}, [2]float64{}
	d.energy, d.n, d.block = 0, 0, 0
	d.tracks = [2]track{{tone: CNG, lastBurst: -1 << 40}, {tone: CED, lastBurst: -1 << 40}}
}

// Process analyses src.
func (d *Detector) Process(src []int16) {
	c0, c1 := d.g[0].coeff, d.g[1].coeff
	a1, a2, b1, b2 := d.s1[0], d.s2[0], d.s1[1], d.s2[1]
	e, n := d.energy, d.n
	for _, v := range src {
		x := float64(v)
		a1, a2 = x+c0*a1-a2, a1
		b1, b2 = x+c1*b1-b2, b1
		e += x * x
		if n++; n == blockLen {
			d.endBlock(a1, a2, b1, b2, e)
			a1, a2, b1, b2, e, n = 0, 0, 0, 0, 0, 0
		}
	}
	d.s1[0], d.s2[0], d.s1[1], d.s2[1] = a1, a2, b1, b2
	d.energy, d.n = e, n
}

// goertzelPower returns |X(f)|² from the final filter state.
func goertzelPower(s1, s2, coeff float64) float64 {
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// endBlock classifies a finished block and advances the tone tracks.
func (d *Detector) endBlock(a1, a2, b1, b2, e float64) {
	pw := [2]float64{
		goertzelPower(a1, a2, d.g[0].coeff),
		goertzelPower(b1, b2, d.g[1].coeff),
	}
	for i := range d.tracks {
		// A sine of mean square P over N samples gives |X|² = P·N²/2 and a
		// block energy of P·N; the tone's share of the energy is
		// 2|X|²/(N·energy).
		toneMS := 2 * pw[i] / (blockLen * blockLen)
		present := toneMS >= d.minPow && 2*pw[i] >= purity*blockLen*e
		d.tracks[i].step(d, present, toneMS)
	}
	d.block++
}

func (t *track) step(d *Detector, present bool, toneMS float64) {
	b := d.block
	if present {
		if !t.active {
			t.active = true
			t.start = b
			t.energy = 0
			t.blocks = 0
			t.cedSent = false
		}
		t.last = b
		t.energy += toneMS
		t.blocks++
		if t.tone == CED && !t.cedSent && b-t.start+1 >= cedMinBlocks {
			t.cedSent = true
			d.emit(Event{Tone: CED, At: t.start * blockLen, Duration: int(b-t.start+1) * blockLen, Level: t.level()})
		}
		return
	}
	if !t.active || b-t.last <= bridge {
		return
	}
	// The tone has ended.
	t.active = false
	length := t.last - t.start + 1
	switch t.tone {
	case CED:
		if t.cedSent {
			d.emit(Event{Tone: CED, At: t.start * blockLen, Duration: int(length) * blockLen, Ended: true, Level: t.level()})
		}
	case CNG:
		if length < cngMinBlocks || length > cngMaxBlocks {
			return
		}
		if p := t.start - t.lastBurst; p >= cngMinPeriod && p <= cngMaxPeriod {
			t.bursts++
		} else {
			t.bursts = 1
		}
		t.lastBurst = t.start
		d.emit(Event{Tone: CNG, At: t.start * blockLen, Duration: int(length) * blockLen, Ended: true, Bursts: t.bursts, Level: t.level()})
	}
}

func (t *track) level() float64 {
	if t.blocks == 0 {
		return -100
	}
	return dsp.PowerDBm0(t.energy / float64(t.blocks))
}

func (d *Detector) emit(ev Event) {
	if d.onEvent != nil {
		d.onEvent(ev)
	}
}
