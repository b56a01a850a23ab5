package tiff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// Coding selects how a Writer codes its pages.
type Coding int

// Codings. MH and MR are stored as Compression 3 (T4Options 0 or 1), MMR as
// Compression 4, Uncompressed as Compression 1.
const (
	MH Coding = iota + 1
	MR
	MMR
	Uncompressed
)

func (c Coding) String() string {
	switch c {
	case MH:
		return "MH"
	case MR:
		return "MR"
	case MMR:
		return "MMR"
	case Uncompressed:
		return "uncompressed"
	}
	return fmt.Sprintf("Coding(%d)", int(c))
}

// WriterOptions configure a Writer. The zero value writes MH, FillOrder 1.
type WriterOptions struct {
	Coding Coding // MH when zero
	// FillOrder 2 stores the bits of each byte least significant first, as
	// they travel on the fax line; 1 (the default) is the TIFF baseline.
	FillOrder int
	// K is the MR parameter (at most K-1 2-D rows after each 1-D row);
	// zero means 2 below 150 lines per inch and 4 above (T.4 4.2.1.3.4).
	K int
	// ByteAlignEOL pads MH and MR rows so each EOL ends on a byte boundary
	// (T4Options bit 2).
	ByteAlignEOL bool
	// Software is written into each page; "rayofax" when empty.
	Software string
}

// PageMeta describes one page for the Writer.
type PageMeta struct {
	// Time is written as DateTime (local time of the value); omitted when
	// zero.
	Time time.Time
	// BadLines and ConsecutiveBadLines count the rows received damaged.
	// When BadLines > 0 a CCITT-coded page gets BadFaxLines,
	// ConsecutiveBadFaxLines and CleanFaxData: 1 (regenerated) when Regenerated, meaning the
	// damaged rows were replaced (as the t4 decoder does), else 2.
	BadLines, ConsecutiveBadLines int
	Regenerated                   bool
}

// Writer writes a TIFF Class F file page by page. After each WritePage the
// file is a complete TIFF holding every page so far: the page's data and
// IFD are written first, and only then is the previous IFD (or the header)
// pointed at the new IFD, with one 4-byte write. Close fills in the page
// total of every PageNumber tag (until then it is 0, "unknown", as TIFF
// allows).
type Writer struct {
	w       io.WriterAt
	opts    WriterOptions
	off     int64   // end of the file
	link    int64   // where the next IFD offset goes
	totals  []int64 // positions of the PageNumber totals
	pages   int
	err     error
	closeFn func() error
	buf     []byte // a page's strip and IFD, reused page after page
}

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("tiff: writer closed")

// NewWriter starts a TIFF file on w, which must be empty. The header is
// written at once; the file is a valid TIFF from the first WritePage on.
func NewWriter(w io.WriterAt, opts WriterOptions) (*Writer, error) {
	if opts.Coding == 0 {
		opts.Coding = MH
	}
	if opts.Coding < MH || opts.Coding > Uncompressed {
		return nil, fmt.Errorf("tiff: unknown coding %v", opts.Coding)
	}
	if opts.FillOrder == 0 {
		opts.FillOrder = 1
	}
	if opts.FillOrder != 1 && opts.FillOrder != 2 {
		return nil, fmt.Errorf("tiff: FillOrder %d (want 1 or 2)", opts.FillOrder)
	}
	if opts.K < 0 || opts.K > 1000 {
		return nil, fmt.Errorf("tiff: MR K parameter %d", opts.K)
	}
	if opts.Software == "" {
		opts.Software = "rayofax"
	}
	tw := &Writer{w: w, opts: opts, off: 8, link: 4}
	hdr := []byte{'I', 'I', 42, 0, 0, 0, 0, 0}
	if _, err := w.WriteAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("tiff: writing header: %w", err)
	}
	return tw, nil
}

// Create creates (or truncates) the file name and returns a Writer that
// owns it: Close closes it.
func Create(name string, opts WriterOptions) (*Writer, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.closeFn = f.Close
	return w, nil
}

// Pages returns the number of pages written.
func (w *Writer) Pages() int { return w.pages }

// Sync flushes the file to stable storage when the destination can (it
// has a Sync method, as *os.File does).
func (w *Writer) Sync() error {
	if s, ok := w.w.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}

// Close writes the page total into every page's PageNumber tag and closes
// the file if the Writer owns it (Create). It does not Sync. A file closed
// without any page is not a valid TIFF (it has no IFD): remove it.
func (w *Writer) Close() error {
	if w.err == ErrClosed {
		return ErrClosed
	}
	err := w.err
	if err == nil {
		var b [2]byte
		binary.LittleEndian.PutUint16(b[:], uint16(min(w.pages, 0xffff)))
		for _, pos := range w.totals {
			if _, werr := w.w.WriteAt(b[:], pos); werr != nil {
				err = fmt.Errorf("tiff: writing page total: %w", werr)
				break
			}
		}
	}
	w.err = ErrClosed
	if w.closeFn != nil {
		if cerr := w.closeFn(); err == nil {
			err = cerr
		}
	}
	return err
}

// faxDPI snaps a resolution to the nominal value TIFF-F files carry for
// it: T.4's metric resolutions (8 pels/mm = 203.2 dpi, 3.85 lines/mm = 97.8
// dpi...) are written as 204, 98, 196, 391 and 408 dpi as fax software
// has always done.
func faxDPI(v float64) float64 {
	best, bestDiff := v, math.Inf(1)
	for _, n := range []float64{98, 100, 196, 200, 204, 300, 391, 400, 408} {
		if d := math.Abs(v - n); d <= n*0.016 && d < bestDiff {
			best, bestDiff = n, d
		}
	}
	return best
}

// WritePage appends one page. The bitmap's XRes and YRes (dpi) are
// written as the page's resolution; 204x196 is assumed when they are 0.
func (w *Writer) WritePage(bm *raster.Bitmap, meta PageMeta) error {
	if w.err != nil {
		return w.err
	}
	if bm == nil || bm.Width <= 0 || bm.Height <= 0 || bm.Width > 0xffff || bm.Height > 1<<24 {
		return errors.New("tiff: WritePage: empty or oversized bitmap")
	}
	if len(bm.Pix) < bm.Height*bm.Stride || bm.Stride < (bm.Width+7)/8 {
		return errors.New("tiff: WritePage: bitmap Pix shorter than Height*Stride")
	}
	xres, yres := bm.XRes, bm.YRes
	if xres <= 0 || yres <= 0 {
		xres, yres = 204, 196
	}
	xres, yres = faxDPI(xres), faxDPI(yres)

	data, comp, t4opt, err := w.encode(w.buf[:0], bm, yres)
	if err != nil {
		return fmt.Errorf("tiff: page %d: %w", w.pages+1, err)
	}

	ifd := &ifdBuilder{}
	ifd.long(tagNewSubfileType, 2) // one page of a multi-page document
	ifd.long(tagImageWidth, uint32(bm.Width))
	ifd.long(tagImageLength, uint32(bm.Height))
	ifd.short(tagBitsPerSample, 1)
	ifd.short(tagCompression, uint16(comp))
	ifd.short(tagPhotometric, uint16(WhiteIsZero))
	ifd.short(tagFillOrder, uint16(w.opts.FillOrder))
	ifd.long(tagStripOffsets, 0) // patched below
	ifd.short(tagSamplesPerPixel, 1)
	ifd.long(tagRowsPerStrip, uint32(bm.Height))
	ifd.long(tagStripByteCounts, uint32(len(data)))
	ifd.rational(tagXResolution, xres)
	ifd.rational(tagYResolution, yres)
	ifd.short(tagPlanarConfiguration, 1)
	switch comp {
	case CompressionT4:
		ifd.long(tagT4Options, t4opt)
	case CompressionT6:
		ifd.long(tagT6Options, 0)
	}
	ifd.short(tagResolutionUnit, 2)
	ifd.shorts(tagPageNumber, uint16(min(w.pages, 0xffff)), 0)
	ifd.ascii(tagSoftware, w.opts.Software)
	if !meta.Time.IsZero() {
		ifd.ascii(tagDateTime, meta.Time.Format("2006:01:02 15:04:05"))
	}
	// libtiff knows the fax quality tags only in CCITT-coded pages (and
	// warns about them elsewhere): an uncompressed page is not TIFF-F.
	if meta.BadLines > 0 && comp != CompressionNone {
		ifd.long(tagBadFaxLines, uint32(meta.BadLines))
		clean := uint16(2)
		if meta.Regenerated {
			clean = 1
		}
		ifd.short(tagCleanFaxData, clean)
		ifd.long(tagConsecutiveBadFaxLines, uint32(max(meta.ConsecutiveBadLines, 0)))
	}

	// Layout: strip data, then (word aligned) the IFD, then its out-of-line
	// values.
	dataOff := w.off
	ifdOff := (dataOff + int64(len(data)) + 1) &^ 1
	if ifdOff+int64(ifd.size()) > math.MaxUint32 {
		return errors.New("tiff: file would exceed 4 GiB")
	}
	ifd.set(tagStripOffsets, uint32(dataOff))
	block, nextPos, totalPos := ifd.bytes(ifdOff)
	buf := data
	if int64(len(data)) < ifdOff-dataOff {
		buf = append(buf, 0)
	}
	buf = append(buf, block...)
	w.buf = buf // the next page's data goes into the same memory
	if _, err := w.w.WriteAt(buf, dataOff); err != nil {
		w.err = fmt.Errorf("tiff: page %d: %w", w.pages+1, err)
		return w.err
	}
	// Only now is the new page made reachable.
	var link [4]byte
	binary.LittleEndian.PutUint32(link[:], uint32(ifdOff))
	if _, err := w.w.WriteAt(link[:], w.link); err != nil {
		w.err = fmt.Errorf("tiff: page %d: linking IFD: %w", w.pages+1, err)
		return w.err
	}
	w.link = nextPos
	w.totals = append(w.totals, totalPos)
	w.off = ifdOff + int64(len(block))
	w.pages++
	return nil
}

// ifdBuilder collects the entries of one IFD, in increasing tag order.
type ifdBuilder struct {
	entries []ifdEntry
}

type ifdEntry struct {
	tag, typ uint16
	count    uint32
	val      []byte // little-endian values
}

func (b *ifdBuilder) add(tag, typ uint16, count uint32, val []byte) {
	b.entries = append(b.entries, ifdEntry{tag, typ, count, val})
}

func (b *ifdBuilder) short(tag uint16, v uint16) { b.shorts(tag, v) }

func (b *ifdBuilder) shorts(tag uint16, v ...uint16) {
	val := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(val[2*i:], x)
	}
	b.add(tag, typeShort, uint32(len(v)), val)
}

func (b *ifdBuilder) long(tag uint16, v uint32) {
	b.add(tag, typeLong, 1, binary.LittleEndian.AppendUint32(nil, v))
}

func (b *ifdBuilder) set(tag uint16, v uint32) {
	for i := range b.entries {
		if b.entries[i].tag == tag {
			binary.LittleEndian.PutUint32(b.entries[i].val, v)
		}
	}
}

func (b *ifdBuilder) rational(tag uint16, v float64) {
	num, den := uint32(math.Round(v)), uint32(1)
	if math.Abs(v-math.Round(v)) > 1e-6 {
		num, den = uint32(math.Round(v*100)), 100
	}
	val := binary.LittleEndian.AppendUint32(nil, num)
	b.add(tag, typeRational, 1, binary.LittleEndian.AppendUint32(val, den))
}

func (b *ifdBuilder) ascii(tag uint16, s string) {
	val := append([]byte(s), 0)
	b.add(tag, typeASCII, uint32(len(val)), val)
}

func (b *ifdBuilder) size() int {
	n := 2 + 12*len(b.entries) + 4
	for _, e := range b.entries {
		if len(e.val) > 4 {
			n += (len(e.val) + 1) &^ 1
		}
	}
	return n
}

// bytes lays the IFD out at file offset off and returns it with the file
// positions of its next-IFD field and of the PageNumber total.
func (b *ifdBuilder) bytes(off int64) (out []byte, nextPos, totalPos int64) {
	n := len(b.entries)
	out = make([]byte, 2+12*n+4, b.size())
	binary.LittleEndian.PutUint16(out, uint16(n))
	extra := off + int64(len(out))
	for i, e := range b.entries {
		p := out[2+12*i:]
		binary.LittleEndian.PutUint16(p, e.tag)
		binary.LittleEndian.PutUint16(p[2:], e.typ)
		binary.LittleEndian.PutUint32(p[4:], e.count)
		if len(e.val) <= 4 {
			copy(p[8:12], e.val)
		} else {
			binary.LittleEndian.PutUint32(p[8:], uint32(extra))
			out = append(out, e.val...)
			if len(e.val)%2 == 1 {
				out = append(out, 0)
			}
			extra = off + int64(len(out))
		}
		if e.tag == tagPageNumber {
			totalPos = off + int64(2+12*i+10)
		}
	}
	return out, off + int64(2+12*n), totalPos
}
