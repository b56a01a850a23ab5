package v27ter

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
)

// Transmitter is a V.27 ter transmitter: training sequence, scrambled data
// from its BitSource, a short run of scrambled ones, then the end. It
// implements modem.Transmitter.
type Transmitter struct {
	rate   int
	src    modem.BitSource
	shaper *dsp.PulseShaper
	nco    dsp.NCO
	gain   float32

	seg3, seg4 int
	tep        int // symbols of echo protection tone before the training
	sym        int
	end        int // symbol at which the shutdown ends (0 while data flows)
	state      int // absolute phase, 45° steps
	scr        scrambler
	done       bool
}

// NewTransmitter returns a transmitter for cfg reading bits from src.
func NewTransmitter(cfg Config, src modem.BitSource) (*Transmitter, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	t := &Transmitter{
		rate: cfg.Rate,
		src:  src,
		nco:  dsp.NewNCO(carrierHz, modem.SampleRate),
		scr:  scrambler{reg: initialState},
	}
	if cfg.Rate == 4800 {
		t.shaper = dsp.NewPulseShaper(5, 1, rollOff, 8)
	} else {
		t.shaper = dsp.NewPulseShaper(20, 3, rollOff, 8)
	}
	t.seg3, t.seg4 = trainLens(cfg.ShortTrain)
	if cfg.TEP {
		t.tep = tepSymbols(cfg.Rate)
	}
	// Unit-energy pulses: baseband power = |point|² = 2; the line signal
	// has half of that.
	t.gain = float32(dsp.RMS(cfg.level()) * math.Sqrt2 / math.Sqrt2)
	return t, nil
}

func (t *Transmitter) bit() int {
	if t.sym-t.tep <= silenceLen+t.seg3+t.seg4+seg5Len {
		return t.scr.scramble(1)
	}
	if t.end == 0 {
		if b := t.src.GetBit(); b != modem.EndOfData {
			return t.scr.scramble(b & 1)
		}
		t.end = t.sym + shutdownLen
	}
	return t.scr.scramble(1)
}

func (t *Transmitter) symbol() (complex64, bool) {
	n := t.sym - t.tep // symbols since the end of the echo protection tone
	t.sym++
	switch {
	case n < 0:
		return points[0], true
	case n < silenceLen:
		return 0, true
	case n < silenceLen+t.seg3:
		t.state = (t.state + 4) & 7
		return points[t.state], true
	case n < silenceLen+t.seg3+t.seg4:
		b := t.scr.scramble(1)
		t.scr.scramble(1)
		t.scr.scramble(1)
		t.state = (t.state + 4*b) & 7
		return points[t.state], true
	}
	if abs := n + t.tep; t.end != 0 && abs >= t.end {
		return 0, abs < t.end+t.shaper.Delay()+1
	}
	if t.rate == 4800 {
		b := t.bit() << 2
		b |= t.bit() << 1
		b |= t.bit()
		t.state = (t.state + step4800[b]) & 7
	} else {
		b := t.bit() << 1
		b |= t.bit()
		t.state = (t.state + step2400[b]) & 7
	}
	return points[t.state], true
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
