package dsp

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

func TestNCOAgainstSincos(t *testing.T) {
	for _, hz := range []float64{1700, -1800, 1, 3999} {
		o := NewNCO(hz, 8000)
		for n := 0; n < 20000; n++ {
			got := o.Next()
			want := cmplx.Exp(complex(0, 2*math.Pi*hz*float64(n)/8000))
			if d := cmplx.Abs(complex128(got) - want); d > 2e-3 {
				t.Fatalf("%v Hz sample %d: got %v want %v", hz, n, got, want)
			}
		}
	}
}

func TestExpjFast(t *testing.T) {
	for p := -4.0; p < 4; p += 0.01 {
		if d := cmplx.Abs(complex128(ExpjFast(p)) - complex128(Expj(p))); d > 2e-3 {
			t.Fatalf("phase %v: %v vs %v", p, ExpjFast(p), Expj(p))
		}
	}
}

func TestRRCIsRootNyquist(t *testing.T) {
	for _, beta := range []float64{0.25, 0.5} {
		// h * h at integer symbol offsets is 1 at 0 and 0 elsewhere, and
		// ∫h² = 1, by numerical integration over ±40 symbols.
		const step = 1.0 / 256
		for k := 0; k <= 3; k++ {
			var s float64
			for t := -40.0; t <= 40; t += step {
				s += RRC(t, beta) * RRC(float64(k)-t, beta) * step
			}
			want := 0.0
			if k == 0 {
				want = 1
			}
			if math.Abs(s-want) > 0.01 {
				t.Errorf("beta %v: (h*h)(%d) = %v, want %v", beta, k, s, want)
			}
		}
	}
}

func TestPulseShaperAgainstDirectSum(t *testing.T) {
	const num, den, span, beta = 10, 3, 12, 0.25
	rng := rand.New(rand.NewPCG(1, 2))
	p := NewPulseShaper(num, den, beta, span)
	var syms []complex64
	for n := 0; n < 2000; n++ {
		if p.Tick() {
			s := complex(float32(rng.IntN(7)-3), float32(rng.IntN(7)-3))
			syms = append(syms, s)
			p.Push(s)
		}
		got := p.Output()
		// Symbol k is due at sample k*num/den (rounded up to the tick that
		// asked for it); time since symbol k, in symbols:
		var want complex128
		last := len(syms) - 1
		tLast := float64(n*den-last*num) / float64(num) // time since the latest symbol
		for j := 0; j < span && last-j >= 0; j++ {
			h := RRC(tLast+float64(j)-span/2, beta)
			want += complex128(syms[last-j]) * complex(h, 0)
		}
		if d := cmplx.Abs(complex128(got) - want); d > 1e-4 {
			t.Fatalf("sample %d: got %v want %v", n, got, want)
		}
	}
}

func TestDemodAgainstDirectFilter(t *testing.T) {
	cfg := DemodConfig{CarrierHz: 1700, BaudRate: 2400, RollOff: 0.25, Span: 8}
	d := NewDemod(cfg)
	d.TimingOn = false
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]int16, 4000)
	for i := range x {
		x[i] = int16(rng.IntN(20000) - 10000)
	}
	out := make([]complex64, 4000)
	_, n := d.Process(x, out)
	sps := 8000 / cfg.BaudRate
	taps := d.taps
	g := float64(taps-1) / 2
	// Output k (k = 0, 1, ...) is at time (k+1)*sps/2 samples, with the
	// filter's group delay g.
	for k := 0; k < n; k++ {
		tau := float64(k+1) * sps / 2
		nn := int(math.Ceil(tau))
		mu := float64(nn) - tau
		var want complex128
		var norm float64
		for j := 0; j < taps; j++ {
			norm += RRC((float64(j)-mu-g)/sps, cfg.RollOff)
		}
		for j := 0; j < taps; j++ {
			m := nn - j
			if m < 0 {
				continue
			}
			lo := cmplx.Exp(complex(0, -2*math.Pi*cfg.CarrierHz*float64(m)/8000))
			want += complex(float64(x[m]), 0) * lo * complex(RRC((float64(j)-mu-g)/sps, cfg.RollOff)/norm, 0)
		}
		// Timing is quantised to 1/64 sample: allow for it.
		if diff := cmplx.Abs(complex128(out[k]) - want); diff > 0.03*cmplx.Abs(want)+60 {
			t.Fatalf("output %d: got %v want %v", k, out[k], want)
		}
	}
}

func TestDemodTracksClockOffset(t *testing.T) {
	// A 2-PSK signal at 2400 baud whose sample clock is 100 ppm slow.
	const ppm = 100
	sps := 8000 / 2400.0 * (1 + ppm*1e-6)
	rng := rand.New(rand.NewPCG(5, 6))
	syms := make([]float64, 20000)
	for i := range syms {
		syms[i] = float64(rng.IntN(2)*2 - 1)
	}
	x := make([]int16, int(float64(len(syms))*sps)-100)
	for n := range x {
		ts := float64(n) / sps
		k0 := int(ts)
		var v float64
		for k := k0 - 6; k <= k0+6; k++ {
			if k >= 0 && k < len(syms) {
				v += syms[k] * RRC(ts-float64(k), 0.25)
			}
		}
		x[n] = int16(8000 * v * math.Cos(2*math.Pi*1700*float64(n)/8000))
	}
	d := NewDemod(DemodConfig{CarrierHz: 1700, BaudRate: 2400, RollOff: 0.25})
	d.SetGain(1.0 / 2000)
	d.TimingOn = true
	d.Kp, d.Ki = 0.02, 0.0005
	out := make([]complex64, 64)
	total := len(x)
	var sum float64
	var n int
	for len(x) > 0 {
		c, _ := d.Process(x, out)
		x = x[c:]
		if len(x) < total/2 { // average the settled loop's estimate
			d.Ki = 0.0002
			sum += d.TimingOffset()
			n++
		}
	}
	if got := sum / float64(n); math.Abs(got-ppm*1e-6) > 25e-6 {
		t.Errorf("timing offset %.1f ppm, want %d", got*1e6, ppm)
	}
}

func TestEqualizerAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	e := NewEqualizer(24)
	var hist []complex128
	coef := make([]complex128, e.Len())
	coef[e.Len()/2] = 1
	for n := 0; n < 500; n++ {
		x := complex(float32(rng.NormFloat64()), float32(rng.NormFloat64()))
		e.Push(x)
		hist = append(hist, complex128(x))
		if n%2 == 0 {
			continue
		}
		var want complex128
		for j := range coef {
			if len(hist)-1-j >= 0 {
				want += coef[j] * hist[len(hist)-1-j]
			}
		}
		got := e.Output()
		if cmplx.Abs(complex128(got)-want) > 1e-3*(1+cmplx.Abs(want)) {
			t.Fatalf("step %d: output %v want %v", n, got, want)
		}
		err := complex(float32(rng.NormFloat64()), float32(rng.NormFloat64()))
		const mu = 0.01
		e.Update(err, mu)
		for j := range coef {
			if len(hist)-1-j >= 0 {
				coef[j] += mu * complex128(err) * cmplx.Conj(hist[len(hist)-1-j])
			}
		}
	}
	if e.Delay() != e.Len()/4 {
		t.Errorf("Delay %d, want %d", e.Delay(), e.Len()/4)
	}
}

func TestEqualizerLearnsChannel(t *testing.T) {
	// A two-path channel on T/2 samples of QPSK: LMS must open the eye.
	rng := rand.New(rand.NewPCG(9, 10))
	e := NewEqualizer(32)
	pts := []complex64{1 + 1i, -1 + 1i, -1 - 1i, 1 - 1i}
	var sent []complex64
	var prev complex64
	var mse float64
	for k := 0; k < 6000; k++ {
		s := pts[rng.IntN(4)]
		sent = append(sent, s)
		// T/2 samples: a mid sample (average) and the symbol, plus an echo.
		e.Push((s+prev)*0.5 + prev*0.3i)
		e.Push(s + prev*0.3)
		prev = s
		if k < e.Delay() {
			continue
		}
		y := e.Output()
		err := sent[k-e.Delay()] - y
		e.Update(err, 0.005)
		if k > 5000 {
			mse += float64(Abs2(err))
		}
	}
	if mse /= 999; mse > 0.01 {
		t.Errorf("MSE after training %.4f", mse)
	}
}

func TestCarrierLoopLocks(t *testing.T) {
	var l CarrierLoop
	l.Alpha, l.Beta = 0.1, 0.005
	l.Set(0, 0)
	const f = 0.03 // rad per symbol
	ph := 1.0
	for k := 0; k < 2000; k++ {
		y := l.Derotate(Expj(ph) * 3)
		l.Update(PhaseError(y, 3))
		ph += f
	}
	if math.Abs(l.Freq-f) > 1e-3 {
		t.Errorf("frequency %v, want %v", l.Freq, f)
	}
	if d := math.Remainder(l.Phase-ph, 2*math.Pi); math.Abs(d) > 0.02 {
		t.Errorf("phase error %v", d)
	}
}

func TestScramblerAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	s := Scrambler{A: 18, B: 23}
	var line []int // the slow reference: out[n] = in[n] ^ out[n-18] ^ out[n-23]
	for n := 0; n < 5000; n++ {
		in := rng.IntN(2)
		want := in
		if n >= 18 {
			want ^= line[n-18]
		}
		if n >= 23 {
			want ^= line[n-23]
		}
		line = append(line, want)
		if got := s.Scramble(in); got != want {
			t.Fatalf("bit %d: got %d want %d", n, got, want)
		}
	}
	d := Scrambler{A: 18, B: 23}
	s = Scrambler{A: 18, B: 23}
	for n := 0; n < 5000; n++ {
		in := rng.IntN(2)
		if got := d.Descramble(s.Scramble(in)); got != in {
			t.Fatalf("bit %d: descrambled %d, sent %d", n, got, in)
		}
	}
}

func TestSlicerAgainstNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var pts []complex64
	for i := -3; i <= 3; i += 2 {
		for q := -3; q <= 3; q += 2 {
			pts = append(pts, complex(float32(i), float32(q)))
		}
	}
	s := NewSlicer(pts, 5, 128)
	cell := float32(10.0 / 128)
	for n := 0; n < 100000; n++ {
		y := complex(float32(rng.Float64()*12-6), float32(rng.Float64()*12-6))
		got, want := s.Decide(y), Nearest(pts, y)
		if got != want {
			// Only allowed within half a cell (diagonal) of a boundary.
			dg, dw := Abs2(y-pts[got]), Abs2(y-pts[want])
			if sqrt32(dg)-sqrt32(dw) > cell*1.5 {
				t.Fatalf("%v: slicer %v, nearest %v", y, pts[got], pts[want])
			}
		}
	}
}

func TestDot(t *testing.T) {
	for n := 0; n < 40; n++ {
		a, b := make([]float32, n), make([]float32, n+3)
		var want float32
		for i := range a {
			a[i], b[i] = float32(i%7)-3, float32(i%5)-2
			want += a[i] * b[i]
		}
		if got := dot(a, b); math.Abs(float64(got-want)) > 1e-3 {
			t.Fatalf("n=%d: %v want %v", n, got, want)
		}
		if got := dot2(a, b, b); math.Abs(float64(real(got)-want)) > 1e-3 || real(got) != imag(got) {
			t.Fatalf("n=%d: dot2 %v want %v", n, got, want)
		}
	}
}

func TestPowerMeterAndLevels(t *testing.T) {
	m := NewPowerMeter(0.1)
	for range 200 {
		m.Update(4)
	}
	if math.Abs(float64(m.Level)-4) > 1e-3 {
		t.Errorf("level %v", m.Level)
	}
	if g := AGCGain(4, 1); math.Abs(float64(g)-0.5) > 1e-6 {
		t.Errorf("AGCGain %v", g)
	}
	// A -10 dBm0 sine mixed down has |y|² = A²/4.
	a := SineAmplitude(-10)
	if got := float64(BasebandPower(-10)); math.Abs(got-a*a/4)/got > 1e-6 {
		t.Errorf("BasebandPower %v want %v", got, a*a/4)
	}
}

func TestRound16(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want int16
	}{{0, 0}, {0.4, 0}, {0.6, 1}, {-0.6, -1}, {1.5, 2}, {2.5, 2}, {-2.5, -2}, {32766.7, 32767}, {40000, 32767}, {-40000, -32768}, {-32767.6, -32768}} {
		if got := Round16(c.in); got != c.want {
			t.Errorf("Round16(%v) = %d, want %d", c.in, got, c.want)
		}
	}
	for x := float32(-33000); x < 33000; x += 0.37 {
		want := int16(max(-32768, min(32767, math.RoundToEven(float64(x)))))
		if got := Round16(x); got != want {
			t.Fatalf("Round16(%v) = %d, want %d", x, got, want)
		}
	}
}
