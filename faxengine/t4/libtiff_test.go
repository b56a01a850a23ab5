package t4_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t4/internal/testpage"
	"github.com/rayofax/rayofax/faxengine/t6"
	"github.com/rayofax/rayofax/test/testenv"
)

// decodePage decodes a coded TIFF page with our decoders, each strip by
// itself as TIFF requires (every strip starts a new coding).
func decodePage(t testing.TB, p tiffPage) (*raster.Bitmap, t4.Stats, error) {
	t.Helper()
	page := raster.New(p.Width, 0)
	var total t4.Stats
	for i, strip := range p.Strips {
		rows := min(p.RowsPerStrip, p.Height-i*p.RowsPerStrip)
		b, st, err := decodeStrip(t, p, strip, rows)
		for y := 0; y < b.Height; y++ {
			page.AppendRow(b.Row(y))
		}
		total.Rows += st.Rows
		total.BadRows += st.BadRows
		total.ConsecutiveBadRows = max(total.ConsecutiveBadRows, st.ConsecutiveBadRows)
		if err != nil {
			return page, total, fmt.Errorf("strip %d: %w", i, err)
		}
	}
	return page, total, nil
}

func decodeStrip(t testing.TB, p tiffPage, data []byte, rows int) (*raster.Bitmap, t4.Stats, error) {
	msb := p.FillOrder != 2
	switch p.Compression {
	case 2, 3:
		enc := t4.MH
		if p.Compression == 2 {
			enc = t4.RLE
		} else if p.Options&1 != 0 {
			enc = t4.MR
		}
		d, err := t4.NewDecoder(p.Width, t4.DecoderOptions{Encoding: enc, MSBFirst: msb, MaxRows: rows})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Write(data); err != nil {
			return d.Bitmap(), d.Stats(), err
		}
		err = d.Close()
		return d.Bitmap(), d.Stats(), err
	case 4:
		d, err := t6.NewDecoder(p.Width, t6.DecoderOptions{MSBFirst: msb, MaxRows: rows})
		if err != nil {
			t.Fatal(err)
		}
		d.Write(data)
		err = d.Close()
		return d.Bitmap(), t4.Stats{Rows: d.Rows()}, err
	}
	t.Fatalf("compression %d", p.Compression)
	return nil, t4.Stats{}, nil
}

// diff describes the first difference between two bitmaps.
func diff(a, b *raster.Bitmap) string {
	if a.Width != b.Width || a.Height != b.Height {
		return fmt.Sprintf("size %dx%d, want %dx%d", a.Width, a.Height, b.Width, b.Height)
	}
	if raster.Equal(a, b) {
		return ""
	}
	for y := 0; y < a.Height; y++ {
		for x := 0; x < a.Width; x++ {
			if a.Black(x, y) != b.Black(x, y) {
				return fmt.Sprintf("first difference at (%d,%d)", x, y)
			}
		}
	}
	return ""
}

func checkAgainstLibtiff(t *testing.T, path string) {
	want := libtiffPixels(t, path)
	pages := readTIFF(t, path)
	if len(pages) != len(want) {
		t.Fatalf("%d pages, libtiff has %d", len(pages), len(want))
	}
	for i, p := range pages {
		got, st, err := decodePage(t, p)
		if err != nil {
			t.Errorf("page %d: %v", i+1, err)
		}
		if st.BadRows != 0 {
			t.Errorf("page %d: %d bad rows", i+1, st.BadRows)
		}
		if d := diff(got, want[i]); d != "" {
			t.Errorf("page %d: %s", i+1, d)
		}
	}
}

// TestDecodeSharedFiles decodes the Ghostscript and libtiff documents in
// ../shared/testdata and compares with libtiff's decoding.
func TestDecodeSharedFiles(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "testdata")
	files, _ := filepath.Glob(filepath.Join(dir, "chart-*.tif"))
	if len(files) == 0 {
		testenv.Missing(t, "no chart-*.tif in "+dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { checkAgainstLibtiff(t, f) })
	}
}

// TestDecodeTiffcpVariants makes G3 1D/2D, G4 and RLE files in both fill
// orders with tiffcp and decodes them.
func TestDecodeTiffcpVariants(t *testing.T) {
	tiffcp := testenv.Program(t, "tiffcp")
	src := filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
	for _, c := range []string{"g3", "g3:2d", "g3:2d:fill", "g3:1d:fill", "g4"} {
		for _, fill := range []string{"msb2lsb", "lsb2msb"} {
			t.Run(c+"-"+fill, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out.tif")
				if msg, err := exec.Command(tiffcp, "-c", c, "-f", fill, src, out).CombinedOutput(); err != nil {
					t.Fatalf("tiffcp: %v\n%s", err, msg)
				}
				checkAgainstLibtiff(t, out)
			})
		}
	}
}

// TestDecodeTiffcpWidths has libtiff code dense synthetic pages of the
// fax widths (A4, B4, A3 at 8 pels/mm, then 300 and 400 dpi) in G3 1D/2D
// and G4, in several strips, and decodes them.
func TestDecodeTiffcpWidths(t *testing.T) {
	tiffcp := testenv.Program(t, "tiffcp")
	for _, w := range []int{1728, 2048, 2432, 2592, 3456, 4864} {
		page := testpage.Dense(w, 150, int64(w))
		src := filepath.Join(t.TempDir(), "none.tif")
		writeTIFF(t, src, w, page.Height, 1, 0, 1, page.Pix)
		for _, c := range []string{"g3", "g3:2d", "g4"} {
			out := filepath.Join(t.TempDir(), "out.tif")
			if msg, err := exec.Command(tiffcp, "-c", c, "-r", "64", src, out).CombinedOutput(); err != nil {
				t.Fatalf("tiffcp: %v\n%s", err, msg)
			}
			p := readTIFF(t, out)[0]
			if len(p.Strips) < 2 {
				t.Fatalf("%d %s: want several strips, have %d", w, c, len(p.Strips))
			}
			got, st, err := decodePage(t, p)
			if err != nil || st.BadRows != 0 {
				t.Errorf("%d %s: %v, %+v", w, c, err, st)
			}
			if d := diff(got, page); d != "" {
				t.Errorf("%d %s: %s", w, c, d)
			}
		}
	}
}

// TestDecodeGhostscriptRLE decodes CCITT RLE (TIFF Compression 2), which
// libtiff cannot write, as Ghostscript's tiffcrle device makes it.
func TestDecodeGhostscriptRLE(t *testing.T) {
	gs := testenv.Program(t, "gs")
	src := filepath.Join(testenv.SharedDir(t), "testdata", "chart.ps")
	out := filepath.Join(t.TempDir(), "crle.tif")
	cmd := exec.Command(gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sPAPERSIZE=a4", "-sDEVICE=tiffcrle",
		"-r204x98", "-dFirstPage=2", "-dLastPage=2", "-sOutputFile="+out, src)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gs: %v\n%s", err, msg)
	}
	if c := readTIFF(t, out)[0].Compression; c != 2 {
		t.Fatalf("gs wrote compression %d, want 2", c)
	}
	checkAgainstLibtiff(t, out)
}

// TestEncodeForLibtiff encodes the chart with our encoders, wraps the
// pages in TIFF files and checks that libtiff reads them without a warning
// and decodes exactly our pixels.
func TestEncodeForLibtiff(t *testing.T) {
	tiffinfo := testenv.Program(t, "tiffinfo")
	src := filepath.Join(testenv.SharedDir(t), "testdata", "chart-std-g3.tif")
	pages := libtiffPixels(t, src)
	if testing.Short() {
		pages = pages[:1]
	}
	type variant struct {
		name              string
		compression, opts int
		fillOrder         int
		encode            func(*raster.Bitmap) ([]byte, error)
	}
	t4enc := func(o t4.Options) func(*raster.Bitmap) ([]byte, error) {
		return func(b *raster.Bitmap) ([]byte, error) { return t4.Encode(b, o) }
	}
	variants := []variant{
		{"mh", 3, 0, 1, t4enc(t4.Options{NoRTC: true, MSBFirst: true})},
		{"mh-align", 3, 4, 1, t4enc(t4.Options{NoRTC: true, AlignEOL: true, MSBFirst: true})},
		{"mh-lsb-rtc-fill", 3, 0, 2, t4enc(t4.Options{MinRowBits: t4.MinRowBits(14400, 20)})},
		{"mr-k2", 3, 1, 1, t4enc(t4.Options{Encoding: t4.MR, K: 2, NoRTC: true, MSBFirst: true})},
		{"mr-k4-align", 3, 5, 1, t4enc(t4.Options{Encoding: t4.MR, K: 4, NoRTC: true, AlignEOL: true, MSBFirst: true})},
		{"mr-k4-lsb-rtc", 3, 1, 2, t4enc(t4.Options{Encoding: t4.MR, K: 4})},
		{"rle", 2, 0, 1, t4enc(t4.Options{Encoding: t4.RLE, MSBFirst: true})},
		{"mmr", 4, 0, 1, func(b *raster.Bitmap) ([]byte, error) { return t6.Encode(b, t6.Options{MSBFirst: true}) }},
		{"mmr-lsb-noeofb", 4, 0, 2, func(b *raster.Bitmap) ([]byte, error) { return t6.Encode(b, t6.Options{NoEOFB: true}) }},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			var coded [][]byte
			for _, p := range pages {
				data, err := v.encode(p)
				if err != nil {
					t.Fatal(err)
				}
				coded = append(coded, data)
			}
			path := filepath.Join(t.TempDir(), v.name+".tif")
			writeTIFF(t, path, pages[0].Width, pages[0].Height, v.compression, v.opts, v.fillOrder, coded...)
			out, err := exec.Command(tiffinfo, "-D", path).CombinedOutput()
			if err != nil {
				t.Fatalf("tiffinfo -D: %v\n%s", err, out)
			}
			if s := string(out); strings.Contains(strings.ToLower(s), "warning") || strings.Contains(s, "rror") {
				t.Fatalf("tiffinfo -D complains:\n%s", firstLines(s, 10))
			}
			got := libtiffPixels(t, path)
			if len(got) != len(pages) {
				t.Fatalf("libtiff sees %d pages, want %d", len(got), len(pages))
			}
			for i := range pages {
				if d := diff(got[i], pages[i]); d != "" {
					t.Errorf("page %d: libtiff decodes %s", i+1, d)
				}
			}
			// And our own decoders read it back.
			for i, p := range readTIFF(t, path) {
				ours, st, err := decodePage(t, p)
				if err != nil || st.BadRows != 0 {
					t.Errorf("page %d: our decoder: %v, %+v", i+1, err, st)
				}
				if d := diff(ours, pages[i]); d != "" {
					t.Errorf("page %d: our decoder decodes %s", i+1, d)
				}
			}
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
