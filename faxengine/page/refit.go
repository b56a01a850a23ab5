package page

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// Refitting: after DIS a sender knows what the remote accepts, and a page
// may need to change to be sent at all.
//
//   - Resolution goes down by combining rows: superfine to fine or fine to
//     standard ORs each pair of rows, so a one-row horizontal rule survives
//     (area averaging would keep it only half the time). Other ratios (an
//     inch-based page to a metric receiver, 300x300 to fine) OR the source
//     rows and columns whose cells start inside each target cell.
//   - A page wider than the remote's widest paper is scaled down, both
//     ways (the aspect ratio is kept), by the same OR rule.
//   - A page longer than the remote's longest page is split into pages of
//     at most that length, as Fit does with long documents: the scale is
//     kept, so text stays as legible as the sender made it and nothing is
//     lost, where scaling a long page (a receipt roll of a metre or more)
//     to 297 mm would shrink it beyond reading. A page at most 5% too long
//     is squeezed to fit instead, never split into a page and a sliver.
//     The price is a page count that grows after negotiation (a header
//     line stamped "Page N/M" stays on the first piece only).
//
// A page that needs none of this is returned as it is, without a copy.

// RefitTarget is what the remote accepts for one page: the resolution the
// sender chose, the widest paper and the longest page.
type RefitTarget struct {
	Resolution Resolution
	Width      Width  // widest paper the remote takes (zero: A4)
	Length     Length // longest page the remote takes
}

// Refit converts fax page b, at a fax resolution (Resolutions) and a fax
// width, into the pages t accepts. The result is b itself when it needs no
// change; split pieces share the pixels of one converted page. Callers
// must not modify the pages returned.
func Refit(b *raster.Bitmap, t RefitTarget) ([]*raster.Bitmap, error) {
	g, err := refitGeometry(b.Width, b.Height, b.XRes, b.YRes, t)
	if err != nil {
		return nil, err
	}
	if g.same {
		return []*raster.Bitmap{b}, nil
	}
	out := b
	if g.dw != b.Width || g.dh != b.Height || g.ys != (ratio{1, 1}) {
		out = orScale(b, g.dw, g.dh, g.xs, g.ys)
	}
	return splitShared(out, g.maxRows, t.Resolution), nil
}

// RefitCount returns the number of pages Refit makes of a page of w x h
// pels at xres x yres dpi, without converting it.
func RefitCount(w, h int, xres, yres float64, t RefitTarget) (int, error) {
	g, err := refitGeometry(w, h, xres, yres, t)
	if err != nil {
		return 0, err
	}
	return (g.dh + g.maxRows - 1) / g.maxRows, nil
}

// ratio is a scale factor p/q (target cells per source cell).
type ratio struct{ p, q int64 }

func (r ratio) reduce() ratio {
	a, b := r.p, r.q
	for b != 0 {
		a, b = b, a%b
	}
	return ratio{r.p / a, r.q / a}
}

// cells returns the target size of m source cells: ceil(m*p/q).
func (r ratio) cells(m int) int { return int((int64(m)*r.p + r.q - 1) / r.q) }

type refitGeom struct {
	same    bool // nothing to do
	dw, dh  int  // converted page, before splitting
	xs, ys  ratio
	maxRows int
}

// linesPer254m returns a resolution's vertical density as an exact integer:
// lines per 25.4 m (3.85 lines/mm is 97790, 200 lines/inch 200000), so
// the ratios between metric and inch resolutions are exact.
func linesPer254m(r Resolution) int64 {
	_, y := r.perMM()
	return int64(math.Round(y * 25400))
}

func refitGeometry(w, h int, xres, yres float64, t RefitTarget) (refitGeom, error) {
	var g refitGeom
	if w <= 0 || h <= 0 {
		return g, errors.New("page: refit: empty page")
	}
	src, ok := fromDPI(xres, yres)
	if !ok {
		return g, fmt.Errorf("page: refit: %gx%g dpi is not a fax resolution", xres, yres)
	}
	to, ok := fromDPI(t.Resolution.X, t.Resolution.Y)
	if !ok {
		return g, fmt.Errorf("page: refit: target %gx%g dpi is not a fax resolution", t.Resolution.X, t.Resolution.Y)
	}
	ws := faxWidth(w, xres)
	if ws == 0 || src.Pels(ws) != w {
		return g, fmt.Errorf("page: refit: %d pels at %gx%g dpi is not a fax width", w, xres, yres)
	}
	wt := max(t.Width, A4)
	if ws < wt {
		wt = ws
	}
	g.maxRows = to.Rows(t.Length)
	g.dw = to.Pels(wt)
	g.xs = ratio{int64(g.dw), int64(w)}.reduce()
	// Vertically: the change of resolution, times the width's reduction
	// (A4 is 1728/2048 of B4 at every resolution) to keep the aspect.
	g.ys = ratio{linesPer254m(to) * int64(Resolution{X: 1}.Pels(wt)),
		linesPer254m(src) * int64(Resolution{X: 1}.Pels(ws))}.reduce()
	g.dh = g.ys.cells(h)
	if g.dh > g.maxRows && float64(g.dh) <= float64(g.maxRows)*(1+longSlack) {
		g.ys, g.dh = ratio{int64(g.maxRows), int64(h)}.reduce(), g.maxRows
	}
	if g.dh > MaxFitRows {
		return g, fmt.Errorf("page: refit: a %dx%d page becomes %d rows, more than %d", w, h, g.dh, MaxFitRows)
	}
	g.same = g.dw == w && g.dh == h && g.ys == (ratio{1, 1}) && g.dh <= g.maxRows
	return g, nil
}

// fromDPI returns the fax resolution of xres x yres.
func fromDPI(xres, yres float64) (Resolution, bool) {
	for _, r := range Resolutions {
		if r.matches(xres, yres) {
			return r, true
		}
	}
	return Resolution{}, false
}

// span returns the source cells [lo, hi) of m that target cell i gathers at
// scale s: those j with floor(j*p/q) == i, or the nearest one when there is
// none (enlarging).
func (s ratio) span(i, m int) (lo, hi int) {
	lo = int((int64(i)*s.q + s.p - 1) / s.p)
	hi = min(int((int64(i+1)*s.q+s.p-1)/s.p), m)
	if hi <= lo {
		lo = min(int(int64(i)*s.q/s.p), m-1)
		hi = lo + 1
	}
	return lo, hi
}

// orScale makes a dw x dh page of b in which a pixel is black when any
// source pixel of its cell is.
func orScale(b *raster.Bitmap, dw, dh int, xs, ys ratio) *raster.Bitmap {
	out := raster.New(dw, dh)
	acc := make([]byte, b.Stride)
	var xlo, xhi, xmap []int
	switch {
	case xs == ratio{1, 1} || xs == ratio{1, 2}:
	case xs.p < xs.q:
		xmap = make([]int, b.Width) // the target pel of each source pel
		for j := range xmap {
			xmap[j] = int(int64(j) * xs.p / xs.q)
		}
	default:
		xlo, xhi = make([]int, dw), make([]int, dw)
		for i := range xlo {
			xlo[i], xhi[i] = xs.span(i, b.Width)
		}
	}
	for y := 0; y < dh; y++ {
		lo, hi := ys.span(y, b.Height)
		src := b.Row(lo)
		if hi-lo > 1 {
			copy(acc, src)
			for k := lo + 1; k < hi; k++ {
				orInto(acc, b.Row(k))
			}
			src = acc
		}
		dst := out.Row(y)
		switch {
		case xs == ratio{1, 1}:
			copy(dst, src)
		case xs == ratio{1, 2}:
			halveRow(dst, src, dw)
		case xs.p < xs.q:
			// Reducing: every source pel lands in exactly one target pel,
			// so map the black ones forward (a page is mostly white).
			for i, v := range src[:(b.Width+7)/8] {
				for v != 0 {
					k := bits.LeadingZeros8(v)
					v &^= 0x80 >> uint(k)
					if j := i<<3 + k; j < b.Width {
						x := xmap[j]
						dst[x>>3] |= 0x80 >> uint(x&7)
					}
				}
			}
		default:
			for x0 := 0; x0 < dw; x0 += 8 {
				x1 := min(x0+8, dw)
				if allWhite(src, xlo[x0], xhi[x1-1]) {
					continue // most of a page: skip 8 target pels at once
				}
				for x := x0; x < x1; x++ {
					for j := xlo[x]; j < xhi[x]; j++ {
						if src[j>>3]&(0x80>>uint(j&7)) != 0 {
							dst[x>>3] |= 0x80 >> uint(x&7)
							break
						}
					}
				}
			}
		}
	}
	return out
}

// orInto ORs src into dst (as long as dst), eight octets at a time.
func orInto(dst, src []byte) {
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(dst[i:])|binary.LittleEndian.Uint64(src[i:]))
	}
	for ; i < len(dst); i++ {
		dst[i] |= src[i]
	}
}

// allWhite reports whether pels [lo, hi) of row are all white, looking at
// whole octets (a black pel just outside the range only costs the exact
// test).
func allWhite(row []byte, lo, hi int) bool {
	for _, v := range row[lo>>3 : (hi+7)>>3] {
		if v != 0 {
			return false
		}
	}
	return true
}

// pairOr maps a source octet to the four pixels of its pixel pairs ORed,
// in the top nibble.
var pairOr = func() (t [256]byte) {
	for v := range 256 {
		var n byte
		for k := range 4 {
			if v>>(6-2*k)&3 != 0 {
				n |= 0x80 >> k
			}
		}
		t[v] = n
	}
	return t
}()

// halveRow ORs the pixel pairs of src into dst, dw pixels wide.
func halveRow(dst, src []byte, dw int) {
	for i := range (dw + 7) / 8 {
		v := pairOr[src[2*i]]
		if 2*i+1 < len(src) {
			v |= pairOr[src[2*i+1]] >> 4
		}
		dst[i] = v
	}
	if r := dw % 8; r != 0 {
		dst[len(dst)-1] &= byte(0xff << uint(8-r))
	}
}

// splitShared cuts b into pages of at most rows rows at resolution r that
// share its pixels.
func splitShared(b *raster.Bitmap, rows int, r Resolution) []*raster.Bitmap {
	var out []*raster.Bitmap
	for y := 0; y < b.Height; y += rows {
		n := min(rows, b.Height-y)
		end := (y + n) * b.Stride
		out = append(out, &raster.Bitmap{Width: b.Width, Height: n, Stride: b.Stride, XRes: r.X, YRes: r.Y,
			Pix: b.Pix[y*b.Stride : end : end]})
	}
	return out
}
