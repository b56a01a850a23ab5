// Package header renders the header line a fax machine prints at the top of
// every page it sends (the "tagline"): date and time, the caller's header
// text (the Rayo `header` attribute), the station identity and "Page N/M".
//
// The text is set in Go Mono Bold (golang.org/x/image/font/gofont), embedded
// in the binary, 9 points tall at the page's horizontal resolution and
// resampled to its vertical resolution, so it has the same physical size at
// every fax resolution. Rendering is deterministic: the same Header, page
// size and resolution give the same pixels.
package header

import (
	"fmt"
	"image"
	"math"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// Header is the content of one page's header line.
type Header struct {
	Text  string    // free text, e.g. the sender's name
	Ident string    // the sending station's identity (T.30 TSI), may be empty
	Time  time.Time // shown as "2006-01-02 15:04" in its own location; omitted when zero
	Page  int       // one-based page number
	Pages int       // total pages; "Page N" alone when 0
}

// SizePoints is the font size of the header line.
const SizePoints = 9

// Left returns the left part of the line: time, text and ident.
func (h Header) Left() string {
	var parts []string
	if !h.Time.IsZero() {
		parts = append(parts, h.Time.Format("2006-01-02 15:04"))
	}
	if t := strings.TrimSpace(h.Text); t != "" {
		parts = append(parts, t)
	}
	if id := strings.TrimSpace(h.Ident); id != "" {
		parts = append(parts, id)
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' ' // a newline or tab in the attribute must not garble the line
		}
		return r
	}, strings.Join(parts, "   "))
}

// Right returns the page counter shown at the right margin.
func (h Header) Right() string {
	if h.Page <= 0 {
		return ""
	}
	if h.Pages > 0 {
		return fmt.Sprintf("Page %d/%d", h.Page, h.Pages)
	}
	return fmt.Sprintf("Page %d", h.Page)
}

var (
	fontOnce sync.Once
	fontData *opentype.Font
	fontErr  error
)

func face(dpi float64) (font.Face, error) {
	fontOnce.Do(func() { fontData, fontErr = opentype.Parse(gomonobold.TTF) })
	if fontErr != nil {
		return nil, fmt.Errorf("header: font: %w", fontErr)
	}
	return opentype.NewFace(fontData, &opentype.FaceOptions{Size: SizePoints, DPI: dpi, Hinting: font.HintingFull})
}

// Band renders the header line as a white band as wide as a page of the
// given width and resolution (dpi; 204x196 when 0), text in black. Text
// too long for the line is cut short, keeping the page counter.
func Band(h Header, width int, xres, yres float64) (*raster.Bitmap, error) {
	if xres <= 0 || yres <= 0 {
		xres, yres = 204, 196
	}
	if width <= 0 || width > 1<<16 {
		return nil, fmt.Errorf("header: page width %d", width)
	}
	f, err := face(xres)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := f.Metrics()
	margin := int(math.Round(xres * 4 / 25.4)) // 4 mm each side
	pad := int(math.Round(xres * 1 / 25.4))    // 1 mm above and below
	asc, desc := m.Ascent.Ceil(), m.Descent.Ceil()
	hx := pad + asc + desc + pad

	mask := image.NewAlpha(image.Rect(0, 0, width, hx))
	d := &font.Drawer{Dst: mask, Src: image.Opaque, Face: f}
	base := pad + asc
	right := h.Right()
	rightW := d.MeasureString(right).Ceil()
	space := width - 2*margin - rightW - d.MeasureString("   ").Ceil()
	left := []rune(h.Left())
	for len(left) > 0 && d.MeasureString(string(left)).Ceil() > space {
		left = left[:len(left)-1]
	}
	d.Dot = fixed.P(margin, base)
	d.DrawString(string(left))
	if right != "" {
		d.Dot = fixed.P(width-margin-rightW, base)
		d.DrawString(right)
	}

	// Resample the rows to the vertical resolution, black where the glyph
	// coverage averages at least one half.
	hy := max(int(math.Round(float64(hx)*yres/xres)), 1)
	band := raster.New(width, hy)
	band.XRes, band.YRes = xres, yres
	sum := make([]int, width)
	for oy := 0; oy < hy; oy++ {
		y0 := oy * hx / hy
		y1 := max((oy+1)*hx/hy, y0+1)
		clear(sum)
		for y := y0; y < y1; y++ {
			row := mask.Pix[y*mask.Stride : y*mask.Stride+width]
			for x, a := range row {
				sum[x] += int(a)
			}
		}
		n := (y1 - y0) * 255
		for x, s := range sum {
			if 2*s >= n {
				band.Set(x, oy, true)
			}
		}
	}
	return band, nil
}

// Apply puts the header line at the top of page bm. When the page has room
// below maxRows (0: no limit), the band is added above the page, which
// grows by the band's height; otherwise it replaces the page's top rows
// (normally its white top margin), so the page never grows past maxRows.
// bm itself is not modified.
func Apply(bm *raster.Bitmap, h Header, maxRows int) (*raster.Bitmap, error) {
	band, err := Band(h, bm.Width, bm.XRes, bm.YRes)
	if err != nil {
		return nil, err
	}
	n := (bm.Width + 7) / 8
	height := bm.Height + band.Height
	skip := 0 // page rows covered by the band
	if maxRows > 0 && height > maxRows {
		height = max(bm.Height, maxRows)
		skip = min(band.Height-(height-bm.Height), bm.Height)
	}
	out := raster.New(bm.Width, height)
	out.XRes, out.YRes = bm.XRes, bm.YRes
	for y := 0; y < band.Height && y < height; y++ {
		copy(out.Row(y), band.Row(y))
	}
	for y := skip; y < bm.Height && band.Height+y-skip < height; y++ {
		dst := out.Row(band.Height + y - skip)
		copy(dst, bm.Row(y)[:n])
		if r := bm.Width % 8; r != 0 {
			dst[n-1] &= byte(0xff << uint(8-r))
		}
	}
	return out, nil
}
