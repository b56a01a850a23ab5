package v17

import (
	"math"
	"sync"
)

// maxDepth bounds the traceback depth of the Viterbi decoder.
const maxDepth = 64

// DefaultDepth is the traceback depth, in symbols, of the receiver's Viterbi
// decoder: each symbol is decided with at least this many symbols after it
// (24 to 31, as decisions come in batches of 8). TestTracebackDepth measures
// the error rate against depth: beyond 24 symbols (about five constraint
// lengths) the gain is below measurement noise, while the decoding delay
// keeps growing. The delay stays within the 32 symbols of ones a
// transmitter sends after its data, so the last data bits come out before
// the signal ends.
const DefaultDepth = 24

// slicer finds, for a received point, the nearest point of each of the eight
// subsets of a constellation (the subset is Y2 Y1 Y0, the low three bits of
// the symbol number). Rather than measure the distance to every point, it
// looks up the received point's cell in a grid of unit squares, which lists
// for each subset the few points that can be nearest to anything in the
// cell.
type slicer struct {
	all []complex128
	// pts holds the points again in an array any uint8 indexes safely, so
	// that the inner loop needs no bounds checks.
	pts *[256]complex128
	// cand[cell][sub] holds up to maxCand symbol numbers; candN the count.
	cand  [][8][maxCand]uint8
	candN [][8]uint8
}

const (
	gridHalf = 12 // the grid covers [-12, 12) in both axes
	gridSize = 2 * gridHalf
	maxCand  = 6
)

var (
	slicerOnce [7]sync.Once
	slicers    [7]*slicer
)

// slicerFor returns the shared (read-only) slicer for a constellation,
// building it on first use.
func slicerFor(bits int) *slicer {
	slicerOnce[bits].Do(func() { slicers[bits] = newSlicer(bits) })
	return slicers[bits]
}

func newSlicer(bits int) *slicer {
	c := constellation(bits)
	s := &slicer{
		all:   c,
		pts:   new([256]complex128),
		cand:  make([][8][maxCand]uint8, gridSize*gridSize),
		candN: make([][8]uint8, gridSize*gridSize),
	}
	copy(s.pts[:], c)
	// Sample each cell densely (edges included) and keep every point that
	// is nearest in its subset somewhere.
	const steps = 12
	for cy := 0; cy < gridSize; cy++ {
		for cx := 0; cx < gridSize; cx++ {
			cell := cy*gridSize + cx
			for i := 0; i <= steps; i++ {
				for j := 0; j <= steps; j++ {
					z := complex(float64(cx-gridHalf)+float64(i)/steps, float64(cy-gridHalf)+float64(j)/steps)
					var dist [8]float64
					var num [8]uint8
					slowSlice(c, z, &dist, &num)
					for sub := 0; sub < 8; sub++ {
						s.addCand(cell, sub, num[sub])
					}
				}
			}
		}
	}
	return s
}

func (s *slicer) addCand(cell, sub int, n uint8) {
	k := int(s.candN[cell][sub])
	for _, m := range s.cand[cell][sub][:k] {
		if m == n {
			return
		}
	}
	if k < maxCand {
		s.cand[cell][sub][k] = n
		s.candN[cell][sub]++
	}
}

// slowSlice is the obvious version of slice: every point is measured.
func slowSlice(c []complex128, z complex128, dist *[8]float64, num *[8]uint8) int {
	zr, zi := real(z), imag(z)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	best, bestD := 0, math.Inf(1)
	for i, p := range c {
		dr, di := real(p)-zr, imag(p)-zi
		d := dr*dr + di*di
		if sub := i & 7; d < dist[sub] {
			dist[sub] = d
			num[sub] = uint8(i)
		}
		if d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// slice fills dist with the squared distance from z to the nearest point of
// each subset and num with that point's symbol number. It returns the symbol
// number of the nearest point overall.
func (s *slicer) slice(z complex128, dist *[8]float64, num *[8]uint8) int {
	zr, zi := real(z), imag(z)
	// Truncation is floor once shifted non-negative.
	fx := min(max(zr+gridHalf, 0), gridSize-1)
	fy := min(max(zi+gridHalf, 0), gridSize-1)
	cell := int(fy)*gridSize + int(fx)
	cand := &s.cand[cell]
	candN := &s.candN[cell]
	pts := s.pts
	best, bestD := 0, math.Inf(1)
	for sub := 0; sub < 8; sub++ {
		c := &cand[sub]
		n0 := c[0]
		p := pts[n0]
		dr, di := real(p)-zr, imag(p)-zi
		d0 := dr*dr + di*di
		for _, n := range c[1:candN[sub]] {
			p := pts[n]
			dr, di := real(p)-zr, imag(p)-zi
			if d := dr*dr + di*di; d < d0 {
				d0, n0 = d, n
			}
		}
		dist[sub] = d0
		num[sub] = n0
		if d0 < bestD {
			best, bestD = int(n0), d0
		}
	}
	return best
}

// viterbi is a maximum-likelihood sequence decoder for the V.17 trellis
// code: eight states, each reached from four predecessors. It decides
// symbols in batches of batch: every batch symbols it traces back once
// through depth+batch-1 symbols and outputs the oldest batch of them, so
// each symbol is decided with at least depth symbols after it, at an
// eighth of the cost of tracing back for every symbol.
type viterbi struct {
	depth  int
	metric [8]float64
	// Per symbol, in a ring: for each state the surviving predecessor and
	// input (pred<<2 | Y2Y1), and the nearest point of each subset.
	from [ringLen][8]uint8
	num  [ringLen][8]uint8
	pos  int // ring slot of the next symbol
	n    int // symbols pushed since reset
	done int // symbols decided since reset
	out  [batch]int
}

const (
	batch   = 8
	ringLen = 128 // > maxDepth + batch
)

func (v *viterbi) reset(depth int) {
	v.depth = min(max(depth, 1), maxDepth)
	v.metric = [8]float64{}
	v.pos, v.n, v.done = 0, 0, 0
}

// push adds one received symbol, given as the distance to and the number of
// the nearest point of each subset, and returns the symbols decided by it
// (oldest first; often none), valid until the next call.
func (v *viterbi) push(dist *[8]float64, num *[8]uint8) []int {
	var next [8]float64
	var from [8]uint8
	for t := range next {
		b := &convPred[t]
		// (The masks only tell the compiler the indices are in range.)
		m0 := v.metric[b[0].pred&7] + dist[b[0].sub&7]
		m1 := v.metric[b[1].pred&7] + dist[b[1].sub&7]
		m2 := v.metric[b[2].pred&7] + dist[b[2].sub&7]
		m3 := v.metric[b[3].pred&7] + dist[b[3].sub&7]
		// A tournament: two independent comparisons, then one.
		a, fa := m0, b[0].from
		if m1 < m0 {
			a, fa = m1, b[1].from
		}
		c, fc := m2, b[2].from
		if m3 < m2 {
			c, fc = m3, b[3].from
		}
		if c < a {
			a, fa = c, fc
		}
		next[t], from[t] = a, fa
	}
	// Keep metrics small: subtract the best, which also finds the state
	// a traceback starts from.
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
	if v.pos++; v.pos == ringLen {
		v.pos = 0
	}
	v.n++
	if v.n-v.done < v.depth+batch-1 {
		return nil
	}
	return v.decide(best, slot, v.n-v.done, batch)
}

// decide traces back from state st at ring slot slot through span symbols
// and returns the oldest k of them.
func (v *viterbi) decide(st, slot, span, k int) []int {
	for age := 0; age < span; age++ {
		f := v.from[slot][st]
		pred, y := int(f>>2), int(f&3)
		if i := span - 1 - age; i < k {
			v.out[i] = int(v.num[slot][y<<1|pred&1])
		}
		st = pred
		if slot--; slot < 0 {
			slot = ringLen - 1
		}
	}
	v.done += k
	return v.out[:k]
}

// flush decides every symbol still held, oldest first, appending them to
// out.
func (v *viterbi) flush(out []int) []int {
	best := 0
	for s := 1; s < 8; s++ {
		if v.metric[s] < v.metric[best] {
			best = s
		}
	}
	last := v.pos - 1
	if last < 0 {
		last = ringLen - 1
	}
	for v.n > v.done {
		k := min(v.n-v.done, batch)
		out = append(out, v.decide(best, last, v.n-v.done, k)...)
	}
	return out
}
