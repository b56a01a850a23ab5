package fsk

import (
	"fmt"
	"math"
	"testing"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/test/linesim"
)

// prbs returns n bits of the x^15 + x^14 + 1 sequence.
func prbs(n int, seed uint16) []byte {
	s := seed | 1
	out := make([]byte, n)
	for i := range out {
		b := (s>>14 ^ s>>13) & 1
		s = s<<1 | b
		out[i] = byte(b)
	}
	return out
}

// sliceSource sends lead mark bits, the data, then tail mark bits.
type sliceSource struct {
	lead, tail int
	data       []byte
	pos        int
}

func (s *sliceSource) GetBit() int {
	i := s.pos
	s.pos++
	switch {
	case i < s.lead:
		return 1
	case i < s.lead+len(s.data):
		return int(s.data[i-s.lead])
	case i < s.lead+len(s.data)+s.tail:
		return 1
	}
	return modem.EndOfData
}

type recorder struct {
	bits   []byte
	status []modem.Status
}

func (r *recorder) PutBit(b int)          { r.bits = append(r.bits, byte(b)) }
func (r *recorder) Status(s modem.Status) { r.status = append(r.status, s) }

// bestMatch finds where want sits in got and counts the errors there.
func bestMatch(want, got []byte) (at, errs int) {
	errs = len(want) + 1
	for d := 0; d+len(want) <= len(got); d++ {
		e := 0
		for i, b := range want {
			if got[d+i] != b {
				if e++; e >= errs {
					break
				}
			}
		}
		if e < errs {
			at, errs = d, e
		}
	}
	if errs > len(want) {
		return -1, len(want)
	}
	return at, errs
}

func modulate(src modem.BitSource, level float64) []int16 {
	tx := NewTransmitter(src)
	tx.SetLevel(level)
	var out []int16
	buf := make([]int16, 160)
	for {
		n := tx.Fill(buf)
		out = append(out, buf[:n]...)
		if n < len(buf) {
			return out
		}
	}
}

func TestLoopback(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 1000
	}
	data := prbs(n, 0x1234)
	cases := []struct {
		name string
		cfg  linesim.Config
		lvl  float64
	}{
		{"clean", linesim.Config{NoiseDBm0: linesim.NoNoise}, -10},
		{"0dBm0", linesim.Config{NoiseDBm0: linesim.NoNoise}, 0},
		{"-43dBm0", linesim.Config{NoiseDBm0: linesim.NoNoise}, -43},
		{"+10Hz", linesim.Config{NoiseDBm0: linesim.NoNoise, FreqOffsetHz: 10}, -10},
		{"-10Hz", linesim.Config{NoiseDBm0: linesim.NoNoise, FreqOffsetHz: -10}, -10},
		{"+100ppm", linesim.Config{NoiseDBm0: linesim.NoNoise, ClockPPM: 100}, -10},
		{"-100ppm", linesim.Config{NoiseDBm0: linesim.NoNoise, ClockPPM: -100}, -10},
		{"snr12", linesim.Config{NoiseDBm0: -22, Seed: 1}, -10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sig := modulate(&sliceSource{lead: 40, tail: 20, data: data}, tc.lvl)
			sig = append(make([]int16, 800), sig...)
			sig = append(sig, make([]int16, 2400)...) // carrier off takes some 100 ms in noise
			line := linesim.New(tc.cfg)
			in := line.Process(nil, sig)
			in = line.Flush(in)
			rec := &recorder{}
			rx := NewReceiver(rec)
			for i := 0; i < len(in); i += 100 {
				rx.Process(in[i:min(i+100, len(in))])
			}
			at, errs := bestMatch(data, rec.bits)
			if errs != 0 {
				t.Errorf("%d bit errors (at %d of %d bits), status %v", errs, at, len(rec.bits), rec.status)
			}
			if fmt.Sprint(rec.status) != fmt.Sprint([]modem.Status{modem.CarrierUp, modem.CarrierDown}) {
				t.Errorf("status %v, want carrier up, down", rec.status)
			}
		})
	}
}

// TestNoSlipAtLowSNR: far below the SNR where V.21 is usable, the bit clock
// must still hold: errors, yes, but no bit slipped or inserted.
func TestNoSlipAtLowSNR(t *testing.T) {
	n := 60000
	if testing.Short() {
		n = 20000
	}
	data := prbs(n, 0x4321)
	sig := modulate(&sliceSource{lead: 40, tail: 20, data: data}, -10)
	for _, snr := range []float64{-4, -2} {
		in := linesim.New(linesim.Config{NoiseDBm0: -10 - snr, Seed: 3}).Process(nil, sig)
		rec := &recorder{}
		NewReceiver(rec).Process(in)
		at, _ := bestMatch(data[:300], rec.bits[:600])
		errs := 0
		for i := range data {
			if at+i >= len(rec.bits) || rec.bits[at+i] != data[i] {
				errs++
			}
		}
		// A slip leaves half the bits after it wrong.
		if ber := float64(errs) / float64(n); ber > 0.08 {
			t.Errorf("SNR %v dB: BER %.3g: the bit clock slipped", snr, ber)
		}
	}
}

// TestSignalStartsUnderNoise: loud noise, which must not bring the carrier
// up, then a V.21 signal at an arbitrary bit phase: the timing loop must
// find it.
func TestSignalStartsUnderNoise(t *testing.T) {
	data := prbs(1000, 0x777)
	for _, offset := range []int{0, 7, 13, 20} {
		sig := make([]int16, 8000+offset)
		sig = append(sig, modulate(&sliceSource{data: data, tail: 20}, -10)...)
		in := linesim.New(linesim.Config{NoiseDBm0: -28, Seed: uint64(offset)}).Process(nil, sig)
		rec := &recorder{}
		rx := NewReceiver(rec)
		rx.Process(in[:8000])
		if rx.Carrier() {
			t.Fatal("noise alone brought the carrier up")
		}
		rx.Process(in[8000:])
		// After 150 bits the loop must have locked.
		want := data[150:]
		if at, errs := bestMatch(want, rec.bits); errs != 0 {
			t.Errorf("offset %d: %d errors after acquisition (at %d)", offset, errs, at)
		}
	}
}

// TestCarrierIgnoresOtherSignals: noise, call tones and V.21 channel 1 must
// not bring up the channel 2 carrier, though they put energy in its band.
func TestCarrierIgnoresOtherSignals(t *testing.T) {
	tone := func(hz, dbm0 float64) []int16 {
		a := dsp.SineAmplitude(dbm0)
		out := make([]int16, 16000)
		for i := range out {
			out[i] = int16(a * math.Sin(2*math.Pi*hz*float64(i)/8000))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		sig  []int16
	}{
		{"noise -20 dBm0", linesim.New(linesim.Config{NoiseDBm0: -20, Seed: 1}).Process(nil, make([]int16, 16000))},
		{"noise 0 dBm0", linesim.New(linesim.Config{NoiseDBm0: 0, Seed: 2}).Process(nil, make([]int16, 16000))},
		{"CED", tone(2100, 0)},
		{"CNG", tone(1100, 0)},
		{"V.21 ch1 mark", tone(980, 0)},
		{"V.21 ch1 space", tone(1180, 0)},
	} {
		rec := &recorder{}
		NewReceiver(rec).Process(tc.sig)
		if len(rec.status) != 0 {
			t.Errorf("%s: status %v", tc.name, rec.status)
		}
	}
}
