// Package page fits document pages to fax pages: the resolutions, widths
// and lengths of ITU-T T.4 and T.30, scaling, centring and the reduction of
// grayscale to black and white; it also parses the Rayo `pages` attribute
// (XEP-0342) that picks the pages to send.
//
// # Fitting
//
// Fit turns any decoded page (a *raster.Bitmap, or any image.Image, read as
// luma) into fax pages of the requested resolution and paper width:
//
//   - A bilevel page that already has a fax width (1728, 2048 or 2432 pels
//     at 8 pels/mm and their equivalents) and the target resolution, and no
//     option asking for another width, keeps its pixels exactly, at any
//     length (split at MaxUnlimitedRows). Its pixels are not copied: the
//     page returned is the *raster.Bitmap given (or shares its Pix), so
//     neither may be modified while the other is in use.
//   - Anything else is resampled by area averaging to the target
//     resolution, at its physical size when it fits the paper width and
//     scaled down (aspect ratio preserved) when it does not, then centred
//     horizontally and padded with white.
//   - Bilevel sources are thresholded at 50% coverage after resampling.
//     Grayscale and colour sources are reduced to black and white by
//     Floyd–Steinberg error diffusion (weights 7/16, 3/16, 5/16, 1/16,
//     serpentine scan), which keeps photographs readable, or by a fixed
//     threshold at mid-gray when Options.Method is Threshold (crisper text).
//   - A page longer than the paper length (A4 unless Options.Length says
//     otherwise) is split into several fax pages by default (nothing is
//     lost and the scale is kept), or scaled down to fit when
//     Options.LongPages is ScaleLong. A page at most 5% too long is always
//     scaled to fit, never split into a page and a sliver.
//
// A page whose resolution the file does not give is taken to have square
// pixels and to be as wide as the paper (or 204x196 when it is exactly a
// fax width).
//
// # Refitting
//
// Refit converts a fax page for a receiver that cannot take it as it is
// (after DIS): a lower resolution by ORing rows (thin rules survive), a
// narrower paper by scaling, a shorter page by splitting. See refit.go.
package page

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// Resolution is a fax resolution in dots per inch, with the nominal values
// TIFF-F files carry (204 stands for T.4's 8 pels/mm, 98, 196 and 391 for
// 3.85, 7.7 and 15.4 lines/mm).
type Resolution struct {
	Name string
	X, Y float64
}

// The resolutions of T.30 (DIS/DCS) and T.4.
var (
	Standard  = Resolution{"standard", 204, 98}
	Fine      = Resolution{"fine", 204, 196}
	Superfine = Resolution{"superfine", 204, 391}
	R16       = Resolution{"408x391", 408, 391}
	R200      = Resolution{"200x200", 200, 200}
	R300      = Resolution{"300x300", 300, 300}
	R400      = Resolution{"400x400", 400, 400}
)

// Resolutions lists every fax resolution.
var Resolutions = []Resolution{Standard, Fine, Superfine, R16, R200, R300, R400}

// ParseResolution accepts a resolution's name ("standard", "fine",
// "superfine", "408x391", "200x200", "300x300", "400x400").
func ParseResolution(s string) (Resolution, error) {
	for _, r := range Resolutions {
		if r.Name == s {
			return r, nil
		}
	}
	return Resolution{}, fmt.Errorf("page: unknown resolution %q (want standard, fine, superfine, 408x391, 200x200, 300x300 or 400x400)", s)
}

// perMM returns the resolution in pels and lines per millimetre.
func (r Resolution) perMM() (x, y float64) {
	conv := func(v float64) float64 {
		switch v {
		case 204:
			return 8
		case 408:
			return 16
		case 98:
			return 3.85
		case 196:
			return 7.7
		case 391:
			return 15.4
		}
		return v / 25.4
	}
	return conv(r.X), conv(r.Y)
}

// matches reports whether xres, yres (dpi) is this resolution, within the
// rounding fax software applies (203.2 for 204 and so on).
func (r Resolution) matches(xres, yres float64) bool {
	return math.Abs(xres-r.X) <= r.X*0.015 && math.Abs(yres-r.Y) <= r.Y*0.015
}

// Width is a paper width of T.4.
type Width int

// Paper widths. The zero value means "keep the source's fax width, A4 if it
// has none".
const (
	A4 Width = iota + 1
	B4
	A3
)

func (w Width) String() string {
	switch w {
	case A4:
		return "A4"
	case B4:
		return "B4"
	case A3:
		return "A3"
	}
	return "default"
}

// ParseWidth accepts "a4", "b4" or "a3" (either case).
func ParseWidth(s string) (Width, error) {
	switch s {
	case "a4", "A4":
		return A4, nil
	case "b4", "B4":
		return B4, nil
	case "a3", "A3":
		return A3, nil
	}
	return 0, fmt.Errorf("page: unknown width %q (want a4, b4 or a3)", s)
}

// Pels returns the scan-line length in pels of paper width w at resolution
// r: 1728, 2048 and 2432 at 8 pels/mm and 200 dpi, doubled at 16 pels/mm
// and 400 dpi, and 2592, 3072, 3648 at 300 dpi (T.4 table 1).
func (r Resolution) Pels(w Width) int {
	base := map[Width]int{A4: 1728, B4: 2048, A3: 2432}[w]
	if base == 0 {
		base = 1728
	}
	switch {
	case r.X >= 390:
		return base * 2
	case r.X >= 290:
		return base * 3 / 2
	}
	return base
}

// Length is a page length limit of T.30.
type Length int

// Page lengths. The zero value is A4Length.
const (
	A4Length Length = iota
	B4Length
	Unlimited
)

// MaxFitRows bounds the rows Fit makes of one document page (before
// splitting), so that no resolution, however absurd, makes it allocate
// more than 40 MB: 65536 rows is over 4 m at 391 lines per inch.
const MaxFitRows = 1 << 16

// MaxUnlimitedRows bounds an "unlimited" page (about 1 m at 15.4
// lines/mm; T.4 sets no limit, receivers' memory does).
const MaxUnlimitedRows = 16384

// Rows returns the most rows a page of length l may have at resolution r:
// 297 mm for A4, 364 mm for B4 (at the nominal resolution, as ghostscript
// and fax software size their pages: 1146 rows for A4 at 98 lines per
// inch), MaxUnlimitedRows otherwise.
func (r Resolution) Rows(l Length) int {
	switch l {
	case A4Length:
		return int(math.Round(297 / 25.4 * r.Y))
	case B4Length:
		return int(math.Round(364 / 25.4 * r.Y))
	}
	return MaxUnlimitedRows
}

// longSlack is how much longer than the paper a page may be and still be
// scaled to fit rather than split (a page a few rows over the limit is a
// rounding difference, not two pages).
const longSlack = 0.05

// Method is how grayscale becomes black and white.
type Method int

// Methods.
const (
	Dither    Method = iota // Floyd–Steinberg error diffusion
	Threshold               // black below mid-gray
)

// LongPolicy says what to do with a page longer than the paper.
type LongPolicy int

// Long page policies.
const (
	SplitLong LongPolicy = iota // cut into several pages
	ScaleLong                   // scale down to fit
)

// Options control Fit. The zero value fits to A4 at the source's fax
// resolution (fine when it has none), splitting long pages, dithering
// grayscale.
type Options struct {
	Resolution Resolution // target; zero: the source's if it is a fax resolution, else Fine
	Width      Width      // paper width; zero: the source's fax width, else A4
	Length     Length     // page length limit for resampled pages
	LongPages  LongPolicy
	Method     Method
}

// Fit converts one document page, whose resolution is xres x yres dpi (0
// when unknown), into one or more fax pages. A *raster.Bitmap's own XRes
// and YRes are used when xres or yres is 0.
func Fit(img image.Image, xres, yres float64, o Options) ([]*raster.Bitmap, error) {
	b := img.Bounds()
	bm, bilevel := img.(*raster.Bitmap)
	if bilevel && (xres <= 0 || yres <= 0) {
		xres, yres = bm.XRes, bm.YRes
	}
	pl, err := makePlan(b.Dx(), b.Dy(), xres, yres, bilevel, o)
	if err != nil {
		return nil, err
	}
	if pl.keep {
		return keepBitmap(bm, pl.target), nil
	}
	out := raster.New(pl.outW, pl.ch)
	out.XRes, out.YRes = pl.target.X, pl.target.Y
	method := o.Method
	if bilevel {
		method = Threshold
	}
	resample(out, (pl.outW-pl.cw)/2, pl.cw, img, method)
	return splitShared(out, pl.maxRows, pl.target), nil
}

// Count returns the number of fax pages Fit makes of a page of w x h pels
// at xres x yres dpi (bilevel for a *raster.Bitmap), without converting it:
// a sender can number pages ("Page N/M") before it has them all.
func Count(w, h int, xres, yres float64, bilevel bool, o Options) (int, error) {
	pl, err := makePlan(w, h, xres, yres, bilevel, o)
	if err != nil {
		return 0, err
	}
	if pl.keep {
		return (h + MaxUnlimitedRows - 1) / MaxUnlimitedRows, nil
	}
	return (pl.ch + pl.maxRows - 1) / pl.maxRows, nil
}

// plan is the geometry of one fitted page.
type plan struct {
	keep    bool // copy the pixels as they are
	target  Resolution
	outW    int // page width in pels
	cw, ch  int // content size in pels
	maxRows int // rows per fax page when splitting
}

func makePlan(w, h int, xres, yres float64, bilevel bool, o Options) (plan, error) {
	if w <= 0 || h <= 0 {
		return plan{}, errors.New("page: empty image")
	}
	if math.IsNaN(xres) || math.IsNaN(yres) || math.IsInf(xres, 0) || math.IsInf(yres, 0) {
		xres, yres = 0, 0
	}
	srcWidth := faxWidth(w, xres)
	if xres <= 0 || yres <= 0 {
		if srcWidth != 0 {
			xres, yres = 204, 196
		} else {
			paper := Resolution{X: 1}.Pels(max(o.Width, A4))
			xres = float64(w) / (float64(paper) / 204) // as wide as the paper
			yres = xres
		}
	}
	target := o.Resolution
	if target.X == 0 {
		target = Fine
		for _, r := range Resolutions {
			if r.matches(xres, yres) {
				target = r
				break
			}
		}
	}
	if target.X <= 0 || target.Y <= 0 {
		return plan{}, fmt.Errorf("page: bad target resolution %gx%g", target.X, target.Y)
	}
	paper := o.Width
	if paper == 0 {
		paper = A4
		if srcWidth != 0 {
			paper = srcWidth
		}
	}
	pl := plan{target: target, outW: target.Pels(paper), maxRows: target.Rows(o.Length)}

	// Already a fax page: keep every pixel.
	if bilevel && target.matches(xres, yres) && w == pl.outW && (o.Width == 0 || o.Width == srcWidth) {
		pl.keep, pl.cw, pl.ch = true, w, h
		return pl, nil
	}

	// Physical size in target pixels, scaled down to the paper width.
	cw := float64(w) * target.X / xres
	ch := float64(h) * target.Y / yres
	if cw > float64(pl.outW) {
		ch *= float64(pl.outW) / cw
		cw = float64(pl.outW)
	}
	if ch > float64(pl.maxRows) && (o.LongPages == ScaleLong || ch <= float64(pl.maxRows)*(1+longSlack)) {
		cw *= float64(pl.maxRows) / ch
		ch = float64(pl.maxRows)
	}
	if ch > MaxFitRows {
		return plan{}, fmt.Errorf("page: a %dx%d page at %gx%g dpi fits to %dx%.0f pels: longer than %d rows", w, h, xres, yres, pl.outW, ch, MaxFitRows)
	}
	pl.cw, pl.ch = max(int(math.Round(cw)), 1), max(int(math.Round(ch)), 1)
	return pl, nil
}

// faxWidth returns the paper width whose scan line w pels is at xres, or 0.
func faxWidth(w int, xres float64) Width {
	for _, pw := range []Width{A4, B4, A3} {
		for _, r := range Resolutions {
			if r.Pels(pw) == w && (xres <= 0 || math.Abs(xres-r.X) <= r.X*0.015) {
				return pw
			}
		}
	}
	return 0
}

// keepBitmap returns b as fax pages at resolution r without copying its
// pixels when it can: b itself when it already says r and its rows are
// clean (no bits set past Width), else a new header on the same pixels, or
// a clean copy when b has bits set past Width.
func keepBitmap(b *raster.Bitmap, r Resolution) []*raster.Bitmap {
	if !cleanPadding(b) {
		b = cloneBitmap(b)
	} else if b.XRes != r.X || b.YRes != r.Y || b.Height > MaxUnlimitedRows {
		c := *b
		b = &c
	}
	b.XRes, b.YRes = r.X, r.Y
	if b.Height <= MaxUnlimitedRows {
		return []*raster.Bitmap{b}
	}
	return splitShared(b, MaxUnlimitedRows, r)
}

// cleanPadding reports whether b's rows have no bits set past Width (and
// Pix holds them all).
func cleanPadding(b *raster.Bitmap) bool {
	if b.Stride < (b.Width+7)/8 || len(b.Pix) < b.Height*b.Stride {
		return false
	}
	n := (b.Width + 7) / 8
	var tail byte
	if r := b.Width % 8; r != 0 {
		tail = byte(0xff >> uint(r))
	}
	if tail == 0 && b.Stride == n {
		return true
	}
	for y := 0; y < b.Height; y++ {
		row := b.Pix[y*b.Stride : (y+1)*b.Stride]
		if row[n-1]&tail != 0 {
			return false
		}
		for _, v := range row[n:] {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

func cloneBitmap(b *raster.Bitmap) *raster.Bitmap {
	out := raster.New(b.Width, b.Height)
	n := (b.Width + 7) / 8
	for y := 0; y < b.Height; y++ {
		copy(out.Row(y), b.Row(y)[:n])
	}
	if r := b.Width % 8; r != 0 {
		for y := 0; y < b.Height; y++ {
			out.Row(y)[n-1] &= byte(0xff << uint(8-r))
		}
	}
	return out
}
