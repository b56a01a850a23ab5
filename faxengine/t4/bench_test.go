package t4_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t4/internal/minitiff"
	"github.com/rayofax/rayofax/faxengine/t4/internal/testpage"
	"github.com/rayofax/rayofax/faxengine/t6"
)

// benchPages returns the A4 fine pages the benchmarks code: the first
// page of the shared test chart (when ../shared is there) and a dense
// synthetic page.
func benchPages(b *testing.B) map[string]*raster.Bitmap {
	pages := map[string]*raster.Bitmap{"dense": testpage.Dense(1728, 2292, 1)}
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "chart-fine-g3.tif"))
	if err != nil {
		return pages
	}
	tp, err := minitiff.Parse(data)
	if err != nil || len(tp) == 0 {
		b.Fatalf("chart: %v", err)
	}
	d, _ := t4.NewDecoder(tp[0].Width, t4.DecoderOptions{MSBFirst: true})
	d.Write(tp[0].Data)
	d.Close()
	pages["chart"] = d.Bitmap()
	return pages
}

type codec struct {
	name   string
	encode func(w *discard, p *raster.Bitmap) error
	opts   t4.Options
}

type discard struct{ n int }

func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

var codecs = []string{"MH", "MR", "MMR"}

func encodePage(w *discard, name string, p *raster.Bitmap) error {
	if name == "MMR" {
		e, err := t6.NewEncoder(w, p.Width, t6.Options{})
		if err != nil {
			return err
		}
		if err := e.Encode(p); err != nil {
			return err
		}
		return e.Close()
	}
	o := t4.Options{}
	if name == "MR" {
		o = t4.Options{Encoding: t4.MR, K: 4}
	}
	e, err := t4.NewEncoder(w, p.Width, o)
	if err != nil {
		return err
	}
	if err := e.Encode(p); err != nil {
		return err
	}
	return e.Close()
}

func report(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkEncode codes an A4 fine page (1728x2292) as T.30 sends it.
func BenchmarkEncode(b *testing.B) {
	for pname, p := range benchPages(b) {
		for _, c := range codecs {
			b.Run(pname+"/"+c, func(b *testing.B) {
				var w discard
				for b.Loop() {
					if err := encodePage(&w, c, p); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(len(p.Pix)))
				report(b)
			})
		}
	}
}

// BenchmarkDecode decodes an A4 fine page into a bitmap.
func BenchmarkDecode(b *testing.B) {
	for pname, p := range benchPages(b) {
		for _, c := range codecs {
			b.Run(pname+"/"+c, func(b *testing.B) {
				var coded []byte
				var err error
				switch c {
				case "MMR":
					coded, err = t6.Encode(p, t6.Options{})
				case "MR":
					coded, err = t4.Encode(p, t4.Options{Encoding: t4.MR, K: 4})
				default:
					coded, err = t4.Encode(p, t4.Options{})
				}
				if err != nil {
					b.Fatal(err)
				}
				out := raster.New(p.Width, p.Height)
				y := 0
				onRow := func(row []byte) { copy(out.Row(y), row); y++ }
				var d4 *t4.Decoder
				var d6 *t6.Decoder
				if c == "MMR" {
					d6, _ = t6.NewDecoder(p.Width, t6.DecoderOptions{OnRow: onRow})
				} else {
					enc := t4.MH
					if c == "MR" {
						enc = t4.MR
					}
					d4, _ = t4.NewDecoder(p.Width, t4.DecoderOptions{Encoding: enc,
						OnRow: func(row []byte, bad bool) { onRow(row) }})
				}
				for b.Loop() {
					y = 0
					if d6 != nil {
						d6.Reset()
						d6.Write(coded)
						d6.Close()
					} else {
						d4.Reset()
						d4.Write(coded)
						d4.Close()
					}
					if y != p.Height {
						b.Fatalf("%d rows", y)
					}
				}
				b.SetBytes(int64(len(p.Pix)))
				report(b)
			})
		}
	}
}
