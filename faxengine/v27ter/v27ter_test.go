package v27ter

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/test/linesim"
)

// prbs is a 2^23-1 pseudo-random bit source (x^23 + x^18 + 1).
type prbs struct {
	reg uint32
	n   int
	max int
}

func newPRBS(n int) *prbs { return &prbs{reg: 0x5A5A5A, max: n} }

func (p *prbs) next() int {
	b := int((p.reg>>22)^(p.reg>>17)) & 1
	p.reg = p.reg<<1 | uint32(b)
	return b
}

func (p *prbs) GetBit() int {
	if p.n >= p.max {
		return modem.EndOfData
	}
	p.n++
	return p.next()
}

type sink struct {
	bits   []uint8
	status []modem.Status
}

func (s *sink) PutBit(b int)           { s.bits = append(s.bits, uint8(b)) }
func (s *sink) Status(st modem.Status) { s.status = append(s.status, st) }

// align finds the sent sequence in got and counts errors over it.
func align(t *testing.T, got []uint8, nbits int) (start, errs, compared int) {
	t.Helper()
	ref := newPRBS(nbits)
	want := make([]uint8, nbits)
	for i := range want {
		want[i] = uint8(ref.GetBit())
	}
	const probe = 48
	start = -1
	for s := 0; s+probe <= len(got) && s < 4000; s++ {
		ok := true
		for i := 0; i < probe; i++ {
			if got[s+i] != want[i] {
				ok = false
				break
			}
		}
		if ok {
			start = s
			break
		}
	}
	if start < 0 {
		return -1, nbits, 0
	}
	for i := 0; i < nbits && start+i < len(got); i++ {
		compared++
		if got[start+i] != want[i] {
			errs++
		}
	}
	errs += nbits - compared
	return start, errs, compared
}

func transmit(t *testing.T, cfg Config, nbits int) []int16 {
	t.Helper()
	tx, err := NewTransmitter(cfg, newPRBS(nbits))
	if err != nil {
		t.Fatal(err)
	}
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

func TestRoundTrip(t *testing.T) {
	for _, rate := range []int{4800, 2400} {
		for _, lc := range []linesim.Config{
			{NoiseDBm0: linesim.NoNoise},
			{NoiseDBm0: -40, Seed: 1},
			{NoiseDBm0: linesim.NoNoise, GainDB: -33},
			{NoiseDBm0: linesim.NoNoise, GainDB: 7},
			{NoiseDBm0: linesim.NoNoise, FreqOffsetHz: 10},
			{NoiseDBm0: linesim.NoNoise, FreqOffsetHz: -10},
			{NoiseDBm0: linesim.NoNoise, ClockPPM: 100},
			{NoiseDBm0: linesim.NoNoise, ClockPPM: -100},
		} {
			nbits := 20000
			sig := transmit(t, Config{Rate: rate}, nbits)
			line := linesim.New(lc)
			sig = append(make([]int16, 400), sig...)
			sig = append(sig, make([]int16, 800)...)
			rxs := line.Process(nil, sig)
			var s sink
			rx, _ := NewReceiver(Config{Rate: rate}, &s)
			for i := 0; i < len(rxs); i += 160 {
				rx.Process(rxs[i:min(i+160, len(rxs))])
			}
			start, errs, cmp := align(t, s.bits, nbits)
			t.Logf("rate %d %+v: status %v start %d errs %d/%d level %.1f snr %.1f", rate, lc, s.status, start, errs, cmp, rx.SignalLevel(), rx.SNR())
			if errs != 0 {
				t.Errorf("rate %d %+v: %d bit errors", rate, lc, errs)
			}
		}
	}
}
