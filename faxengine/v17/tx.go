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
	txSpan   = 9 // Fill's filter sum is written out for 9 taps
	txPhases = 10
)

var txFilter [txPhases][txSpan]float64
var txPulsePower float64 // mean over phases of the sum of squared taps

func init() {
	for p := 0; p < txPhases; p++ {
		for i := 0; i < txSpan; i++ {
			// Tap i weighs the symbol i symbols before the newest; the
			// output sample lies p/10 of a symbol after the newest symbol's
			// slot, and the pulse is delayed by txSpan/2.
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
			txMod[m][0][j] = txFilter[p][j] * carrierCos[m]
			txMod[m][1][j] = -txFilter[p][j] * carrierSin[m]
		}
	}
}

// txMod[m] holds, for sample m modulo 40 of a transmission, the taps that
// take the symbols' real and imaginary parts straight to the line signal:
// pulse shaping and modulation in one.
var txMod [carrierPeriod][2][txSpan]float64

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
	cfg   TxConfig
	src   modem.BitSource
	bsrc  modem.BitsSource // src, if it hands out several bits at once
	bits  int
	pts   []complex128
	level float64
	gain  float64

	state int
	count int            // symbols sent in the current state
	scr   scrambler      // training
	bscr  batchScrambler // data, from segment 4
	enc   encoder
	abcd  int // index of the last training symbol in abcd

	// The last txSpan symbols, newest at hist[hpos], stored twice over so
	// that hist[hpos:hpos+txSpan] runs newest to oldest without wrapping.
	hist  [2 * txSpan]complex128
	hpos  int
	phase int // in tenths of a symbol since the newest symbol
	n     int // samples sent, modulo carrierPeriod, for the carrier
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
// signal).
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
	for i := range dst {
		if t.phase += 3; t.phase >= txPhases {
			t.phase -= txPhases
			if t.state == txDone {
				return i
			}
			t.hpos--
			if t.hpos < 0 {
				t.hpos = txSpan - 1
			}
			p := t.symbol()
			t.hist[t.hpos] = p
			t.hist[t.hpos+txSpan] = p
		}
		// Pulse shaping and modulation.
		g := &txMod[t.n]
		if t.n++; t.n == carrierPeriod {
			t.n = 0
		}
		h := (*[txSpan]complex128)(t.hist[t.hpos : t.hpos+txSpan])
		a, b := &g[0], &g[1]
		// Written out, in four independent sums: a single chain of 17
		// additions is bound by their latency, not by the arithmetic.
		v0 := a[0]*real(h[0]) + b[0]*imag(h[0]) + a[4]*real(h[4]) + b[4]*imag(h[4])
		v1 := a[1]*real(h[1]) + b[1]*imag(h[1]) + a[5]*real(h[5]) + b[5]*imag(h[5])
		v2 := a[2]*real(h[2]) + b[2]*imag(h[2]) + a[6]*real(h[6]) + b[6]*imag(h[6])
		v3 := a[3]*real(h[3]) + b[3]*imag(h[3]) + a[7]*real(h[7]) + b[7]*imag(h[7])
		v := (v0 + v1) + (v2 + v3) + a[8]*real(h[8]) + b[8]*imag(h[8])
		dst[i] = sat16(v * t.gain)
	}
	return len(dst)
}

// sat16 rounds v to the nearest sample value (halves to even), saturating
// at full scale. Adding 1.5·2^52 leaves round(v) in the low bits of the
// sum: no data-dependent branch, unlike rounding by sign.
func sat16(v float64) int16 {
	if v >= 32767 {
		return 32767
	}
	if v <= -32768 {
		return -32768
	}
	return int16(int32(math.Float64bits(v + 0x1.8p52)))
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
		return t.dataSymbol(true)
	case txData:
		return t.dataSymbol(false)
	case txTail:
		t.next(tailOnesSymbols, txFlush)
		return t.dataSymbol(true)
	case txFlush:
		// Let the pulse shaping filter empty.
		t.next(txSpan/2+1, txDone)
		return 0
	}
	return 0
}

// dataSymbol codes one symbol of data bits (or of ones).
func (t *Transmitter) dataSymbol(ones bool) complex128 {
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
	return t.pts[t.enc.encode(int(t.bscr.scramble(q, n)))]
}
