package t30

import (
	"github.com/rayofax/rayofax/faxengine/page"
	"github.com/rayofax/rayofax/faxengine/raster"
)

// After DIS the sender knows what the remote accepts and fits each page to
// it (package page does the pixels): a resolution the remote lacks goes
// down to the best one it has, a page wider than its paper is scaled to
// its widest width, and a page longer than its longest page is split
// (page.Refit explains why split rather than scale). Only what no
// conversion can fix (no common modem) ends with ErrIncompatible.

// txPage is the fax page being sent: a document page, or one piece of a
// document page split for the remote's page length.
type txPage struct {
	src    int // document page
	piece  int // piece of src
	pieces int // 0: not planned yet
	res    Resolution
	width  Width
}

// pickResolution returns the resolution to send a page at resolution r to
// a remote with capabilities c: r itself when c has it, else the one of c
// with the most lines per inch (then pels) that is not finer than r in
// either direction (inch-based and metric ones within 3% count as equal).
func pickResolution(r Resolution, c Capabilities) Resolution {
	if c.HasResolution(r) {
		return r
	}
	rx, ry := r.DPI()
	best := ResStandard
	bx, by := best.DPI()
	for _, x := range c.Resolutions {
		cx, cy := x.DPI()
		if cx > rx*1.03 || cy > ry*1.03 {
			continue
		}
		if cy > by || cy == by && cx > bx {
			best, bx, by = x, cx, cy
		}
	}
	return best
}

func pageResolution(r Resolution) page.Resolution {
	x, y := r.DPI()
	for _, p := range page.Resolutions {
		if p.X == x && p.Y == y {
			return p
		}
	}
	return page.Standard
}

func pageWidth(w Width) page.Width {
	switch w {
	case WidthB4:
		return page.B4
	case WidthA3:
		return page.A3
	}
	return page.A4
}

func pageLength(l Length) page.Length {
	switch l {
	case LengthB4:
		return page.B4Length
	case LengthUnlimited:
		return page.Unlimited
	}
	return page.A4Length
}

func (s *session) refitTarget(p txPage) page.RefitTarget {
	return page.RefitTarget{Resolution: pageResolution(p.res), Width: pageWidth(p.width),
		Length: pageLength(s.remote.MaxLength)}
}

// plan works out how document page src goes to the remote: resolution,
// width and the number of pieces, without converting it.
func (s *session) plan(src int) (txPage, Result) {
	img, err := s.cfg.Document.Page(src)
	if err != nil || img == nil {
		return txPage{}, ErrDocument
	}
	res, ok := ResolutionFromDPI(img.XRes, img.YRes)
	if !ok {
		return txPage{}, ErrDocument
	}
	w, ok := WidthFromPixels(img.Width, res)
	if !ok {
		return txPage{}, ErrDocument
	}
	p := txPage{src: src, res: pickResolution(res, s.remote), width: min(w, s.remote.MaxWidth)}
	n, err := page.RefitCount(img.Width, img.Height, img.XRes, img.YRes, s.refitTarget(p))
	if err != nil {
		return txPage{}, ErrDocument
	}
	p.pieces = n
	return p, OK
}

// pageImage returns the pixels of fax page p, converting (and caching) its
// document page.
func (s *session) pageImage(p txPage) (*raster.Bitmap, Result) {
	key := refitKey{src: p.src, target: s.refitTarget(p)}
	if s.refitOf != key || s.refitted == nil {
		img, err := s.cfg.Document.Page(p.src)
		if err != nil || img == nil {
			return nil, ErrDocument
		}
		pieces, err := page.Refit(img, key.target)
		if err != nil {
			return nil, ErrDocument
		}
		s.refitted, s.refitOf = pieces, key
	}
	if p.piece >= len(s.refitted) {
		return nil, ErrInternal
	}
	return s.refitted[p.piece], OK
}

type refitKey struct {
	src    int
	target page.RefitTarget
}

// nextTxPage returns the fax page after p (planned), or false at the end
// of the document.
func (s *session) nextTxPage(p txPage) (txPage, bool, Result) {
	if p.piece+1 < p.pieces {
		p.piece++
		return p, true, OK
	}
	if p.src+1 >= s.cfg.Document.Pages() {
		return txPage{}, false, OK
	}
	n, r := s.plan(p.src + 1)
	return n, true, r
}

// countPages updates the report's page total from the current page on:
// splitting for the remote's page length can make more pages than the
// document has.
func (s *session) countPages() {
	total := s.report.Pages + s.cur.pieces - s.cur.piece
	for i := s.cur.src + 1; i < s.cfg.Document.Pages(); i++ {
		p, r := s.plan(i)
		if r != OK {
			p.pieces = 1
		}
		total += p.pieces
	}
	s.report.PagesTotal = total
}
