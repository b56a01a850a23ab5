package fsk

import (
	"math"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
)

// sineTable holds one cycle of a unit sine sampled tableLen times.
var sineTable = func() (t [tableLen]float32) {
	for i := range t {
		t[i] = float32(math.Sin(2 * math.Pi * float64(i) / tableLen))
	}
	return t
}()

// Transmitter is a V.21 channel 2 modulator. It implements modem.Transmitter.
type Transmitter struct {
	src   modem.BitSource
	table [tableLen]int16 // sine scaled to the transmit level
	phase int             // index into table
	step  int             // table steps per sample for the current bit
	baud  int             // bit-timing counter, in units of 1/3 sample
	fresh bool            // no bit fetched yet
	done  bool
}

// NewTransmitter returns a transmitter that sends the bits of src at
// DefaultLevel, starting at the beginning of a bit.
func NewTransmitter(src modem.BitSource) *Transmitter {
	t := &Transmitter{}
	t.SetSource(src)
	t.SetLevel(DefaultLevel)
	t.Restart()
	return t
}

// SetLevel sets the transmit level in dBm0 (clamped to at most +3 dBm0).
func (t *Transmitter) SetLevel(dbm0 float64) {
	if dbm0 > dsp.FullScaleDBm0 {
		dbm0 = dsp.FullScaleDBm0
	}
	amp := dsp.SineAmplitude(dbm0)
	for i, v := range sineTable {
		t.table[i] = int16(math.Round(float64(v) * amp))
	}
}

// SetSource replaces the bit source (nil sends nothing: the transmission
// ends at once).
func (t *Transmitter) SetSource(src modem.BitSource) {
	if src == nil {
		src = modem.BitFunc(func() int { return modem.EndOfData })
	}
	t.src = src
}

// Restart makes the transmitter start a new transmission with the next Fill.
func (t *Transmitter) Restart() {
	t.phase = 0
	t.baud = 0
	t.fresh = true
	t.done = false
}

// Done reports whether the bit source has ended the transmission.
func (t *Transmitter) Done() bool { return t.done }

// Fill writes modulated samples into dst. It returns len(dst) unless the bit
// source returned modem.EndOfData, in which case the transmission ends at the
// end of the last bit and Fill returns the number of samples written.
func (t *Transmitter) Fill(dst []int16) int {
	if t.done {
		return 0
	}
	phase, step, baud := t.phase, t.step, t.baud
	for i := range dst {
		if t.fresh || baud >= 80 {
			if !t.fresh {
				baud -= 80
			}
			t.fresh = false
			switch t.src.GetBit() {
			case modem.EndOfData:
				t.phase, t.step, t.baud, t.done = phase, step, baud, true
				return i
			case 0:
				step = spaceStep
			default:
				step = markStep
			}
		}
		dst[i] = t.table[phase]
		phase += step
		if phase >= tableLen {
			phase -= tableLen
		}
		baud += 3
	}
	t.phase, t.step, t.baud = phase, step, baud
	return len(dst)
}
