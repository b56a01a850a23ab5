package t4_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/ccitt"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t4/internal/testpage"
	"github.com/rayofax/rayofax/faxengine/t6"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenPage is a small page with long and short runs of both colours.
func goldenPage() *raster.Bitmap {
	b := testpage.Dense(200, 12, 42)
	for x := 0; x < 200; x++ {
		b.Set(x, 5, true) // a black row
	}
	return b
}

var goldens = []struct {
	file   string
	encode func(*raster.Bitmap) ([]byte, error)
	decode func(data []byte) (*raster.Bitmap, error)
}{
	{"mh.bin", func(b *raster.Bitmap) ([]byte, error) { return t4.Encode(b, t4.Options{}) },
		func(p []byte) (*raster.Bitmap, error) { return decodeT4(t4.MH, p) }},
	{"mr-k2.bin", func(b *raster.Bitmap) ([]byte, error) { return t4.Encode(b, t4.Options{Encoding: t4.MR, K: 2}) },
		func(p []byte) (*raster.Bitmap, error) { return decodeT4(t4.MR, p) }},
	{"mr-k4-fill.bin", func(b *raster.Bitmap) ([]byte, error) {
		return t4.Encode(b, t4.Options{Encoding: t4.MR, K: 4, MinRowBits: t4.MinRowBits(4800, 20), AlignEOL: true})
	}, func(p []byte) (*raster.Bitmap, error) { return decodeT4(t4.MR, p) }},
	{"rle.bin", func(b *raster.Bitmap) ([]byte, error) { return t4.Encode(b, t4.Options{Encoding: t4.RLE}) },
		func(p []byte) (*raster.Bitmap, error) { return decodeT4(t4.RLE, p) }},
	{"mmr.bin", func(b *raster.Bitmap) ([]byte, error) { return t6.Encode(b, t6.Options{}) },
		func(p []byte) (*raster.Bitmap, error) {
			d, _ := t6.NewDecoder(200, t6.DecoderOptions{})
			d.Write(p)
			return d.Bitmap(), d.Close()
		}},
}

func decodeT4(enc t4.Encoding, p []byte) (*raster.Bitmap, error) {
	d, _ := t4.NewDecoder(200, t4.DecoderOptions{Encoding: enc})
	d.Write(p)
	return d.Bitmap(), d.Close()
}

// TestGolden checks the encoders against checked-in coded pages (line
// order, LSB first) and decodes those.
func TestGolden(t *testing.T) {
	page := goldenPage()
	for _, g := range goldens {
		path := filepath.Join("testdata", g.file)
		got, err := g.encode(page)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoder output differs from the golden file", g.file)
		}
		dec, err := g.decode(want)
		if err != nil {
			t.Errorf("%s: %v", g.file, err)
		}
		if !raster.Equal(dec, page) {
			t.Errorf("%s: golden file decodes to other pixels", g.file)
		}
	}
}

// TestCrossCheckXImage decodes our MH and MMR coding with
// golang.org/x/image/ccitt, an independent decoder.
func TestCrossCheckXImage(t *testing.T) {
	for _, page := range []*raster.Bitmap{goldenPage(), testpage.Dense(1728, 300, 9)} {
		for _, c := range []struct {
			name string
			sf   ccitt.SubFormat
			data func() ([]byte, error)
		}{
			{"MH", ccitt.Group3, func() ([]byte, error) { return t4.Encode(page, t4.Options{NoRTC: true, MSBFirst: true}) }},
			{"MMR", ccitt.Group4, func() ([]byte, error) { return t6.Encode(page, t6.Options{MSBFirst: true}) }},
		} {
			data, err := c.data()
			if err != nil {
				t.Fatal(err)
			}
			r := ccitt.NewReader(bytes.NewReader(data), ccitt.MSB, c.sf, page.Width, page.Height, &ccitt.Options{Invert: true})
			pix, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("%s: x/image/ccitt: %v", c.name, err)
			}
			got := &raster.Bitmap{Width: page.Width, Height: page.Height, Stride: page.Stride, Pix: pix}
			if len(pix) != len(page.Pix) || !raster.Equal(got, page) {
				t.Errorf("%s %dx%d: x/image/ccitt decodes other pixels", c.name, page.Width, page.Height)
			}
		}
	}
}
