// Package tone generates and detects the fax call tones of ITU-T T.30: CNG,
// the calling tone (1100 Hz, 0.5 s on, 3 s off), and CED, the called
// terminal's answer tone (2100 Hz for 2.6 to 4 s, the same frequency as the
// V.25 ANS tone).
//
// Generators are modem.Transmitters. The Detector analyses 8 ms blocks with
// Goertzel filters, calls a block "tone" only when the tone holds most of
// the block's energy, and then applies the duration and cadence rules, so
// silence, noise, speech, a 1000/1004 Hz test tone or V.21 signals do not
// set it off.
package tone

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
)

// Tone identifies a call tone.
type Tone int

const (
	None Tone = iota
	CNG       // calling tone, 1100 Hz
	CED       // called terminal identification / answer tone, 2100 Hz
)

func (t Tone) String() string {
	switch t {
	case CNG:
		return "CNG"
	case CED:
		return "CED"
	}
	return "none"
}

// Frequencies, in Hz.
const (
	CNGHz = 1100
	CEDHz = 2100
)

// Cadences and durations, in samples at 8000 Hz.
const (
	CNGOn              = 4000  // 0.5 s
	CNGOff             = 24000 // 3 s
	DefaultCEDDuration = 24000 // 3 s, inside T.30's 2.6 to 4 s
)

// DefaultLevel is the level, in dBm0, of a new generator.
const DefaultLevel = -10.0

// Both tones are whole multiples of 8000/80 Hz, so an 80-sample table holds
// whole cycles of each: CNG steps 11 entries per sample and CED 21.
const tableLen = 80

var unitSine = func() (t [tableLen]float64) {
	for i := range t {
		t[i] = math.Sin(2 * math.Pi * float64(i) / tableLen)
	}
	return t
}()

// Generator produces CNG or CED. It implements modem.Transmitter.
type Generator struct {
	table  [tableLen]int16
	step   int
	phase  int
	on     int // samples of tone per cycle
	off    int // samples of silence per cycle; 0 means the tone ends after on
	pos    int // position in the cycle
	repeat bool
	done   bool
}

// NewCNG returns a generator of the calling tone: 0.5 s of 1100 Hz, 3 s of
// silence, repeated until the caller stops asking for samples.
func NewCNG() *Generator {
	g := &Generator{step: CNGHz * tableLen / 8000, on: CNGOn, off: CNGOff, repeat: true}
	g.SetLevel(DefaultLevel)
	return g
}

// NewCED returns a generator of the answer tone: DefaultCEDDuration of
// 2100 Hz, then the end of the transmission.
func NewCED() *Generator {
	g := &Generator{step: CEDHz * tableLen / 8000, on: DefaultCEDDuration}
	g.SetLevel(DefaultLevel)
	return g
}

// SetLevel sets the level in dBm0 (clamped to at most +3 dBm0).
func (g *Generator) SetLevel(dbm0 float64) {
	amp := dsp.SineAmplitude(min(dbm0, dsp.FullScaleDBm0))
	for i, v := range unitSine {
		g.table[i] = int16(math.Round(v * amp))
	}
}

// SetDuration sets the length of the tone (of each burst for CNG) in
// samples.
func (g *Generator) SetDuration(samples int) { g.on = max(samples, 0) }

// Restart starts the tone again from its beginning.
func (g *Generator) Restart() { g.pos, g.phase, g.done = 0, 0, false }

// Fill implements modem.Transmitter. A CNG generator always fills dst; a CED
// generator returns fewer samples once its tone has ended.
func (g *Generator) Fill(dst []int16) int {
	if g.done {
		return 0
	}
	n := 0
	for n < len(dst) {
		if g.pos >= g.on+g.off {
			if !g.repeat {
				g.done = true
				return n
			}
			g.pos, g.phase = 0, 0
		}
		if g.pos < g.on {
			// A run of tone up to the end of the burst or of dst.
			run := dst[n:min(len(dst), n+g.on-g.pos)]
			phase, step := g.phase, g.step
			for i := range run {
				run[i] = g.table[phase]
				if phase += step; phase >= tableLen {
					phase -= tableLen
				}
			}
			g.phase = phase
			g.pos += len(run)
			n += len(run)
			continue
		}
		run := dst[n:min(len(dst), n+g.on+g.off-g.pos)]
		clear(run)
		g.pos += len(run)
		n += len(run)
	}
	return n
}
