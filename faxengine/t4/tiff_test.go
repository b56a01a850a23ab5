package t4_test

// Just enough TIFF to get coded strips out of the test documents and to
// wrap coded pages for libtiff. The real TIFF layer is package tiff; these
// helpers keep the codec tests independent of it.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/test/testenv"
)

type tiffPage struct {
	width, height int
	compression   int
	photometric   int
	fillOrder     int
	t4Options     int
	xres, yres    float64
	data          []byte // all strips, concatenated
}

func readTIFF(t testing.TB, path string) []tiffPage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := parseTIFF(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pages
}

func parseTIFF(b []byte) ([]tiffPage, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("short file")
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("not a TIFF")
	}
	u16 := func(o int) int { return int(bo.Uint16(b[o:])) }
	u32 := func(o int) int { return int(bo.Uint32(b[o:])) }
	var pages []tiffPage
	for off := u32(4); off != 0 && len(pages) < 100; {
		n := u16(off)
		p := tiffPage{fillOrder: 1}
		var offsets, counts []int
		for i := 0; i < n; i++ {
			e := off + 2 + 12*i
			tag, typ, cnt := u16(e), u16(e+2), u32(e+4)
			size := map[int]int{3: 2, 4: 4, 5: 8}[typ]
			vo := e + 8
			if size*cnt > 4 {
				vo = u32(e + 8)
			}
			vals := make([]int, cnt)
			for k := range vals {
				switch typ {
				case 3:
					vals[k] = u16(vo + 2*k)
				case 4:
					vals[k] = u32(vo + 4*k)
				case 5:
					vals[k] = u32(vo+8*k) / max(1, u32(vo+8*k+4))
				}
			}
			if len(vals) == 0 {
				continue
			}
			switch tag {
			case 256:
				p.width = vals[0]
			case 257:
				p.height = vals[0]
			case 259:
				p.compression = vals[0]
			case 262:
				p.photometric = vals[0]
			case 266:
				p.fillOrder = vals[0]
			case 273:
				offsets = vals
			case 279:
				counts = vals
			case 282:
				p.xres = float64(vals[0])
			case 283:
				p.yres = float64(vals[0])
			case 292:
				p.t4Options = vals[0]
			}
		}
		for i := range offsets {
			p.data = append(p.data, b[offsets[i]:offsets[i]+counts[i]]...)
		}
		pages = append(pages, p)
		off = u32(off + 2 + 12*n)
	}
	return pages, nil
}

// bitmapOf returns the pixels of an uncompressed page.
func bitmapOf(t testing.TB, p tiffPage) *raster.Bitmap {
	t.Helper()
	if p.compression != 1 {
		t.Fatalf("page is compressed (%d)", p.compression)
	}
	b := raster.New(p.width, p.height)
	if len(p.data) < len(b.Pix) {
		t.Fatalf("uncompressed page has %d bytes, want %d", len(p.data), len(b.Pix))
	}
	copy(b.Pix, p.data)
	for i := range b.Pix {
		if p.fillOrder == 2 {
			b.Pix[i] = reverse8(b.Pix[i])
		}
		if p.photometric == 1 {
			b.Pix[i] = ^b.Pix[i]
		}
	}
	if r := p.width % 8; r != 0 { // clear the pad bits
		for y := 0; y < b.Height; y++ {
			b.Row(y)[b.Stride-1] &= byte(0xff << uint(8-r))
		}
	}
	return b
}

func reverse8(b byte) byte {
	var r byte
	for i := 0; i < 8; i++ {
		r = r<<1 | b>>uint(i)&1
	}
	return r
}

// libtiffPixels decodes every page of a TIFF with `tiffcp -c none`.
func libtiffPixels(t testing.TB, path string) []*raster.Bitmap {
	t.Helper()
	tiffcp := testenv.Program(t, "tiffcp")
	out := filepath.Join(t.TempDir(), "none.tif")
	cmd := exec.Command(tiffcp, "-c", "none", path, out)
	if msg, err := cmd.CombinedOutput(); err != nil || len(msg) != 0 {
		t.Fatalf("tiffcp -c none %s: %v\n%s", path, err, msg)
	}
	var bms []*raster.Bitmap
	for _, p := range readTIFF(t, out) {
		bms = append(bms, bitmapOf(t, p))
	}
	return bms
}

// writeTIFF wraps one coded page per element of data in a little-endian
// TIFF with a single strip each.
func writeTIFF(t testing.TB, path string, width, height, compression, options, fillOrder int, data ...[]byte) {
	t.Helper()
	var out bytes.Buffer
	le := binary.LittleEndian
	out.Write([]byte{'I', 'I', 42, 0, 0, 0, 0, 0})
	prevNext := 4
	for _, d := range data {
		stripAt := out.Len()
		out.Write(d)
		if out.Len()%2 == 1 {
			out.WriteByte(0)
		}
		resAt := out.Len()
		binary.Write(&out, le, []uint32{204, 1, 196, 1})
		type entry struct {
			tag, typ uint16
			count    uint32
			value    uint32
		}
		optTag := uint16(292)
		if compression == 4 {
			optTag = 293
		}
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
			{optTag, 4, 1, uint32(options)},
			{296, 3, 1, 2},
		}
		if compression == 2 {
			entries = append(entries[:12], entries[13:]...)
		}
		ifdAt := out.Len()
		b := out.Bytes()
		le.PutUint32(b[prevNext:], uint32(ifdAt))
		binary.Write(&out, le, uint16(len(entries)))
		for _, e := range entries {
			binary.Write(&out, le, e)
		}
		prevNext = out.Len()
		binary.Write(&out, le, uint32(0))
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
