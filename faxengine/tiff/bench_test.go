package tiff

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/test/testenv"
)

func readShared(b *testing.B, name string) []byte {
	data, err := os.ReadFile(filepath.Join(testenv.SharedDir(b), "testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkReadDecode parses and decodes every page of the 3-page chart.
func BenchmarkReadDecode(b *testing.B) {
	for _, name := range []string{"chart-fine-g3.tif", "chart-fine-g32d.tif", "chart-fine-g4.tif"} {
		b.Run(name, func(b *testing.B) {
			data := readShared(b, name)
			b.SetBytes(int64(len(data)))
			pages := 0
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data), int64(len(data)), DefaultLimits)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < r.NumPages(); i++ {
					if _, err := r.Decode(i); err != nil {
						b.Fatal(err)
					}
					pages++
				}
			}
			b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}

// BenchmarkConvert converts the 3-page fine chart from MH to each coding,
// as `tiffcp -c g4` would: read, decode, encode, write.
func BenchmarkConvert(b *testing.B) {
	data := readShared(b, "chart-fine-g3.tif")
	for _, c := range []Coding{MH, MR, MMR} {
		b.Run(c.String(), func(b *testing.B) {
			pages := 0
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data), int64(len(data)), DefaultLimits)
				if err != nil {
					b.Fatal(err)
				}
				w, _ := NewWriter(&memFile{}, WriterOptions{Coding: c})
				for i := 0; i < r.NumPages(); i++ {
					bm, err := r.DecodeBitmap(i)
					if err != nil {
						b.Fatal(err)
					}
					if err := w.WritePage(bm, PageMeta{}); err != nil {
						b.Fatal(err)
					}
					pages++
				}
				w.Close()
			}
			b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}
