package faxengine

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/test/linesim"
	"github.com/rayofax/rayofax/test/testenv"
)

// Full calls between two of our terminals through audio, with the real
// modems, over a simulated line: the Go-to-Go half of the interop matrix
// (test/interop holds the spandsp half).

type loopCase struct {
	name      string
	doc       string
	senderCal bool
	o         Options // applied to both ends (roles and idents are set here)
	want      t30.Rate
	wantEnc   t30.Encoding
	noise     float64 // dBm0, linesim.NoNoise for none
	gain      float64
	gapMs     int
	gapAtMs   int            // where the gap starts after the sender's phase C begins (0: 1000)
	hangupAt  int            // pages received when the line is cut (0: never)
	rxOpts    func(*Options) // changes to the receiver's options only
}

type loopResult struct {
	tx, rx   Report
	sent     Document
	received []*raster.Bitmap
	gapped   bool
}

func runLoop(t *testing.T, c loopCase) loopResult {
	t.Helper()
	doc := c.doc
	if !filepath.IsAbs(doc) {
		doc = filepath.Join(testenv.SharedDir(t), "testdata", c.doc)
	}
	out := filepath.Join(t.TempDir(), "rx.tif")
	var res loopResult
	phaseC, now := -1, 0
	so := c.o
	so.Caller, so.Ident = c.senderCal, "+4930123"
	so.OnEvent = func(e t30.Event) {
		if e.Kind == t30.EventPhase && e.Phase == t30.PhaseC && phaseC < 0 {
			phaseC = now
		}
	}
	ro := c.o
	ro.Caller, ro.Ident = !c.senderCal, "+15551234567"
	if c.rxOpts != nil {
		c.rxOpts(&ro)
	}
	tx, err := NewSender(doc, so)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := NewReceiver(out, ro)
	if err != nil {
		t.Fatal(err)
	}
	if res.sent, err = LoadDocument(doc, so); err != nil {
		t.Fatal(err)
	}
	ab := linesim.New(linesim.Config{GainDB: c.gain, NoiseDBm0: c.noise, Seed: 1})
	ba := linesim.New(linesim.Config{GainDB: c.gain, NoiseDBm0: c.noise, Seed: 2})
	a, b := make([]int16, 160), make([]int16, 160)
	var ia, ib []int16
	for ; now < 8000*600 && !(tx.Done() && rx.Done()); now += 160 {
		tx.Tx(a)
		rx.Tx(b)
		if c.gapMs > 0 && phaseC >= 0 {
			from := phaseC + 8000
			if c.gapAtMs > 0 {
				from = phaseC + 8*c.gapAtMs
			}
			for i := range a {
				if n := now + i; n >= from && n < from+c.gapMs*8 {
					a[i], b[i] = 0, 0
					res.gapped = true
				}
			}
		}
		if c.hangupAt > 0 && rx.Report().Pages >= c.hangupAt {
			tx.Hangup()
			rx.Hangup()
			break
		}
		ia = ab.Process(ia[:0], a)
		ib = ba.Process(ib[:0], b)
		rx.Rx(ia)
		tx.Rx(ib)
	}
	tx.Close()
	rx.Close()
	res.tx, res.rx = tx.Report(), rx.Report()
	if res.rx.File != "" {
		res.received = readPages(t, out)
	}
	return res
}

func TestLoopbackMatrix(t *testing.T) {
	v17 := t30.Rate{Modulation: t30.V17, BitRate: 14400}
	v29 := t30.Rate{Modulation: t30.V29, BitRate: 9600}
	v27 := t30.Rate{Modulation: t30.V27ter, BitRate: 4800}
	cases := []loopCase{
		{name: "V.17 ECM MMR fine 3 pages", doc: "chart-fine-g3.tif", senderCal: true, want: v17, wantEnc: t30.MMR},
		{name: "V.29 non-ECM MH standard 3 pages", doc: "chart-std-g3.tif", senderCal: false,
			o: Options{NoECM: true, NoV17: true, NoMR: true}, want: v29, wantEnc: t30.MH},
		{name: "V.27ter ECM MR fine", doc: "chart-p1-fine-g3.tif", senderCal: true,
			o: Options{MaxRate: 4800, NoMMR: true}, want: v27, wantEnc: t30.MR},
		{name: "V.17 non-ECM MR superfine", doc: "chart-p3-superfine-g4.tif", senderCal: false,
			o: Options{NoECM: true}, want: v17, wantEnc: t30.MR},
		{name: "V.17 9600 ECM MMR standard", doc: "chart-std-tiffcp-g4.tif", senderCal: true,
			o: Options{MaxRate: 9600}, want: t30.Rate{Modulation: t30.V17, BitRate: 9600}, wantEnc: t30.MMR},
		{name: "V.27ter non-ECM MH fine", doc: "chart-p1-fine-g3.tif", senderCal: false,
			o: Options{NoECM: true, MaxRate: 4800, NoMR: true}, want: v27, wantEnc: t30.MH},
		// 25 dB SNR: the rate depends on the TCF, so only V.17 is required.
		{name: "V.17 ECM noisy line", doc: "chart-p1-fine-g3.tif", senderCal: true, noise: -50, gain: -15, wantEnc: t30.MMR},
	}
	if raceEnabled || testing.Short() {
		cases = append(cases[2:4], cases[5])
	}
	for _, c := range cases {
		if c.noise == 0 {
			c.noise = linesim.NoNoise
		}
		t.Run(c.name, func(t *testing.T) {
			r := runLoop(t, c)
			for _, rep := range []Report{r.tx, r.rx} {
				rateOK := rep.Rate == c.want || c.want == (t30.Rate{}) && rep.Rate.Modulation == t30.V17
				if rep.Result != t30.OK || rep.Pages != len(r.sent) || !rateOK || rep.Encoding != c.wantEnc ||
					rep.ECM != !c.o.NoECM {
					t.Errorf("report %+v", rep.Report)
				}
			}
			if r.rx.RemoteIdent != "+4930123" || r.tx.RemoteIdent != "+15551234567" {
				t.Errorf("idents %q %q", r.rx.RemoteIdent, r.tx.RemoteIdent)
			}
			checkSame(t, r.received, r.sent)
		})
	}
}

func checkSame(t *testing.T, got []*raster.Bitmap, want Document) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("received %d pages, want %d", len(got), len(want))
	}
	for i := range want {
		if !raster.Equal(got[i], want[i]) {
			t.Errorf("page %d differs", i+1)
		}
	}
}

// A lost packet (20 ms of silence) in the image modem's short training:
// the receiver misses the whole ECM block, keeps waiting while the line
// carries the sender's signal (T2 alone would end the call before the
// block does), answers the PPS with a PPR for every frame, and the page
// arrives.
func TestLoopbackTrainingHole(t *testing.T) {
	for at := 0; at <= 400; at += 20 {
		r := runLoop(t, loopCase{doc: "chart-p1-fine-g3.tif", senderCal: true, noise: linesim.NoNoise, gapMs: 20, gapAtMs: at})
		if !r.gapped {
			t.Fatalf("hole at %d ms: it did not happen", at)
		}
		if r.tx.Result != t30.OK || r.rx.Result != t30.OK || r.rx.Pages != 1 {
			t.Errorf("hole at %d ms: sender %v, receiver %v", at, r.tx.Result, r.rx.Result)
			continue
		}
		t.Logf("hole at %d ms: %d frames sent again", at, r.tx.Retransmits)
		checkSame(t, r.received, r.sent)
	}
}

// With ECM a 200 ms gap in the middle of a page loses frames; the receiver
// asks for them (PPR) and the page arrives exact.
func TestLoopbackECMGap(t *testing.T) {
	r := runLoop(t, loopCase{doc: "chart-p1-fine-g3.tif", senderCal: true, noise: linesim.NoNoise, gapMs: 200})
	if !r.gapped {
		t.Fatal("the gap did not happen")
	}
	if r.tx.Result != t30.OK || r.rx.Result != t30.OK || r.tx.Retransmits == 0 {
		t.Fatalf("reports\n%+v\n%+v", r.tx.Report, r.rx.Report)
	}
	checkSame(t, r.received, r.sent)
}

// The line dies after the second page of three: the receiver reports a
// partial result and its file holds the two pages.
func TestLoopbackHangupPartial(t *testing.T) {
	for _, ecm := range []bool{true, false} {
		t.Run(fmt.Sprintf("ecm=%v", ecm), func(t *testing.T) {
			r := runLoop(t, loopCase{doc: "chart-std-g3.tif", senderCal: true, noise: linesim.NoNoise,
				o: Options{NoECM: !ecm}, hangupAt: 2})
			if r.rx.Result == t30.OK || !r.rx.Partial || r.rx.Pages != 2 || r.rx.FileSize == 0 {
				t.Fatalf("receiver %+v", r.rx)
			}
			if r.tx.Result == t30.OK {
				t.Errorf("sender %+v", r.tx.Report)
			}
			checkSame(t, r.received, r.sent[:2])
		})
	}
}

// BenchmarkLoopbackThreePages is a whole 3-page V.17 ECM call between two
// of our terminals (file reading and writing included). The comparison with
// spandsp is test/interop's BenchmarkT30ThreePageV17ECM.
func BenchmarkLoopbackThreePages(b *testing.B) {
	doc := filepath.Join(testenv.SharedDir(b), "testdata", "chart-fine-g3.tif")
	out := filepath.Join(b.TempDir(), "rx.tif")
	pages := 0
	for range b.N {
		tx, err := NewSender(doc, Options{Caller: true})
		if err != nil {
			b.Fatal(err)
		}
		rx, err := NewReceiver(out, Options{Offline: true})
		if err != nil {
			b.Fatal(err)
		}
		x, y := make([]int16, 160), make([]int16, 160)
		for n := 0; n < 8000*600 && !(tx.Done() && rx.Done()); n += 160 {
			tx.Tx(x)
			rx.Tx(y)
			rx.Rx(x)
			tx.Rx(y)
		}
		rx.Close()
		if r := rx.Report(); r.Result != t30.OK {
			b.Fatalf("call failed: %+v", r.Report)
		}
		pages = rx.Report().Pages
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/float64(pages), "s/page")
}

// On a noisy line (about 20 dB SNR) the training check fails at 14400 and
// the terminals fall back (FTT, DCS at a lower rate) until it passes.
func TestLoopbackFallback(t *testing.T) {
	r := runLoop(t, loopCase{doc: "chart-p1-fine-g3.tif", senderCal: true, noise: -38, gain: -15})
	for _, rep := range []Report{r.tx, r.rx} {
		if rep.Result != t30.OK || rep.Pages != 1 || rep.Rate.BitRate >= 14400 {
			t.Errorf("report %+v", rep.Report)
		}
	}
	checkSame(t, r.received, r.sent)
}
