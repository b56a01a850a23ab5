package v17

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
)

// TxConfig selects what a Transmitter sends.
type TxConfig struct {
	Rate       int  // 14400, 12000, 9600 or 7200 bit/s
	ShortTrain bool // the short training sequence (T.30: pages after the first)
	TEP        bool // precede the training with the talker echo protection tone
}

// Transmit pulse shaping: root raised cosine truncated to txSpan symbols.
// V.17 leaves the pulse open. A roll-off of 0.35 keeps the signal within
// 180-3420 Hz and gives the band edges enough energy for band-edge timing
// recovery: spandsp's receiver, which uses it, keeps symbol timing over a
// long page at ±100 ppm with this pulse far more reliably than with 0.25
// (measured in test/interop). The sample rate is 10/3 of the symbol rate,
// so each output sample uses one of ten phases of the filter.
const (
	txBeta   = 0.35
	txSpan   = 8 // Fill's filter sum is written out for 8 taps
	txPhases = 10
)

var txFilter [txPhases][txSpan]float64
var txPulsePower float64 // mean over phases of the sum of squared taps

func init() {
	for p := 0; p < txPhases; p++ {
		for i := 0; i < txSpan; i++ {
			// Tap i weighs the symbol i symbols before the newest; the
			// output sample lies p/10 of a symbol after the newest symbol's
			// slot, and the pulse is delayed by txSpan/2 and cut off
			// txSpan/2 either side of its peak.
			t := float64(i) + float64(p)/txPhases - txSpan/2
			v := rrc(t, txBeta) * rect(t, txSpan/2)
			txFilter[p][i] = v
			txPulsePower += v * v
		}
	}
	txPulsePower /= txPhases
	// The filter phase before sample m is 3(m+1) mod 10 and the carrier
	// repeats every 40 samples, so both together repeat every 40 samples:
	// fold the carrier into the taps.
	for m := 0; m < carrierPeriod; m++ {
		p := 3 * (m + 1) % txPhases
		for j := 0; j < txSpan; j++ {
			txMod[m][j] = [2]float64{txFilter[p][j] * carrierCos[m], -txFilter[p][j] * carrierSin[m]}
		}
	}
}

// txMod[m][j] holds, for sample m modulo 40 of a transmission, the taps
// that take the real and imaginary parts of the symbol j symbols before the
// newest straight to the line signal: pulse shaping and modulation in one.
var txMod [carrierPeriod][txSpan][2]float64

// Transmitter states.
const (
	txTEPTone = iota
	txTEPSilence
	txSeg1
	txSeg2
	txSeg3
	txSeg4
	txData
	txTail
	txFlush
	txDone
)

// Transmitter is a V.17 transmitter. It implements modem.Transmitter.
type Transmitter struct {
	cfg  TxConfig
	src  modem.BitSource
	bsrc modem.BitsSource // src, if it hands out several bits at once
	bits int
	pts  []complex128
	// scaled is pts times gain, padded so that any symbol number masked
	// to 7 bits indexes it.
	scaled [128]complex128
	level  float64
	gain   float64

	state int
	count int            // symbols sent in the current state
	scr   scrambler      // training
	bscr  batchScrambler // data, from segment 4
	enc   encoder
	abcd  int // index of the last training symbol in abcd

	// The last txSpan symbols times the gain, newest at hist[hpos], stored
	// twice over so that hist[hpos:hpos+txSpan] runs newest to oldest
	// without wrapping.
	hist  [2 * txSpan]complex128
	hpos  int
	phase int  // in tenths of a symbol since the newest symbol
	n     int  // samples sent, modulo carrierPeriod, for the carrier
	ended bool // Fill has returned short
}

// NewTransmitter returns a transmitter for cfg that takes its data from src,
// at DefaultLevel.
func NewTransmitter(cfg TxConfig, src modem.BitSource) (*Transmitter, error) {
	t := &Transmitter{level: DefaultLevel}
	t.SetBitSource(src)
	if err := t.Restart(cfg); err != nil {
		return nil, err
	}
	return t, nil
}

// SetLevel sets the transmit level in dBm0 (the mean power of the data
// signal), from the next symbol on.
func (t *Transmitter) SetLevel(dbm0 float64) {
	t.level = dbm0
	t.setGain()
}

func (t *Transmitter) setGain() {
	es := 0.0
	for _, p := range t.pts {
		es += real(p)*real(p) + imag(p)*imag(p)
	}
	es /= float64(len(t.pts))
	t.gain = dsp.SineAmplitude(t.level) / math.Sqrt(es*txPulsePower)
	t.scaled = [128]complex128{}
	for i, p := range t.pts {
		t.scaled[i] = complex(real(p)*t.gain, imag(p)*t.gain)
	}
}

// Restart begins a new transmission (a new training sequence) with cfg,
// keeping the level and the bit source.
func (t *Transmitter) Restart(cfg TxConfig) error {
	bits, err := bitsPerSymbol(cfg.Rate)
	if err != nil {
		return err
	}
	t.cfg = cfg
	t.bits = bits
	t.pts = constellation(bits)
	t.setGain()
	t.state = txSeg1
	if cfg.TEP {
		t.state = txTEPTone
	}
	t.count = 0
	t.scr = scramblerSeed
	t.enc = encoder{diff: 1}
	if cfg.ShortTrain {
		t.enc.diff = 0
	}
	t.abcd = 0
	t.hist = [2 * txSpan]complex128{}
	t.hpos = 0
	t.phase = 0
	t.n = 0
	t.ended = false
	return nil
}

// SetBitSource changes the source of data bits. A source that also
// implements modem.BitsSource is asked for a symbol's bits in one call.
func (t *Transmitter) SetBitSource(src modem.BitSource) {
	t.src = src
	t.bsrc, _ = src.(modem.BitsSource)
}

// Fill implements modem.Transmitter.
func (t *Transmitter) Fill(dst []int16) int {
	if t.ended {
		return 0
	}
	// The per-sample state lives in locals: the compiler keeps them in
	// registers, which it does not do for fields.
	phase, n := t.phase, t.n
	h := (*[txSpan]complex128)(t.hist[t.hpos : t.hpos+txSpan])
	for i := range dst {
		if phase += 3; phase >= txPhases {
			phase -= txPhases
			if t.state == txDone {
				t.phase, t.n, t.ended = phase, n, true
				return i
			}
			if t.hpos--; t.hpos < 0 {
				t.hpos = txSpan - 1
			}
			var p complex128
			if t.state == txData {
				p = t.scaled[t.dataCode(false)&127]
			} else {
				p = t.symbol()
				p = complex(real(p)*t.gain, imag(p)*t.gain)
			}
			t.hist[t.hpos] = p
			t.hist[t.hpos+txSpan] = p
			h = (*[txSpan]complex128)(t.hist[t.hpos : t.hpos+txSpan])
		}
		// Pulse shaping and modulation.
		g := &txMod[n]
		if n++; n == carrierPeriod {
			n = 0
		}
		// Written out, in four independent sums: a single chain of
		// additions is bound by their latency, not by the arithmetic.
		v0 := g[0][0]*real(h[0]) + g[0][1]*imag(h[0]) + g[4][0]*real(h[4]) + g[4][1]*imag(h[4])
		v1 := g[1][0]*real(h[1]) + g[1][1]*imag(h[1]) + g[5][0]*real(h[5]) + g[5][1]*imag(h[5])
		v2 := g[2][0]*real(h[2]) + g[2][1]*imag(h[2]) + g[6][0]*real(h[6]) + g[6][1]*imag(h[6])
		v3 := g[3][0]*real(h[3]) + g[3][1]*imag(h[3]) + g[7][0]*real(h[7]) + g[7][1]*imag(h[7])
		dst[i] = sat16((v0 + v1) + (v2 + v3))
	}
	t.phase, t.n = phase, n
	return len(dst)
}

// sat16 rounds v (|v| < 2^31) to the nearest sample value (halves to
// even), saturating at full scale. Adding 1.5·2^52 leaves round(v) in the
// low 32 bits of the sum, and the integer clamp compiles to conditional
// moves: no data-dependent branch.
func sat16(v float64) int16 {
	r := int32(math.Float64bits(v + 0x1.8p52))
	return int16(min(max(r, -32768), 32767))
}

// next moves to state s when count symbols of the current one are sent.
func (t *Transmitter) next(count, s int) {
	if t.count++; t.count >= count {
		t.count = 0
		t.state = s
	}
}

// symbol returns the next symbol to send.
func (t *Transmitter) symbol() complex128 {
	switch t.state {
	case txTEPTone:
		t.next(tepToneSymbols, txTEPSilence)
		return abcd[0]
	case txTEPSilence:
		t.next(tepSilenceSymbols, txSeg1)
		return 0
	case txSeg1:
		// ABAB..., starting with A.
		p := abcd[t.count&1]
		t.next(seg1Symbols, txSeg2)
		return p
	case txSeg2:
		// Scrambled ones; each dibit picks C, D, B or A.
		b := t.scr.scramble(1)<<1 | t.scr.scramble(1)
		t.abcd = [4]int{2, 3, 1, 0}[b]
		if t.cfg.ShortTrain {
			t.next(seg2ShortSymbols, txSeg4)
		} else {
			t.next(seg2LongSymbols, txSeg3)
		}
		return abcd[t.abcd]
	case txSeg3:
		// The bridge word, scrambled, as quarter-turn steps.
		sh := (t.count & 7) * 2
		b := t.scr.scramble(bridgeWord>>sh&1)<<1 | t.scr.scramble(bridgeWord>>(sh+1)&1)
		t.abcd = (t.abcd + [4]int{1, 0, 2, 3}[b]) & 3
		t.next(seg3Symbols, txSeg4)
		return abcd[t.abcd]
	case txSeg4:
		if t.count == 0 {
			t.bscr = t.scr.batch()
		}
		t.next(seg4Symbols, txData)
		return t.pts[t.dataCode(true)]
	case txData:
		return t.pts[t.dataCode(false)]
	case txTail:
		t.next(tailOnesSymbols, txFlush)
		return t.pts[t.dataCode(true)]
	case txFlush:
		// Let the pulse shaping filter empty.
		t.next(txSpan/2+1, txDone)
		return 0
	}
	return 0
}

// dataCode codes one symbol of data bits (or of ones) and returns its
// symbol number.
func (t *Transmitter) dataCode(ones bool) int {
	n := t.bits
	all := uint32(1)<<n - 1
	q := all
	if !ones {
		var got int
		if t.bsrc != nil {
			q, got = t.bsrc.GetBits(n)
		} else {
			q = 0
			for got < n {
				bit := t.src.GetBit()
				if bit == modem.EndOfData {
					break
				}
				q |= uint32(bit&1) << got
				got++
			}
		}
		if got < n {
			// The data has ended: ones fill the symbol, the first of
			// the tail.
			q |= all &^ (1<<got - 1)
			t.state = txTail
			t.count = 1
		}
	}
	return t.enc.encode(int(t.bscr.scramble(q, n)))
}
