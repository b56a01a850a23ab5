package tiff

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	xtiff "golang.org/x/image/tiff"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/test/testenv"
)

// run runs an outside program and fails the test on error.
func run(t testing.TB, prog string, args ...string) {
	t.Helper()
	out, err := exec.Command(testenv.Program(t, prog), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, out)
	}
}

func openFile(t testing.TB, name string) *File {
	t.Helper()
	f, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func decodeAll(t testing.TB, name string) []image.Image {
	t.Helper()
	f := openFile(t, name)
	var out []image.Image
	for i := 0; i < f.NumPages(); i++ {
		img, err := f.Decode(i)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(name), err)
		}
		out = append(out, img)
	}
	return out
}

// sameImages compares decoded pages pixel for pixel.
func sameImages(t testing.TB, what string, got, want []image.Image) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d pages, want %d", what, len(got), len(want))
	}
	for i := range got {
		if err := samePixels(got[i], want[i]); err != nil {
			t.Errorf("%s: page %d: %v", what, i+1, err)
		}
	}
}

func samePixels(a, b image.Image) error {
	switch a := a.(type) {
	case *raster.Bitmap:
		b, ok := b.(*raster.Bitmap)
		if !ok {
			return fmt.Errorf("bitmap against %T", b)
		}
		if !raster.Equal(a, b) {
			return fmt.Errorf("bitmaps differ (%dx%d vs %dx%d)", a.Width, a.Height, b.Width, b.Height)
		}
	case *image.Gray:
		b, ok := b.(*image.Gray)
		if !ok {
			return fmt.Errorf("gray against %T", b)
		}
		if a.Rect != b.Rect {
			return fmt.Errorf("size %v vs %v", a.Rect, b.Rect)
		}
		for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
			if !bytes.Equal(a.Pix[y*a.Stride:y*a.Stride+a.Rect.Dx()], b.Pix[y*b.Stride:y*b.Stride+b.Rect.Dx()]) {
				return fmt.Errorf("row %d differs", y)
			}
		}
	default:
		return fmt.Errorf("unexpected %T", a)
	}
	return nil
}

// TestUncompressedAgainstXImage checks the reference path (uncompressed
// files, which every other test compares against) with a second decoder.
func TestUncompressedAgainstXImage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
	ref := filepath.Join(dir, "ref.tif")
	run(t, "tiffcp", "-c", "none", src, ref)
	got := decodeAll(t, ref)[0].(*raster.Bitmap)
	b, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	x, err := xtiff.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if x.Bounds() != got.Bounds() {
		t.Fatalf("bounds %v, x/image %v", got.Bounds(), x.Bounds())
	}
	black := 0
	for y := 0; y < got.Height; y++ {
		for x0 := 0; x0 < got.Width; x0++ {
			r, _, _, _ := x.At(x0, y).RGBA()
			if got.Black(x0, y) != (r < 0x8000) {
				t.Fatalf("pixel (%d,%d) differs from x/image/tiff", x0, y)
			}
			if got.Black(x0, y) {
				black++
			}
		}
	}
	if black < 1000 {
		t.Fatalf("only %d black pixels: the chart did not decode", black)
	}
}

// TestLibtiffVariants writes the chart in every layout libtiff makes and
// checks each decodes to the pixels of libtiff's own uncompressed copy.
func TestLibtiffVariants(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(testenv.SharedDir(t), "testdata", "chart-std-g3.tif")
	variants := []struct {
		name string
		args []string
	}{
		{"none", []string{"-c", "none"}},
		{"none-lsb", []string{"-c", "none", "-f", "lsb2msb"}},
		{"none-strips", []string{"-c", "none", "-r", "100"}},
		{"packbits", []string{"-c", "packbits"}},
		{"packbits-lsb", []string{"-c", "packbits", "-f", "lsb2msb"}},
		{"lzw", []string{"-c", "lzw"}},
		{"lzw-lsb", []string{"-c", "lzw", "-f", "lsb2msb"}},
		{"zip", []string{"-c", "zip"}},
		{"zip-strips", []string{"-c", "zip", "-r", "64"}},
		{"g4", []string{"-c", "g4"}},
		{"g4-lsb", []string{"-c", "g4", "-f", "lsb2msb"}},
		{"g4-tiled", []string{"-c", "g4", "-t", "-w", "256", "-l", "256"}},
		{"none-tiled", []string{"-c", "none", "-t", "-w", "256", "-l", "128"}},
		{"lzw-tiled", []string{"-c", "lzw", "-t"}},
		{"g3", []string{"-c", "g3"}},
		{"g3-lsb", []string{"-c", "g3", "-f", "lsb2msb"}},
		{"g3-fill", []string{"-c", "g3:fill"}},
		{"g3-2d", []string{"-c", "g3:2d"}},
		{"g3-2d-fill-lsb", []string{"-c", "g3:2d:fill", "-f", "lsb2msb"}},
		{"g3-strips", []string{"-c", "g3", "-r", "50"}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			file := filepath.Join(dir, v.name+".tif")
			ref := filepath.Join(dir, v.name+"-ref.tif")
			run(t, "tiffcp", append(append([]string{}, v.args...), src, file)...)
			run(t, "tiffcp", "-c", "none", "-f", "msb2lsb", "-s", file, ref)
			sameImages(t, v.name, decodeAll(t, file), decodeAll(t, ref))
		})
	}
}

// TestGhostscriptDevices reads what gs's TIFF devices write.
func TestGhostscriptDevices(t *testing.T) {
	dir := t.TempDir()
	ps := filepath.Join(testenv.SharedDir(t), "testdata", "chart.ps")
	for _, dev := range []string{"tiffg3", "tiffg32d", "tiffg4", "tiffcrle", "tiffpack", "tifflzw", "tiffgray", "tiff24nc", "tiff48nc", "tiff32nc"} {
		t.Run(dev, func(t *testing.T) {
			file := filepath.Join(dir, dev+".tif")
			ref := filepath.Join(dir, dev+"-ref.tif")
			res := "-r204x98"
			if dev == "tiffgray" || dev == "tiff24nc" || dev == "tiff48nc" || dev == "tiff32nc" {
				res = "-r30"
			}
			run(t, "gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sPAPERSIZE=a4", "-sDEVICE="+dev, res, "-sOutputFile="+file, ps)
			run(t, "tiffcp", "-c", "none", "-f", "msb2lsb", file, ref)
			got := decodeAll(t, file)
			if len(got) != 3 {
				t.Fatalf("%d pages, want 3", len(got))
			}
			sameImages(t, dev, got, decodeAll(t, ref))
		})
	}
	// Separate planes, with and without a predictor; tiles of colour.
	for _, v := range []struct {
		name, src string
		args      []string
	}{
		{"rgb-planar", "tiff24nc", []string{"-p", "separate"}},
		{"rgb-planar-lzw2", "tiff24nc", []string{"-p", "separate", "-c", "lzw:2"}},
		{"rgb48-zip2", "tiff48nc", []string{"-c", "zip:2"}},
		{"cmyk-planar-tiled", "tiff32nc", []string{"-p", "separate", "-t", "-w", "64", "-l", "32", "-c", "packbits"}},
		{"gray-tiled-lzw2", "tiffgray", []string{"-t", "-c", "lzw:2"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			file := filepath.Join(dir, v.name+".tif")
			run(t, "tiffcp", append(append([]string{}, v.args...), filepath.Join(dir, v.src+".tif"), file)...)
			got := decodeAll(t, file)
			sameImages(t, v.name, got, decodeAll(t, filepath.Join(dir, v.src+"-ref.tif")))
		})
	}
	// CMYK reduces to the luma of its RGB equivalent: white paper stays white.
	cmyk := decodeAll(t, filepath.Join(dir, "tiff32nc.tif"))[0].(*image.Gray)
	if cmyk.GrayAt(0, 0).Y != 255 {
		t.Errorf("CMYK paper is %d, want white", cmyk.GrayAt(0, 0).Y)
	}
}

// TestSharedCharts decodes the shared test documents and checks them
// against libtiff's uncompressed copies, page order included.
func TestSharedCharts(t *testing.T) {
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(testenv.SharedDir(t), "testdata", "chart-*.tif"))
	if len(files) == 0 {
		t.Fatal("no shared charts")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ref := filepath.Join(dir, filepath.Base(file))
			run(t, "tiffcp", "-c", "none", file, ref)
			got := decodeAll(t, file)
			sameImages(t, filepath.Base(file), got, decodeAll(t, ref))
			f := openFile(t, file)
			for i := 0; i < f.NumPages(); i++ {
				if pn := f.Page(i).PageNumber; pn != i {
					t.Errorf("page %d has PageNumber %d", i+1, pn)
				}
			}
		})
	}
}

// TestBlackIsZeroCCITT checks CCITT pages whose PhotometricInterpretation is
// BlackIsZero: libtiff codes the stored bits (0 = white run), so the page
// displays inverted, and so must ours.
func TestBlackIsZeroCCITT(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
	raw := filepath.Join(dir, "raw.tif")
	run(t, "tiffcp", "-c", "none", src, raw)
	run(t, "tiffset", "-s", "262", "1", raw)
	normal := decodeAll(t, src)[0].(*raster.Bitmap)
	for _, c := range []string{"g3", "g3:2d", "g4"} {
		file := filepath.Join(dir, "mib-"+c+".tif")
		ref := filepath.Join(dir, "mib-"+c+"-ref.tif")
		run(t, "tiffcp", "-c", c, raw, file)
		run(t, "tiffcp", "-c", "none", file, ref)
		got := decodeAll(t, file)
		sameImages(t, c, got, decodeAll(t, ref))
		bm := got[0].(*raster.Bitmap)
		if bm.Black(0, 0) == normal.Black(0, 0) {
			t.Errorf("%s: BlackIsZero page not inverted", c)
		}
	}
}
