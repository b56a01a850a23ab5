package main

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/test/testenv"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		page int
	}{
		{[]string{"a", "b", "--page", "3"}, []string{"a", "b"}, 3},
		{[]string{"--page=2", "a", "b"}, []string{"a", "b"}, 2},
		{[]string{"a", "-page", "4", "b"}, []string{"a", "b"}, 4},
		{[]string{"a", "--", "--page", "b"}, []string{"a", "--page", "b"}, 1},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		page := fs.Int("page", 1, "")
		pos, err := parseArgs(fs, tc.args)
		if err != nil || !reflect.DeepEqual(pos, tc.pos) || *page != tc.page {
			t.Errorf("%q: %q page %d err %v", tc.args, pos, *page, err)
		}
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Int("page", 1, "")
	if _, err := parseArgs(fs, []string{"a", "--nope"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

// toolBinary builds the rayofax command once per test run.
func toolBinary(t *testing.T) string {
	t.Helper()
	if binPath != "" {
		return binPath
	}
	dir, err := os.MkdirTemp("", "rayofax-bin")
	if err != nil {
		t.Fatal(err)
	}
	binPath = filepath.Join(dir, "rayofax")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		binPath = ""
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return binPath
}

var binPath string

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// rayofax runs the built tool and returns its exit code and output.
func rayofax(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(toolBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "goroutine") {
		t.Fatalf("rayofax %q panicked:\n%s", args, stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

func decodeFile(t *testing.T, name string) []*raster.Bitmap {
	t.Helper()
	pages, err := tiff.ReadBitmaps(name)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func tool(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(testenv.Program(t, name), args...).CombinedOutput()
	if err != nil || (name == "tiffinfo" && strings.Contains(string(out), "Warning")) {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

func TestToolEndToEnd(t *testing.T) {
	shared := filepath.Join(testenv.SharedDir(t), "testdata")
	dir := t.TempDir()
	chart := filepath.Join(shared, "chart-fine-g32d.tif")

	t.Run("usage", func(t *testing.T) {
		if code, _, stderr := rayofax(t); code != 2 || !strings.Contains(stderr, "tiff") {
			t.Errorf("no arguments: exit %d\n%s", code, stderr)
		}
		if code, _, _ := rayofax(t, "frobnicate"); code != 2 {
			t.Errorf("unknown command: exit %d", code)
		}
		if code, _, stderr := rayofax(t, "tiff", "convert", chart, "x.tif", "--compression", "jbig"); code != 2 || !strings.Contains(stderr, "jbig") {
			t.Errorf("bad compression: exit %d\n%s", code, stderr)
		}
		if code, _, _ := rayofax(t, "tiff", "info"); code != 2 {
			t.Errorf("missing FILE: exit %d", code)
		}
		if code, _, _ := rayofax(t, "tiff", "render", chart, "x.png", "--page", "x"); code != 2 {
			t.Errorf("bad --page: exit %d", code)
		}
		if code, stdout, _ := rayofax(t, "help", "tiff"); code != 0 || !strings.Contains(stdout, "tiff render IN OUT.png") {
			t.Errorf("help tiff: exit %d\n%s", code, stdout)
		}
	})

	t.Run("info", func(t *testing.T) {
		code, stdout, stderr := rayofax(t, "tiff", "info", chart)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, want := range []string{"3 page(s)", "page 3: 1728x2292, 204x196 dpi, compression CCITT T.4 (G3) MR, byte-aligned EOL, fill order 1"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("info lacks %q:\n%s", want, stdout)
			}
		}
	})

	t.Run("convert", func(t *testing.T) {
		src := decodeFile(t, chart)
		for _, c := range []string{"mh", "mr", "mmr", "none"} {
			out := filepath.Join(dir, "conv-"+c+".tif")
			// Options after the positionals, pages out of order.
			code, _, stderr := rayofax(t, "tiff", "convert", chart, out, "--compression", c, "--pages", "3,1")
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", c, code, stderr)
			}
			tool(t, "tiffinfo", "-D", out)
			ref := filepath.Join(dir, "conv-"+c+"-ref.tif")
			tool(t, "tiffcp", "-c", "none", out, ref)
			got := decodeFile(t, ref)
			// A fax page is kept exactly, in document order.
			if len(got) != 2 || !raster.Equal(got[0], src[0]) || !raster.Equal(got[1], src[2]) {
				t.Errorf("%s: pages not kept exactly (%d pages)", c, len(got))
			}
		}
	})

	t.Run("convert-resize-header", func(t *testing.T) {
		out := filepath.Join(dir, "std-b4.tif")
		code, stdout, stderr := rayofax(t, "tiff", "--resolution", "standard", "convert", "--width=b4", chart, "--header", "ACME", out,
			"--ident", "+1 555 0100", "--date", "2026-11-25T21:00:00Z", "--compression", "mmr")
		if code != 2 {
			// "tiff" itself takes no flags: the subcommand must come first.
			t.Fatalf("flags before the subcommand: exit %d %s %s", code, stdout, stderr)
		}
		code, _, stderr = rayofax(t, "tiff", "convert", "--resolution", "standard", "--width=b4", chart, "--header", "ACME", out,
			"--ident", "+1 555 0100", "--date", "2026-11-25T21:00:00Z", "--compression", "mmr")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		tool(t, "tiffinfo", "-D", out)
		f, err := tiff.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if f.NumPages() != 3 {
			t.Fatalf("%d pages", f.NumPages())
		}
		for i := 0; i < 3; i++ {
			p := f.Page(i)
			if p.Width != 2048 || p.XRes != 204 || p.YRes != 98 || p.Height > 1404 || p.Compression != tiff.CompressionT6 || p.PageNumber != i || p.PageTotal != 3 {
				t.Errorf("page %d: %+v", i+1, p)
			}
		}
		// Deterministic with --date.
		again := filepath.Join(dir, "std-b4-again.tif")
		rayofax(t, "tiff", "convert", "--resolution", "standard", "--width=b4", chart, "--header", "ACME", again,
			"--ident", "+1 555 0100", "--date", "2026-11-25T21:00:00Z", "--compression", "mmr")
		a, b := decodeFile(t, out), decodeFile(t, again)
		for i := range a {
			if !raster.Equal(a[i], b[i]) {
				t.Errorf("page %d differs between runs", i+1)
			}
		}
	})

	t.Run("convert-gray", func(t *testing.T) {
		gray := filepath.Join(dir, "gray.tif")
		tool(t, "gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sPAPERSIZE=a4", "-sDEVICE=tiffgray", "-r72", "-sOutputFile="+gray, filepath.Join(shared, "chart.ps"))
		out := filepath.Join(dir, "gray-fax.tif")
		if code, _, stderr := rayofax(t, "tiff", "convert", gray, out, "--resolution", "fine"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		tool(t, "tiffinfo", "-D", out)
		pages := decodeFile(t, out)
		if len(pages) != 3 || pages[0].Width != 1728 || pages[0].Height < 2280 || pages[0].Height > 2292 {
			t.Errorf("%d pages, first %dx%d", len(pages), pages[0].Width, pages[0].Height)
		}
	})

	t.Run("render", func(t *testing.T) {
		out := filepath.Join(dir, "p2.png")
		if code, _, stderr := rayofax(t, "tiff", "render", "--page", "2", chart, out); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		src := decodeFile(t, chart)[1]
		if img.Bounds() != src.Bounds() {
			t.Fatalf("png %v", img.Bounds())
		}
		for y := 0; y < src.Height; y += 7 {
			for x := 0; x < src.Width; x += 3 {
				r, _, _, _ := img.At(x, y).RGBA()
				if (r < 0x8000) != src.Black(x, y) {
					t.Fatalf("pixel (%d,%d) differs", x, y)
				}
			}
		}
		if code, _, stderr := rayofax(t, "tiff", "render", chart, out, "--page", "4"); code != 1 || !strings.Contains(stderr, "3 page(s)") {
			t.Errorf("page past end: exit %d %s", code, stderr)
		}
	})

	t.Run("bad-input", func(t *testing.T) {
		notTIFF := filepath.Join(dir, "not.tif")
		os.WriteFile(notTIFF, []byte("%PDF-1.4\nnot a tiff at all\n"), 0o644)
		b, _ := os.ReadFile(chart)
		trunc := filepath.Join(dir, "trunc.tif")
		os.WriteFile(trunc, b[:len(b)/2], 0o644)
		corrupt := filepath.Join(dir, "corrupt.tif")
		c := append([]byte(nil), b...)
		for i := 2000; i < 2600; i++ {
			c[i] = 0
		}
		os.WriteFile(corrupt, c, 0o644)
		huge := filepath.Join(dir, "huge.tif")
		os.WriteFile(huge, hugeDims(t, b), 0o644)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"tiff", "info", notTIFF}, "not a TIFF"},
			{[]string{"tiff", "info", filepath.Join(dir, "missing.tif")}, "no such file"},
			{[]string{"tiff", "convert", trunc, filepath.Join(dir, "o1.tif")}, "past the end of the file"},
			{[]string{"tiff", "convert", corrupt, filepath.Join(dir, "o2.tif")}, "damaged rows"},
			{[]string{"tiff", "info", huge}, "exceeds the limit"},
			{[]string{"tiff", "convert", chart, filepath.Join(dir, "o3.tif"), "--pages", "1-2,4"}, "range 4 is past the end of the document (3 pages)"},
			{[]string{"tiff", "convert", chart, filepath.Join(dir, "o4.tif"), "--pages", "1-4,5,7-9"}, "range 1-4 is past the end"},
		} {
			code, _, stderr := rayofax(t, tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("%q: exit %d, stderr %q; want 1 and %q", tc.args, code, stderr, tc.want)
			}
		}
		for _, o := range []string{"o1.tif", "o2.tif", "o3.tif", "o1.tif.tmp", "o2.tif.tmp"} {
			if _, err := os.Stat(filepath.Join(dir, o)); err == nil {
				t.Errorf("%s left behind after a failure", o)
			}
		}
	})
}

// hugeDims rewrites the first page's ImageLength of a little-endian TIFF
// to 2^31.
func hugeDims(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := tiff.NewReader(bytes.NewReader(b), int64(len(b)), tiff.DefaultLimits)
	if err != nil || string(b[:2]) != "II" {
		t.Fatalf("%v", err)
	}
	_ = r
	out := append([]byte(nil), b...)
	ifd := int(out[4]) | int(out[5])<<8 | int(out[6])<<16 | int(out[7])<<24
	n := int(out[ifd]) | int(out[ifd+1])<<8
	for i := 0; i < n; i++ {
		e := out[ifd+2+12*i:]
		if tag := int(e[0]) | int(e[1])<<8; tag == 257 {
			e[2], e[3] = 4, 0 // LONG
			e[4], e[5], e[6], e[7] = 1, 0, 0, 0
			e[8], e[9], e[10], e[11] = 0, 0, 0, 0x80
		}
	}
	return out
}
