//go:build spandsp

package interop

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/rayo/client"
	"github.com/rayofax/rayofax/test/e2e"
	"github.com/rayofax/rayofax/test/fsim"
	"github.com/rayofax/rayofax/test/testenv"
)

// The product end to end against the reference: the rayofaxd and rayoctl
// binaries (through a real Prosody, the FreeSWITCH simulator's ESL and
// unicast UDP, and local storage) receive a fax from a spandsp terminal and
// send one to a spandsp terminal; every page must arrive pixel for pixel.

func TestRayofaxdReceivesFromSpandsp(t *testing.T) {
	doc := filepath.Join(testenv.SharedDir(t), "testdata", "chart-std-g3.tif")
	e := e2e.Start(t, e2e.Options{})
	app := e.Login("app", "apppass")
	far, err := NewSpanFax(true)
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	far.SetTxFile(doc)
	far.SetECM(true)
	if err := far.SetLocalIdent("+15551230000"); err != nil {
		t.Fatal(err)
	}
	e.Switch.NewInboundCall(fsim.CallOptions{CallerNumber: "15551230000", Peer: far})
	call := e2e.NextEvent(t, app, 20*time.Second).From.String()
	if _, err := e2e.Command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := e2e.Command(t, app, call, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	done := e2e.Completion(t, app, ref, 6*time.Minute)
	if done.Children[0].Name.Local != "finish" {
		t.Fatalf("completion %s; spandsp: %v", done, far.Result())
	}
	want, err := faxengine.LoadDocument(doc, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e2e.SamePages(t, e2e.Download(t, e2e.FaxURL(t, done)), want)
	if r := far.Result(); r.Pages != len(want) {
		t.Errorf("spandsp sent %d pages, want %d (%v)", r.Pages, len(want), r)
	}
}

func TestRayofaxdSendsToSpandsp(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "testdata")
	e := e2e.Start(t, e2e.Options{LogLevel: "debug"})
	app := e.Login("app", "apppass")
	docs := serveDocs(t, dir)

	out := filepath.Join(t.TempDir(), "spandsp-rx.tif")
	far, call := spandspCalls(t, e, app, func(f *SpanFax) { f.SetRxFile(out) })
	ref, err := e2e.Command(t, app, call, `<sendfax xmlns='urn:xmpp:rayo:fax:1'>
		<document url='`+docs+`/chart-fine-g4.tif' pages='1-2' identity='+15550001111'/>
		<document url='`+docs+`/chart-p1-fine-g3.tif'/>
	</sendfax>`)
	if err != nil {
		t.Fatal(err)
	}
	done := e2e.Completion(t, app, ref, 8*time.Minute)
	if done.Children[0].Name.Local != "finish" {
		t.Fatalf("completion %s; spandsp: %v", done, far.Result())
	}
	for i := 0; !far.Done() && i < 400; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	r := far.Result()
	if !r.OK() || r.Pages != 3 || r.RemoteIdent != "+15550001111" {
		t.Fatalf("spandsp: %v", r)
	}
	far.Close() // finishes spandsp's TIFF
	want, err := faxengine.LoadDocuments([]faxengine.Part{
		{Path: filepath.Join(dir, "chart-fine-g4.tif"), Pages: "1-2"},
		{Path: filepath.Join(dir, "chart-p1-fine-g3.tif")},
	}, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e2e.SamePages(t, out, want)
}

// With 1 % of the datagrams lost in each direction (a 20 ms hole every two
// seconds on average), spandsp sends a page to rayofaxd with ECM. A call
// can still fail for reasons of T.30 itself: a hole anywhere in a V.21
// frame garbles it, spandsp gives up after three tries of a command, and
// its V.21 receiver loses the carrier at every hole (so our one-second PPR
// is the frame most often lost). Before 2026-11-26 two of four runs failed;
// three causes were ours and are fixed: T2 ended the call just before
// spandsp repeated a garbled DCS, a TCF with a lost-packet hole sent the
// call down to a lower rate (more line time, more holes), and every
// datagram lost toward us also became a hole in what we sent (the bridge
// answered the lost slot only when the next datagram came). Since then
// every run measured got through (3 of 3), but the outcome stays
// probabilistic, so it is logged, not asserted; what is asserted is that rayofaxd never hangs, never
// reports a success it did not have, and that whatever it stored is exact.
func TestRayofaxdReceivesFromSpandspWithLoss(t *testing.T) {
	doc := filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
	e := e2e.Start(t, e2e.Options{})
	e.Switch.SetUDPImpairment(0.01, 0)
	app := e.Login("app", "apppass")
	far, call := spandspCalls(t, e, app, func(f *SpanFax) { f.SetTxFile(doc) })
	ref, err := e2e.Command(t, app, call, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	done := e2e.Completion(t, app, ref, 8*time.Minute)
	want, err := faxengine.LoadDocument(doc, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reason := done.Children[0]
	switch {
	case reason.Name.Local == "finish":
		e2e.SamePages(t, e2e.Download(t, e2e.FaxURL(t, done)), want)
	case reason.Name.Local == "error" && reason.Text != "":
		t.Logf("not through at 1%% loss: rayofaxd completed with %q; spandsp: %v", reason.Text, far.Result())
		if r := far.Result(); r.OK() {
			t.Errorf("spandsp reports success but rayofaxd does not")
		}
	default:
		t.Fatalf("completion %s", done)
	}
}

// The other direction at 1 % loss: spandsp 0.0.6's receiver does not ride
// out a 20 ms hole (TestT30InteropPacketLoss measures it: 1 call in 20 gets
// through from us, none from spandsp's own sender). So this records
// spandsp's limit: the fax either arrives exact, or rayofaxd completes
// promptly with an error naming the T.30 failure; it never hangs and never
// reports success for pages spandsp did not store.
func TestRayofaxdSendsToSpandspWithLoss(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "testdata")
	e := e2e.Start(t, e2e.Options{})
	e.Switch.SetUDPImpairment(0.01, 0)
	app := e.Login("app", "apppass")
	docs := serveDocs(t, dir)
	out := filepath.Join(t.TempDir(), "spandsp-rx.tif")
	far, call := spandspCalls(t, e, app, func(f *SpanFax) { f.SetRxFile(out) })
	ref, err := e2e.Command(t, app, call, `<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='`+docs+`/chart-p1-fine-g3.tif'/></sendfax>`)
	if err != nil {
		t.Fatal(err)
	}
	done := e2e.Completion(t, app, ref, 8*time.Minute)
	for i := 0; !far.Done() && i < 400; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	r := far.Result()
	reason := done.Children[0].Name.Local
	switch {
	case reason == "finish":
		if !r.OK() || r.Pages != 1 {
			t.Fatalf("rayofaxd reports success but spandsp has %v", r)
		}
		far.Close()
		want, err := faxengine.LoadDocument(filepath.Join(dir, "chart-p1-fine-g3.tif"), faxengine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e2e.SamePages(t, out, want)
	case reason == "error" && done.Children[0].Text != "":
		t.Logf("spandsp's limit: its receiver did not survive 1%% loss (%v); rayofaxd completed with %q", r, done.Children[0].Text)
	default:
		t.Fatalf("completion %s", done)
	}
}

// serveDocs serves the files of dir over HTTP on loopback and returns the
// base URL.
func serveDocs(t *testing.T, dir string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// spandspCalls makes a spandsp terminal (ECM on, set up further by setup)
// call rayofaxd, and answers the offer as app; it returns the terminal and
// the call's JID.
func spandspCalls(t *testing.T, e *e2e.Env, app *client.Client, setup func(*SpanFax)) (*SpanFax, string) {
	far, err := NewSpanFax(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(far.Close)
	setup(far)
	far.SetECM(true)
	e.Switch.NewInboundCall(fsim.CallOptions{Peer: far})
	call := e2e.NextEvent(t, app, 20*time.Second).From.String()
	if _, err := e2e.Command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	return far, call
}
