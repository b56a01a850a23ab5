// Package minitiff reads and writes just enough TIFF for the codec tests
// and benchmarks: the coded strips of each page and the tags that say how
// they are coded. The real TIFF layer is package tiff; keeping this small
// copy lets the codec be tested against libtiff independently of it.
package minitiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Page is one image of a TIFF file.
type Page struct {
	Width, Height int
	Compression   int // 1 none, 2 CCITT RLE, 3 T.4, 4 T.6
	Photometric   int // 0: 0 is white
	FillOrder     int // 1: first pixel in the MSB; 2: in the LSB
	Options       int // T4Options or T6Options
	RowsPerStrip  int
	Strips        [][]byte
	Data          []byte // the strips concatenated
}

// Parse returns the pages of a TIFF file, strips concatenated.
func Parse(b []byte) ([]Page, error) {
	if len(b) < 8 {
		return nil, errors.New("minitiff: short file")
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return nil, errors.New("minitiff: not a TIFF")
	}
	bad := errors.New("minitiff: offset out of range")
	u16 := func(o int) (int, error) {
		if o < 0 || o+2 > len(b) {
			return 0, bad
		}
		return int(bo.Uint16(b[o:])), nil
	}
	u32 := func(o int) (int, error) {
		if o < 0 || o+4 > len(b) {
			return 0, bad
		}
		return int(bo.Uint32(b[o:])), nil
	}
	var pages []Page
	off, err := u32(4)
	for ; err == nil && off != 0 && len(pages) < 1000; off, err = u32(off + 2 + 12*mustN(b, bo, off)) {
		n, err := u16(off)
		if err != nil {
			return nil, err
		}
		p := Page{FillOrder: 1}
		var offsets, counts []int
		for i := 0; i < n; i++ {
			e := off + 2 + 12*i
			tag, _ := u16(e)
			typ, _ := u16(e + 2)
			cnt, err := u32(e + 4)
			if err != nil {
				return nil, err
			}
			size := map[int]int{3: 2, 4: 4}[typ]
			if size == 0 || cnt > 1<<20 {
				continue
			}
			vo := e + 8
			if size*cnt > 4 {
				if vo, err = u32(e + 8); err != nil {
					return nil, err
				}
			}
			vals := make([]int, cnt)
			for k := range vals {
				if typ == 3 {
					vals[k], err = u16(vo + 2*k)
				} else {
					vals[k], err = u32(vo + 4*k)
				}
				if err != nil {
					return nil, err
				}
			}
			if len(vals) == 0 {
				continue
			}
			switch tag {
			case 256:
				p.Width = vals[0]
			case 257:
				p.Height = vals[0]
			case 259:
				p.Compression = vals[0]
			case 262:
				p.Photometric = vals[0]
			case 266:
				p.FillOrder = vals[0]
			case 273:
				offsets = vals
			case 278:
				p.RowsPerStrip = vals[0]
			case 279:
				counts = vals
			case 292, 293:
				p.Options = vals[0]
			}
		}
		if len(offsets) != len(counts) {
			return nil, errors.New("minitiff: strip offsets and counts differ")
		}
		for i := range offsets {
			if offsets[i]+counts[i] > len(b) {
				return nil, bad
			}
			p.Strips = append(p.Strips, b[offsets[i]:offsets[i]+counts[i]])
			p.Data = append(p.Data, b[offsets[i]:offsets[i]+counts[i]]...)
		}
		if p.RowsPerStrip <= 0 || p.RowsPerStrip > p.Height {
			p.RowsPerStrip = p.Height
		}
		pages = append(pages, p)
	}
	return pages, err
}

func mustN(b []byte, bo binary.ByteOrder, off int) int {
	if off+2 > len(b) {
		return 0
	}
	return int(bo.Uint16(b[off:]))
}

// Write returns a little-endian TIFF with one page per element of data,
// each a single strip, at 204x196 dpi, PhotometricInterpretation 0.
// compression 1 means uncompressed rows of (width+7)/8 bytes.
func Write(width, height, compression, options, fillOrder int, data ...[]byte) []byte {
	var out bytes.Buffer
	le := binary.LittleEndian
	out.Write([]byte{'I', 'I', 42, 0, 0, 0, 0, 0})
	prevNext := 4
	type entry struct {
		tag, typ uint16
		count    uint32
		value    uint32
	}
	for _, d := range data {
		stripAt := out.Len()
		out.Write(d)
		if out.Len()%2 == 1 {
			out.WriteByte(0)
		}
		resAt := out.Len()
		binary.Write(&out, le, []uint32{204, 1, 196, 1})
		entries := []entry{
			{256, 4, 1, uint32(width)},
			{257, 4, 1, uint32(height)},
			{258, 3, 1, 1},
			{259, 3, 1, uint32(compression)},
			{262, 3, 1, 0},
			{266, 3, 1, uint32(fillOrder)},
			{273, 4, 1, uint32(stripAt)},
			{277, 3, 1, 1},
			{278, 4, 1, uint32(height)},
			{279, 4, 1, uint32(len(d))},
			{282, 5, 1, uint32(resAt)},
			{283, 5, 1, uint32(resAt + 8)},
		}
		switch compression {
		case 3:
			entries = append(entries, entry{292, 4, 1, uint32(options)})
		case 4:
			entries = append(entries, entry{293, 4, 1, uint32(options)})
		}
		entries = append(entries, entry{296, 3, 1, 2})
		le.PutUint32(out.Bytes()[prevNext:], uint32(out.Len()))
		binary.Write(&out, le, uint16(len(entries)))
		for _, e := range entries {
			binary.Write(&out, le, e)
		}
		prevNext = out.Len()
		binary.Write(&out, le, uint32(0))
	}
	return out.Bytes()
}

// String describes a page.
func (p Page) String() string {
	return fmt.Sprintf("%dx%d compression %d options %d fill order %d", p.Width, p.Height, p.Compression, p.Options, p.FillOrder)
}
