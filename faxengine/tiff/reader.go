package tiff

import (
	"github.com/rayofax/rayofax/faxengine/raster"

	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Limits bound what the reader accepts, and so the memory and time one page
// may cost. A file beyond them is refused with a *LimitError.
type Limits struct {
	MaxWidth  int   // pixels per row
	MaxHeight int   // rows per page
	MaxPixels int64 // Width*Height of one page
	MaxPages  int   // pages (IFDs) per file
}

// DefaultLimits admit an A3 page scanned at 1200 dpi (14032 pixels wide), a
// fax of unlimited length up to 65536 rows (about 4 m at 408x391), and
// pages of up to 2^27 pixels: a decoded grayscale page then costs at most
// 128 MiB, a bilevel one 16 MiB.
var DefaultLimits = Limits{
	MaxWidth:  16384,
	MaxHeight: 65536,
	MaxPixels: 1 << 27,
	MaxPages:  10000,
}

// FormatError reports a file that is not a valid TIFF.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "tiff: invalid format: " + e.Msg }

// UnsupportedError reports a valid TIFF feature this package does not read.
type UnsupportedError struct{ Msg string }

func (e *UnsupportedError) Error() string { return "tiff: unsupported: " + e.Msg }

// LimitError reports a page beyond the reader's Limits.
type LimitError struct {
	What       string
	Value, Max int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("tiff: %s %d exceeds the limit of %d", e.What, e.Value, e.Max)
}

func formatErr(format string, a ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, a...)}
}

func unsupported(format string, a ...any) error {
	return &UnsupportedError{Msg: fmt.Sprintf(format, a...)}
}

// Page describes one page (image file directory) of a TIFF file.
type Page struct {
	Width, Height   int
	BitsPerSample   int // of every sample
	SamplesPerPixel int
	Compression     Compression
	Photometric     Photometric
	FillOrder       int    // 1: most significant bit first; 2: least
	T4Options       uint32 // for Compression 3
	T6Options       uint32 // for Compression 4
	Predictor       int    // 1: none; 2: horizontal differencing

	// XRes and YRes are in dots per inch (converted from centimetres when
	// ResolutionUnit is 3), 0 when the file does not give them or gives
	// them without a unit (then only their ratio is known: see Aspect).
	XRes, YRes     float64
	ResolutionUnit int     // as stored: 1 none, 2 inch, 3 centimetre
	Aspect         float64 // YRes/XRes as stored, 0 when unknown

	// PageNumber is the zero-based PageNumber tag and PageTotal its total
	// (0 when unknown); both are -1 without the tag.
	PageNumber, PageTotal int

	Tiled                 bool
	TileWidth, TileHeight int // when Tiled
	RowsPerStrip          int // when not Tiled

	Software, DateTime string

	// The fax quality tags (RFC 2306), -1 when absent.
	BadFaxLines, CleanFaxData, ConsecutiveBadFaxLines int

	planar         int
	inkSet         int
	sampleFormat   int
	extraSamples   []uint64
	colorMapE      *entry
	offE, cntE     *entry
	offTag, cntTag uint16
	ifdOffset      int64
}

// Bilevel reports whether the page is a one-bit black-and-white image.
func (p *Page) Bilevel() bool {
	return p.SamplesPerPixel == 1 && p.BitsPerSample == 1 &&
		(p.Photometric == WhiteIsZero || p.Photometric == BlackIsZero)
}

// Reader reads the pages of one TIFF file.
type Reader struct {
	r     io.ReaderAt
	size  int64
	order binary.ByteOrder
	lim   Limits
	pages []*Page
}

// Open parses the TIFF file name with DefaultLimits. The file stays open
// until Close.
func Open(name string) (*File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, st.Size(), DefaultLimits)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &File{Reader: r, f: f}, nil
}

// File is a Reader over an open file.
type File struct {
	*Reader
	f *os.File
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ReadBitmaps reads every page of the TIFF file name, each of which must be
// bilevel.
func ReadBitmaps(name string) ([]*raster.Bitmap, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pages := make([]*raster.Bitmap, f.NumPages())
	for i := range pages {
		if pages[i], err = f.DecodeBitmap(i); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return pages, nil
}

// NewReader parses the header and every IFD of the TIFF in r (size bytes).
// Pixel data is read later, by Decode.
func NewReader(r io.ReaderAt, size int64, lim Limits) (*Reader, error) {
	var hdr [8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, formatErr("file shorter than a TIFF header (%d bytes)", size)
	}
	d := &Reader{r: r, size: size, lim: lim}
	switch string(hdr[:2]) {
	case "II":
		d.order = binary.LittleEndian
	case "MM":
		d.order = binary.BigEndian
	default:
		return nil, formatErr("not a TIFF file (no II or MM byte order mark)")
	}
	switch d.order.Uint16(hdr[2:]) {
	case 42:
	case 43:
		return nil, unsupported("BigTIFF")
	default:
		return nil, formatErr("not a TIFF file (bad version number %d)", d.order.Uint16(hdr[2:]))
	}
	off := int64(d.order.Uint32(hdr[4:]))
	seen := map[int64]bool{}
	for off != 0 {
		if seen[off] {
			return nil, formatErr("IFD chain loops back to offset %d", off)
		}
		seen[off] = true
		if len(seen) > lim.MaxPages {
			return nil, &LimitError{What: "number of pages", Value: int64(len(seen)), Max: int64(lim.MaxPages)}
		}
		p, next, err := d.readIFD(off)
		if err != nil {
			return nil, fmt.Errorf("IFD %d at offset %d: %w", len(seen), off, err)
		}
		if p != nil {
			d.pages = append(d.pages, p)
		}
		off = next
	}
	if len(d.pages) == 0 {
		return nil, formatErr("no pages")
	}
	return d, nil
}

// NumPages returns the number of pages.
func (d *Reader) NumPages() int { return len(d.pages) }

// Page returns the description of page i (zero-based).
func (d *Reader) Page(i int) *Page {
	if i < 0 || i >= len(d.pages) {
		return nil
	}
	return d.pages[i]
}

// maxEntries bounds the entries of one IFD (real ones have a few dozen),
// and so the cost of parsing a chain of hostile ones.
const maxEntries = 1024

type entry struct {
	typ   uint16
	count uint64
	raw   [4]byte
}

func (d *Reader) readIFD(off int64) (*Page, int64, error) {
	if off < 8 || off+2 > d.size {
		return nil, 0, formatErr("offset past the end of the file (%d bytes; truncated?)", d.size)
	}
	var b2 [2]byte
	if _, err := d.r.ReadAt(b2[:], off); err != nil {
		return nil, 0, formatErr("truncated IFD")
	}
	n := int64(d.order.Uint16(b2[:]))
	if n == 0 {
		return nil, 0, formatErr("empty IFD")
	}
	if n > maxEntries {
		return nil, 0, formatErr("IFD of %d entries (more than %d)", n, maxEntries)
	}
	buf := make([]byte, n*12+4)
	if _, err := d.r.ReadAt(buf, off+2); err != nil {
		return nil, 0, formatErr("IFD of %d entries runs past the end of the file (%d bytes; truncated?)", n, d.size)
	}
	tags := make(map[uint16]entry, n)
	for i := int64(0); i < n; i++ {
		e := buf[i*12:]
		var en entry
		en.typ = d.order.Uint16(e[2:])
		en.count = uint64(d.order.Uint32(e[4:]))
		copy(en.raw[:], e[8:12])
		tags[d.order.Uint16(e)] = en
	}
	next := int64(d.order.Uint32(buf[n*12:]))
	p, err := d.parsePage(tags)
	if p != nil {
		p.ifdOffset = off
	}
	return p, next, err
}

// ints returns up to limit values of an integer-typed field; nil, nil when
// absent. Reading no more than is needed keeps a hostile count (many IFDs
// sharing one huge array) from costing memory.
func (d *Reader) ints(tags map[uint16]entry, tag uint16, limit int) ([]uint64, error) {
	e, ok := tags[tag]
	if !ok {
		return nil, nil
	}
	return d.entryInts(e, tag, limit)
}

func (d *Reader) entryInts(e entry, tag uint16, limit int) ([]uint64, error) {
	var sz int64
	switch e.typ {
	case typeByte, typeShort, typeLong, typeIFD, typeUndefined:
		sz = typeSize[e.typ]
	default:
		return nil, formatErr("tag %d has type %d, want an unsigned integer", tag, e.typ)
	}
	if e.count > uint64(d.size) || int64(e.count)*sz > d.size {
		return nil, formatErr("tag %d: count %d larger than the file", tag, e.count)
	}
	n := min(int64(e.count), int64(limit))
	var b []byte
	if int64(e.count)*sz <= 4 {
		b = e.raw[:n*sz]
	} else {
		off := int64(d.order.Uint32(e.raw[:]))
		if off+n*sz > d.size {
			return nil, formatErr("tag %d: values at %d..%d past the end of the file (%d bytes)", tag, off, off+n*sz, d.size)
		}
		b = make([]byte, n*sz)
		if _, err := d.r.ReadAt(b, off); err != nil {
			return nil, formatErr("tag %d: %v", tag, err)
		}
	}
	v := make([]uint64, n)
	for i := range v {
		switch sz {
		case 1:
			v[i] = uint64(b[i])
		case 2:
			v[i] = uint64(d.order.Uint16(b[2*i:]))
		case 4:
			v[i] = uint64(d.order.Uint32(b[4*i:]))
		}
	}
	return v, nil
}

// data returns the bytes of a field's count values of sz bytes each.
func (d *Reader) data(e entry, sz int64, tag uint16) ([]byte, error) {
	if e.count > uint64(d.size) || int64(e.count)*sz > d.size {
		return nil, formatErr("tag %d: count %d larger than the file", tag, e.count)
	}
	n := int64(e.count) * sz
	if n <= 4 {
		return e.raw[:n], nil
	}
	off := int64(d.order.Uint32(e.raw[:]))
	if off+n > d.size {
		return nil, formatErr("tag %d: values at %d..%d past the end of the file (%d bytes)", tag, off, off+n, d.size)
	}
	b := make([]byte, n)
	if _, err := d.r.ReadAt(b, off); err != nil {
		return nil, formatErr("tag %d: %v", tag, err)
	}
	return b, nil
}

// one returns a single-valued integer field, def when absent.
func (d *Reader) one(tags map[uint16]entry, tag uint16, def uint64) (uint64, error) {
	v, err := d.ints(tags, tag, 1)
	if err != nil {
		return 0, err
	}
	if v == nil {
		return def, nil
	}
	if len(v) == 0 {
		return 0, formatErr("tag %d has no value", tag)
	}
	return v[0], nil
}

func (d *Reader) rational(tags map[uint16]entry, tag uint16) (float64, error) {
	e, ok := tags[tag]
	if !ok || e.count == 0 {
		return 0, nil
	}
	switch e.typ {
	case typeRational, typeSRational:
		b, err := d.data(entry{typ: e.typ, count: 1, raw: e.raw}, 8, tag)
		if err != nil {
			return 0, err
		}
		num, den := d.order.Uint32(b), d.order.Uint32(b[4:])
		if e.typ == typeSRational {
			if den == 0 {
				return 0, nil
			}
			return float64(int32(num)) / float64(int32(den)), nil
		}
		if den == 0 {
			return 0, nil
		}
		return float64(num) / float64(den), nil
	case typeShort, typeLong:
		v, err := d.one(tags, tag, 0)
		return float64(v), err
	case typeFloat:
		b, err := d.data(entry{typ: e.typ, count: 1, raw: e.raw}, 4, tag)
		if err != nil {
			return 0, err
		}
		return float64(math.Float32frombits(d.order.Uint32(b))), nil
	case typeDouble:
		b, err := d.data(entry{typ: e.typ, count: 1, raw: e.raw}, 8, tag)
		if err != nil {
			return 0, err
		}
		return math.Float64frombits(d.order.Uint64(b)), nil
	}
	return 0, formatErr("tag %d has type %d, want a rational", tag, e.typ)
}

func (d *Reader) ascii(tags map[uint16]entry, tag uint16) string {
	e, ok := tags[tag]
	if !ok || (e.typ != typeASCII && e.typ != typeByte && e.typ != typeUndefined) {
		return ""
	}
	if e.count > 4096 {
		e.count = 4096 // a description, not a payload
	}
	b, err := d.data(e, 1, tag)
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s
}

func (d *Reader) parsePage(tags map[uint16]entry) (*Page, error) {
	get := func(tag uint16, def uint64) uint64 {
		v, err := d.one(tags, tag, def)
		if err != nil {
			return math.MaxUint64
		}
		return v
	}
	if sub := get(tagNewSubfileType, 0); sub != math.MaxUint64 && sub&5 != 0 {
		return nil, nil // a thumbnail or a transparency mask, not a page
	}
	p := &Page{PageNumber: -1, PageTotal: -1, BadFaxLines: -1, CleanFaxData: -1, ConsecutiveBadFaxLines: -1}
	w, h := get(tagImageWidth, 0), get(tagImageLength, 0)
	if _, ok := tags[tagImageWidth]; !ok {
		return nil, formatErr("no ImageWidth")
	}
	if _, ok := tags[tagImageLength]; !ok {
		return nil, formatErr("no ImageLength")
	}
	if w == 0 || h == 0 || w == math.MaxUint64 || h == math.MaxUint64 {
		return nil, formatErr("bad dimensions %dx%d", int64(w), int64(h))
	}
	if w > uint64(d.lim.MaxWidth) {
		return nil, &LimitError{What: "image width", Value: int64(w), Max: int64(d.lim.MaxWidth)}
	}
	if h > uint64(d.lim.MaxHeight) {
		return nil, &LimitError{What: "image length", Value: int64(h), Max: int64(d.lim.MaxHeight)}
	}
	if int64(w)*int64(h) > d.lim.MaxPixels {
		return nil, &LimitError{What: "pixel count", Value: int64(w) * int64(h), Max: d.lim.MaxPixels}
	}
	p.Width, p.Height = int(w), int(h)

	bps, err := d.ints(tags, tagBitsPerSample, 16)
	if err != nil {
		return nil, err
	}
	p.SamplesPerPixel = int(min(get(tagSamplesPerPixel, 1), 1<<16))
	if p.SamplesPerPixel == 0 || p.SamplesPerPixel > 16 {
		return nil, formatErr("SamplesPerPixel %d", p.SamplesPerPixel)
	}
	p.BitsPerSample = 1
	if len(bps) > 0 {
		p.BitsPerSample = int(min(bps[0], 1<<16))
		for _, b := range bps[1:] {
			if b != bps[0] {
				return nil, unsupported("samples of different sizes %v", bps)
			}
		}
	}
	if p.BitsPerSample == 0 {
		return nil, formatErr("BitsPerSample 0")
	}
	p.Compression = Compression(min(get(tagCompression, 1), 0xffff))
	if _, ok := tags[tagPhotometric]; !ok {
		// Not optional, but old fax software omits it: read bilevel as
		// WhiteIsZero (the fax convention), anything else as grayscale.
		if p.SamplesPerPixel >= 3 {
			p.Photometric = RGB
		} else if p.BitsPerSample == 1 {
			p.Photometric = WhiteIsZero
		} else {
			p.Photometric = BlackIsZero
		}
	} else {
		p.Photometric = Photometric(min(get(tagPhotometric, 0), 0xffff))
	}
	p.FillOrder = int(get(tagFillOrder, 1))
	if p.FillOrder != 1 && p.FillOrder != 2 {
		return nil, formatErr("FillOrder %d", get(tagFillOrder, 1))
	}
	p.T4Options = uint32(get(tagT4Options, 0))
	p.T6Options = uint32(get(tagT6Options, 0))
	p.Predictor = int(min(get(tagPredictor, 1), 0xffff))
	p.planar = int(min(get(tagPlanarConfiguration, 1), 0xffff))
	p.inkSet = int(min(get(tagInkSet, 1), 0xffff))
	p.sampleFormat = int(min(get(tagSampleFormat, 1), 0xffff))
	if p.extraSamples, err = d.ints(tags, tagExtraSamples, 16); err != nil {
		return nil, err
	}

	xr, err := d.rational(tags, tagXResolution)
	if err != nil {
		return nil, err
	}
	yr, err := d.rational(tags, tagYResolution)
	if err != nil {
		return nil, err
	}
	if xr < 0 || yr < 0 || math.IsNaN(xr) || math.IsNaN(yr) || xr > 1e6 || yr > 1e6 {
		xr, yr = 0, 0
	}
	p.ResolutionUnit = int(min(get(tagResolutionUnit, 2), 0xffff))
	if xr > 0 && yr > 0 {
		p.Aspect = yr / xr
		switch p.ResolutionUnit {
		case 2:
			p.XRes, p.YRes = xr, yr
		case 3:
			p.XRes, p.YRes = xr*2.54, yr*2.54
		}
	}

	if pn, err := d.ints(tags, tagPageNumber, 2); err == nil && len(pn) >= 2 {
		p.PageNumber, p.PageTotal = int(min(pn[0], 1<<20)), int(min(pn[1], 1<<20))
	}
	p.Software = d.ascii(tags, tagSoftware)
	p.DateTime = d.ascii(tags, tagDateTime)
	if _, ok := tags[tagBadFaxLines]; ok {
		p.BadFaxLines = int(min(get(tagBadFaxLines, 0), 1<<30))
	}
	if _, ok := tags[tagCleanFaxData]; ok {
		p.CleanFaxData = int(min(get(tagCleanFaxData, 0), 0xffff))
	}
	if _, ok := tags[tagConsecutiveBadFaxLines]; ok {
		p.ConsecutiveBadFaxLines = int(min(get(tagConsecutiveBadFaxLines, 0), 1<<30))
	}
	if e, ok := tags[tagColorMap]; ok && p.Photometric == Palette {
		p.colorMapE = &e
	}

	if _, ok := tags[tagTileWidth]; ok {
		p.Tiled = true
		tw, th := get(tagTileWidth, 0), get(tagTileLength, 0)
		if tw == 0 || th == 0 || tw > uint64(d.lim.MaxWidth) || th > uint64(d.lim.MaxHeight) {
			return nil, formatErr("bad tile size %dx%d", int64(tw), int64(th))
		}
		if tw%8 != 0 {
			// TIFF 6.0 asks for multiples of 16; whole bytes are what
			// placing bilevel tiles needs.
			return nil, formatErr("tile width %d is not a multiple of 16", tw)
		}
		p.TileWidth, p.TileHeight = int(tw), int(th)
		p.offTag, p.cntTag = tagTileOffsets, tagTileByteCounts
	} else {
		rps := get(tagRowsPerStrip, h)
		if rps == 0 || rps > h {
			rps = h // 2^32-1 means one strip
		}
		p.RowsPerStrip = int(rps)
		p.offTag, p.cntTag = tagStripOffsets, tagStripByteCounts
	}
	// The offset and byte count arrays are read when the page is decoded,
	// and only as far as the page needs.
	e, ok := tags[p.offTag]
	if !ok {
		return nil, formatErr("no StripOffsets or TileOffsets")
	}
	p.offE = &e
	if e, ok := tags[p.cntTag]; ok {
		p.cntE = &e
	}
	return p, nil
}

var errTruncated = errors.New("data ends early")
