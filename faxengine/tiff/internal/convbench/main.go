// Command convbench compares whole-file TIFF conversion by package tiff
// with libtiff's tiffcp, for `make bench`: the 3-page fine chart, repeated
// to amortise tiffcp's process start, converted from MH to MH, MR and MMR
// (and to uncompressed). Both sides read and write real files; CPU time
// (user+system) is measured, the best of several runs counts.
//
// Usage: go run ./faxengine/tiff/internal/convbench [-copies N] [-runs N]
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

	"github.com/rayofax/rayofax/faxengine/tiff"
)

var (
	copies = flag.Int("copies", 10, "copies of the 3-page chart in the input file")
	runs   = flag.Int("runs", 5, "runs of each measurement (the fastest counts)")
	chart  = flag.String("chart", "../shared/testdata/chart-fine-g3.tif", "the chart")
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func best(f func() time.Duration) time.Duration {
	var m time.Duration
	for i := 0; i < *runs; i++ {
		if d := f(); i == 0 || d < m {
			m = d
		}
	}
	return m
}

func ours(in, out string, c tiff.Coding) (int, time.Duration) {
	start := cpuNow()
	r, err := tiff.Open(in)
	if err != nil {
		log.Fatal(err)
	}
	w, err := tiff.Create(out, tiff.WriterOptions{Coding: c})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < r.NumPages(); i++ {
		bm, err := r.DecodeBitmap(i)
		if err != nil {
			log.Fatal(err)
		}
		if err := w.WritePage(bm, tiff.PageMeta{}); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	r.Close()
	return r.NumPages(), cpuNow() - start
}

func tiffcp(path string, args ...string) time.Duration {
	cmd := exec.Command(path, args...)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		log.Fatalf("tiffcp %v: %v %s", args, err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func main() {
	flag.Parse()
	tcp, err := exec.LookPath("tiffcp")
	if err != nil {
		log.Fatal("tiffcp not found (make deps)")
	}
	dir, err := os.MkdirTemp("", "convbench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.tif")
	args := []string{"-c", "g3"}
	for i := 0; i < *copies; i++ {
		args = append(args, *chart)
	}
	tiffcp(tcp, append(args, in)...)

	fmt.Printf("TIFF conversion of %d copies of %s (MH in), CPU time, best of %d:\n", *copies, filepath.Base(*chart), *runs)
	for _, tc := range []struct {
		c   tiff.Coding
		opt string
	}{{tiff.MH, "g3"}, {tiff.MR, "g3:2d"}, {tiff.MMR, "g4"}, {tiff.Uncompressed, "none"}} {
		out := filepath.Join(dir, "out.tif")
		var pages int
		our := best(func() time.Duration {
			n, d := ours(in, out, tc.c)
			pages = n
			return d
		})
		lib := best(func() time.Duration { return tiffcp(tcp, "-c", tc.opt, in, out) })
		ourRate := float64(pages) / our.Seconds()
		libRate := float64(pages) / lib.Seconds()
		fmt.Printf("  to %-12v rayofax %7.0f pages/s   tiffcp -c %-5s %7.0f pages/s   ratio %.2f\n",
			tc.c, ourRate, tc.opt, libRate, ourRate/libRate)
	}
}
