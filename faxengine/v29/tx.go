package v29

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
)

// Transmitter is a V.29 transmitter: it sends the training sequence, then the
// scrambled bits of its BitSource, then a short run of scrambled ones, and
// ends. It implements modem.Transmitter.
type Transmitter struct {
	rate   int
	src    modem.BitSource
	shaper *dsp.PulseShaper
	nco    dsp.NCO
	gain   float32

	tep    int // symbols of echo protection tone before the training
	sym    int // symbols sent so far
	end    int // symbol count at which the shutdown ends (0 while data flows)
	state  int // absolute phase, 45° steps
	scr    dsp.Scrambler
	ta, tb complex64
	tc, td complex64
	done   bool
}

// NewTransmitter returns a transmitter for cfg reading bits from src.
func NewTransmitter(cfg Config, src modem.BitSource) (*Transmitter, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	t := &Transmitter{
		rate:   cfg.Rate,
		src:    src,
		shaper: dsp.NewPulseShaper(10, 3, rollOff, 10),
		nco:    dsp.NewNCO(carrierHz, modem.SampleRate),
		scr:    dsp.Scrambler{A: 18, B: 23},
	}
	t.ta, t.tb, t.tc, t.td = trainingPoints(cfg.Rate)
	if cfg.TEP {
		t.tep = tepLen
	}
	// The RRC pulse has unit energy, so the baseband power equals the mean
	// constellation power; the real line signal has half of it.
	t.gain = float32(dsp.RMS(cfg.level()) * math.Sqrt2 / math.Sqrt(float64(meanPower(cfg.Rate))))
	return t, nil
}

func (t *Transmitter) bit() int {
	if t.end == 0 {
		b := t.src.GetBit()
		if b != modem.EndOfData {
			return t.scr.Scramble(b & 1)
		}
		t.end = t.sym + shutdownLen
	}
	return t.scr.Scramble(1)
}

// symbol returns the next symbol to send, or false when the signal (and the
// filter's tail) is complete.
func (t *Transmitter) symbol() (complex64, bool) {
	n := t.sym - t.tep // symbols since the end of the echo protection tone
	t.sym++
	switch {
	case n < 0:
		return points[0], true
	case n < seg1Len:
		return 0, true
	case n < seg1Len+seg2Len:
		if (n-seg1Len)&1 == 0 {
			return t.ta, true
		}
		return t.tb, true
	case n < seg1Len+seg2Len+seg3Len:
		if seg3Bits[n-seg1Len-seg2Len] == 0 {
			return t.tc, true
		}
		return t.td, true
	}
	if abs := n + t.tep; t.end != 0 && abs >= t.end {
		// Let the pulse-shaping filter drain, then stop.
		return 0, abs < t.end+t.shaper.Delay()+1
	}
	amp := 0
	if t.rate == 9600 {
		amp = t.dataBit() << 3
	}
	b := t.dataBit()<<2 | t.dataBit()<<1 | t.dataBit()
	t.state = (t.state + phaseStep[b]) & 7
	return points[amp|t.state], true
}

// dataBit returns scrambled ones during segment 4, then data.
func (t *Transmitter) dataBit() int {
	if t.sym-t.tep <= seg1Len+seg2Len+seg3Len+seg4Len {
		return t.scr.Scramble(1)
	}
	return t.bit()
}

// Fill writes up to len(dst) samples and returns how many it wrote; fewer
// than len(dst) means the transmission has ended.
func (t *Transmitter) Fill(dst []int16) int {
	for i := range dst {
		if t.done {
			return i
		}
		if t.shaper.Tick() {
			s, ok := t.symbol()
			if !ok {
				t.done = true
				return i
			}
			t.shaper.Push(s)
		}
		s, lo := t.shaper.Output(), t.nco.Next()
		dst[i] = dsp.Round16((real(s)*real(lo) - imag(s)*imag(lo)) * t.gain)
	}
	return len(dst)
}
