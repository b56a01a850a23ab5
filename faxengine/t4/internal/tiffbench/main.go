// Command tiffbench compares the speed of the t4/t6 codecs with libtiff's
// (tiffcp) on the same A4 fine pages, for `make bench`. It measures CPU
// time (user+system), not wall time, so that other load on the machine
// disturbs the comparison less; tiffcp's figure includes its process start
// and file I/O, amortised over many copies of the page in one file, and
// the plain copy time (`tiffcp -c none` of the uncompressed file) is
// printed beside it for reference.
//
// Usage: go run ./faxengine/t4/internal/tiffbench [-pages N] [-runs N]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t4/internal/minitiff"
	"github.com/rayofax/rayofax/faxengine/t4/internal/testpage"
	"github.com/rayofax/rayofax/faxengine/t6"
)

var (
	copies = flag.Int("pages", 20, "copies of each page per file")
	runs   = flag.Int("runs", 5, "runs of each measurement (the fastest counts)")
	chart  = flag.String("chart", "../shared/testdata/chart-fine-g3.tif", "G3 TIFF whose first page is also measured")
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// best runs f *runs times and returns its smallest CPU time.
func best(f func() time.Duration) time.Duration {
	var min time.Duration
	for i := 0; i < *runs; i++ {
		if d := f(); i == 0 || d < min {
			min = d
		}
	}
	return min
}

func tiffcp(tiffcpPath string, args ...string) time.Duration {
	cmd := exec.Command(tiffcpPath, args...)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		log.Fatalf("tiffcp %v: %v %s", args, err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

type scheme struct {
	name, tiffcpOpt string
	encode          func(p *raster.Bitmap) ([]byte, error)
	decode          func(width, height int, data []byte) error // one strip
}

var schemes = []scheme{
	{"MH", "g3", func(p *raster.Bitmap) ([]byte, error) {
		return t4.Encode(p, t4.Options{NoRTC: true, MSBFirst: true})
	}, func(w, h int, data []byte) error { return decode4(t4.MH, w, h, data) }},
	{"MR", "g3:2d", func(p *raster.Bitmap) ([]byte, error) {
		return t4.Encode(p, t4.Options{Encoding: t4.MR, K: 4, NoRTC: true, MSBFirst: true})
	}, func(w, h int, data []byte) error { return decode4(t4.MR, w, h, data) }},
	{"MMR", "g4", func(p *raster.Bitmap) ([]byte, error) {
		return t6.Encode(p, t6.Options{NoEOFB: true, MSBFirst: true})
	}, decode6},
}

// The decoders are made once per width and reset for each strip, as a
// TIFF reader would; rows go into a bitmap allocated once.
var (
	out  *raster.Bitmap
	outY int
	d4   = map[t4.Encoding]*t4.Decoder{}
	d6   *t6.Decoder
)

func putRow(row []byte) {
	if outY < out.Height {
		copy(out.Row(outY), row)
	}
	outY++
}

func decode4(enc t4.Encoding, w, h int, data []byte) error {
	d := d4[enc]
	if d == nil {
		var err error
		d, err = t4.NewDecoder(w, t4.DecoderOptions{Encoding: enc, MSBFirst: true,
			OnRow: func(row []byte, bad bool) { putRow(row) }})
		if err != nil {
			return err
		}
		d4[enc] = d
	}
	d.Reset()
	d.Write(data)
	d.Close()
	if st := d.Stats(); st.Rows != h || st.BadRows != 0 {
		return fmt.Errorf("decoded %+v, want %d good rows", st, h)
	}
	return nil
}

func decode6(w, h int, data []byte) error {
	if d6 == nil {
		var err error
		if d6, err = t6.NewDecoder(w, t6.DecoderOptions{MSBFirst: true, OnRow: putRow}); err != nil {
			return err
		}
	}
	d6.Reset()
	d6.Write(data)
	if err := d6.Close(); err != nil {
		return err
	}
	if d6.Rows() != h {
		return fmt.Errorf("decoded %d rows, want %d", d6.Rows(), h)
	}
	return nil
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("tiffbench: ")
	tiffcpPath, err := exec.LookPath("tiffcp")
	if err != nil {
		log.Fatal("tiffcp not found (run `make deps`)")
	}
	dir, err := os.MkdirTemp("", "tiffbench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	pages := []struct {
		name string
		bm   *raster.Bitmap
	}{{"dense", testpage.Dense(1728, 2292, 1)}}
	if b, err := os.ReadFile(*chart); err == nil {
		tp, err := minitiff.Parse(b)
		if err != nil || len(tp) == 0 || tp[0].Compression != 3 {
			log.Fatalf("%s: not a G3 TIFF (%v)", *chart, err)
		}
		d, _ := t4.NewDecoder(tp[0].Width, t4.DecoderOptions{MSBFirst: true, Encoding: t4.MH})
		d.Write(tp[0].Data)
		d.Close()
		pages = append(pages, struct {
			name string
			bm   *raster.Bitmap
		}{"chart", d.Bitmap()})
	}

	n := *copies
	fmt.Printf("t4/t6 vs libtiff tiffcp: CPU ms per A4 fine page (1728 pels), best of %d runs of %d pages; ratio = ours/libtiff (<1: faster)\n", *runs, n)
	fmt.Printf("%-6s %-5s %-7s %9s %9s %7s %12s\n", "page", "code", "op", "ours", "libtiff", "ratio", "tiffcp-copy")
	for _, pg := range pages {
		p := pg.bm
		out = raster.New(p.Width, p.Height)
		raw := make([][]byte, n)
		for i := range raw {
			raw[i] = p.Pix
		}
		none := filepath.Join(dir, "none.tif")
		if err := os.WriteFile(none, minitiff.Write(p.Width, p.Height, 1, 0, 1, raw...), 0o644); err != nil {
			log.Fatal(err)
		}
		copyTime := best(func() time.Duration { return tiffcp(tiffcpPath, "-c", "none", none, filepath.Join(dir, "copy.tif")) })
		perPage := func(d time.Duration) float64 { return float64(d) / float64(n) / 1e6 }
		for _, s := range schemes {
			coded := filepath.Join(dir, s.name+".tif")
			libEnc := best(func() time.Duration { return tiffcp(tiffcpPath, "-c", s.tiffcpOpt, none, coded) })
			ourEnc := best(func() time.Duration {
				t0 := cpuNow()
				for i := 0; i < n; i++ {
					if _, err := s.encode(p); err != nil {
						log.Fatal(err)
					}
				}
				return cpuNow() - t0
			})
			// Decode libtiff's coding of the page, so both decoders see
			// the same bits.
			b, err := os.ReadFile(coded)
			if err != nil {
				log.Fatal(err)
			}
			tp, err := minitiff.Parse(b)
			if err != nil || len(tp) != n {
				log.Fatalf("%s: %d pages, %v", coded, len(tp), err)
			}
			libDec := best(func() time.Duration { return tiffcp(tiffcpPath, "-c", "none", coded, filepath.Join(dir, "dec.tif")) })
			ourDec := best(func() time.Duration {
				t0 := cpuNow()
				for i := 0; i < n; i++ {
					pg := tp[i]
					outY = 0
					for k, strip := range pg.Strips {
						rows := min(pg.RowsPerStrip, pg.Height-k*pg.RowsPerStrip)
						if err := s.decode(pg.Width, rows, strip); err != nil {
							log.Fatalf("%s: decoding libtiff's page: %v", s.name, err)
						}
					}
				}
				return cpuNow() - t0
			})
			if !raster.Equal(out, p) {
				log.Fatalf("%s: decoded page differs", s.name)
			}
			for _, r := range []struct {
				op        string
				ours, lib time.Duration
			}{{"encode", ourEnc, libEnc}, {"decode", ourDec, libDec}} {
				fmt.Printf("%-6s %-5s %-7s %9.3f %9.3f %7.2f %12.3f\n", pg.name, s.name, r.op,
					perPage(r.ours), perPage(r.lib), float64(r.ours)/float64(r.lib), perPage(copyTime))
			}
		}
	}
}
