package t4

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
)

var fuzzWidths = []int{1728, 16, 1, 2432, 9}

// fuzzDecode runs a decoder over arbitrary data, by bytes or by bits, and
// checks the invariants that hold on any input.
func fuzzDecode(t *testing.T, enc Encoding, data []byte, mode byte) {
	w := fuzzWidths[int(mode)%len(fuzzWidths)]
	d, err := NewDecoder(w, DecoderOptions{Encoding: enc, MSBFirst: mode&8 != 0, MaxRows: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if mode&16 != 0 {
		for _, b := range data {
			for i := 0; i < 8; i++ {
				d.PutBit(int(b>>uint(i)) & 1)
			}
		}
	} else {
		half := len(data) / 2
		d.Write(data[:half])
		d.Write(data[half:])
	}
	d.Close()
	st, page := d.Stats(), d.Bitmap()
	if !d.Done() || st.Rows != page.Height || st.BadRows > st.Rows || st.ConsecutiveBadRows > st.BadRows ||
		len(page.Pix) != page.Height*page.Stride || st.Rows > 3000 {
		t.Fatalf("inconsistent result: %+v, page %dx%d", st, page.Width, page.Height)
	}
}

func seedCoded(f *testing.F, enc Encoding) {
	b := randomRuns(16, 6)
	for _, o := range []Options{{Encoding: enc, K: 2}, {Encoding: enc, K: 4, AlignEOL: true, MinRowBits: 40}} {
		data, err := Encode(b, o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, byte(1))
		f.Add(data, byte(1|16))
	}
	f.Add([]byte{0, 0x80, 0xff, 0x01, 0, 0x10}, byte(0))
}

func FuzzDecodeMH(f *testing.F) {
	seedCoded(f, MH)
	f.Fuzz(func(t *testing.T, data []byte, mode byte) { fuzzDecode(t, MH, data, mode) })
}

func FuzzDecodeMR(f *testing.F) {
	seedCoded(f, MR)
	f.Fuzz(func(t *testing.T, data []byte, mode byte) { fuzzDecode(t, MR, data, mode) })
}

func FuzzDecodeRLE(f *testing.F) {
	seedCoded(f, RLE)
	f.Fuzz(func(t *testing.T, data []byte, mode byte) { fuzzDecode(t, RLE, data, mode) })
}

// FuzzRoundTrip encodes arbitrary pixels in every scheme and option and
// checks that they decode to the same pixels.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0xff, 0x00, 0xf0, 0x0f, 0xaa, 0x55}, uint16(40), byte(0))
	f.Add([]byte{0x00}, uint16(1728), byte(7))
	f.Add([]byte{0x80, 0x01, 0x7e}, uint16(3), byte(3))
	f.Fuzz(func(t *testing.T, pix []byte, width uint16, mode byte) {
		w := int(width)%3000 + 1
		stride := (w + 7) / 8
		h := min(len(pix)/stride, 64)
		b := raster.New(w, h)
		copy(b.Pix, pix)
		clearPad(b)
		o := Options{
			Encoding:   []Encoding{MH, MR, RLE}[int(mode)%3],
			K:          int(mode>>2) % 5,
			AlignEOL:   mode&32 != 0,
			MSBFirst:   mode&64 != 0,
			NoRTC:      mode&128 != 0,
			MinRowBits: int(mode>>4) * 7,
		}
		data, err := Encode(b, o)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := NewDecoder(w, DecoderOptions{Encoding: o.Encoding, MSBFirst: o.MSBFirst})
		d.Write(data)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if st := d.Stats(); st.BadRows != 0 || !raster.Equal(d.Bitmap(), b) {
			t.Fatalf("%+v: round trip differs (%+v)", o, st)
		}
	})
}
