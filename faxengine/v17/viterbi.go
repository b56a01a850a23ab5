package v17

import "math"

// maxDepth bounds the traceback depth of the Viterbi decoder.
const maxDepth = 64

// DefaultDepth is the traceback depth, in symbols, of the receiver's Viterbi
// decoder. TestTracebackDepth measures the bit error rate against depth:
// beyond 24 symbols (about five constraint lengths) the gain is below
// measurement noise, while the decoding delay, and the cost of each
// traceback, keep growing. It is also well inside the 32 symbols of ones a
// transmitter sends after its data, so the last data bits come out before
// the carrier drops.
const DefaultDepth = 24

// slicer finds, for a received point, the nearest point of each of the eight
// subsets of a constellation (the subset is Y2 Y1 Y0, the low three bits of
// the symbol number).
type slicer struct {
	per  int // points per subset
	pts  [8][16]complex128
	nums [8][16]uint8
	all  []complex128
}

func newSlicer(bits int) *slicer {
	c := constellation(bits)
	s := &slicer{per: len(c) / 8, all: c}
	var k [8]int
	for i, p := range c {
		sub := i & 7
		s.pts[sub][k[sub]] = p
		s.nums[sub][k[sub]] = uint8(i)
		k[sub]++
	}
	return s
}

// slice fills dist with the squared distance from z to the nearest point of
// each subset and num with that point's symbol number. It returns the symbol
// number of the nearest point overall.
func (s *slicer) slice(z complex128, dist *[8]float64, num *[8]uint8) int {
	zr, zi := real(z), imag(z)
	best, bestD := 0, math.Inf(1)
	for sub := 0; sub < 8; sub++ {
		pts := s.pts[sub][:s.per]
		d0, k0 := math.Inf(1), 0
		for k, p := range pts {
			dr, di := real(p)-zr, imag(p)-zi
			if d := dr*dr + di*di; d < d0 {
				d0, k0 = d, k
			}
		}
		dist[sub] = d0
		num[sub] = s.nums[sub][k0]
		if d0 < bestD {
			best, bestD = int(num[sub]), d0
		}
	}
	return best
}

// viterbi is a maximum-likelihood sequence decoder for the V.17 trellis
// code: eight states, each reached from four predecessors.
type viterbi struct {
	depth  int
	metric [8]float64
	// Per symbol, in a ring: for each state the surviving predecessor and
	// input (pred<<2 | Y2Y1), and the nearest point of each subset.
	from [maxDepth][8]uint8
	num  [maxDepth][8]uint8
	pos  int // ring slot of the next symbol
	n    int // symbols pushed since reset
}

func (v *viterbi) reset(depth int) {
	if depth < 1 {
		depth = 1
	}
	if depth > maxDepth {
		depth = maxDepth
	}
	*v = viterbi{depth: depth}
}

// push adds one received symbol, given as the distance to and the number of
// the nearest point of each subset. Once depth symbols are in, it returns
// the decoded symbol number of the symbol depth-1 symbols before this one.
func (v *viterbi) push(dist *[8]float64, num *[8]uint8) (sym int, ok bool) {
	var next [8]float64
	var from [8]uint8
	for i := range next {
		next[i] = math.Inf(1)
	}
	for s := 0; s < 8; s++ {
		m := v.metric[s]
		y0 := s & 1
		for y := 0; y < 4; y++ {
			t := convNext[s][y]
			if c := m + dist[y<<1|y0]; c < next[t] {
				next[t] = c
				from[t] = uint8(s<<2 | y)
			}
		}
	}
	// Keep metrics small: subtract the best, which also finds the state
	// the traceback starts from.
	best, bm := 0, next[0]
	for s := 1; s < 8; s++ {
		if next[s] < bm {
			best, bm = s, next[s]
		}
	}
	for s := range next {
		v.metric[s] = next[s] - bm
	}
	v.from[v.pos] = from
	v.num[v.pos] = *num
	slot := v.pos
	v.pos++
	if v.pos == maxDepth {
		v.pos = 0
	}
	v.n++
	if v.n < v.depth {
		return 0, false
	}
	return v.trace(best, slot, v.depth), true
}

// trace follows survivors back from state st at ring slot slot over k
// symbols and returns the symbol decoded at the last of them.
func (v *viterbi) trace(st, slot, k int) int {
	var f uint8
	for {
		f = v.from[slot][st]
		k--
		if k == 0 {
			break
		}
		st = int(f >> 2)
		slot--
		if slot < 0 {
			slot = maxDepth - 1
		}
	}
	pred, y := int(f>>2), int(f&3)
	return int(v.num[slot][y<<1|pred&1])
}

// flush decodes the symbols still held (up to depth-1 of them, or all when
// fewer than depth were pushed), oldest first, appending them to out.
func (v *viterbi) flush(out []int) []int {
	held := v.depth - 1
	if v.n < v.depth {
		held = v.n
	}
	best := 0
	for s := 1; s < 8; s++ {
		if v.metric[s] < v.metric[best] {
			best = s
		}
	}
	last := v.pos - 1
	if last < 0 {
		last = maxDepth - 1
	}
	for k := held; k >= 1; k-- {
		out = append(out, v.trace(best, last, k))
	}
	return out
}
