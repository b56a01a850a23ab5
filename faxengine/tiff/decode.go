package tiff

import (
	"bufio"
	"compress/zlib"
	"fmt"
	"image"
	"io"
	"math/bits"

	"golang.org/x/image/tiff/lzw"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// maxChunks bounds the strips and tiles of one page (65536 one-row strips
// in each of 16 planes).
const maxChunks = 1 << 20

// rowReader yields the decoded rows of one strip or tile, each packed as
// the TIFF stores uncompressed rows.
type rowReader interface {
	readRow(dst []byte) error
}

// Decode decodes page i (zero-based). Bilevel pages come back as a
// *raster.Bitmap (1 = black, resolution set when the file gives it), all
// others as an *image.Gray.
func (d *Reader) Decode(i int) (image.Image, error) {
	p := d.Page(i)
	if p == nil {
		return nil, fmt.Errorf("tiff: no page %d (the file has %d)", i+1, len(d.pages))
	}
	img, err := d.decode(p)
	if err != nil {
		return nil, fmt.Errorf("page %d: %w", i+1, err)
	}
	return img, nil
}

// DecodeBitmap decodes page i, which must be bilevel.
func (d *Reader) DecodeBitmap(i int) (*raster.Bitmap, error) {
	img, err := d.Decode(i)
	if err != nil {
		return nil, err
	}
	bm, ok := img.(*raster.Bitmap)
	if !ok {
		return nil, fmt.Errorf("page %d: %w", i+1, unsupported("not a bilevel page (%d bits, %v)", d.pages[i].BitsPerSample, d.pages[i].Photometric))
	}
	return bm, nil
}

// sampler converts stored rows into the destination image.
type sampler struct {
	p      *Page
	bm     *raster.Bitmap
	gray   *image.Gray
	spp    int
	bps    int
	alpha  int // index of an alpha sample, -1 for none
	premul bool
	lut    []uint8 // palette index or gray sample to luma
	big    bool
}

func (d *Reader) check(p *Page) error {
	switch p.Compression {
	case CompressionNone, CompressionPackBits, CompressionLZW, CompressionDeflate, CompressionDeflateP:
	case CompressionCCITTRLE, CompressionT4, CompressionT6:
		if !p.Bilevel() {
			return formatErr("CCITT compression on a %d-bit %d-sample image", p.BitsPerSample, p.SamplesPerPixel)
		}
		if p.Compression == CompressionT4 && p.T4Options&T4Uncomp != 0 || p.Compression == CompressionT6 && p.T6Options&T6Uncomp != 0 {
			return unsupported("CCITT uncompressed mode")
		}
	default:
		return unsupported("compression %v", p.Compression)
	}
	if p.sampleFormat != 1 {
		return unsupported("SampleFormat %d (only unsigned integers)", p.sampleFormat)
	}
	if p.Predictor != 1 && p.Predictor != 2 {
		return unsupported("Predictor %d", p.Predictor)
	}
	if p.Predictor == 2 && p.BitsPerSample != 8 && p.BitsPerSample != 16 {
		return unsupported("Predictor 2 with %d-bit samples", p.BitsPerSample)
	}
	if p.planar == 2 && p.SamplesPerPixel > 1 && p.BitsPerSample != 8 && p.BitsPerSample != 16 {
		return unsupported("separate planes (PlanarConfiguration 2) of %d-bit samples", p.BitsPerSample)
	}
	switch p.Photometric {
	case WhiteIsZero, BlackIsZero:
		if p.BitsPerSample != 1 && p.BitsPerSample != 2 && p.BitsPerSample != 4 && p.BitsPerSample != 8 && p.BitsPerSample != 16 {
			return unsupported("%d-bit grayscale", p.BitsPerSample)
		}
		if p.SamplesPerPixel > 2 {
			return unsupported("grayscale with %d samples per pixel", p.SamplesPerPixel)
		}
	case RGB:
		if p.BitsPerSample != 8 && p.BitsPerSample != 16 {
			return unsupported("%d-bit RGB", p.BitsPerSample)
		}
		if p.SamplesPerPixel < 3 {
			return formatErr("RGB with %d samples per pixel", p.SamplesPerPixel)
		}
	case CMYK:
		if p.BitsPerSample != 8 && p.BitsPerSample != 16 {
			return unsupported("%d-bit CMYK", p.BitsPerSample)
		}
		if p.SamplesPerPixel < 4 || p.inkSet != 1 {
			return unsupported("separated image with %d inks (InkSet %d), not CMYK", p.SamplesPerPixel, p.inkSet)
		}
	case Palette:
		if p.BitsPerSample > 8 || p.SamplesPerPixel != 1 {
			return unsupported("%d-bit %d-sample palette image", p.BitsPerSample, p.SamplesPerPixel)
		}
		if p.colorMapE == nil || p.colorMapE.count < 3<<p.BitsPerSample {
			return formatErr("ColorMap missing or shorter than %d entries", 3<<p.BitsPerSample)
		}
	default:
		return unsupported("PhotometricInterpretation %v", p.Photometric)
	}
	return nil
}

func (d *Reader) decode(p *Page) (image.Image, error) {
	if err := d.check(p); err != nil {
		return nil, err
	}
	s := &sampler{p: p, spp: p.SamplesPerPixel, bps: p.BitsPerSample, alpha: -1, big: d.order.Uint16([]byte{0, 1}) == 1}
	if p.Bilevel() {
		s.bm = raster.New(p.Width, p.Height)
		s.bm.XRes, s.bm.YRes = p.XRes, p.YRes
	} else {
		var cmap []uint64
		if p.Photometric == Palette {
			var err error
			if cmap, err = d.entryInts(*p.colorMapE, tagColorMap, 3<<p.BitsPerSample); err != nil {
				return nil, err
			}
		}
		s.gray = image.NewGray(image.Rect(0, 0, p.Width, p.Height))
		s.setup(cmap)
	}

	// The chunk grid.
	cw, ch := p.Width, p.RowsPerStrip
	across, down := 1, (p.Height+ch-1)/max(ch, 1)
	if p.Tiled {
		cw, ch = p.TileWidth, p.TileHeight
		across, down = (p.Width+cw-1)/cw, (p.Height+ch-1)/ch
	}
	n := across * down
	planes := 1
	if p.planar == 2 && s.spp > 1 {
		planes = s.spp // each sample in its own strips or tiles, plane after plane
	}
	if n*planes > maxChunks {
		return nil, formatErr("%d strips or tiles: more than %d", n*planes, maxChunks)
	}
	offsets, err := d.entryInts(*p.offE, p.offTag, n*planes)
	if err != nil {
		return nil, err
	}
	if len(offsets) < n*planes {
		return nil, formatErr("%d strips or tiles, want %d", len(offsets), n*planes)
	}
	var cnts []uint64
	if p.cntE != nil {
		if cnts, err = d.entryInts(*p.cntE, p.cntTag, n*planes); err != nil {
			return nil, err
		}
	}
	if len(cnts) < n*planes {
		if p.cntE == nil && n*planes == 1 && p.Compression == CompressionNone {
			// Old writers omit StripByteCounts for one uncompressed strip.
			cnts = []uint64{uint64(d.size) - min(offsets[0], uint64(d.size))}
		} else {
			return nil, formatErr("%d byte counts for %d strips or tiles", len(cnts), n*planes)
		}
	}
	rowBytes := (cw*s.spp*s.bps + 7) / 8
	if p.Compression == CompressionCCITTRLE || p.Compression == CompressionT4 || p.Compression == CompressionT6 {
		rowBytes = (cw + 7) / 8
	}
	row := make([]byte, rowBytes)
	var ccittBuf []byte
	for k := 0; k < n; k++ {
		x0, y0 := (k%across)*cw, (k/across)*ch
		rows := min(ch, p.Height-y0)
		if p.Tiled {
			rows = ch // tiles are always full, padded past the image
		}
		off, cnt := offsets[k], cnts[k]
		if off > uint64(d.size) || cnt > uint64(d.size)-off {
			return nil, formatErr("strip or tile %d at %d+%d is past the end of the file (%d bytes)", k, off, cnt, d.size)
		}
		sec := io.NewSectionReader(d.r, int64(off), int64(cnt))
		w := min(cw, p.Width-x0)
		if isCCITT(p.Compression) {
			if ccittBuf == nil {
				ccittBuf = make([]byte, 32<<10)
			}
			err := decodeCCITT(sec, p, cw, rows, ccittBuf, func(row []byte, y int) {
				if y0+y < p.Height {
					s.put(row, x0, y0+y, w)
				}
			})
			if err != nil {
				return nil, fmt.Errorf("strip or tile %d: %w", k, err)
			}
			continue
		}
		var rr rowReader
		var closers []io.Closer
		if planes == 1 {
			r, closer, err := d.chunkReader(p, sec, s.spp)
			if err != nil {
				return nil, fmt.Errorf("strip or tile %d: %w", k, err)
			}
			rr, closers = r, append(closers, closer)
		} else {
			pr := &planarRows{bytes: s.bps / 8, spp: s.spp}
			for pl := 0; pl < planes; pl++ {
				j := pl*n + k
				off, cnt := offsets[j], cnts[j]
				if off > uint64(d.size) || cnt > uint64(d.size)-off {
					return nil, formatErr("strip or tile %d at %d+%d is past the end of the file (%d bytes)", j, off, cnt, d.size)
				}
				r, closer, err := d.chunkReader(p, io.NewSectionReader(d.r, int64(off), int64(cnt)), 1)
				if err != nil {
					return nil, fmt.Errorf("strip or tile %d: %w", j, err)
				}
				pr.planes = append(pr.planes, r)
				pr.bufs = append(pr.bufs, make([]byte, (cw*s.bps+7)/8))
				closers = append(closers, closer)
			}
			rr = pr
		}
		for y := 0; y < rows && y0+y < p.Height; y++ {
			if err = rr.readRow(row); err != nil {
				err = fmt.Errorf("strip or tile %d, row %d: %w", k, y0+y, err)
				break
			}
			s.put(row, x0, y0+y, w)
		}
		for _, c := range closers {
			if c != nil {
				c.Close()
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if s.bm != nil {
		return s.bm, nil
	}
	return s.gray, nil
}

// chunkReader returns the decoder for one strip or tile (of a general-purpose
// compression) whose pixels have spp samples.
func (d *Reader) chunkReader(p *Page, sec *io.SectionReader, spp int) (rowReader, io.Closer, error) {
	br := bufio.NewReaderSize(sec, 32<<10)
	if p.FillOrder == 2 {
		// libtiff reverses the bits of every stored byte of a FillOrder 2
		// file before (and after, when writing) the general-purpose codecs.
		br = bufio.NewReaderSize(&reverseReader{r: sec}, 32<<10)
	}
	var src io.Reader = br
	var closer io.Closer
	switch p.Compression {
	case CompressionPackBits:
		src = &packBitsReader{r: br}
	case CompressionLZW:
		order := lzw.MSB
		// Files from before TIFF 5 use LSB-first codes; theirs start with
		// a clear code that reads as 0x00 0x01.
		if h, err := br.Peek(2); err == nil && h[0] == 0 && h[1]&1 == 1 {
			order = lzw.LSB
		}
		lr := lzw.NewReader(br, order, 8)
		src, closer = lr, lr
	case CompressionDeflate, CompressionDeflateP:
		zr, err := zlib.NewReader(src)
		if err != nil {
			return nil, nil, formatErr("deflate: %v", err)
		}
		src, closer = zr, zr
	}
	return &plainRows{r: src, pred: p.Predictor == 2, spp: spp, bps: p.BitsPerSample, big: d.order.Uint16([]byte{0, 1}) == 1}, closer, nil
}

// planarRows interleaves the rows of separate sample planes into
// contiguous pixels.
type planarRows struct {
	planes []rowReader
	bufs   [][]byte
	bytes  int // per sample
	spp    int
}

func (pr *planarRows) readRow(dst []byte) error {
	for i, r := range pr.planes {
		if err := r.readRow(pr.bufs[i]); err != nil {
			return fmt.Errorf("plane %d: %w", i, err)
		}
	}
	px := pr.bytes * pr.spp
	for i, b := range pr.bufs {
		for x := 0; x*pr.bytes < len(b) && x*px+i*pr.bytes+pr.bytes <= len(dst); x++ {
			copy(dst[x*px+i*pr.bytes:x*px+i*pr.bytes+pr.bytes], b[x*pr.bytes:x*pr.bytes+pr.bytes])
		}
	}
	return nil
}

// plainRows reads rows of stored samples from a decompressed stream and
// undoes the horizontal predictor.
type plainRows struct {
	r    io.Reader
	pred bool
	spp  int
	bps  int
	big  bool
}

func (pr *plainRows) readRow(dst []byte) error {
	if _, err := io.ReadFull(pr.r, dst); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return errTruncated
		}
		return fmt.Errorf("%w: %v", errTruncated, err)
	}
	if pr.pred {
		if pr.bps == 8 {
			for i := pr.spp; i < len(dst); i++ {
				dst[i] += dst[i-pr.spp]
			}
		} else {
			st := 2 * pr.spp
			for i := st; i+1 < len(dst); i += 2 {
				if pr.big {
					v := uint16(dst[i])<<8 | uint16(dst[i+1])
					v += uint16(dst[i-st])<<8 | uint16(dst[i-st+1])
					dst[i], dst[i+1] = byte(v>>8), byte(v)
				} else {
					v := uint16(dst[i+1])<<8 | uint16(dst[i])
					v += uint16(dst[i-st+1])<<8 | uint16(dst[i-st])
					dst[i], dst[i+1] = byte(v), byte(v>>8)
				}
			}
		}
	}
	return nil
}

// reverseReader reverses the bit order of every byte.
type reverseReader struct{ r io.Reader }

func (rr *reverseReader) Read(b []byte) (int, error) {
	n, err := rr.r.Read(b)
	for i := range b[:n] {
		b[i] = bits.Reverse8(b[i])
	}
	return n, err
}

// packBitsReader decodes PackBits (TIFF 6.0, section 9): a header byte n
// followed by n+1 literal bytes (0 <= n <= 127) or by one byte to repeat
// 1-n times (-127 <= n <= -1); -128 is a no-op.
type packBitsReader struct {
	r      io.ByteReader
	lit    int  // literal bytes left in the current run
	rep    int  // repeats left
	repVal byte // the repeated byte
}

func (pb *packBitsReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		switch {
		case pb.rep > 0:
			b[n] = pb.repVal
			pb.rep--
			n++
		case pb.lit > 0:
			c, err := pb.r.ReadByte()
			if err != nil {
				return n, io.ErrUnexpectedEOF
			}
			b[n] = c
			pb.lit--
			n++
		default:
			h, err := pb.r.ReadByte()
			if err != nil {
				if n > 0 {
					return n, nil
				}
				return 0, io.EOF
			}
			switch hs := int8(h); {
			case hs >= 0:
				pb.lit = int(hs) + 1
			case hs != -128:
				c, err := pb.r.ReadByte()
				if err != nil {
					return n, io.ErrUnexpectedEOF
				}
				pb.rep, pb.repVal = 1-int(hs), c
			}
		}
	}
	return n, nil
}

// setup prepares the sample-to-luma conversion of a non-bilevel page.
func (s *sampler) setup(colorMap []uint64) {
	p := s.p
	switch p.Photometric {
	case WhiteIsZero, BlackIsZero:
		if s.spp == 2 {
			s.alpha = 1
		}
		if s.bps < 8 {
			levels := 1 << s.bps
			s.lut = make([]uint8, levels)
			for i := range s.lut {
				v := uint8(i * 255 / (levels - 1))
				if p.Photometric == WhiteIsZero {
					v = 255 - v
				}
				s.lut[i] = v
			}
		}
	case RGB:
		if s.spp > 3 {
			s.alpha = 3
		}
	case CMYK:
		if s.spp > 4 {
			s.alpha = 4
		}
	case Palette:
		n := 1 << s.bps
		s.lut = make([]uint8, n)
		for i := range n {
			r, g, b := colorMap[i], colorMap[n+i], colorMap[2*n+i]
			s.lut[i] = luma16(r, g, b)
		}
	}
	if s.alpha >= 0 && len(p.extraSamples) > 0 && p.extraSamples[0] == 1 {
		s.premul = true
	}
	if s.alpha >= 0 && len(p.extraSamples) > 0 && p.extraSamples[0] == 0 {
		s.alpha = -1 // unspecified extra data, not alpha
	}
}

func luma16(r, g, b uint64) uint8 {
	y := (299*(r&0xffff) + 587*(g&0xffff) + 114*(b&0xffff) + 500) / 1000
	return uint8(y >> 8)
}

// sample returns sample k of the row as an 8-bit value.
func (s *sampler) sample(row []byte, k int) uint8 {
	switch s.bps {
	case 8:
		return row[k]
	case 16:
		if s.big {
			return row[2*k]
		}
		return row[2*k+1]
	}
	bit := k * s.bps
	v := row[bit>>3] >> (8 - s.bps - bit&7) & (1<<s.bps - 1)
	return v
}

// put converts one stored row of w pixels into the destination at (x0, y).
func (s *sampler) put(row []byte, x0, y, w int) {
	if s.bm != nil {
		s.putBits(row, x0, y, w)
		return
	}
	dst := s.gray.Pix[y*s.gray.Stride+x0 : y*s.gray.Stride+x0+w]
	p := s.p
	for x := range dst {
		var v uint8
		switch p.Photometric {
		case RGB:
			k := x * s.spp
			r, g, b := s.sample(row, k), s.sample(row, k+1), s.sample(row, k+2)
			v = uint8((299*int(r) + 587*int(g) + 114*int(b) + 500) / 1000)
		case CMYK:
			k := x * s.spp
			kk := 255 - int(s.sample(row, k+3))
			r := (255 - int(s.sample(row, k))) * kk / 255
			g := (255 - int(s.sample(row, k+1))) * kk / 255
			b := (255 - int(s.sample(row, k+2))) * kk / 255
			v = uint8((299*r + 587*g + 114*b + 500) / 1000)
		case Palette:
			v = s.lut[s.sample(row, x)]
		default:
			v = s.sample(row, x*s.spp)
			if s.lut != nil {
				v = s.lut[v]
			} else if p.Photometric == WhiteIsZero {
				v = 255 - v
			}
		}
		if s.alpha >= 0 {
			a := int(s.sample(row, x*s.spp+s.alpha))
			if s.premul {
				v = uint8(min(int(v)+255-a, 255))
			} else {
				v = uint8((int(v)*a + 255*(255-a) + 127) / 255)
			}
		}
		dst[x] = v
	}
}

// putBits copies a bilevel row (x0 is a multiple of 8: tile widths are
// multiples of 16).
func (s *sampler) putBits(row []byte, x0, y, w int) {
	dst := s.bm.Row(y)[x0/8:]
	n := (w + 7) / 8
	// The CCITT codecs, like the others, yield samples: white runs are 0
	// bits, so a BlackIsZero page is inverted (libtiff does the same).
	copy(dst[:n], row[:n])
	if s.p.Photometric == BlackIsZero {
		for i := range dst[:n] {
			dst[i] = ^dst[i]
		}
	}
	if r := w % 8; r != 0 {
		dst[n-1] &= byte(0xff << uint(8-r))
	}
}

func isCCITT(c Compression) bool {
	return c == CompressionCCITTRLE || c == CompressionT4 || c == CompressionT6
}
