//go:build spandsp

package spandsptest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t4/internal/minitiff"
	"github.com/rayofax/rayofax/faxengine/t6"
	"github.com/rayofax/rayofax/test/testenv"
)

// pixels decodes the first page of a TIFF with `tiffcp -c none`.
func pixels(t *testing.T, path string) *raster.Bitmap {
	t.Helper()
	out := filepath.Join(t.TempDir(), "none.tif")
	if msg, err := exec.Command(testenv.Program(t, "tiffcp"), "-c", "none", path, out).CombinedOutput(); err != nil {
		t.Fatalf("tiffcp: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := minitiff.Parse(b)
	if err != nil || len(pages) == 0 {
		t.Fatalf("%s: %v", out, err)
	}
	p := pages[0]
	bm := raster.New(p.Width, p.Height)
	copy(bm.Pix, p.Data)
	if p.FillOrder == 2 {
		t4.ReverseBits(bm.Pix)
	}
	if p.Photometric == 1 {
		for i := range bm.Pix {
			bm.Pix[i] = ^bm.Pix[i]
		}
	}
	return bm
}

func chart(t *testing.T) string {
	return filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
}

// TestSpandspToUs decodes spandsp's line coding of the chart.
func TestSpandspToUs(t *testing.T) {
	src := chart(t)
	want := pixels(t, src)
	for _, c := range []struct {
		name        string
		compression int
		minRowBits  int
	}{{"MH", MH, 0}, {"MH-20ms-14400", MH, 288}, {"MR", MR, 0}, {"MR-10ms-9600", MR, 96}, {"MMR", MMR, 0}} {
		data, err := Encode(src, c.compression, c.minRowBits)
		if err != nil {
			t.Fatal(err)
		}
		var got *raster.Bitmap
		if c.compression == MMR {
			d, _ := t6.NewDecoder(want.Width, t6.DecoderOptions{})
			d.Write(data)
			if !d.Done() {
				t.Errorf("%s: EOFB not seen", c.name)
			}
			if err := d.Close(); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			got = d.Bitmap()
		} else {
			enc := t4.MH
			if c.compression == MR {
				enc = t4.MR
			}
			d, _ := t4.NewDecoder(want.Width, t4.DecoderOptions{Encoding: enc})
			for _, b := range data {
				for k := 0; k < 8; k++ {
					d.PutBit(int(b>>uint(k)) & 1)
				}
			}
			if !d.Done() {
				t.Errorf("%s: RTC not seen", c.name)
			}
			d.Close()
			if st := d.Stats(); st.BadRows != 0 {
				t.Errorf("%s: %+v", c.name, st)
			}
			got = d.Bitmap()
		}
		if !raster.Equal(got, want) {
			t.Errorf("%s: our decoding of spandsp's page differs", c.name)
		}
	}
}

// TestUsToSpandsp has spandsp decode our line coding of the chart.
func TestUsToSpandsp(t *testing.T) {
	want := pixels(t, chart(t))
	for _, c := range []struct {
		name        string
		compression int
		encode      func() ([]byte, error)
	}{
		{"MH", MH, func() ([]byte, error) { return t4.Encode(want, t4.Options{}) }},
		{"MH-20ms-14400", MH, func() ([]byte, error) { return t4.Encode(want, t4.Options{MinRowBits: t4.MinRowBits(14400, 20)}) }},
		{"MR-K4", MR, func() ([]byte, error) { return t4.Encode(want, t4.Options{Encoding: t4.MR, K: 4}) }},
		{"MR-K2-10ms-9600", MR, func() ([]byte, error) {
			return t4.Encode(want, t4.Options{Encoding: t4.MR, K: 2, MinRowBits: t4.MinRowBits(9600, 10)})
		}},
		{"MMR", MMR, func() ([]byte, error) { return t6.Encode(want, t6.Options{}) }},
	} {
		data, err := c.encode()
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "rx.tif")
		st, err := Decode(data, c.compression, want.Width, out)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != want.Height || st.BadRows != 0 {
			t.Errorf("%s: spandsp %+v", c.name, st)
		}
		if !st.EndSeen {
			t.Errorf("%s: spandsp did not see RTC or EOFB", c.name)
		}
		if !raster.Equal(pixels(t, out), want) {
			t.Errorf("%s: spandsp's decoding of our page differs", c.name)
		}
	}
}
