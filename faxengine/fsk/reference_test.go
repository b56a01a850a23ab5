package fsk

import (
	"math"
	"slices"
	"testing"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/test/linesim"
)

// refCorr is the obvious correlation of the winLen samples ending at n with
// a tone, in floating point.
func refCorr(x []int16, n int, hz float64) (re, im float64) {
	for m := max(n-winLen+1, 0); m <= n; m++ {
		a := 2 * math.Pi * hz * float64(m) / 8000
		re += float64(x[m]) * math.Cos(a)
		im -= float64(x[m]) * math.Sin(a)
	}
	return re, im
}

// TestCorrelatorMatchesReference checks the receiver's running integer sums,
// sample by sample, against direct floating-point correlation.
func TestCorrelatorMatchesReference(t *testing.T) {
	data := prbs(200, 5)
	sig := modulate(&sliceSource{lead: 10, data: data}, 0)
	sig = linesim.New(linesim.Config{NoiseDBm0: -15, Seed: 4}).Process(nil, sig)
	rx := NewReceiver(&recorder{})
	for n := range sig {
		rx.Process(sig[n : n+1])
		var absSum float64
		for m := max(n-winLen+1, 0); m <= n; m++ {
			absSum += math.Abs(float64(sig[m]))
		}
		tol := absSum*0.5 + 1 // table rounding: at most half a step per product
		mr, mi := refCorr(sig, n, MarkHz)
		sr, si := refCorr(sig, n, SpaceHz)
		got := []float64{float64(rx.sum[0]), float64(rx.sum[1]), float64(rx.sum[2]), float64(rx.sum[3])}
		want := []float64{mr * refScale, mi * refScale, sr * refScale, si * refScale}
		for k := range got {
			if math.Abs(got[k]-want[k]) > tol {
				t.Fatalf("sample %d sum %d: %v, reference %v", n, k, got[k], want[k])
			}
		}
	}
}

// refDemod is a slow, obvious V.21 demodulator that is told the bit timing:
// it correlates each bit's samples with both tones and picks the stronger.
func refDemod(x []int16, start, bits int) []byte {
	out := make([]byte, 0, bits)
	for k := range bits {
		end := start + (80*(k+1)+2)/3 - 1 // last sample of bit k
		if end >= len(x) {
			break
		}
		mr, mi := refCorr(x, end, MarkHz)
		sr, si := refCorr(x, end, SpaceHz)
		if mr*mr+mi*mi > sr*sr+si*si {
			out = append(out, 1)
		} else {
			out = append(out, 0)
		}
	}
	return out
}

func countErrs(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n + max(len(a), len(b)) - min(len(a), len(b))
}

// TestReceiverMatchesReference holds the whole receiver, with its own carrier
// detection and timing recovery, to the demodulator that knows the timing: at
// high SNR both are error free, and at low SNR ours makes no more than a few
// more errors.
func TestReceiverMatchesReference(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 5000
	}
	data := prbs(n, 9)
	const lead = 40
	sig := modulate(&sliceSource{lead: lead, tail: 10, data: data}, -10)
	for _, snr := range []float64{12, 4, 2} {
		in := linesim.New(linesim.Config{NoiseDBm0: -10 - snr, Seed: uint64(snr)}).Process(nil, sig)
		all := refDemod(in, 0, lead+n)
		refErrs := countErrs(all[lead:], data)
		rec := &recorder{}
		NewReceiver(rec).Process(in)
		at, _ := bestMatch(data[:200], rec.bits[:400])
		ourErrs := countErrs(rec.bits[at:min(at+n, len(rec.bits))], data)
		t.Logf("SNR %v dB: reference %d errors, ours %d, of %d", snr, refErrs, ourErrs, n)
		if snr >= 12 && (refErrs != 0 || ourErrs != 0) {
			t.Errorf("errors at SNR %v: reference %d, ours %d", snr, refErrs, ourErrs)
		}
		if float64(ourErrs) > 1.5*float64(refErrs)+5 {
			t.Errorf("SNR %v: ours %d errors, reference with ideal timing %d", snr, ourErrs, refErrs)
		}
	}
}

func TestBlockSizeDoesNotMatter(t *testing.T) {
	sig := modulate(&sliceSource{lead: 40, tail: 10, data: prbs(500, 2)}, -20)
	sig = append(sig, make([]int16, 800)...)
	var outs [][]byte
	for _, bs := range []int{1, 7, 160, len(sig)} {
		rec := &recorder{}
		rx := NewReceiver(rec)
		for i := 0; i < len(sig); i += bs {
			rx.Process(sig[i:min(i+bs, len(sig))])
		}
		outs = append(outs, rec.bits)
	}
	for i := range outs {
		if !slices.Equal(outs[i], outs[0]) {
			t.Fatalf("block size changes the output (case %d)", i)
		}
	}
}

func TestCarrierThresholdsAndLevel(t *testing.T) {
	for _, tc := range []struct {
		level   float64
		carrier bool
	}{
		{0, true}, {-10, true}, {-43, true}, {-44, true}, {-50, false}, {-60, false},
	} {
		sig := modulate(&sliceSource{lead: 300, data: prbs(300, 1)}, tc.level)
		rec := &recorder{}
		rx := NewReceiver(rec)
		rx.Process(sig)
		if rx.Carrier() != tc.carrier {
			t.Errorf("%v dBm0: carrier %v, want %v", tc.level, rx.Carrier(), tc.carrier)
		}
		if tc.carrier {
			if l := rx.SignalLevel(); math.Abs(l-tc.level) > 1 {
				t.Errorf("%v dBm0: level estimate %.2f", tc.level, l)
			}
		}
	}
}

// TestCarrierHysteresis: a signal fading slowly across the thresholds must
// bring the carrier up once and down once, not chatter.
func TestCarrierHysteresis(t *testing.T) {
	sig := modulate(&sliceSource{lead: 3000}, 0)
	// Sweep the level from -40 to -52 dBm0 and back with a little noise.
	for i := range sig {
		pos := float64(i) / float64(len(sig))
		db := -40 - 12*(1-math.Abs(2*pos-1))
		sig[i] = int16(float64(sig[i]) * math.Pow(10, db/20))
	}
	in := linesim.New(linesim.Config{NoiseDBm0: -70, Seed: 1}).Process(nil, sig)
	rec := &recorder{}
	NewReceiver(rec).Process(in)
	want := []modem.Status{modem.CarrierUp, modem.CarrierDown, modem.CarrierUp}
	if !slices.Equal(rec.status, want) {
		t.Fatalf("status %v, want %v", rec.status, want)
	}
}

func TestNoAllocs(t *testing.T) {
	sig := modulate(&sliceSource{lead: 40, data: prbs(300, 1)}, -10)
	rx := NewReceiver(discard{})
	if a := testing.AllocsPerRun(5, func() { rx.Process(sig) }); a != 0 {
		t.Errorf("receiver: %v allocations per run", a)
	}
	tx := NewTransmitter(modem.BitFunc(func() int { return 1 }))
	buf := make([]int16, 160)
	if a := testing.AllocsPerRun(50, func() { tx.Fill(buf) }); a != 0 {
		t.Errorf("transmitter: %v allocations per run", a)
	}
}

func TestTransmitterSpectrumAndLevel(t *testing.T) {
	for _, bit := range []int{0, 1} {
		tx := NewTransmitter(modem.BitFunc(func() int { return bit }))
		tx.SetLevel(-13)
		buf := make([]int16, 1600)
		tx.Fill(buf)
		var ms float64
		for _, v := range buf {
			ms += float64(v) * float64(v)
		}
		if l := dsp.PowerDBm0(ms / float64(len(buf))); math.Abs(l+13) > 0.05 {
			t.Errorf("bit %d: level %.2f dBm0", bit, l)
		}
		hz := float64(SpaceHz)
		if bit == 1 {
			hz = MarkHz
		}
		var re, im float64
		for m, v := range buf {
			a := 2 * math.Pi * hz * float64(m) / 8000
			re += float64(v) * math.Cos(a)
			im -= float64(v) * math.Sin(a)
		}
		amp := math.Hypot(re, im) * 2 / float64(len(buf))
		if want := dsp.SineAmplitude(-13); math.Abs(amp-want) > want*0.01 {
			t.Errorf("bit %d: %v Hz amplitude %.1f, want %.1f", bit, hz, amp, want)
		}
	}
}

func TestTransmitterEnds(t *testing.T) {
	tx := NewTransmitter(&sliceSource{data: prbs(30, 1)})
	out := make([]int16, 2000)
	n := tx.Fill(out)
	if n != 800 || !tx.Done() || tx.Fill(out) != 0 {
		t.Fatalf("30 bits gave %d samples (want 800), done %v", n, tx.Done())
	}
}

func TestQualityFollowsNoise(t *testing.T) {
	sig := modulate(&sliceSource{lead: 40, tail: 10, data: prbs(2000, 3)}, -10)
	var prev float64 = MaxQuality + 1
	for _, snr := range []float64{40, 20, 10, 5, 0} {
		in := linesim.New(linesim.Config{NoiseDBm0: -10 - snr, Seed: 5}).Process(nil, sig)
		rx := NewReceiver(&recorder{})
		rx.Process(in)
		q := rx.Quality()
		if q >= prev {
			t.Errorf("SNR %v dB: quality %.1f not below %.1f at the higher SNR", snr, q, prev)
		}
		if snr <= 10 && (q < snr+7 || q > snr+13) {
			t.Errorf("SNR %v dB: quality %.1f, want about SNR+10", snr, q)
		}
		prev = q
	}
}
