// Package v27ter implements the ITU-T V.27 ter modem at 4800 and 2400 bit/s,
// as Group 3 fax uses it (T.30, T.4 §5): differential 8-phase (4800 bit/s,
// 1600 baud) or 4-phase (2400 bit/s, 1200 baud) PSK on an 1800 Hz carrier,
// with the long and short training sequences, the 1 + x^-6 + x^-7 scrambler
// with its repetition guard, and a receiver with automatic gain control,
// symbol-timing and carrier recovery and a fractionally spaced adaptive
// equaliser.
package v27ter

import (
	"fmt"
	"math"
)

// DefaultLevel is the default transmit level in dBm0.
const DefaultLevel = -10.0

// ZeroDBm0 requests a transmit level of 0 dBm0 (a zero Level means
// DefaultLevel).
const ZeroDBm0 = math.SmallestNonzeroFloat64

// Config selects the bit rate, the training and, for transmitters, the level.
type Config struct {
	Rate  int     // 4800 or 2400 bit/s
	Level float64 // transmit level in dBm0; 0 means DefaultLevel
	// ShortTrain selects the short training sequence (T.30 uses the long
	// one; the short one assumes a receiver already trained on this
	// sender, and a receiver expecting it keeps its equaliser).
	ShortTrain bool
	// TEP prefixes the training with the talker echo protection tone:
	// 200 ms of unmodulated carrier, then the 20 ms silence (T.4 §5.1
	// asks for it; most fax implementations leave it out). Receivers
	// ignore it.
	TEP bool
}

func (c Config) check() error {
	if c.Rate != 4800 && c.Rate != 2400 {
		return fmt.Errorf("v27ter: unsupported rate %d bit/s (want 4800 or 2400)", c.Rate)
	}
	if math.IsNaN(c.Level) || c.Level > 3 || c.Level < -60 {
		return fmt.Errorf("v27ter: transmit level %v dBm0 out of range", c.Level)
	}
	return nil
}

func (c Config) level() float64 {
	if c.Level == 0 {
		return DefaultLevel
	}
	return c.Level
}

const (
	carrierHz = 1800
	rollOff   = 0.5

	silenceLen  = 32 // segment 2: no energy
	seg5Len     = 8  // scrambled ones
	shutdownLen = 32 // scrambled ones after the data
)

// trainLens returns the lengths of segment 3 (reversals) and segment 4
// (the scrambled two-phase equaliser conditioning pattern), in symbols.
func trainLens(short bool) (int, int) {
	if short {
		return 14, 58
	}
	return 50, 1074
}

// tepSymbols returns the length of the echo protection tone in symbols.
func tepSymbols(rate int) int {
	return int(0.2 * baudOf(rate))
}

func baudOf(rate int) float64 {
	if rate == 4800 {
		return 1600
	}
	return 1200
}

// points are the eight phases (45° steps) at magnitude √2.
var points = func() (p [8]complex64) {
	for k := range p {
		s, c := math.Sincos(float64(k) * math.Pi / 4)
		p[k] = complex(float32(math.Sqrt2*c), float32(math.Sqrt2*s))
	}
	return p
}()

// Phase changes, in 45° steps, for a tribit Q1Q2Q3 (4800 bit/s) and a dibit
// (2400 bit/s), V.27 ter Tables 1 and 2.
var (
	step4800 = [8]int{1, 0, 2, 3, 6, 7, 5, 4}
	step2400 = [4]int{0, 2, 6, 4}
)

var inv4800, inv2400 = func() (a [8]int, b [8]int) {
	for v, s := range step4800 {
		a[s] = v
	}
	for v, s := range step2400 {
		b[s] = v
	}
	return
}()

// scrambler is the V.27 ter scrambler/descrambler: 1 + x^-6 + x^-7, with a
// guard that inverts a bit when the line bits have shown no change against
// the bits 8, 9 and 12 places back for 33 bits (which would otherwise let a
// repetitive pattern through unscrambled).
type scrambler struct {
	reg   uint32 // line bits, newest in bit 0
	count int
}

// initialState is the scrambler state at the start of segment 4.
const initialState = 0x3C

func (s *scrambler) guard(line int) int {
	if s.count >= 33 {
		s.count = 0
		return 1
	}
	r := int(s.reg)
	if ((r>>7^line)&(r>>8^line)&(r>>11^line))&1 != 0 {
		s.count = 0
	} else {
		s.count++
	}
	return 0
}

func (s *scrambler) scramble(in int) int {
	out := (in ^ int(s.reg>>5) ^ int(s.reg>>6)) & 1
	if s.count >= 33 {
		out ^= 1
		s.count = 0
	} else {
		r := int(s.reg)
		if ((r>>7^out)&(r>>8^out)&(r>>11^out))&1 != 0 {
			s.count = 0
		} else {
			s.count++
		}
	}
	s.reg = s.reg<<1 | uint32(out)
	return out
}

func (s *scrambler) descramble(line int) int {
	out := (line ^ int(s.reg>>5) ^ int(s.reg>>6)) & 1
	out ^= s.guard(line)
	s.reg = s.reg<<1 | uint32(line&1)
	return out
}

// segment4 returns the phase-change bits of segment 4 (1: 180°, 0: none)
// and the scrambler state after it.
func segment4(n int) ([]uint8, scrambler) {
	s := scrambler{reg: initialState}
	bits := make([]uint8, n)
	for i := range bits {
		bits[i] = uint8(s.scramble(1))
		s.scramble(1)
		s.scramble(1)
	}
	return bits, s
}
