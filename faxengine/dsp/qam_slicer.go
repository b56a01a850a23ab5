package dsp

// Slicer decides which constellation point a received symbol is nearest to,
// by looking it up in a precomputed grid of decisions: two multiplies and a
// table read per symbol instead of a search. Symbols outside the grid take
// the decision of the nearest edge cell.
type Slicer struct {
	Points []complex64
	half   float32 // the grid spans ±half on both axes
	n      int     // cells per axis
	k      float32 // cells per unit
	grid   []uint8
}

// NewSlicer builds a slicer for up to 256 points over ±half with n×n cells.
// Cells are decided by an exhaustive search from their centres, so a
// decision can differ from the exact nearest point only for symbols within
// half a cell of a decision boundary.
func NewSlicer(points []complex64, half float32, n int) *Slicer {
	s := &Slicer{Points: points, half: half, n: n, k: float32(n) / (2 * half), grid: make([]uint8, n*n)}
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			c := complex((float32(i)+0.5)/s.k-half, (float32(j)+0.5)/s.k-half)
			s.grid[j*n+i] = uint8(Nearest(points, c))
		}
	}
	return s
}

// Decide returns the index of the point nearest to y.
func (s *Slicer) Decide(y complex64) int {
	i := int((real(y) + s.half) * s.k)
	j := int((imag(y) + s.half) * s.k)
	i = max(0, min(s.n-1, i))
	j = max(0, min(s.n-1, j))
	return int(s.grid[j*s.n+i])
}

// Nearest is the exhaustive search: the index of the point nearest to y.
func Nearest(points []complex64, y complex64) int {
	best, bd := 0, float32(-1)
	for i, p := range points {
		if d := Abs2(y - p); bd < 0 || d < bd {
			best, bd = i, d
		}
	}
	return best
}
