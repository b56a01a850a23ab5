package tiff

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/test/testenv"
)

var allCodings = []Coding{Uncompressed, MH, MR, MMR}

// chartPages returns the three pages of the shared standard-resolution
// chart (decoded from the G4 copy).
func chartPages(t testing.TB) []*raster.Bitmap {
	t.Helper()
	f := openFile(t, filepath.Join(testenv.SharedDir(t), "testdata", "chart-std-tiffcp-g4.tif"))
	var out []*raster.Bitmap
	for i := 0; i < f.NumPages(); i++ {
		bm, err := f.DecodeBitmap(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bm)
	}
	return out
}

// tiffinfoClean runs tiffinfo -D and fails on any warning or error.
func tiffinfoClean(t *testing.T, file string) string {
	t.Helper()
	cmd := exec.Command(testenv.Program(t, "tiffinfo"), "-D", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("tiffinfo -D %s: %v\n%s", filepath.Base(file), err, stderr.String())
	}
	return stdout.String()
}

func TestWriterLibtiff(t *testing.T) {
	pages := chartPages(t)
	dir := t.TempDir()
	when := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	for _, c := range allCodings {
		for _, fo := range []int{1, 2} {
			name := c.String() + "-fo" + string(rune('0'+fo))
			t.Run(name, func(t *testing.T) {
				file := filepath.Join(dir, name+".tif")
				w, err := Create(file, WriterOptions{Coding: c, FillOrder: fo, ByteAlignEOL: fo == 2})
				if err != nil {
					t.Fatal(err)
				}
				for i, p := range pages {
					meta := PageMeta{Time: when}
					if i == 1 {
						meta.BadLines, meta.ConsecutiveBadLines, meta.Regenerated = 7, 3, true
					}
					if err := w.WritePage(p, meta); err != nil {
						t.Fatal(err)
					}
					// Valid after every page: libtiff sees exactly i+1 pages.
					info := tiffinfoClean(t, file)
					if n := strings.Count(info, "TIFF Directory at offset"); n != i+1 {
						t.Fatalf("after page %d libtiff sees %d pages", i+1, n)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				info := tiffinfoClean(t, file)
				wants := []string{"Page Number: 0-3", "Page Number: 2-3", "Resolution: 204, 98 pixels/inch",
					"DateTime: 2026:11:25 12:30:00", "Software: rayofax", "FillOrder: "}
				if c != Uncompressed {
					wants = append(wants, "Bad Fax Lines: 7", "Consecutive Bad Fax Lines: 3", "Fax Data: receiver regenerated")
				}
				for _, want := range wants {
					if !strings.Contains(info, want) {
						t.Errorf("tiffinfo lacks %q:\n%s", want, info)
					}
				}
				// libtiff decodes exactly our pixels.
				ref := filepath.Join(dir, name+"-ref.tif")
				run(t, "tiffcp", "-c", "none", "-f", "msb2lsb", file, ref)
				got := decodeAll(t, ref)
				if len(got) != len(pages) {
					t.Fatalf("%d pages back, want %d", len(got), len(pages))
				}
				for i := range pages {
					if !raster.Equal(got[i].(*raster.Bitmap), pages[i]) {
						t.Errorf("page %d: libtiff decodes different pixels", i+1)
					}
				}
				// And so do we.
				for i, img := range decodeAll(t, file) {
					if !raster.Equal(img.(*raster.Bitmap), pages[i]) {
						t.Errorf("page %d: our reader decodes different pixels", i+1)
					}
				}
			})
		}
	}
}

// memFile is an in-memory io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// TestWriterPrefixValid checks that a file cut off after any page is a valid
// TIFF of the pages so far, and that the odd-width, odd-length page round
// trips.
func TestWriterPrefixValid(t *testing.T) {
	for _, c := range []Coding{Uncompressed, MMR} {
		t.Run(c.String(), func(t *testing.T) {
			m := &memFile{}
			w, err := NewWriter(m, WriterOptions{Coding: c})
			if err != nil {
				t.Fatal(err)
			}
			var want []*raster.Bitmap
			for i := 0; i < 3; i++ {
				bm := raster.New(1728+i, 17+i)
				bm.XRes, bm.YRes = 203.2, 195.6
				for y := 0; y < bm.Height; y++ {
					for x := (y * 7) % 13; x < bm.Width; x += 3 + i {
						bm.Set(x, y, true)
					}
				}
				if err := w.WritePage(bm, PageMeta{}); err != nil {
					t.Fatal(err)
				}
				want = append(want, bm)
				snapshot := append([]byte(nil), m.b...)
				r, err := NewReader(bytes.NewReader(snapshot), int64(len(snapshot)), DefaultLimits)
				if err != nil {
					t.Fatalf("after page %d: %v", i+1, err)
				}
				if r.NumPages() != i+1 {
					t.Fatalf("after page %d: %d pages", i+1, r.NumPages())
				}
				for k := range want {
					got, err := r.DecodeBitmap(k)
					if err != nil {
						t.Fatal(err)
					}
					if !raster.Equal(got, want[k]) {
						t.Fatalf("after page %d: page %d differs", i+1, k+1)
					}
					if got.XRes != 204 || got.YRes != 196 {
						t.Fatalf("resolution %vx%v, want 204x196", got.XRes, got.YRes)
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.WritePage(want[0], PageMeta{}); err == nil {
				t.Fatal("WritePage after Close succeeded")
			}
			r, err := NewReader(bytes.NewReader(m.b), int64(len(m.b)), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if p := r.Page(i); p.PageNumber != i || p.PageTotal != 3 {
					t.Errorf("page %d: PageNumber %d/%d", i+1, p.PageNumber, p.PageTotal)
				}
			}
		})
	}
}

func TestCreateSync(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.tif")
	w, err := Create(file, WriterOptions{Coding: Uncompressed})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePage(raster.New(1728, 10), PageMeta{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
}

// ReadBitmaps gives back the pages written, and names the file when it
// cannot.
func TestReadBitmaps(t *testing.T) {
	want := chartPages(t)
	file := filepath.Join(t.TempDir(), "x.tif")
	w, err := Create(file, WriterOptions{Coding: MMR})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want {
		if err := w.WritePage(p, PageMeta{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBitmaps(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d pages, want %d", len(got), len(want))
	}
	for i := range want {
		if !raster.Equal(got[i], want[i]) {
			t.Errorf("page %d differs", i+1)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.tif")
	if err := os.WriteFile(bad, []byte("II*\x00junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{bad, filepath.Join(t.TempDir(), "missing.tif")} {
		if _, err := ReadBitmaps(name); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("ReadBitmaps(%s): error %v does not name the file", name, err)
		}
	}
}

// TestDamagedReceivedPage checks that a G3 page declaring itself received
// with errors (BadFaxLines, as HylaFAX writes the data as it came) decodes
// with its damaged rows regenerated, while the same damage in a page
// claiming to be clean is an error.
func TestDamagedReceivedPage(t *testing.T) {
	pages := chartPages(t)
	for _, declared := range []bool{true, false} {
		m := &memFile{}
		w, _ := NewWriter(m, WriterOptions{Coding: MH})
		meta := PageMeta{}
		if declared {
			meta.BadLines, meta.ConsecutiveBadLines = 1, 1
		}
		if err := w.WritePage(pages[0], meta); err != nil {
			t.Fatal(err)
		}
		w.Close()
		for i := 3000; i < 3040; i++ { // inside the strip, which starts at 8
			m.b[i] = 0xff
		}
		for i := len(m.b) - 600; i < len(m.b)-400; i++ { // near its end
			m.b[i] = 0
		}
		r, err := NewReader(bytes.NewReader(m.b), int64(len(m.b)), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		bm, err := r.DecodeBitmap(0)
		if !declared {
			if err == nil || !strings.Contains(err.Error(), "damaged rows") {
				t.Errorf("clean page with damage: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("declared damaged page: %v", err)
		}
		if bm.Width != pages[0].Width || bm.Height != pages[0].Height || raster.Equal(bm, pages[0]) {
			t.Errorf("damaged page: %dx%d, equal to the original %v", bm.Width, bm.Height, raster.Equal(bm, pages[0]))
		}
	}
}

// TestWriterWidthsLibtiff writes B4, A3 and 16 pels/mm pages and checks
// libtiff decodes exactly their pixels.
func TestWriterWidthsLibtiff(t *testing.T) {
	dir := t.TempDir()
	var pages []*raster.Bitmap
	for i, w := range []int{2048, 2432, 3456, 4864} {
		bm := raster.New(w, 120+i)
		bm.XRes, bm.YRes = 204, 196
		if w > 2432 {
			bm.XRes, bm.YRes = 408, 391
		}
		for y := 0; y < bm.Height; y++ {
			for x := (y * 5) % 11; x < w; x += 1 + (x*y)%17 {
				bm.Set(x, y, true)
			}
		}
		pages = append(pages, bm)
	}
	for _, c := range []Coding{MH, MR, MMR} {
		file := filepath.Join(dir, c.String()+".tif")
		w, err := Create(file, WriterOptions{Coding: c, FillOrder: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if err := w.WritePage(p, PageMeta{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		tiffinfoClean(t, file)
		ref := filepath.Join(dir, c.String()+"-ref.tif")
		run(t, "tiffcp", "-c", "none", "-f", "msb2lsb", file, ref)
		for i, img := range decodeAll(t, ref) {
			if !raster.Equal(img.(*raster.Bitmap), pages[i]) {
				t.Errorf("%v: page %d (%d wide): libtiff decodes different pixels", c, i+1, pages[i].Width)
			}
		}
	}
}
