package tone

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/fsk"
	"github.com/rayofax/rayofax/faxengine/hdlc"
	"github.com/rayofax/rayofax/test/linesim"
)

func fill(g interface{ Fill([]int16) int }, n int) []int16 {
	out := make([]int16, n)
	k := g.Fill(out)
	return out[:k]
}

func sine(hz, dbm0 float64, n int) []int16 {
	a := dsp.SineAmplitude(dbm0)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(a * math.Sin(2*math.Pi*hz*float64(i)/8000)))
	}
	return out
}

func detect(sig []int16) []Event {
	var evs []Event
	d := NewDetector(func(e Event) { evs = append(evs, e) })
	for i := 0; i < len(sig); i += 160 {
		d.Process(sig[i:min(i+160, len(sig))])
	}
	return evs
}

func TestGeneratorCadence(t *testing.T) {
	sig := fill(NewCNG(), 2*(CNGOn+CNGOff))
	if len(sig) != 2*(CNGOn+CNGOff) {
		t.Fatalf("CNG generator stopped after %d samples", len(sig))
	}
	amp := dsp.SineAmplitude(DefaultLevel)
	for i, v := range sig {
		on := i%(CNGOn+CNGOff) < CNGOn
		if !on && v != 0 {
			t.Fatalf("sample %d = %d during the CNG pause", i, v)
		}
		if math.Abs(float64(v)) > amp+1 {
			t.Fatalf("sample %d = %d exceeds the level", i, v)
		}
	}
	// Power of the burst.
	var ms float64
	for _, v := range sig[:CNGOn] {
		ms += float64(v) * float64(v)
	}
	if lvl := dsp.PowerDBm0(ms / CNGOn); math.Abs(lvl-DefaultLevel) > 0.1 {
		t.Errorf("CNG level %.2f dBm0, want %v", lvl, DefaultLevel)
	}
	ced := fill(NewCED(), 10*8000)
	if len(ced) != DefaultCEDDuration {
		t.Fatalf("CED lasted %d samples, want %d", len(ced), DefaultCEDDuration)
	}
	g := NewCED()
	g.SetDuration(4 * 8000)
	if n := len(fill(g, 10*8000)); n != 4*8000 {
		t.Fatalf("SetDuration: %d samples", n)
	}
}

func TestDetectCNG(t *testing.T) {
	for _, tc := range []struct {
		name string
		line linesim.Config
		gen  func() []int16
	}{
		{"ours", linesim.Config{NoiseDBm0: linesim.NoNoise}, nil},
		{"-43dBm0", linesim.Config{NoiseDBm0: linesim.NoNoise, GainDB: -33}, nil},
		{"0dBm0", linesim.Config{NoiseDBm0: linesim.NoNoise, GainDB: 10}, nil},
		{"noise snr6", linesim.Config{NoiseDBm0: -16, Seed: 3}, nil},
		{"+10Hz", linesim.Config{NoiseDBm0: linesim.NoNoise, FreqOffsetHz: 10}, nil},
		{"-100ppm", linesim.Config{NoiseDBm0: linesim.NoNoise, ClockPPM: -100}, nil},
		{"gap", linesim.Config{NoiseDBm0: -40, Gaps: []linesim.Gap{{At: 2000, Len: 160}, {At: 30000, Len: 160}}}, nil},
		{"1062Hz", linesim.Config{NoiseDBm0: linesim.NoNoise}, func() []int16 { return cngAt(1062) }},
		{"1138Hz", linesim.Config{NoiseDBm0: linesim.NoNoise}, func() []int16 { return cngAt(1138) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sig []int16
			if tc.gen != nil {
				sig = tc.gen()
			} else {
				sig = fill(NewCNG(), 3*(CNGOn+CNGOff))
			}
			l := linesim.New(tc.line)
			evs := detect(l.Process(nil, sig))
			if len(evs) != 3 {
				t.Fatalf("events %+v, want three CNG bursts", evs)
			}
			for i, e := range evs {
				if e.Tone != CNG || e.Bursts != i+1 || math.Abs(float64(e.Duration-CNGOn)) > 2*blockLen {
					t.Errorf("event %d: %+v", i, e)
				}
			}
		})
	}
}

// cngAt is the CNG cadence at another frequency.
func cngAt(hz float64) []int16 {
	burst := sine(hz, -10, CNGOn)
	var out []int16
	for range 3 {
		out = append(out, burst...)
		out = append(out, make([]int16, CNGOff)...)
	}
	return out
}

func TestDetectCED(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  []int16
	}{
		{"ours", fill(NewCED(), 1<<20)},
		{"2085Hz", sine(2085, -20, 3*8000)},
		{"2115Hz -43dBm0", sine(2115, -43, 3*8000)},
		{"0dBm0", sine(2100, 0, 3*8000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := detect(append(tc.sig, make([]int16, 800)...))
			if len(evs) != 2 || evs[0].Tone != CED || evs[0].Ended || evs[1].Tone != CED || !evs[1].Ended {
				t.Fatalf("events %+v, want CED detected then ended", evs)
			}
			if d := evs[1].Duration - len(tc.sig); d < -blockLen || d > blockLen {
				t.Errorf("CED duration %d, want %d", evs[1].Duration, len(tc.sig))
			}
			if evs[0].Duration > 5000 {
				t.Errorf("CED detected only after %d samples", evs[0].Duration)
			}
		})
	}
}

// V.21 HDLC preamble and frames, as sent right after CED.
func v21Preamble() []int16 {
	enc := hdlc.NewEncoder(hdlc.EncoderConfig{})
	enc.Queue([]byte{0xFF, 0x13, 0x80, 0x00, 0xCE, 0xF4, 0x80})
	enc.End()
	tx := fsk.NewTransmitter(enc)
	return fill(tx, 3*8000)
}

// speechLike is a crude voiced-speech stand-in: a gliding pitch with
// harmonics shaped by moving formants, in syllables with pauses.
func speechLike(n int, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]int16, n)
	var ph float64
	f1, f2 := 500.0, 1500.0
	for i := range out {
		if i%1600 == 0 {
			f1 = 300 + r.Float64()*600
			f2 = 900 + r.Float64()*1500
		}
		syl := (i / 1600) % 3
		if syl == 2 {
			continue
		}
		f0 := 110 + 30*math.Sin(float64(i)/900)
		ph += 2 * math.Pi * f0 / 8000
		var v float64
		for h := 1; h < 30; h++ {
			fh := f0 * float64(h)
			if fh > 3500 {
				break
			}
			g := 1/(1+math.Pow((fh-f1)/150, 2)) + 0.6/(1+math.Pow((fh-f2)/200, 2))
			v += g * math.Sin(float64(h)*ph)
		}
		out[i] = int16(v * 3000)
	}
	return out
}

func TestNoFalseDetection(t *testing.T) {
	secs := 12
	if testing.Short() {
		secs = 5
	}
	n := secs * 8000
	noise := linesim.New(linesim.Config{NoiseDBm0: -20, Seed: 9}).Process(nil, make([]int16, n))
	tone1004 := sine(1004, -10, n)
	// A 1004 Hz test tone keyed with CNG's cadence must still not count.
	keyed := make([]int16, n)
	for i := range keyed {
		if i%(CNGOn+CNGOff) < CNGOn {
			keyed[i] = tone1004[i]
		}
	}
	for _, tc := range []struct {
		name string
		sig  []int16
	}{
		{"silence", make([]int16, n)},
		{"noise", noise},
		{"1000Hz", sine(1000, 0, n)},
		{"1004Hz", tone1004},
		{"1004Hz keyed", keyed},
		{"V.21 preamble", v21Preamble()},
		{"V.21 ch1 mark", sine(980, -10, n)},
		{"V.21 ch1 space", sine(1180, -10, n)},
		{"speech", speechLike(n, 5)},
		{"speech+noise", linesim.New(linesim.Config{NoiseDBm0: -30, Seed: 2}).Process(nil, speechLike(n, 6))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if evs := detect(tc.sig); len(evs) != 0 {
				t.Errorf("false detection: %+v", evs)
			}
		})
	}
}

// TestGoertzelMatchesDFT holds the block analysis to a direct DFT.
func TestGoertzelMatchesDFT(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := range 50 {
		x := make([]int16, blockLen)
		for i := range x {
			x[i] = int16(r.IntN(20000) - 10000)
			if trial%2 == 0 {
				x[i] = int16(8000*math.Sin(2*math.Pi*(1000+r.Float64()*1200)*float64(i)/8000)) + int16(r.IntN(200))
			}
		}
		for k, hz := range []float64{CNGHz, CEDHz} {
			g := newGoertzel(hz)
			var s1, s2 float64
			for _, v := range x {
				s1, s2 = float64(v)+g.coeff*s1-s2, s1
			}
			got := goertzelPower(s1, s2, g.coeff)
			var re, im float64
			for i, v := range x {
				a := 2 * math.Pi * hz * float64(i) / 8000
				re += float64(v) * math.Cos(a)
				im -= float64(v) * math.Sin(a)
			}
			want := re*re + im*im
			if math.Abs(got-want) > 1e-6*want+1e-3 {
				t.Fatalf("trial %d tone %d: Goertzel %g, DFT %g", trial, k, got, want)
			}
		}
	}
}

func TestDetectorNoAllocs(t *testing.T) {
	sig := fill(NewCNG(), 2*(CNGOn+CNGOff))
	d := NewDetector(func(Event) {})
	if a := testing.AllocsPerRun(5, func() { d.Process(sig) }); a != 0 {
		t.Fatalf("%v allocations per run", a)
	}
	g := NewCNG()
	buf := make([]int16, 160)
	if a := testing.AllocsPerRun(100, func() { g.Fill(buf) }); a != 0 {
		t.Fatalf("generator: %v allocations per run", a)
	}
}

func FuzzDetector(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3})
	b := make([]byte, 0, 2*CNGOn)
	for _, v := range fill(NewCNG(), CNGOn) {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		sig := make([]int16, len(data)/2)
		for i := range sig {
			sig[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		var evs []Event
		d := NewDetector(func(e Event) { evs = append(evs, e) })
		// Repeat the input so durations can build up.
		for range 20 {
			d.Process(sig)
		}
		for _, e := range evs {
			if e.Tone != CNG && e.Tone != CED {
				t.Fatalf("bad event %+v", e)
			}
		}
	})
}
