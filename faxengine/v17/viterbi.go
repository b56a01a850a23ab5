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

// Branch metrics are squared distances in fixed point, 1/distScale of a
// unit², clamped at maxDist units²: integer metrics let the add-compare-
// select run without data-dependent branches (a conditional move per
// comparison), which on random data the floating-point comparisons could
// not avoid. The resolution is far below the noise at any usable SNR.
const (
	distScale = 256
	maxDist   = 4096 // a point 64 units from every subset point is noise
)

// quantDist returns the branch metric of a squared distance d.
func quantDist(d float64) int32 {
	if !(d < maxDist) { // also NaN
		d = maxDist
	}
	return int32(d * distScale)
}

// slicer finds, for a received point, the nearest point of each of the eight
// subsets of a constellation (the subset is Y2 Y1 Y0, the low three bits of
// the symbol number). Rather than measure the distance to every point, it
// looks up the received point's cell in a grid of unit squares, which lists
// for each subset the few points that can be nearest to anything in the
// cell. Each subset is a coset of 4Z², whose Voronoi cells have their
// edges on the integer grid, so away from the edge of the constellation a
// cell has exactly one candidate per subset: those cells take a
// straight-line path.
type slicer struct {
	all []complex128
	// pts holds the points again in an array any uint8 indexes safely, so
	// that the inner loop needs no bounds checks.
	pts *[256]complex128
	// one[cell] is the nearest point of each subset for a cell with a
	// single candidate per subset, and simple[cell] says it is one.
	one    *[gridSize * gridSize][8]uint8
	simple *[gridSize * gridSize]bool
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
		all:    c,
		pts:    new([256]complex128),
		one:    new([gridSize * gridSize][8]uint8),
		simple: new([gridSize * gridSize]bool),
		cand:   make([][8][maxCand]uint8, gridSize*gridSize),
		candN:  make([][8]uint8, gridSize*gridSize),
	}
	copy(s.pts[:], c)
	// Sample each cell densely, up to a hair inside its edges, and keep
	// every point that is nearest in its subset somewhere. On an edge
	// itself the candidates of either side tie, so either gives the same
	// distance; sampling the edges exactly would only add tied points.
	const steps = 12
	const inset = 1e-9
	for cy := 0; cy < gridSize; cy++ {
		for cx := 0; cx < gridSize; cx++ {
			cell := cy*gridSize + cx
			for i := 0; i <= steps; i++ {
				for j := 0; j <= steps; j++ {
					fx := inset + float64(i)/steps*(1-2*inset)
					fy := inset + float64(j)/steps*(1-2*inset)
					z := complex(float64(cx-gridHalf)+fx, float64(cy-gridHalf)+fy)
					var dist [8]float64
					var num [8]uint8
					slowSlice(c, z, &dist, &num)
					for sub := 0; sub < 8; sub++ {
						s.addCand(cell, sub, num[sub])
					}
				}
			}
			// Cells on the edge of the grid also take every point beyond
			// it, so they never count as simple: a point in a simple cell
			// is within the grid, and its distances are below maxDist.
			s.simple[cell] = cx > 0 && cx < gridSize-1 && cy > 0 && cy < gridSize-1
			for sub := 0; sub < 8; sub++ {
				s.one[cell][sub] = s.cand[cell][sub][0]
				if s.candN[cell][sub] != 1 {
					s.simple[cell] = false
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

// cellOf returns the grid cell of z, clamped to the grid (also for NaN).
func cellOf(z complex128) int {
	// Conversion truncates towards zero, so shift into the positive range
	// first; anything left of the grid lands in column 0 after clamping.
	ix := int(real(z) + gridHalf)
	iy := int(imag(z) + gridHalf)
	ix = min(max(ix, 0), gridSize-1)
	iy = min(max(iy, 0), gridSize-1)
	return iy*gridSize + ix
}

// sqDist is the branch metric of a point p from (zr, zi), for distances
// below maxDist.
func sqDist(p complex128, zr, zi float64) int32 {
	dr, di := real(p)-zr, imag(p)-zi
	return int32((dr*dr + di*di) * distScale)
}

// slice fills dist with the branch metric (quantDist of the squared
// distance) from z to the nearest point of each subset and num with that
// point's symbol number. It returns the symbol number of the nearest point
// overall (of the smallest metric; on a tie the lowest subset).
func (s *slicer) slice(z complex128, dist *[8]int32, num *[8]uint8) int {
	zr, zi := real(z), imag(z)
	cell := cellOf(z)
	pts := s.pts
	if s.simple[cell] {
		// Written out: eight independent distances, then a tournament.
		// A point in a simple cell is within maxDist of every subset's
		// nearest point (see newSlicer), so no clamping is needed.
		one := &s.one[cell]
		*num = *one
		d0, d1 := sqDist(pts[one[0]], zr, zi), sqDist(pts[one[1]], zr, zi)
		d2, d3 := sqDist(pts[one[2]], zr, zi), sqDist(pts[one[3]], zr, zi)
		d4, d5 := sqDist(pts[one[4]], zr, zi), sqDist(pts[one[5]], zr, zi)
		d6, d7 := sqDist(pts[one[6]], zr, zi), sqDist(pts[one[7]], zr, zi)
		*dist = [8]int32{d0, d1, d2, d3, d4, d5, d6, d7}
		best := min(min(min(d0<<3, d1<<3|1), min(d2<<3|2, d3<<3|3)),
			min(min(d4<<3|4, d5<<3|5), min(d6<<3|6, d7<<3|7)))
		return int(one[best&7])
	}
	cand := &s.cand[cell]
	candN := &s.candN[cell]
	best := int32(math.MaxInt32)
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
		d := quantDist(d0)
		dist[sub] = d
		num[sub] = n0
		best = min(best, d<<3|int32(sub))
	}
	return int(num[best&7])
}

// viterbi is a maximum-likelihood sequence decoder for the V.17 trellis
// code: eight states, each reached from four predecessors. It decides
// symbols in batches of batch: every batch symbols it traces back once
// through depth+batch-1 symbols and outputs the oldest batch of them, so
// each symbol is decided with at least depth symbols after it, at an
// eighth of the cost of tracing back for every symbol.
type viterbi struct {
	depth int
	// Path metrics, shifted left by fromBits: the add-compare-select works
	// on metric<<fromBits | from, so that one integer minimum picks the
	// survivor and records where it came from (ties go to the lower from).
	metric [8]int32
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
	batch    = 8
	ringLen  = 128 // > maxDepth + batch
	fromBits = 5   // pred<<2 | Y2Y1
	fromMask = 1<<fromBits - 1
)

func (v *viterbi) reset(depth int) {
	v.depth = min(max(depth, 1), maxDepth)
	v.metric = [8]int32{}
	v.pos, v.n, v.done = 0, 0, 0
}

// push adds one received symbol, given as the branch metric to and the
// number of the nearest point of each subset, and returns the symbols
// decided by it (oldest first; often none), valid until the next call.
func (v *viterbi) push(dist *[8]int32, num *[8]uint8) []int {
	next := acs(&v.metric, dist)
	slot := v.pos
	f := &v.from[slot&(ringLen-1)]
	for s, x := range next {
		v.metric[s] = x &^ fromMask
		f[s] = uint8(x & fromMask)
	}
	v.num[slot&(ringLen-1)] = *num
	if v.pos++; v.pos == ringLen {
		v.pos = 0
	}
	v.n++
	if v.n-v.done < v.depth+batch-1 {
		if v.n%batch == 0 {
			v.normalise()
		}
		return nil
	}
	return v.decide(v.normalise(), slot, v.n-v.done, batch)
}

// normalise subtracts the smallest metric from all, which keeps them small,
// and returns the state that has it (on a tie the lowest). push calls it at
// least every batch symbols: a branch adds at most maxDist·distScale (2^20)
// to a metric, which after normalising are at most two branches apart
// (every state is reachable from every other in two steps), so metrics stay
// below 2^(20+fromBits) · (2 + batch) < 2^31.
func (v *viterbi) normalise() int {
	m := &v.metric
	best := min(min(min(m[0], m[1]|1), min(m[2]|2, m[3]|3)),
		min(min(m[4]|4, m[5]|5), min(m[6]|6, m[7]|7)))
	bm := best &^ fromMask
	for s := range m {
		m[s] -= bm
	}
	return int(best & 7)
}

// acs is one add-compare-select step of the trellis: for each state, the
// smallest of metric[pred] + dist[sub]<<fromBits | from over its four
// branches (convPred; metrics are kept shifted). It is written out for the V.17 code, with from
// = pred<<2 | sub>>1 split between the two terms; TestACS holds it to the
// table-driven version.
func acs(metric *[8]int32, dist *[8]int32) [8]int32 {
	m0, m1, m2, m3 := metric[0], metric[1]+1<<2, metric[2]+2<<2, metric[3]+3<<2
	m4, m5, m6, m7 := metric[4]+4<<2, metric[5]+5<<2, metric[6]+6<<2, metric[7]+7<<2
	d0, d1, d2, d3 := dist[0]<<fromBits, dist[1]<<fromBits, dist[2]<<fromBits+1, dist[3]<<fromBits+1
	d4, d5, d6, d7 := dist[4]<<fromBits+2, dist[5]<<fromBits+2, dist[6]<<fromBits+3, dist[7]<<fromBits+3
	return [8]int32{
		min(min(m0+d0, m2+d6), min(m4+d2, m6+d4)),
		min(min(m0+d6, m2+d0), min(m4+d4, m6+d2)),
		min(min(m0+d2, m2+d4), min(m4+d0, m6+d6)),
		min(min(m0+d4, m2+d2), min(m4+d6, m6+d0)),
		min(min(m1+d1, m3+d3), min(m5+d7, m7+d5)),
		min(min(m1+d5, m3+d7), min(m5+d3, m7+d1)),
		min(min(m1+d7, m3+d5), min(m5+d1, m7+d3)),
		min(min(m1+d3, m3+d1), min(m5+d5, m7+d7)),
	}
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
