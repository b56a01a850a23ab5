//go:build spandsp

package interop

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/test/testenv"
)

// Packet loss, measured: every 20 ms frame of audio is lost with a
// probability of 1 %, independently in each direction, and the far end hears
// digital silence in its place (what the media bridge and the switch play
// for a lost datagram). The four pairings of our terminal and spandsp's each
// send a one-page ECM fax 20 times, from fixed seeds, in process: the
// outcome is deterministic.
//
// On 2026-11-26 the counts were: spandsp to us 15/20, us to us 20/20, us to
// spandsp 1/20, spandsp to spandsp 0/20. spandsp 0.0.6's receiver is the
// limit: its V.17 receiver loses the carrier at a hole and with it the rest
// of the burst, a hole in the training of the TCF leaves it silent, it hangs
// up on the DCS we repeat then, and a lost V.21 frame in phase C or D sends
// it back to phase B (DIS), where the page starts again. A sender that keeps
// its bursts short on a lossy path did not help (1/20, and us to us fell
// from 19/20 to 17/20), so there is none. The test keeps the measured floor for our
// receiver and our sender, and checks on every call that no end reports a
// page the other end did not get and that every page we store is exact.
func TestT30InteropPacketLoss(t *testing.T) {
	doc := filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
	want := readTIFF(t, doc)
	const seeds = 20
	cases := []struct {
		name           string
		weSend, weRecv bool
		min            int // calls that must get through
	}{
		{"spandsp to us", false, true, 14},
		{"us to us", true, true, 19},
		{"us to spandsp", true, false, 1},
		{"spandsp to spandsp", false, false, 0},
	}
	got := map[string]int{}
	for _, c := range cases {
		for seed := 1; seed <= seeds; seed++ {
			dir := t.TempDir()
			var tx, rx lossEnd
			if c.weSend {
				tx = newOurEnd(t, true, doc)
			} else {
				tx = newSpanEnd(t, true, doc)
			}
			rxFile := filepath.Join(dir, "rx.tif")
			if c.weRecv {
				rx = newOurEnd(t, false, rxFile)
			} else {
				rx = newSpanEnd(t, false, rxFile)
			}
			secs := runLossyCall(tx, rx, uint64(seed))
			sent, recv, through := tx.pages(), rx.pages(), tx.ok() && rx.ok()
			outcome := fmt.Sprintf("%s, seed %d, %.0f s: %s / %s", c.name, seed, secs, tx, rx)
			tx.close()
			rx.close() // finishes the TIFF
			t.Log(outcome)
			if sent == 1 && recv != 1 {
				t.Errorf("%s: the sender counts the page as delivered, the receiver has none", outcome)
			}
			if recv == 1 && through {
				got[c.name]++
			}
			if recv > 0 {
				checkPages(t, readTIFF(t, rxFile), want)
			}
		}
	}
	for _, c := range cases {
		t.Logf("%s: %d of %d through", c.name, got[c.name], seeds)
		if got[c.name] < c.min {
			t.Errorf("%s: %d of %d calls got through at 1 %% loss, want at least %d", c.name, got[c.name], seeds, c.min)
		}
	}
	if got["us to spandsp"] < got["spandsp to spandsp"] {
		t.Errorf("to spandsp, our sender does worse than spandsp's own")
	}
}

// runLossyCall runs a call between tx and rx with 1 % of the 20 ms frames
// lost each way, until both ends are done (or one has been for 15 s), and
// returns its length in seconds.
func runLossyCall(tx, rx lossEnd, seed uint64) float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	a, b := make([]int16, 160), make([]int16, 160)
	now, doneAt := 0, -1
	for ; now < 8000*600; now += 160 {
		tx.Tx(a)
		rx.Tx(b)
		if rng.Float64() < 0.01 {
			clear(a)
		}
		if rng.Float64() < 0.01 {
			clear(b)
		}
		rx.Rx(a)
		tx.Rx(b)
		if tx.done() && rx.done() {
			break
		}
		if doneAt < 0 && (tx.done() || rx.done()) {
			doneAt = now
		}
		if doneAt >= 0 && now > doneAt+8000*15 {
			break
		}
	}
	return float64(now) / 8000
}

// lossEnd is one fax terminal of runLossyCall.
type lossEnd interface {
	Tx([]int16)
	Rx([]int16)
	done() bool
	ok() bool
	pages() int // pages delivered (sender) or stored (receiver)
	close()
	String() string
}

type ourEnd struct{ f *faxengine.Fax }

func newOurEnd(t *testing.T, send bool, file string) ourEnd {
	o := faxengine.Options{Caller: send, Offline: true}
	var f *faxengine.Fax
	var err error
	if send {
		f, err = faxengine.NewSender(file, o)
	} else {
		f, err = faxengine.NewReceiver(file, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ourEnd{f}
}

func (o ourEnd) Tx(b []int16) { o.f.Tx(b) }
func (o ourEnd) Rx(b []int16) { o.f.Rx(b) }
func (o ourEnd) done() bool   { return o.f.Done() }
func (o ourEnd) ok() bool     { return o.f.Report().Result == t30.OK }
func (o ourEnd) pages() int   { return o.f.Report().Pages }
func (o ourEnd) close()       { o.f.Close() }
func (o ourEnd) String() string {
	r := o.f.Report()
	return fmt.Sprintf("ours: %v, %d pages", r.Result, r.Pages)
}

type spanEnd struct{ s *SpanFax }

func newSpanEnd(t *testing.T, send bool, file string) spanEnd {
	s, err := NewSpanFax(send)
	if err != nil {
		t.Fatal(err)
	}
	s.SetECM(true)
	if send {
		s.SetTxFile(file)
	} else {
		s.SetRxFile(file)
	}
	return spanEnd{s}
}

func (e spanEnd) Tx(b []int16)   { e.s.Tx(b) }
func (e spanEnd) Rx(b []int16)   { e.s.Rx(b) }
func (e spanEnd) done() bool     { return e.s.Done() }
func (e spanEnd) ok() bool       { return e.s.Result().Code == 0 }
func (e spanEnd) pages() int     { return e.s.Result().Pages }
func (e spanEnd) close()         { e.s.Close() }
func (e spanEnd) String() string { return "spandsp: " + e.s.Result().String() }
