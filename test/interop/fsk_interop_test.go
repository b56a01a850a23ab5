//go:build spandsp

package interop

import (
	"fmt"
	"testing"

	"github.com/rayofax/rayofax/faxengine/fsk"
	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/test/linesim"
)

// spanV21Cutoff is the carrier detect level given to spandsp's V.21
// receiver: below V.21's -43 dBm0 on-threshold, as a fax receiver needs.
const spanV21Cutoff = -45.5

func newSpanV21Rx(out modem.BitSink) *SpanFSKRx {
	r := NewSpanV21Rx(out)
	r.SetCutoff(spanV21Cutoff)
	return r
}

// v21Case is one line condition for the V.21 suites.
type v21Case struct {
	name  string
	level float64 // transmit level, dBm0
	line  linesim.Config
	// gap, if set, is a 20 ms drop-out placed in the middle of the data.
	gap bool
	// spanFails records a case spandsp's own receiver cannot handle (its
	// limit, measured here); ours is still held to it.
	spanFails bool
}

func noNoise(c linesim.Config) linesim.Config { c.NoiseDBm0 = linesim.NoNoise; return c }

func v21Cases() []v21Case {
	cases := []v21Case{
		{name: "clean", level: -10, line: Clean},
		{name: "AWGN SNR 10 dB", level: -10, line: linesim.Config{NoiseDBm0: -20, Seed: 11}},
		{name: "AWGN SNR 6 dB", level: -20, line: linesim.Config{NoiseDBm0: -26, Seed: 12}},
		{name: "+10 Hz", level: -10, line: noNoise(linesim.Config{FreqOffsetHz: 10})},
		{name: "-10 Hz", level: -10, line: noNoise(linesim.Config{FreqOffsetHz: -10})},
		{name: "+100 ppm", level: -10, line: noNoise(linesim.Config{ClockPPM: 100})},
		{name: "-100 ppm", level: -10, line: noNoise(linesim.Config{ClockPPM: -100})},
		{name: "20 ms gap", level: -10, line: linesim.Config{NoiseDBm0: -50, Seed: 13}, gap: true},
		{name: "all at -30 dBm0", level: -30, line: linesim.Config{NoiseDBm0: -45, FreqOffsetHz: 10, ClockPPM: -100, Seed: 14}},
	}
	for _, l := range []float64{0, -20, -30, -40, -43} {
		cases = append(cases, v21Case{name: fmt.Sprintf("%g dBm0", l), level: l, line: linesim.Config{NoiseDBm0: -70, Seed: 15}})
	}
	return cases
}

const (
	v21Lead = 60 // bits of mark before the data: carrier detect and timing
	v21Tail = 30
)

// gapAt is where the gap starts: in the middle of the data, in samples of
// the padded signal.
func gapAt(nbits int) (sample, bitFrom, bitTo int) {
	bitFrom = v21Lead + nbits/2
	sample = 800 + bitFrom*80/3
	bitTo = bitFrom + 20*300/1000 + 1
	return sample, bitFrom - v21Lead, bitTo - v21Lead
}

// checkV21 compares received bits with the data sent, allowing for the gap.
func checkV21(t *testing.T, who string, tc v21Case, data []byte, rec *BitRecorder) bool {
	t.Helper()
	if !tc.gap {
		m := Align(data, rec.Bits, v21Lead+200, 300)
		if !m.Exact() {
			t.Logf("%s: %+v (BER %.2g), statuses %v", who, m, m.BER(), rec.Statuses)
			return false
		}
		return true
	}
	_, from, to := gapAt(len(data))
	before, after := AlignAround(data, rec.Bits, from, to, 2, v21Lead+200, 300)
	if !before.Exact() || !after.Exact() {
		t.Logf("%s: around the gap: before %+v, after %+v", who, before, after)
		return false
	}
	return true
}

func (tc v21Case) impair(sig []int16, nbits int) []int16 {
	cfg := tc.line
	if tc.gap {
		at, _, _ := gapAt(nbits)
		cfg.Gaps = []linesim.Gap{{At: at, Len: 160}}
	}
	return Impair(cfg, sig)
}

func v21Bits(nbits int, seed uint32) ([]byte, []byte) {
	data := PRBSBits(nbits, seed)
	all := make([]byte, 0, v21Lead+nbits+v21Tail)
	for range v21Lead {
		all = append(all, 1)
	}
	all = append(all, data...)
	for range v21Tail {
		all = append(all, 1)
	}
	return data, all
}

// TestV21SpandspToOurs: spandsp transmits known pseudo-random data, our
// receiver recovers it bit-exact on every line.
func TestV21SpandspToOurs(t *testing.T) {
	for i, tc := range v21Cases() {
		t.Run(tc.name, func(t *testing.T) {
			data, all := v21Bits(3000, uint32(100+i))
			tx := NewSpanV21Tx(all, false)
			defer tx.Close()
			tx.SetLevel(tc.level)
			sig := tc.impair(Pad(Modulate(tx, 160, 1<<22), 800, 1600), len(data))
			rec := &BitRecorder{}
			rx := fsk.NewReceiver(rec)
			Demodulate(rx, sig, 160)
			if !checkV21(t, "ours", tc, data, rec) {
				t.Errorf("our receiver did not recover spandsp's data bit-exact")
			}
			// The carrier must drop after the signal, noise or not.
			if !rec.Has(modem.CarrierUp) || rx.Carrier() {
				t.Errorf("carrier status %v, want up then down", rec.Statuses)
			}
		})
	}
}

// TestV21OursToSpandsp: our transmitter's data is recovered bit-exact by
// spandsp's receiver.
func TestV21OursToSpandsp(t *testing.T) {
	for i, tc := range v21Cases() {
		t.Run(tc.name, func(t *testing.T) {
			data := PRBSBits(3000, uint32(200+i))
			tx := fsk.NewTransmitter(&KnownBits{Lead: v21Lead, Tail: v21Tail, FillBit: 1, Data: data})
			tx.SetLevel(tc.level)
			sig := tc.impair(Pad(Modulate(tx, 160, 1<<22), 800, 1600), len(data))

			rec := &BitRecorder{}
			rx := newSpanV21Rx(rec)
			defer rx.Close()
			Demodulate(rx, sig, 160)
			spanOK := checkV21(t, "spandsp", tc, data, rec)
			switch {
			case !spanOK && !tc.spanFails:
				t.Errorf("spandsp's receiver did not recover our data bit-exact")
			case !spanOK:
				t.Logf("spandsp limit (known): its receiver fails here")
			case tc.spanFails:
				t.Logf("spandsp now passes a case recorded as its limit")
			}
			// Ours on the same signal, so the two receivers are compared
			// on identical samples.
			ours := &BitRecorder{}
			Demodulate(fsk.NewReceiver(ours), sig, 160)
			if !checkV21(t, "ours", tc, data, ours) {
				t.Errorf("our receiver failed on our own signal")
			}
		})
	}
}
