package tiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/test/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata")

// toGray renders a decoded page as 8-bit gray for golden comparison.
func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g.Set(x, y, color.GrayModel.Convert(img.At(x, y)))
		}
	}
	return g
}

// TestGolden decodes the small files in testdata (made with ghostscript and
// tiffcp, see testdata/README.md) and compares them with golden PNGs,
// which were checked against libtiff when written (and are again here when
// tiffcp is installed).
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.tif")
	if len(files) < 7 {
		t.Fatalf("only %d golden TIFFs", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			imgs := decodeAll(t, file)
			got := toGray(imgs[0])
			golden := strings.TrimSuffix(file, ".tif") + ".png"
			if *update {
				var buf bytes.Buffer
				if err := png.Encode(&buf, got); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			want, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := samePixels(got, toGray(want)); err != nil {
				t.Fatalf("differs from %s: %v", golden, err)
			}
			if _, err := testenv.LookPath("tiffcp"); err == nil {
				ref := filepath.Join(t.TempDir(), "ref.tif")
				run(t, "tiffcp", "-c", "none", "-f", "msb2lsb", "-p", "contig", file, ref)
				sameImages(t, "libtiff", imgs, decodeAll(t, ref))
			}
		})
	}
}

// tinyTIFF builds a little-endian one-strip TIFF from (tag, type, values)
// entries and strip data; StripOffsets and StripByteCounts are added.
type tag struct {
	tag, typ uint16
	vals     []uint32
}

func tinyTIFF(tags []tag, strip []byte) []byte {
	b := &ifdBuilder{}
	var all []tag
	all = append(all, tags...)
	all = append(all, tag{tagStripOffsets, typeLong, []uint32{0}}, tag{tagStripByteCounts, typeLong, []uint32{uint32(len(strip))}})
	// Sort by tag number.
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[j].tag < all[i].tag {
				all[i], all[j] = all[j], all[i]
			}
		}
	}
	for _, tg := range all {
		switch tg.typ {
		case typeShort:
			v := make([]uint16, len(tg.vals))
			for i, x := range tg.vals {
				v[i] = uint16(x)
			}
			b.shorts(tg.tag, v...)
		default:
			val := make([]byte, 0, 4*len(tg.vals))
			for _, x := range tg.vals {
				val = binary.LittleEndian.AppendUint32(val, x)
			}
			b.add(tg.tag, typeLong, uint32(len(tg.vals)), val)
		}
	}
	out := []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	dataOff := 8 + b.size()
	b.set(tagStripOffsets, uint32(dataOff))
	block, _, _ := b.bytes(8)
	out = append(out, block...)
	return append(out, strip...)
}

func short(t uint16, v ...uint32) tag { return tag{t, typeShort, v} }

func TestHandmade(t *testing.T) {
	dims := []tag{short(tagImageWidth, 4), short(tagImageLength, 2)}
	tests := []struct {
		name  string
		tags  []tag
		strip []byte
		want  []uint8 // gray values, row by row; for bilevel 0 black 255 white
	}{
		{"palette4", append(dims, short(tagBitsPerSample, 4), short(tagPhotometric, 3),
			tag{tagColorMap, typeShort, append(append(make16(0xffff, 0, 0), make16(0xffff, 0xffff, 0)...), make16(0xffff, 0, 0xffff)...)}),
			[]byte{0x01, 0x21, 0x10, 0x00}, []uint8{255, 150, 29, 150, 150, 255, 255, 255}},
		{"gray16-big-endian-as-little", append(dims, short(tagBitsPerSample, 16), short(tagPhotometric, 1)),
			[]byte{0, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x10}, []uint8{0, 0x80, 0xff, 0xff, 0, 0, 0, 0x10}},
		{"gray4-whiteiszero", append(dims, short(tagBitsPerSample, 4), short(tagPhotometric, 0)),
			[]byte{0x0f, 0x85, 0x00, 0x00}, []uint8{255, 0, 119, 170, 255, 255, 255, 255}},
		{"bilevel-blackiszero", append(dims, short(tagBitsPerSample, 1), short(tagPhotometric, 1)),
			[]byte{0xa0, 0x50}, []uint8{255, 0, 255, 0, 0, 255, 0, 255}},
		{"gray-alpha", append(dims, short(tagBitsPerSample, 8, 8), short(tagSamplesPerPixel, 2), short(tagPhotometric, 1), short(tagExtraSamples, 2)),
			[]byte{0, 255, 0, 0, 100, 255, 100, 0, 0, 128, 255, 128, 0, 0, 0, 0}, []uint8{0, 255, 100, 255, 127, 255, 255, 255}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tinyTIFF(tc.tags, tc.strip)
			r, err := NewReader(bytes.NewReader(data), int64(len(data)), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			img, err := r.Decode(0)
			if err != nil {
				t.Fatal(err)
			}
			g := toGray(img)
			for i, w := range tc.want {
				if got := g.GrayAt(i%4, i/4).Y; got != w {
					t.Errorf("pixel %d: %d, want %d", i, got, w)
				}
			}
		})
	}
}

func make16(v ...uint32) []uint32 {
	out := make([]uint32, 16)
	copy(out, v)
	return out
}

// TestBadInput checks that broken files give clear errors, never a panic
// or unbounded memory.
func TestBadInput(t *testing.T) {
	good, err := os.ReadFile("testdata/g4.tif")
	if err != nil {
		t.Fatal(err)
	}
	open := func(b []byte) (*Reader, error) {
		return NewReader(bytes.NewReader(b), int64(len(b)), DefaultLimits)
	}
	dims := func(w, h uint32) []byte {
		return tinyTIFF([]tag{{tagImageWidth, typeLong, []uint32{w}}, {tagImageLength, typeLong, []uint32{h}}, short(tagBitsPerSample, 8), short(tagPhotometric, 1)}, []byte{1, 2, 3})
	}
	tests := []struct {
		name string
		data []byte
		want string // in the error from NewReader or Decode
	}{
		{"empty", nil, "shorter than a TIFF header"},
		{"not tiff", []byte("%PDF-1.4 hello world"), "not a TIFF"},
		{"bigtiff", []byte{'I', 'I', 43, 0, 8, 0, 0, 0}, "BigTIFF"},
		{"ifd past end", []byte{'I', 'I', 42, 0, 0xff, 0, 0, 0}, "offset past the end of the file"},
		{"huge width", dims(1<<20, 10), "image width 1048576 exceeds the limit"},
		{"huge length", dims(100, 1<<24), "image length 16777216 exceeds the limit"},
		{"too many pixels", dims(16000, 60000), "pixel count"},
		{"strip short", dims(100, 100), "data ends early"},
		{"truncated strip", good[:len(good)-300], "past the end of the file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := open(tc.data)
			if err == nil {
				_, err = r.Decode(0)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	var le *LimitError
	if _, err := open(dims(1<<20, 10)); !errors.As(err, &le) {
		t.Errorf("huge width: %T is not a *LimitError", err)
	}
	// A loop in the IFD chain.
	loop := append([]byte(nil), good...)
	r, err := open(loop)
	if err != nil {
		t.Fatal(err)
	}
	ifd := r.pages[0].ifdOffset
	n := int64(binary.LittleEndian.Uint16(loop[ifd:]))
	binary.LittleEndian.PutUint32(loop[ifd+2+12*n:], uint32(ifd))
	if _, err := open(loop); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Errorf("IFD loop: %v", err)
	}
	// Every prefix of a valid file fails cleanly or decodes.
	for cut := 0; cut < len(good); cut += 7 {
		if r, err := open(good[:cut]); err == nil {
			r.Decode(0)
		}
	}
	// Corrupt coded data: flip bytes inside the strip.
	for _, name := range []string{"g4.tif", "g3-2d-fill-lsb.tif", "rle.tif", "tiled-lzw.tif", "gray-zip-pred.tif", "packbits-strips.tif"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for i := 8; i < len(b); i += 97 {
			c := append([]byte(nil), b...)
			c[i] ^= 0x5a
			if r, err := open(c); err == nil {
				r.Decode(0)
			}
		}
	}
}

func FuzzReader(f *testing.F) {
	// Small seeds (under 1 KB) so that the fuzzer's minimisation of what
	// they lead to is quick.
	files, _ := filepath.Glob("testdata/seeds/*.tif")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Small pages in every coding the writer has.
	bm := raster.New(40, 9)
	for y := 0; y < 9; y++ {
		bm.Set(y*3, y, true)
		bm.Set(39-y, y, true)
	}
	for _, c := range allCodings {
		m := &memFile{}
		w, _ := NewWriter(m, WriterOptions{Coding: c})
		w.WritePage(bm, PageMeta{BadLines: 1})
		w.Close()
		f.Add(m.b)
	}
	lim := Limits{MaxWidth: 4096, MaxHeight: 4096, MaxPixels: 1 << 20, MaxPages: 64}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)), lim)
		if err != nil {
			return
		}
		for i := 0; i < r.NumPages(); i++ {
			img, err := r.Decode(i)
			if err != nil {
				continue
			}
			p := r.Page(i)
			if img.Bounds().Dx() != p.Width || img.Bounds().Dy() != p.Height {
				t.Fatalf("page %d: decoded %v for %dx%d", i, img.Bounds(), p.Width, p.Height)
			}
		}
	})
}

// TestHugeArrays checks that arrays are read only as far as a page needs:
// a thousand IFDs all naming one 4 MB StripOffsets array cost next to
// nothing to open and little to decode.
func TestHugeArrays(t *testing.T) {
	const count = 1 << 20
	const pages = 1000
	le := binary.LittleEndian
	b := []byte{'I', 'I', 42, 0, 0, 0, 0, 0}
	arr := int64(len(b))
	for i := 0; i < count; i++ {
		b = le.AppendUint32(b, 8) // offsets and byte counts alike: 8
	}
	le.PutUint32(b[4:], uint32(len(b)))
	for i := 0; i < pages; i++ {
		ifd := len(b)
		entries := []struct {
			tag, typ uint16
			n, v     uint32
		}{
			{tagImageWidth, typeShort, 1, 8},
			{tagImageLength, typeShort, 1, 1},
			{tagStripOffsets, typeLong, count, uint32(arr)},
			{tagStripByteCounts, typeLong, count, uint32(arr)},
		}
		b = le.AppendUint16(b, uint16(len(entries)))
		for _, e := range entries {
			b = le.AppendUint16(b, e.tag)
			b = le.AppendUint16(b, e.typ)
			b = le.AppendUint32(b, e.n)
			b = le.AppendUint32(b, e.v)
		}
		next := uint32(0)
		if i < pages-1 {
			next = uint32(ifd + 2 + 12*len(entries) + 4)
		}
		b = le.AppendUint32(b, next)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if r.NumPages() != pages {
		t.Fatalf("%d pages", r.NumPages())
	}
	for i := 0; i < pages; i += 100 {
		if _, err := r.Decode(i); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("allocated %d MB", got>>20)
	}
}

// TestSeeds checks that the fuzz seeds decode as libtiff decodes them.
func TestSeeds(t *testing.T) {
	files, _ := filepath.Glob("testdata/seeds/*.tif")
	if len(files) < 8 {
		t.Fatalf("%d seeds", len(files))
	}
	for _, file := range files {
		imgs := decodeAll(t, file)
		ref := filepath.Join(t.TempDir(), "ref.tif")
		run(t, "tiffcp", "-c", "none", "-f", "msb2lsb", file, ref)
		sameImages(t, file, imgs, decodeAll(t, ref))
	}
}
