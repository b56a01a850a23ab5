package t4_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4/internal/minitiff"
	"github.com/rayofax/rayofax/test/testenv"
)

type tiffPage = minitiff.Page

func readTIFF(t testing.TB, path string) []tiffPage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := minitiff.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pages
}

// bitmapOf returns the pixels of an uncompressed page.
func bitmapOf(t testing.TB, p tiffPage) *raster.Bitmap {
	t.Helper()
	if p.Compression != 1 {
		t.Fatalf("page is compressed (%d)", p.Compression)
	}
	b := raster.New(p.Width, p.Height)
	if len(p.Data) < len(b.Pix) {
		t.Fatalf("uncompressed page has %d bytes, want %d", len(p.Data), len(b.Pix))
	}
	copy(b.Pix, p.Data)
	for i := range b.Pix {
		if p.FillOrder == 2 {
			b.Pix[i] = reverse8(b.Pix[i])
		}
		if p.Photometric == 1 {
			b.Pix[i] = ^b.Pix[i]
		}
	}
	if r := p.Width % 8; r != 0 { // clear the pad bits
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

// writeTIFF wraps one coded page per element of data in a TIFF file.
func writeTIFF(t testing.TB, path string, width, height, compression, options, fillOrder int, data ...[]byte) {
	t.Helper()
	if err := os.WriteFile(path, minitiff.Write(width, height, compression, options, fillOrder, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}
