//go:build spandsp

package interop

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/test/testenv"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// oursCall sends doc from one of our terminals to another (V.17, ECM) and
// returns the pages received and the call's length in samples.
func oursCall(b *testing.B, doc, out string) (pages, samples int) {
	tx, err := faxengine.NewSender(doc, faxengine.Options{Caller: true})
	if err != nil {
		b.Fatal(err)
	}
	rx, err := faxengine.NewReceiver(out, faxengine.Options{Offline: true})
	if err != nil {
		b.Fatal(err)
	}
	x, y := make([]int16, 160), make([]int16, 160)
	n := 0
	for ; n < 8000*600 && !(tx.Done() && rx.Done()); n += 160 {
		tx.Tx(x)
		rx.Tx(y)
		rx.Rx(x)
		tx.Rx(y)
	}
	rx.Close()
	if r := rx.Report(); r.Result != t30.OK {
		b.Fatalf("our call failed: %+v", r)
	}
	return rx.Report().Pages, n
}

// spandspCall does the same with two spandsp terminals.
func spandspCall(b *testing.B, doc, out string) (pages, samples int) {
	tx, err := NewSpanFax(true)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	rx, err := NewSpanFax(false)
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	for _, f := range []*SpanFax{tx, rx} {
		f.SetECM(true)
		f.SetModems(FaxV27ter | FaxV29 | FaxV17)
	}
	tx.SetTxFile(doc)
	rx.SetRxFile(out)
	x, y := make([]int16, 160), make([]int16, 160)
	n := 0
	for ; n < 8000*600 && !(tx.Done() && rx.Done()); n += 160 {
		tx.Tx(x)
		rx.Tx(y)
		rx.Rx(x)
		tx.Rx(y)
	}
	r := rx.Result()
	if !r.OK() {
		b.Fatalf("spandsp call failed: %v", r)
	}
	return r.Pages, n
}

// BenchmarkT30ThreePageV17ECM measures the CPU time of a whole 3-page V.17
// ECM fax call (both terminals, file reading and writing included): ours
// (two rayofax terminals) beside spandsp's two fax_state_t terminals in the
// same run. ours/spandsp ≤ 1 means ours costs no more.
func BenchmarkT30ThreePageV17ECM(b *testing.B) {
	doc := filepath.Join(testenv.SharedDir(b), "testdata", "chart-fine-g3.tif")
	dir := b.TempDir()
	var ours, ref time.Duration
	pages, oursLen, refLen := 0, 0, 0
	b.ResetTimer()
	for range b.N {
		c0 := cpuTime()
		pages, oursLen = oursCall(b, doc, filepath.Join(dir, "ours.tif"))
		c1 := cpuTime()
		p, n := spandspCall(b, doc, filepath.Join(dir, "spandsp.tif"))
		if p != pages {
			b.Fatalf("spandsp moved %d pages, ours %d", p, pages)
		}
		refLen = n
		c2 := cpuTime()
		ours += c1 - c0
		ref += c2 - c1
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(ours.Seconds()/n, "cpu-s/call")
	b.ReportMetric(ours.Seconds()/n/float64(pages), "cpu-s/page")
	b.ReportMetric(ref.Seconds()/n, "spandsp-cpu-s/call")
	// The calls' lengths in line time: CPU per call also depends on how
	// long the protocol keeps the line busy.
	b.ReportMetric(float64(oursLen)/8000, "audio-s/call")
	b.ReportMetric(float64(refLen)/8000, "spandsp-audio-s/call")
	b.ReportMetric(ref.Seconds()/n/float64(pages), "spandsp-cpu-s/page")
	if ref > 0 {
		b.ReportMetric(float64(ours)/float64(ref), "ours/spandsp")
	}
}
