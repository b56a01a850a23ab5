// Package v29 implements the ITU-T V.29 modem at 9600 and 7200 bit/s, as
// Group 3 fax uses it (T.30, T.4 §5): half-duplex, 2400 baud QAM on a
// 1700 Hz carrier, with the V.29 training sequence (segments 1 to 4), the
// 1 + x^-18 + x^-23 self-synchronising scrambler, and a receiver with
// automatic gain control, symbol-timing and carrier recovery, and a
// fractionally spaced adaptive equaliser trained on the known sequence.
package v29

import (
	"fmt"
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
)

// DefaultLevel is the default transmit level in dBm0.
const DefaultLevel = -10.0

// ZeroDBm0 requests a transmit level of 0 dBm0 (a zero Level means
// DefaultLevel).
const ZeroDBm0 = math.SmallestNonzeroFloat64

// Config selects the bit rate and, for transmitters, the level.
type Config struct {
	Rate  int     // 9600 or 7200 bit/s
	Level float64 // transmit level in dBm0; 0 means DefaultLevel
	// TEP prefixes the training with 200 ms of unmodulated carrier (talker
	// echo protection). Receivers ignore it.
	TEP bool
}

func (c Config) check() error {
	if c.Rate != 9600 && c.Rate != 7200 {
		return fmt.Errorf("v29: unsupported rate %d bit/s (want 9600 or 7200)", c.Rate)
	}
	if math.IsNaN(c.Level) || c.Level > 3 || c.Level < -60 {
		return fmt.Errorf("v29: transmit level %v dBm0 out of range", c.Level)
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
	carrierHz = 1700
	baud      = 2400
	rollOff   = 0.25

	tepLen      = 480 // optional echo protection tone: 200 ms
	seg1Len     = 48  // silence
	seg2Len     = 128 // ABAB
	seg3Len     = 384 // CDCD from the training generator
	seg4Len     = 48  // scrambled ones
	shutdownLen = 32  // scrambled ones after the data
)

// points holds the 16 signal points: index = amp<<3 | phase, phase in 45°
// steps. Even phases lie on the axes (3 or 5), odd ones on the diagonals
// (1+j or 3+3j), per V.29 Table 2.
var points = func() (p [16]complex64) {
	for k := 0; k < 8; k++ {
		r0, r1 := 3.0, 5.0
		if k&1 == 1 {
			r0, r1 = math.Sqrt2, 3*math.Sqrt2
		}
		a := float64(k) * math.Pi / 4
		s, c := math.Sincos(a)
		p[k] = complex(float32(math.Round(r0*c*1e6)/1e6), float32(math.Round(r0*s*1e6)/1e6))
		p[k|8] = complex(float32(math.Round(r1*c*1e6)/1e6), float32(math.Round(r1*s*1e6)/1e6))
	}
	return p
}()

// phaseStep maps a tribit Q2Q3Q4 to a phase change in 45° steps (V.29 Table 1).
var phaseStep = [8]int{1, 0, 2, 3, 6, 7, 5, 4}

// tribit is the inverse of phaseStep.
var tribit = func() (t [8]int) {
	for b, s := range phaseStep {
		t[s] = b
	}
	return t
}()

// Training points (V.29 §6.2): segment 2 alternates A and B, segment 3 sends
// C for a 0 and D for a 1 from the training generator.
func trainingPoints(rate int) (a, b, c, d complex64) {
	if rate == 9600 {
		return -3, 3 - 3i, 3, -3 + 3i
	}
	return -3, 1 - 1i, 3, -1 + 1i
}

// trainingBits returns segment 3's bits: the 1 + x^-6 + x^-7 generator
// started from 0101010.
func trainingBits() (bits [seg3Len]uint8) {
	reg := uint8(0x2A)
	for i := range bits {
		b := reg & 1
		reg >>= 1
		reg |= ((b ^ reg) & 1) << 6
		bits[i] = b
	}
	return bits
}

var seg3Bits = trainingBits()

// meanPower returns the mean power of the data constellation.
func meanPower(rate int) float32 {
	if rate == 9600 {
		return (9 + 25 + 2 + 18) / 4.0
	}
	return (9 + 2) / 2.0
}

var _ = dsp.Abs2

// scrambler is the V.29 self-synchronising scrambler, 1 + x^-18 + x^-23,
// holding past line bits with the newest in bit 0. (dsp.Scrambler is the
// general form; constant taps let this one compile to a few instructions
// per bit.)
type scrambler uint32

func (s *scrambler) scramble(in int) int {
	out := (in ^ int(*s>>17) ^ int(*s>>22)) & 1
	*s = *s<<1 | scrambler(out)
	return out
}

func (s *scrambler) descramble(in int) int {
	out := (in ^ int(*s>>17) ^ int(*s>>22)) & 1
	*s = *s<<1 | scrambler(in&1)
	return out
}
