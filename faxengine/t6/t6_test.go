package t6

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
)

// runsPage makes rows of random runs that change a little from row to row.
func runsPage(w, h int, seed int64) *raster.Bitmap {
	b := raster.New(w, h)
	rng := rand.New(rand.NewSource(seed))
	var edges []int
	for x := 0; x < w; x += 1 + rng.Intn(60) {
		edges = append(edges, x)
	}
	for y := 0; y < h; y++ {
		for i := range edges {
			switch rng.Intn(8) {
			case 0:
				edges[i] += rng.Intn(7) - 3
			case 1:
				edges[i] += rng.Intn(41) - 20
			}
		}
		slices.Sort(edges)
		black := false
		for x, i := 0, 0; x < w; x++ {
			for i < len(edges) && edges[i] <= x {
				black = !black
				i++
			}
			b.Set(x, y, black)
		}
	}
	return b
}

func noisePage(w, h int) *raster.Bitmap {
	b := raster.New(w, h)
	rand.New(rand.NewSource(int64(w))).Read(b.Pix)
	if r := w % 8; r != 0 {
		for y := 0; y < h; y++ {
			b.Row(y)[b.Stride-1] &= byte(0xff << uint(8-r))
		}
	}
	return b
}

func blackPage(w, h int) *raster.Bitmap {
	b := raster.New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			b.Set(x, y, true)
		}
	}
	return b
}

func checkerPage(w, h int) *raster.Bitmap {
	b := raster.New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			b.Set(x, y, (x+y)&1 == 1)
		}
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, w := range []int{1728, 2048, 2432, 3456, 4864, 8192, 1, 7, 100} {
		pages := map[string]*raster.Bitmap{
			"white": raster.New(w, 20), "black": blackPage(w, 20), "checker": checkerPage(w, 20),
			"noise": noisePage(w, 20), "runs": runsPage(w, 30, int64(w)),
		}
		for name, b := range pages {
			for _, o := range []Options{{}, {NoEOFB: true, MSBFirst: true}} {
				data, err := Encode(b, o)
				if err != nil {
					t.Fatal(err)
				}
				d, _ := NewDecoder(w, DecoderOptions{MSBFirst: o.MSBFirst})
				if _, err := d.Write(data); err != nil {
					t.Errorf("%s/%d: %v", name, w, err)
				}
				if !o.NoEOFB && !d.Done() {
					t.Errorf("%s/%d: EOFB not detected", name, w)
				}
				if err := d.Close(); err != nil {
					t.Errorf("%s/%d/%+v: Close: %v", name, w, o, err)
				}
				if !raster.Equal(d.Bitmap(), b) {
					t.Errorf("%s/%d/%+v: decoded page differs", name, w, o)
				}
			}
		}
	}
}

// TestMatchesT4TwoD checks that an MMR row is the same code as a T.4 2D
// row against the same reference (T.6 §2.2).
func TestMatchesT4TwoD(t *testing.T) {
	b := runsPage(1728, 5, 1)
	data, _ := Encode(b, Options{NoEOFB: true, MSBFirst: true})
	var bw t4.BitWriter
	ref := t4.AppendChanges(nil, make([]byte, 216), 1728)
	for y := 0; y < b.Height; y++ {
		cur := t4.AppendChanges(nil, b.Row(y), 1728)
		bw.Code2D(cur, ref, 1728)
		ref = cur
	}
	bw.Align()
	if !bytes.Equal(bw.Bytes(), data) {
		t.Error("MMR differs from T.4 2D coding with a white first reference row")
	}
}

func TestStreaming(t *testing.T) {
	b := runsPage(1728, 25, 2)
	data, _ := Encode(b, Options{})
	var rows int
	d, _ := NewDecoder(1728, DecoderOptions{OnRow: func(row []byte) {
		if !bytes.Equal(row, b.Row(rows)) {
			t.Errorf("row %d differs", rows)
		}
		rows++
	}})
	for _, c := range data {
		for i := 0; i < 8; i++ {
			d.PutBit(int(c>>uint(i)) & 1)
		}
	}
	if err := d.Close(); err != nil || rows != b.Height {
		t.Errorf("bit by bit: %d rows, err %v", rows, err)
	}
	rng := rand.New(rand.NewSource(5))
	d2, _ := NewDecoder(1728, DecoderOptions{})
	for p := data; len(p) > 0; {
		n := min(len(p), 1+rng.Intn(64)) // ECM frames are 64 or 256 bytes
		d2.Write(p[:n])
		p = p[n:]
	}
	if !d2.Done() || !raster.Equal(d2.Bitmap(), b) {
		t.Errorf("chunks: done=%v, page equal=%v", d2.Done(), raster.Equal(d2.Bitmap(), b))
	}
}

// TestErrorsEndPage damages the data and checks that the page ends with
// an error and keeps the rows before the damage.
func TestErrorsEndPage(t *testing.T) {
	b := runsPage(1728, 40, 3)
	data, _ := Encode(b, Options{MSBFirst: true})
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"truncated", data[:len(data)/2], ErrTruncated},
		{"garbage", append(append([]byte{}, data[:len(data)/2]...), 0x02, 0x00, 0x01, 0xff), t4.ErrInvalidCode},
		{"uncompressed", append(append([]byte{}, data[:len(data)/2]...), 0x03, 0xc0), t4.ErrUncompressed},
	} {
		d, _ := NewDecoder(1728, DecoderOptions{MSBFirst: true})
		d.Write(c.data)
		err := d.Close()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if c.want == ErrTruncated && !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		got := d.Bitmap()
		if got.Height == 0 || got.Height >= b.Height {
			t.Errorf("%s: %d rows kept", c.name, got.Height)
		}
		for y := 0; y+1 < got.Height; y++ { // the row at the damage may be wrong
			if !bytes.Equal(got.Row(y), b.Row(y)) {
				t.Errorf("%s: row %d differs", c.name, y)
				break
			}
		}
		if err != d.Err() {
			t.Errorf("%s: Close and Err disagree", c.name)
		}
	}
}

func TestBadWidth(t *testing.T) {
	for _, w := range []int{0, -5, t4.MaxWidth + 1} {
		if _, err := NewEncoder(nil, w, Options{}); err == nil {
			t.Errorf("encoder width %d accepted", w)
		}
		if _, err := NewDecoder(w, DecoderOptions{}); err == nil {
			t.Errorf("decoder width %d accepted", w)
		}
	}
}

func FuzzDecodeMMR(f *testing.F) {
	for _, b := range []*raster.Bitmap{runsPage(16, 6, 1), checkerPage(16, 4)} {
		data, _ := Encode(b, Options{})
		f.Add(data, byte(1))
		f.Add(data, byte(1|16))
	}
	f.Add([]byte{0x00, 0x08, 0x80, 0x00}, byte(0))
	widths := []int{1728, 16, 1, 2432, 9}
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		w := widths[int(mode)%len(widths)]
		d, _ := NewDecoder(w, DecoderOptions{MSBFirst: mode&8 != 0, MaxRows: 3000})
		if mode&16 != 0 {
			for _, b := range data {
				for i := 0; i < 8; i++ {
					d.PutBit(int(b>>uint(i)) & 1)
				}
			}
		} else {
			d.Write(data)
		}
		d.Close()
		if !d.Done() || d.Rows() != d.Bitmap().Height || d.Rows() > 3000 {
			t.Fatalf("rows %d, height %d", d.Rows(), d.Bitmap().Height)
		}
	})
}

func FuzzRoundTripMMR(f *testing.F) {
	f.Add([]byte{0xff, 0x00, 0xf0, 0x0f, 0xaa, 0x55}, uint16(40), false)
	f.Add([]byte{0x80, 0x01, 0x7e}, uint16(3), true)
	f.Fuzz(func(t *testing.T, pix []byte, width uint16, msb bool) {
		w := int(width)%3000 + 1
		stride := (w + 7) / 8
		b := raster.New(w, min(len(pix)/stride, 64))
		copy(b.Pix, pix)
		if r := w % 8; r != 0 {
			for y := 0; y < b.Height; y++ {
				b.Row(y)[stride-1] &= byte(0xff << uint(8-r))
			}
		}
		data, err := Encode(b, Options{MSBFirst: msb})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := NewDecoder(w, DecoderOptions{MSBFirst: msb})
		d.Write(data)
		if err := d.Close(); err != nil || !raster.Equal(d.Bitmap(), b) {
			t.Fatal(fmt.Sprint("round trip differs: ", err))
		}
	})
}

// TestEndlessRow feeds a row that never ends (horizontal mode with
// zero-length runs forever): the decoder must fail, not buffer forever.
func TestEndlessRow(t *testing.T) {
	unit := "001" + "00110101" + "0000110111"
	var bits string
	for i := 0; i < 8; i++ {
		bits += unit
	}
	chunk := make([]byte, len(bits)/8)
	for i := range bits {
		if bits[i] == '1' {
			chunk[i/8] |= 0x80 >> uint(i%8)
		}
	}
	d, _ := NewDecoder(1728, DecoderOptions{MSBFirst: true})
	for i := 0; i < 2000 && !d.Done(); i++ {
		d.Write(chunk)
	}
	if !errors.Is(d.Err(), t4.ErrRowLength) {
		t.Errorf("error %v, want %v", d.Err(), t4.ErrRowLength)
	}
}
