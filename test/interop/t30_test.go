//go:build spandsp

package interop

// Full fax calls between rayofax's terminal (package faxengine, on package
// t30) and spandsp's fax_state_t, through audio, in both directions and both
// calling roles. Pages are checked on both ends: the counts each side
// reports and the pixels of every page in the TIFF the receiver wrote.

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/test/linesim"
	"github.com/rayofax/rayofax/test/testenv"
)

type t30Case struct {
	name    string
	weSend  bool
	weCall  bool
	doc     string
	ecm     bool
	maxRate int // both ends
	noV17   bool
	noMR    bool // our side offers and uses neither MR nor MMR: MH
	noMMR   bool // our side offers and uses no MMR
	want    t30.Rate
	wantEnc t30.Encoding
	// line
	noiseDBm0 float64 // linesim.NoNoise for none
	gainDB    float64
	gapMs     int // silence in the middle of the first page
	burstMs   int // a burst of loud noise in the middle of the first page
	hangup    int // cut the line after this many pages have arrived (0: never)
	// spandsp, if set, configures the spandsp terminal further.
	spandsp func(*SpanFax) error
}

type callOutcome struct {
	ours     faxengine.Report
	theirs   FaxResult
	rxFile   string
	trace    []string
	sentPgs  []*raster.Bitmap
	gapFired bool
}

func readTIFF(t *testing.T, name string) []*raster.Bitmap {
	t.Helper()
	pages, err := tiff.ReadBitmaps(name)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func runT30Call(t *testing.T, c t30Case) callOutcome {
	t.Helper()
	dir := t.TempDir()
	doc := c.doc
	if !filepath.IsAbs(doc) {
		doc = filepath.Join(testenv.SharedDir(t), "testdata", c.doc)
	}
	var out callOutcome
	sp, err := NewSpanFax(!c.weCall)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	sp.SetECM(c.ecm)
	if err := sp.SetModems(ModemsUpTo(c.maxRate)); err != nil {
		t.Fatal(err)
	}
	if c.maxRate >= 14400 && c.noV17 {
		sp.SetModems(FaxV27ter | FaxV29)
	}
	sp.SetLocalIdent("+4940999")
	if c.spandsp != nil {
		if err := c.spandsp(sp); err != nil {
			t.Fatal(err)
		}
	}

	var phaseC int = -1
	now := 0
	o := faxengine.Options{Caller: c.weCall, Ident: "+15551234567", NoECM: !c.ecm, MaxRate: c.maxRate, NoV17: c.noV17,
		NoMR: c.noMR, NoMMR: c.noMR || c.noMMR,
		FrameTrace: true, Offline: true,
		OnEvent: func(e t30.Event) {
			if e.Kind == t30.EventPhase && e.Phase == t30.PhaseC && phaseC < 0 {
				phaseC = now
			}
			switch e.Kind {
			case t30.EventFrameRx:
				out.trace = append(out.trace, fmt.Sprintf("%.2f rx %v", float64(e.At)/8000, e.Frame))
			case t30.EventFrameTx:
				out.trace = append(out.trace, fmt.Sprintf("%.2f tx %v", float64(e.At)/8000, e.Frame))
			case t30.EventPhase:
				out.trace = append(out.trace, fmt.Sprintf("%.2f %v", float64(e.At)/8000, e.Phase))
			}
		}}
	var ours *faxengine.Fax
	if c.weSend {
		out.rxFile = filepath.Join(dir, "spandsp-rx.tif")
		sp.SetRxFile(out.rxFile)
		if ours, err = faxengine.NewSender(doc, o); err != nil {
			t.Fatal(err)
		}
		if out.sentPgs, err = faxengine.LoadDocument(doc, o); err != nil {
			t.Fatal(err)
		}
	} else {
		sp.SetTxFile(doc)
		out.rxFile = filepath.Join(dir, "ours-rx.tif")
		if ours, err = faxengine.NewReceiver(out.rxFile, o); err != nil {
			t.Fatal(err)
		}
		out.sentPgs = readTIFF(t, doc)
	}
	lineTo := linesim.New(linesim.Config{GainDB: c.gainDB, NoiseDBm0: c.noiseDBm0, Seed: 11})
	lineFrom := linesim.New(linesim.Config{GainDB: c.gainDB, NoiseDBm0: c.noiseDBm0, Seed: 12})
	a, b := make([]int16, 160), make([]int16, 160)
	var ia, ib []int16
	limit := 8000 * 400
	cut := false
	var burst uint32 = 1
	for ; now < limit; now += 160 {
		ours.Tx(a)
		sp.Tx(b)
		if c.gapMs > 0 && phaseC >= 0 {
			from, to := phaseC+8000, phaseC+8000+c.gapMs*8
			for i := range a {
				if n := now + i; n >= from && n < to {
					a[i], b[i] = 0, 0
					out.gapFired = true
				}
			}
		}
		if c.burstMs > 0 && phaseC >= 0 {
			from, to := phaseC+8000, phaseC+8000+c.burstMs*8
			for i := range a {
				if n := now + i; n >= from && n < to {
					burst = burst*1664525 + 1013904223
					a[i] = int16(int32(burst>>16)%8000 - 4000)
					b[i] = a[i] / 2
				}
			}
		}
		ia = lineTo.Process(ia[:0], a)
		ib = lineFrom.Process(ib[:0], b)
		if c.hangup > 0 && !cut {
			pages := ours.Report().Pages
			if !c.weSend && pages >= c.hangup || c.weSend && sp.Result().Pages >= c.hangup {
				cut = true
				// The far end goes away: nothing more from either side.
				ours.Hangup()
				break
			}
		}
		sp.Rx(ia)
		ours.Rx(ib)
		if ours.Done() && sp.Done() {
			break
		}
		if ours.Done() && now > 0 {
			// Give spandsp a few seconds to see the end, then stop.
			if limit > now+8000*10 {
				limit = now + 8000*10
			}
		}
	}
	ours.Close()
	out.ours = ours.Report()
	out.theirs = sp.Result()
	return out
}

func checkPages(t *testing.T, got, want []*raster.Bitmap) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("file holds %d pages, want %d", len(got), len(want))
	}
	for i := 0; i < min(len(got), len(want)); i++ {
		if !raster.Equal(got[i], want[i]) {
			t.Errorf("page %d: pixels differ (%dx%d vs %dx%d)", i+1, got[i].Width, got[i].Height, want[i].Width, want[i].Height)
		}
	}
}

func TestT30Interop(t *testing.T) {
	testenv.Program(t, "tiffinfo") // the suite needs the real tools installed
	cases := []t30Case{
		{name: "V.17 ECM MMR fine 3 pages", doc: "chart-fine-g3.tif", ecm: true, maxRate: 14400, want: t30.Rate{Modulation: t30.V17, BitRate: 14400}, wantEnc: t30.MMR},
		{name: "V.29 non-ECM MR standard 3 pages", doc: "chart-std-g3.tif", maxRate: 9600, noV17: true, want: t30.Rate{Modulation: t30.V29, BitRate: 9600}, wantEnc: t30.MR},
		{name: "V.27ter ECM MMR fine", doc: "chart-p1-fine-g3.tif", ecm: true, maxRate: 4800, want: t30.Rate{Modulation: t30.V27ter, BitRate: 4800}, wantEnc: t30.MMR},
		{name: "V.17 non-ECM MH fine", doc: "chart-p1-fine-g3.tif", maxRate: 14400, noMR: true, want: t30.Rate{Modulation: t30.V17, BitRate: 14400}, wantEnc: t30.MH},
		{name: "V.29 ECM MR superfine", doc: "chart-p3-superfine-g4.tif", ecm: true, noMMR: true, maxRate: 9600, noV17: true, want: t30.Rate{Modulation: t30.V29, BitRate: 9600}, wantEnc: t30.MR},
		{name: "V.27ter non-ECM MH standard", doc: "chart-std-g3.tif", maxRate: 4800, noMR: true, want: t30.Rate{Modulation: t30.V27ter, BitRate: 4800}, wantEnc: t30.MH},
	}
	if testing.Short() {
		cases = cases[:3]
	}
	for _, base := range cases {
		for _, weSend := range []bool{true, false} {
			for _, weCall := range []bool{true, false} {
				c := base
				c.weSend, c.weCall = weSend, weCall
				c.noiseDBm0 = linesim.NoNoise
				dir := map[bool]string{true: "ours->spandsp", false: "spandsp->ours"}[weSend]
				role := map[bool]string{true: "we call", false: "we answer"}[weCall]
				t.Run(fmt.Sprintf("%s/%s/%s", c.name, dir, role), func(t *testing.T) {
					r := runT30Call(t, c)
					t.Logf("ours: %v pages %d rate %v ecm %v enc %v; spandsp: %v", r.ours.Result, r.ours.Pages, r.ours.Rate,
						r.ours.ECM, r.ours.Encoding, r.theirs)
					if r.ours.Result != t30.OK || !r.theirs.OK() {
						t.Fatalf("call failed: ours %v, spandsp %v", r.ours.Result, r.theirs)
					}
					n := len(r.sentPgs)
					if r.ours.Pages != n || r.theirs.Pages != n {
						t.Errorf("pages: ours %d, spandsp %d, want %d", r.ours.Pages, r.theirs.Pages, n)
					}
					if r.ours.Rate != c.want || r.theirs.BitRate != c.want.BitRate || r.ours.ECM != c.ecm || r.theirs.ECM != c.ecm {
						t.Errorf("rate %v/%d ECM %v/%v, want %v ECM %v", r.ours.Rate, r.theirs.BitRate, r.ours.ECM, r.theirs.ECM, c.want, c.ecm)
					}
					if r.ours.Encoding != c.wantEnc {
						t.Errorf("coding %v, want %v", r.ours.Encoding, c.wantEnc)
					}
					if r.ours.RemoteIdent != "+4940999" || r.theirs.RemoteIdent != "+15551234567" {
						t.Errorf("idents: ours saw %q, spandsp saw %q", r.ours.RemoteIdent, r.theirs.RemoteIdent)
					}
					checkPages(t, readTIFF(t, r.rxFile), r.sentPgs)
				})
			}
		}
	}
}

// A line at -30 dBm0 with noise at -50 dBm0 (20 dB SNR): both directions.
func TestT30InteropNoisyLine(t *testing.T) {
	for _, weSend := range []bool{true, false} {
		c := t30Case{weSend: weSend, weCall: weSend, doc: "chart-p1-fine-g3.tif", ecm: true, maxRate: 14400,
			noiseDBm0: -50, gainDB: -20}
		r := runT30Call(t, c)
		if r.ours.Result != t30.OK || !r.theirs.OK() || r.ours.Pages != 1 || r.theirs.Pages != 1 {
			t.Fatalf("weSend %v: ours %+v, spandsp %v", weSend, r.ours, r.theirs)
		}
		checkPages(t, readTIFF(t, r.rxFile), r.sentPgs)
	}
}

// With ECM a 200 ms gap in the middle of a page loses frames; PPR brings
// them back and the page arrives exact, in both directions.
func TestT30InteropECMGap(t *testing.T) {
	for _, weSend := range []bool{true, false} {
		c := t30Case{weSend: weSend, weCall: !weSend, doc: "chart-p1-fine-g3.tif", ecm: true, maxRate: 14400,
			noiseDBm0: linesim.NoNoise, gapMs: 200}
		r := runT30Call(t, c)
		if !r.gapFired {
			t.Fatalf("weSend %v: the gap never happened", weSend)
		}
		if r.ours.Result != t30.OK || !r.theirs.OK() {
			for _, l := range r.trace {
				t.Log(l)
			}
		}
		if r.ours.Result != t30.OK || !r.theirs.OK() || r.ours.Pages != 1 || r.theirs.Pages != 1 {
			t.Fatalf("weSend %v: ours %+v, spandsp %v", weSend, r.ours, r.theirs)
		}
		if weSend {
			// spandsp 0.0.6 does not answer PPS with PPR after losing the
			// image carrier mid-block: it goes back to phase B and sends
			// DIS/DTC. Ours then trains again and sends the page again.
			dcs := 0
			for _, l := range r.trace {
				if strings.Contains(l, "tx DCS") {
					dcs++
				}
			}
			if r.ours.Retransmits == 0 && dcs < 2 {
				t.Errorf("nothing was sent again: the gap missed the page")
			}
		}
		checkPages(t, readTIFF(t, r.rxFile), r.sentPgs)
		if t.Failed() {
			for _, l := range r.trace {
				t.Log(l)
			}
		}
	}
}

// The line dies after the second of three pages. Receiving from spandsp,
// our receiver reports a partial result and its TIFF holds the two pages;
// sending to spandsp, our sender reports a partial result with the pages
// spandsp confirmed.
func TestT30InteropHangupMidDocument(t *testing.T) {
	for _, weSend := range []bool{false, true} {
		for _, ecm := range []bool{false, true} {
			c := t30Case{weSend: weSend, weCall: weSend, doc: "chart-std-g3.tif", ecm: ecm, maxRate: 9600, noV17: true,
				noiseDBm0: linesim.NoNoise, hangup: 2}
			r := runT30Call(t, c)
			// Sending, the line is cut as spandsp counts its second page,
			// before its MCF reaches us: one page is confirmed.
			want := map[bool]int{false: 2, true: 1}[weSend]
			if r.ours.Result == t30.OK || !r.ours.Partial || r.ours.Pages != want {
				t.Fatalf("weSend %v ecm %v: ours %+v", weSend, ecm, r.ours)
			}
			if !weSend {
				checkPages(t, readTIFF(t, r.rxFile), r.sentPgs[:2])
			}
		}
	}
}

// A 30 ms burst of loud noise in the middle of an ECM page corrupts frames
// without dropping the carrier: the receiver asks for them with PPR and the
// sender sends them again (with V.17's short train), both ways.
func TestT30InteropECMNoiseBurst(t *testing.T) {
	for _, weSend := range []bool{true, false} {
		c := t30Case{weSend: weSend, weCall: weSend, doc: "chart-p1-fine-g3.tif", ecm: true, maxRate: 14400,
			noiseDBm0: linesim.NoNoise, burstMs: 30}
		r := runT30Call(t, c)
		ppr := 0
		for _, l := range r.trace {
			if strings.Contains(l, " PPR ") {
				ppr++
			}
		}
		if r.ours.Result != t30.OK || !r.theirs.OK() || r.ours.Pages != 1 || r.theirs.Pages != 1 || ppr == 0 {
			t.Fatalf("weSend %v: %d PPR; ours %+v, spandsp %v", weSend, ppr, r.ours, r.theirs)
		}
		checkPages(t, readTIFF(t, r.rxFile), r.sentPgs)
	}
}

// A document whose resolution changes from page to page goes with EOM and
// a new negotiation (phase B again) at the change, both ways.
func TestT30InteropResolutionChange(t *testing.T) {
	tiffcp := testenv.Program(t, "tiffcp")
	data := filepath.Join(testenv.SharedDir(t), "testdata")
	mixed := filepath.Join(t.TempDir(), "mixed.tif")
	cmd := exec.Command(tiffcp, "-c", "g3", filepath.Join(data, "chart-p1-fine-g3.tif"), filepath.Join(data, "chart-std-g3.tif"), mixed)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tiffcp: %v: %s", err, out)
	}
	for _, weSend := range []bool{true, false} {
		for _, ecm := range []bool{false, true} {
			c := t30Case{weSend: weSend, weCall: !weSend, doc: mixed, ecm: ecm, maxRate: 14400, noiseDBm0: linesim.NoNoise}
			r := runT30Call(t, c)
			eom := 0
			for _, l := range r.trace {
				if strings.Contains(l, "EOM") {
					eom++
				}
			}
			if r.ours.Result != t30.OK || !r.theirs.OK() || r.ours.Pages != 4 || r.theirs.Pages != 4 || eom == 0 {
				t.Fatalf("weSend %v ecm %v: %d EOM; ours %+v, spandsp %v", weSend, ecm, eom, r.ours, r.theirs)
			}
			checkPages(t, readTIFF(t, r.rxFile), r.sentPgs)
		}
	}
}
