package v29

import (
	"math"
	"testing"

	"github.com/rayofax/rayofax/faxengine/dsp"
)

// refFill is the slow, obvious transmitter: complex baseband symbols through
// a root-raised-cosine filter, then mixed up with an oscillator. It uses the
// table-driven Transmitter's symbol sequence and must give the same samples.
func refFill(t *Transmitter, nsamples int) []int16 {
	sh := dsp.NewPulseShaper(symNum, symDen, rollOff, span)
	gain := dsp.RMS(t.level) * math.Sqrt2 / math.Sqrt(float64(meanPower(t.rate)))
	var out []int16
	for n := range nsamples {
		if sh.Tick() {
			s, ok := t.symbol()
			if !ok {
				break
			}
			sh.Push(s)
		}
		s := complex128(sh.Output())
		w := 2 * math.Pi * carrierHz / 8000 * float64(n)
		out = append(out, dsp.Round16(float32(gain*(real(s)*math.Cos(w)-imag(s)*math.Sin(w)))))
	}
	return out
}

func TestTransmitterAgainstReference(t *testing.T) {
	for _, cfg := range []Config{{Rate: 9600}, {Rate: 7200}, {Rate: 9600, TEP: true, Level: -3}, {Rate: 7200, Level: -30}} {
		fast, _ := NewTransmitter(cfg, newPRBS(3000))
		ref, _ := NewTransmitter(cfg, newPRBS(3000))
		var got []int16
		buf := make([]int16, 97)
		for {
			n := fast.Fill(buf)
			got = append(got, buf[:n]...)
			if n < len(buf) {
				break
			}
		}
		want := refFill(ref, len(got)+1000)
		if len(got) != len(want) {
			t.Errorf("%+v: %d samples, reference %d", cfg, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if d := int(got[i]) - int(want[i]); d < -1 || d > 1 {
				t.Fatalf("%+v: sample %d = %d, reference %d", cfg, i, got[i], want[i])
			}
		}
	}
}
