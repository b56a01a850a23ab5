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
	rate  int
	level float64 // dBm0
	src   modem.BitSource

	// The shaped, modulated line signal is a sum over the last span
	// symbols of a value that depends only on the sample's place in the
	// symbol period, the tap and the (carrier-rotated) phase index, so it
	// comes from a table: see newLineTable.
	tab     []float32 // [acc][tap][index], index 8 is no energy
	num     int       // samples per symbol = num/den
	den     int
	acc     int
	hist    [2 * span]uint8 // doubled history of phase indexes, newest at pos
	pos     int
	rot     int // carrier phase at the latest symbol, 45° steps
	rotStep int // carrier advance per symbol, 45° steps

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
		rate:  cfg.Rate,
		level: cfg.level(),
		src:   src,
		scr:   scrambler{reg: initialState},
	}
	// 1800 Hz advances 1.125 cycles per 1600 baud symbol (45°) and 1.5
	// cycles per 1200 baud symbol (180°).
	t.num, t.den, t.rotStep = 5, 1, 1
	if cfg.Rate == 2400 {
		t.num, t.den, t.rotStep = 20, 3, 4
	}
	t.acc = t.num - t.den // the first sample starts a symbol
	t.seg3, t.seg4 = trainLens(cfg.ShortTrain)
	if cfg.TEP {
		t.tep = tepSymbols(cfg.Rate)
	}
	// Unit-energy pulses: baseband power = |point|² = 2; the line signal
	// has half of that.
	t.tab = newLineTable(t.num, t.den, t.rotStep, dsp.RMS(cfg.level()))
	for i := range t.hist {
		t.hist[i] = silent
	}
	return t, nil
}

const (
	span   = 8 // transmit filter length in symbols
	silent = 8 // phase index of a symbol with no energy
)

// newLineTable tabulates the contribution of one symbol to one line sample.
// With a symbol period of num/den samples, symbol m starts at t_m = num·m/den
// and acc (0 ≤ acc < num) tracks how far sample n lies past the newest
// symbol's start, in 1/den samples; the symbol j places back from the newest
// contributes
//
//	gain · Re(point[k] · h(acc, j) · e^{jω(n - t_m)} · e^{jω t_m})
//
// where h is the root-raised-cosine pulse at that delay. ω·t_m is a whole
// number of rotStep·45° steps, so it is folded into the phase index k of the
// stored symbol, and everything else depends only on (acc, j, k).
func newLineTable(num, den, rotStep int, gain float64) []float32 {
	const w = 2 * math.Pi * carrierHz / 8000 // carrier radians per sample
	tab := make([]float32, num*span*(silent+1))
	sps := float64(num) / float64(den)
	for a := range num {
		for j := range span {
			// Delay of sample n after the start of symbol M-j, in symbols
			// and in samples.
			ts := float64(a)/float64(num) + float64(j)
			h := dsp.RRC(ts-float64(span)/2, rollOff)
			// e^{jω(n - t_{M-j})}: the sample lies ts symbols after that
			// symbol's start; its own rotation is folded into k.
			lo := complex(math.Cos(w*ts*sps), math.Sin(w*ts*sps))
			for k := range silent {
				p := complex128(points[k]) * complex(h, 0) * lo
				tab[(a*span+j)*(silent+1)+k] = float32(gain * real(p))
			}
		}
	}
	return tab
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

// symbol returns the next symbol's absolute phase index (-1: no energy) and
// whether the transmission goes on.
func (t *Transmitter) symbol() (int, bool) {
	n := t.sym - t.tep // symbols since the end of the echo protection tone
	t.sym++
	switch {
	case n < 0:
		return 0, true
	case n < silenceLen:
		return -1, true
	case n < silenceLen+t.seg3:
		t.state = (t.state + 4) & 7
		return t.state, true
	case n < silenceLen+t.seg3+t.seg4:
		b := t.scr.scramble(1)
		t.scr.scramble(1)
		t.scr.scramble(1)
		t.state = (t.state + 4*b) & 7
		return t.state, true
	}
	if abs := n + t.tep; t.end != 0 && abs >= t.end {
		return -1, abs < t.end+span/2+1
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
	return t.state, true
}

// Fill writes up to len(dst) samples and returns how many it wrote; fewer
// than len(dst) means the transmission has ended.
func (t *Transmitter) Fill(dst []int16) int {
	const stride = silent + 1
	for i := range dst {
		if t.done {
			return i
		}
		if t.acc += t.den; t.acc >= t.num {
			t.acc -= t.num
			s, ok := t.symbol()
			if !ok {
				t.done = true
				return i
			}
			if t.pos--; t.pos < 0 {
				t.pos = span - 1
			}
			k := uint8(silent)
			if s >= 0 {
				k = uint8((s + t.rot) & 7)
			}
			t.rot = (t.rot + t.rotStep) & 7
			t.hist[t.pos], t.hist[t.pos+span] = k, k
		}
		row := t.tab[t.acc*span*stride : (t.acc+1)*span*stride]
		h := t.hist[t.pos : t.pos+span]
		v := (row[h[0]] + row[stride+int(h[1])]) + (row[2*stride+int(h[2])] + row[3*stride+int(h[3])]) +
			(row[4*stride+int(h[4])] + row[5*stride+int(h[5])]) + (row[6*stride+int(h[6])] + row[7*stride+int(h[7])])
		dst[i] = dsp.Round16(v)
	}
	return len(dst)
}
