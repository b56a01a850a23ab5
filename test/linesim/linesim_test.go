package linesim

import (
	"math"
	"slices"
	"testing"
)

func tone(n int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Cos(2*math.Pi*freq*float64(i)/8000)))
	}
	return s
}

// measureFreq estimates the frequency of a clean tone from the phase slope of
// its product with a reference near freq (slow and obvious on purpose).
func measureFreq(s []int16, near float64) float64 {
	const blk = 200 // short enough that ±10 Hz does not alias
	var phases []float64
	for start := 0; start+blk <= len(s); start += blk {
		var re, im float64
		for i := start; i < start+blk; i++ {
			a := 2 * math.Pi * near * float64(i) / 8000
			re += float64(s[i]) * math.Cos(a)
			im -= float64(s[i]) * math.Sin(a)
		}
		phases = append(phases, math.Atan2(im, re))
	}
	var total float64
	for i := 1; i < len(phases); i++ {
		d := phases[i] - phases[i-1]
		for d > math.Pi {
			d -= 2 * math.Pi
		}
		for d < -math.Pi {
			d += 2 * math.Pi
		}
		total += d
	}
	return near + total/float64(len(phases)-1)/(2*math.Pi*blk/8000)
}

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func TestCleanLineIsIdentity(t *testing.T) {
	in := tone(1000, 1234, 10000)
	got := New(Config{NoiseDBm0: NoNoise}).Process(nil, in)
	if !slices.Equal(got, in) {
		t.Fatal("a clean line changed the signal")
	}
}

func TestGain(t *testing.T) {
	in := tone(8000, 1000, 10000)
	got := New(Config{GainDB: -20, NoiseDBm0: NoNoise}).Process(nil, in)
	if r := rms(got) / rms(in); math.Abs(r-0.1) > 0.001 {
		t.Fatalf("-20 dB gain gave amplitude ratio %v", r)
	}
}

func TestNoiseLevel(t *testing.T) {
	for _, level := range []float64{-40, -20, -10} {
		got := New(Config{NoiseDBm0: level, Seed: 1}).Process(nil, make([]int16, 80000))
		want := 32767 / math.Sqrt2 * math.Pow(10, (level-3.14)/20)
		if db := 20 * math.Log10(rms(got)/want); math.Abs(db) > 0.1 {
			t.Errorf("noise at %v dBm0 is off by %.2f dB", level, db)
		}
	}
}

func TestFrequencyOffset(t *testing.T) {
	for _, off := range []float64{10, -10, 1.5} {
		in := tone(16000, 1800, 8000)
		got := New(Config{FreqOffsetHz: off, NoiseDBm0: NoNoise}).Process(nil, in)
		got = got[2*HilbertDelay:]
		if f := measureFreq(got, 1800); math.Abs(f-(1800+off)) > 0.05 {
			t.Errorf("offset %v Hz: tone measured at %.3f Hz", off, f)
		}
		// The shift must not change the level.
		if r := rms(got) / rms(in); math.Abs(r-1) > 0.01 {
			t.Errorf("offset %v Hz: level ratio %v", off, r)
		}
	}
}

func TestClockOffset(t *testing.T) {
	for _, ppm := range []float64{100, -100} {
		in := tone(80000, 1000, 8000)
		l := New(Config{ClockPPM: ppm, NoiseDBm0: NoNoise})
		got := l.Flush(l.Process(nil, in))
		// The output spans the input's duration at the other clock.
		wantLen := float64(len(in)) / (1 + ppm/1e6)
		if d := float64(len(got)) - wantLen; d < 0 || d > float64(hilbertTaps+2*sincHalf+4) {
			t.Errorf("%v ppm: %d output samples for %d in, want about %.0f", ppm, len(got), len(in), wantLen)
		}
		got = got[100 : len(in)-200]
		if f := measureFreq(got, 1000); math.Abs(f-1000*(1+ppm/1e6)) > 0.01 {
			t.Errorf("%v ppm: tone measured at %.4f Hz", ppm, f)
		}
		// Band-limited interpolation keeps the waveform: compare against the
		// exact resampled tone.
		var errPow float64
		for i := 0; i < len(got); i++ {
			n := float64(i + 100)
			want := 8000 * math.Cos(2*math.Pi*1000*n*(1+ppm/1e6)/8000)
			errPow += (float64(got[i]) - want) * (float64(got[i]) - want)
		}
		if snr := 10 * math.Log10(float64(len(got))*32e6/errPow); snr < 60 {
			t.Errorf("%v ppm: resampling SNR %.1f dB", ppm, snr)
		}
	}
}

func TestGaps(t *testing.T) {
	in := tone(2000, 1000, 8000)
	got := New(Config{NoiseDBm0: NoNoise, Gaps: []Gap{{At: 500, Len: 160}}}).Process(nil, in)
	for i, v := range got {
		inGap := i >= 500 && i < 660
		if inGap && v != 0 || !inGap && v != in[i] {
			t.Fatalf("sample %d = %d (in gap %v)", i, v, inGap)
		}
	}
}

func TestBlockSizeInvariance(t *testing.T) {
	cfg := Config{GainDB: -3, NoiseDBm0: -30, FreqOffsetHz: 7, ClockPPM: 80, Gaps: []Gap{{At: 3000, Len: 160}}, Seed: 42}
	in := tone(12000, 1700, 9000)
	whole := New(cfg).Process(nil, in)
	l := New(cfg)
	var pieces []int16
	for i, n := 0, 1; i < len(in); n = n%333 + 7 {
		end := min(i+n, len(in))
		pieces = l.Process(pieces, in[i:end])
		i = end
	}
	if !slices.Equal(whole, pieces) {
		t.Fatal("output depends on block sizes")
	}
}

func BenchmarkLine(b *testing.B) {
	in := tone(8000, 1700, 9000)
	l := New(Config{NoiseDBm0: -40, FreqOffsetHz: 10, ClockPPM: 100, Seed: 1})
	out := make([]int16, 0, 9000)
	b.SetBytes(int64(2 * len(in)))
	for b.Loop() {
		out = l.Process(out[:0], in)
	}
}
