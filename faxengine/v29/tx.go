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
	rate  int
	level float64 // dBm0
	src   modem.BitSource

	// Each line sample is Re(Σ_j s'_j · c[acc][j]) over the last span
	// symbols, s' being the symbol turned by the carrier phase at its
	// start: see newLineTable.
	cre, cim *[symNum][span]float32
	acc      int // place in the symbol period, in 1/3 samples (0..9)
	hre, him [2 * span]float32
	pos      int
	rot      int // carrier phase at the latest symbol, in 15° steps

	tep    int // symbols of echo protection tone before the training
	sym    int // symbols sent so far
	end    int // symbol count at which the shutdown ends (0 while data flows)
	state  int // absolute phase, 45° steps
	scr    scrambler
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
		rate:  cfg.Rate,
		level: cfg.level(),
		src:   src,
		acc:   symNum - symDen, // the first sample starts a symbol
	}
	t.ta, t.tb, t.tc, t.td = trainingPoints(cfg.Rate)
	if cfg.TEP {
		t.tep = tepLen
	}
	// The RRC pulse has unit energy, so the baseband power equals the mean
	// constellation power; the real line signal has half of it.
	t.cre, t.cim = newLineTable(dsp.RMS(cfg.level()) * math.Sqrt2 / math.Sqrt(float64(meanPower(cfg.Rate))))
	return t, nil
}

const (
	span   = 10 // transmit filter length in symbols
	symNum = 10 // a symbol lasts symNum/symDen samples
	symDen = 3
)

// carrierTurn is e^{jω·t_m} for the start t_m = 10m/3 of symbol m: the
// 1700 Hz carrier turns 17/24 of a cycle per 2400 baud symbol, so the
// phase repeats every 24 symbols.
var carrierTurn = func() (r [24]complex64) {
	for m := range r {
		s, c := math.Sincos(2 * math.Pi * float64(17*m%24) / 24)
		r[m] = complex(float32(c), float32(s))
	}
	return r
}()

// newLineTable returns the transmit filter with the carrier folded in: for
// a sample acc/symDen samples after the newest symbol's start, the symbol j
// places back contributes Re(s'·c) with c = gain·h·e^{jω·d}, h the
// root-raised-cosine pulse and d the sample's delay after that symbol's
// start (the rest of the carrier phase, e^{jω·t_m}, is in s').
func newLineTable(gain float64) (cre, cim *[symNum][span]float32) {
	const w = 2 * math.Pi * carrierHz / 8000 // carrier radians per sample
	cre, cim = new([symNum][span]float32), new([symNum][span]float32)
	for a := range symNum {
		for j := range span {
			ts := float64(a)/symNum + float64(j) // in symbols
			h := gain * dsp.RRC(ts-span/2, rollOff)
			s, c := math.Sincos(w * ts * symNum / symDen)
			cre[a][j] = float32(h * c)
			cim[a][j] = float32(h * s)
		}
	}
	return cre, cim
}

func (t *Transmitter) bit() int {
	if t.end == 0 {
		b := t.src.GetBit()
		if b != modem.EndOfData {
			return t.scr.scramble(b & 1)
		}
		t.end = t.sym + shutdownLen
	}
	return t.scr.scramble(1)
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
		return 0, abs < t.end+span/2+1
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
		return t.scr.scramble(1)
	}
	return t.bit()
}

// Fill writes up to len(dst) samples and returns how many it wrote; fewer
// than len(dst) means the transmission has ended.
func (t *Transmitter) Fill(dst []int16) int {
	if t.done {
		return 0
	}
	// The per-sample state lives in locals (registers) for the loop.
	acc, pos := t.acc, t.pos
	cre, cim := t.cre, t.cim
	defer func() { t.acc, t.pos = acc, pos }()
	for i := range dst {
		if acc += symDen; acc >= symNum {
			acc -= symNum
			s, ok := t.symbol()
			if !ok {
				t.done = true
				return i
			}
			s *= carrierTurn[t.rot]
			if t.rot++; t.rot == len(carrierTurn) {
				t.rot = 0
			}
			if pos--; pos < 0 {
				pos = span - 1
			}
			t.hre[pos], t.hre[pos+span] = real(s), real(s)
			t.him[pos], t.him[pos+span] = imag(s), imag(s)
		}
		// Fixed-size views: the constant indexes below need no checks.
		cr, ci := &cre[acc], &cim[acc]
		hr := (*[span]float32)(t.hre[pos:])
		hi := (*[span]float32)(t.him[pos:])
		v0 := hr[0]*cr[0] - hi[0]*ci[0] + hr[2]*cr[2] - hi[2]*ci[2] + hr[4]*cr[4] - hi[4]*ci[4]
		v1 := hr[1]*cr[1] - hi[1]*ci[1] + hr[3]*cr[3] - hi[3]*ci[3] + hr[5]*cr[5] - hi[5]*ci[5]
		v2 := hr[6]*cr[6] - hi[6]*ci[6] + hr[8]*cr[8] - hi[8]*ci[8]
		v3 := hr[7]*cr[7] - hi[7]*ci[7] + hr[9]*cr[9] - hi[9]*ci[9]
		dst[i] = dsp.Round16((v0 + v1) + (v2 + v3))
	}
	return len(dst)
}
