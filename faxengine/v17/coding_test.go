package v17

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestScramblerRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := scrambler(scramblerSeed)
	var d descrambler // starts out of step: the first 23 bits may be wrong
	for i := 0; i < 10000; i++ {
		in := rng.IntN(2)
		out := d.descramble(s.scramble(in))
		if i >= 23 && out != in {
			t.Fatalf("bit %d: descrambled %d, sent %d", i, out, in)
		}
	}
}

// TestScramblerPolynomial checks the scrambler against the polynomial
// written out bit by bit: y[n] = x[n] ^ y[n-18] ^ y[n-23].
func TestScramblerPolynomial(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := scrambler(0)
	var y []int
	for n := 0; n < 500; n++ {
		x := rng.IntN(2)
		want := x
		if n >= 18 {
			want ^= y[n-18]
		}
		if n >= 23 {
			want ^= y[n-23]
		}
		got := s.scramble(x)
		if got != want {
			t.Fatalf("bit %d: got %d, want %d", n, got, want)
		}
		y = append(y, got)
	}
}

// TestBatchScramblers holds the scrambler and descrambler that work on
// several bits at once to the bit-by-bit ones, from any state, in batches
// of 0 to 18 bits.
func TestBatchScramblers(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 200; trial++ {
		s := scrambler(rng.Uint32())
		d := descrambler(rng.Uint32())
		bs, bd := s.batch(), d.batch()
		for k := 0; k < 50; k++ {
			n := rng.IntN(19)
			in := rng.Uint32()
			var want, wantD uint32
			for i := 0; i < n; i++ {
				want |= uint32(s.scramble(int(in>>i&1))) << i
				wantD |= uint32(d.descramble(int(in>>i&1))) << i
			}
			if got := bs.scramble(in&(1<<n-1), n); got != want {
				t.Fatalf("trial %d: scrambled %d bits %#x to %#x, want %#x", trial, n, in, got, want)
			}
			if got := bd.descramble(in, n); got != wantD {
				t.Fatalf("trial %d: descrambled %d bits %#x to %#x, want %#x", trial, n, in, got, wantD)
			}
		}
	}
}

func TestTrellisStructure(t *testing.T) {
	// Every state is reached from exactly four (state, input) pairs, and
	// the inputs leaving a state go to four different states.
	var into [8]int
	for s := 0; s < 8; s++ {
		seen := map[uint8]bool{}
		for y := 0; y < 4; y++ {
			n := convNext[s][y]
			into[n]++
			if seen[n] {
				t.Errorf("state %d: two inputs lead to %d", s, n)
			}
			seen[n] = true
		}
	}
	for s, n := range into {
		if n != 4 {
			t.Errorf("state %d reached %d ways, want 4", s, n)
		}
	}
}

// rotate turns a point a quarter turn clockwise.
func rotate(p complex128) complex128 { return complex(imag(p), -real(p)) }

func indexOf(c []complex128, p complex128) int {
	for i, q := range c {
		if q == p {
			return i
		}
	}
	return -1
}

// TestRotationalInvariance checks the property the whole V.17 coding design
// is for: a received signal turned by a multiple of 90° is still a valid
// code sequence, and decodes to the same data except for the first symbol.
func TestRotationalInvariance(t *testing.T) {
	for _, bits := range []int{6, 5, 4, 3} {
		c := constellation(bits)
		rng := rand.New(rand.NewPCG(5, uint64(bits)))
		var e encoder
		var qs, syms []int
		for i := 0; i < 400; i++ {
			q := rng.IntN(1 << bits)
			qs = append(qs, q)
			syms = append(syms, e.encode(q))
		}
		for turns := 1; turns < 4; turns++ {
			rot := make([]int, len(syms))
			for i, s := range syms {
				p := c[s]
				for k := 0; k < turns; k++ {
					p = rotate(p)
				}
				rot[i] = indexOf(c, p)
			}
			// Some encoder state must produce the rotated sequence.
			ok := false
			for st := 0; st < 8 && !ok; st++ {
				s := st
				ok = true
				for _, r := range rot {
					if r&1 != convY0(s) {
						ok = false
						break
					}
					s = int(convNext[s][r>>1&3])
				}
			}
			if !ok {
				t.Fatalf("bits %d, %d turns: rotated signal is not a code sequence", bits, turns)
			}
			prev := rot[0] >> 1 & 3
			for i := 1; i < len(rot); i++ {
				y := rot[i] >> 1 & 3
				q := (rot[i]>>3)<<2 | diffDecode(prev, y)
				prev = y
				if q != qs[i] {
					t.Fatalf("bits %d, %d turns, symbol %d: data %#x, sent %#x", bits, turns, i, q, qs[i])
				}
			}
		}
	}
}

// TestConstellationDistance checks the set partitioning the trellis code
// needs: points of one subset are at least sqrt(8) times the minimum
// distance of the whole constellation apart.
func TestConstellationDistance(t *testing.T) {
	for _, bits := range []int{6, 5, 4, 3} {
		c := constellation(bits)
		minAll, minSub := math.Inf(1), math.Inf(1)
		for i := range c {
			for j := range c {
				if i == j {
					continue
				}
				d := real(c[i]-c[j])*real(c[i]-c[j]) + imag(c[i]-c[j])*imag(c[i]-c[j])
				minAll = math.Min(minAll, d)
				if i&7 == j&7 {
					minSub = math.Min(minSub, d)
				}
			}
		}
		if minSub < 8*minAll-1e-9 {
			t.Errorf("bits %d: subset distance² %v, whole %v", bits, minSub, minAll)
		}
	}
}

// noisy encodes n random symbols and returns the sent symbol numbers and
// the received points with Gaussian noise of the given standard deviation
// per dimension.
func noisy(rng *rand.Rand, bits, n int, sigma float64) (sent []int, rx []complex128) {
	c := constellation(bits)
	var e encoder
	e.conv = rng.IntN(8)
	for i := 0; i < n; i++ {
		s := e.encode(rng.IntN(1 << bits))
		sent = append(sent, s)
		rx = append(rx, c[s]+complex(sigma*rng.NormFloat64(), sigma*rng.NormFloat64()))
	}
	return sent, rx
}

// bruteForce is the obvious maximum-likelihood sequence decoder: it tries
// every start state and every input sequence.
func bruteForce(sl *slicer, rx []complex128) []int {
	n := len(rx)
	dist := make([][8]int32, n)
	num := make([][8]uint8, n)
	for i, z := range rx {
		sl.slice(z, &dist[i], &num[i])
	}
	best := int64(math.MaxInt64)
	var bestPath []int
	path := make([]int, n)
	total := 1 << (2 * n)
	for st := 0; st < 8; st++ {
		for in := 0; in < total; in++ {
			s, m := st, int64(0)
			for i := 0; i < n; i++ {
				y := in >> (2 * i) & 3
				sub := y<<1 | convY0(s)
				m += int64(dist[i][sub])
				path[i] = int(num[i][sub])
				s = int(convNext[s][y])
			}
			if m < best {
				best = m
				bestPath = append(bestPath[:0], path...)
			}
		}
	}
	return bestPath
}

func TestViterbiMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 24; trial++ {
		bits := 3 + trial%4
		sl := slicerFor(bits)
		_, rx := noisy(rng, bits, 7, 1.1)
		want := bruteForce(sl, rx)
		var v viterbi
		v.reset(len(rx) + 1)
		var dist [8]int32
		var num [8]uint8
		for _, z := range rx {
			sl.slice(z, &dist, &num)
			if out := v.push(&dist, &num); len(out) != 0 {
				t.Fatal("decoded before depth symbols")
			}
		}
		got := v.flush(nil)
		if len(got) != len(want) {
			t.Fatalf("trial %d: %d symbols, want %d", trial, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d: Viterbi %v, brute force %v", trial, got, want)
			}
		}
	}
}

// decodeErrors runs n noisy symbols through a decoder of the given depth
// and counts symbol errors.
func decodeErrors(bits, depth, n int, sigma float64, seed uint64) int {
	rng := rand.New(rand.NewPCG(seed, 99))
	sent, rx := noisy(rng, bits, n, sigma)
	sl := slicerFor(bits)
	var v viterbi
	v.reset(depth)
	var dist [8]int32
	var num [8]uint8
	var got []int
	for _, z := range rx {
		sl.slice(z, &dist, &num)
		got = append(got, v.push(&dist, &num)...)
	}
	got = v.flush(got)
	errs := 0
	for i := range sent {
		if got[i] != sent[i] {
			errs++
		}
	}
	return errs
}

func TestViterbiNoiseless(t *testing.T) {
	for bits := 3; bits <= 6; bits++ {
		if e := decodeErrors(bits, DefaultDepth, 2000, 0, 1); e != 0 {
			t.Errorf("bits %d: %d errors without noise", bits, e)
		}
	}
}

// TestTracebackDepth measures symbol errors against traceback depth at a
// noise level where the decoder makes errors, and holds DefaultDepth to
// within a few percent of a very long traceback.
func TestTracebackDepth(t *testing.T) {
	n := 200000
	if testing.Short() || raceEnabled {
		n = 20000
	}
	const sigma = 0.42 // about 21.7 dB SNR at 14400: a symbol error rate near 1e-2
	long := decodeErrors(6, maxDepth, n, sigma, 11)
	for _, d := range []int{4, 8, 12, 16, 20, DefaultDepth, 32, 48, maxDepth} {
		e := decodeErrors(6, d, n, sigma, 11)
		t.Logf("depth %2d: %6d symbol errors in %d", d, e, n)
		if d == DefaultDepth && float64(e) > 1.05*float64(long)+5 {
			t.Errorf("depth %d: %d errors, depth %d: %d", d, e, maxDepth, long)
		}
	}
	if long == 0 {
		t.Error("no errors at all: the noise level does not exercise the decoder")
	}
	if short := decodeErrors(6, 4, n, sigma, 11); short <= long {
		t.Errorf("depth 4 (%d errors) no worse than depth %d (%d)", short, maxDepth, long)
	}
}

// TestSlicerMatchesSlow holds the grid slicer to the obvious one, inside the
// constellation and a little beyond it.
func TestSlicerMatchesSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, bits := range []int{6, 5, 4, 3} {
		s := slicerFor(bits)
		for k := range s.candN {
			for sub := range s.candN[k] {
				if s.candN[k][sub] == maxCand {
					t.Fatalf("bits %d: a cell has %d candidates for a subset: raise maxCand", bits, maxCand)
				}
			}
		}
		n := 200000
		if testing.Short() || raceEnabled {
			n = 20000
		}
		for i := 0; i < n; i++ {
			z := complex(rng.Float64()*24-12, rng.Float64()*24-12)
			var d1 [8]int32
			var d2 [8]float64
			var n1, n2 [8]uint8
			b1 := s.slice(z, &d1, &n1)
			b2 := slowSlice(s.all, z, &d2, &n2)
			var q2 [8]int32
			for k, d := range d2 {
				q2[k] = quantDist(d)
			}
			if d1 != q2 || b1 != b2 && quantDist(abs2(s.all[b1]-z)) != quantDist(abs2(s.all[b2]-z)) {
				t.Fatalf("bits %d, z %v: grid %v %v %d, slow %v %v %d", bits, z, d1, n1, b1, d2, n2, b2)
			}
		}
	}
}

// slowACS is the obvious add-compare-select over convPred.
func slowACS(metric, dist *[8]int32) [8]int32 {
	var next [8]int32
	for t := range next {
		next[t] = math.MaxInt32
		for _, b := range convPred[t] {
			next[t] = min(next[t], (metric[b.pred]+dist[b.sub]<<fromBits)|int32(b.from))
		}
	}
	return next
}

// TestACS holds the written-out add-compare-select to the trellis table,
// ties included.
func TestACS(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < 100000; i++ {
		var m, d [8]int32
		for k := range m {
			// Small ranges make ties common.
			m[k] = int32(rng.IntN(6)) << fromBits
			d[k] = int32(rng.IntN(6))
			if i%2 == 1 {
				m[k] = int32(rng.IntN(1<<20)) << fromBits
				d[k] = quantDist(rng.Float64() * maxDist * 1.1)
			}
		}
		if got, want := acs(&m, &d), slowACS(&m, &d); got != want {
			t.Fatalf("metrics %v, dists %v: acs %v, want %v", m, d, got, want)
		}
	}
}

// TestSlicerSimpleCells measures how often received points (at about
// 25 dB SNR) take the slicer's straight-line path, and holds 14400 bit/s,
// whose subsets are large, to nearly always.
func TestSlicerSimpleCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, bits := range []int{6, 5, 4, 3} {
		s := slicerFor(bits)
		const n = 10000
		simple := 0
		for range n {
			z := s.all[rng.IntN(len(s.all))] + complex(0.3*rng.NormFloat64(), 0.3*rng.NormFloat64())
			if s.simple[cellOf(z)] {
				simple++
			}
		}
		t.Logf("bits %d: %.1f %% of points take the straight-line path", bits, 100*float64(simple)/n)
		if bits == 6 && simple < n*8/10 {
			t.Errorf("bits %d: only %d of %d points take the straight-line path", bits, simple, n)
		}
	}
}
