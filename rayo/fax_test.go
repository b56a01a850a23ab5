package rayo_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/rayo/wire"
	"github.com/rayofax/rayofax/test/e2e"
	"github.com/rayofax/rayofax/test/testenv"
)

func testdata(t *testing.T, name string) string {
	return filepath.Join(testenv.SharedDir(t), "testdata", name)
}

// docServer serves test documents over HTTP: /NAME.tif from the shared test
// data, /notatiff a text file, anything else 404.
func docServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/notatiff", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello, I am not a TIFF\n")) })
	mux.HandleFunc("/doc/", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, testdata(t, strings.TrimPrefix(r.URL.Path, "/doc/")))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func reason(el *wire.Element) string { return el.Children[0].Name.Local }

func faxChild(el *wire.Element) *wire.Element {
	for _, c := range el.Children {
		if c.Name.Local == "fax" && c.Name.Space == wire.NSFaxComplete {
			return c
		}
	}
	return nil
}

func TestSendFax(t *testing.T) {
	st := newStack(t)
	docs := docServer(t)
	out := filepath.Join(t.TempDir(), "farend.tif")
	recv, err := faxengine.NewReceiver(out, faxengine.Options{Caller: true})
	if err != nil {
		t.Fatal(err)
	}
	far := faxPeer(recv)
	callJID, _ := st.offer(far)
	if _, err := cmd(t, st.app, callJID, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := cmd(t, st.app, callJID, `<sendfax xmlns='urn:xmpp:rayo:fax:1'>
		<document url='`+docs.URL+`/doc/chart-std-g3.tif' pages='2-3' identity='+15550001111'/>
		<document url='`+docs.URL+`/doc/chart-p1-fine-g3.tif'/>
	</sendfax>`)
	if err != nil {
		t.Fatal(err)
	}
	done := e2e.Completion(t, st.app, ref, 4*time.Minute)
	if reason(done) != "finish" {
		t.Fatalf("reason %s", done)
	}
	md := map[string]string{}
	for _, c := range done.Children {
		if c.Name.Local == "metadata" {
			n, _ := c.Attribute("name")
			v, _ := c.Attribute("value")
			md[n] = v
		}
	}
	if md["fax-pages"] != "3" || md["fax-result"] != "ok" || md["fax-transfer-rate"] == "" {
		t.Errorf("metadata %v", md)
	}
	// Wait for the far end to finish its file, then compare every page.
	deadline := time.Now().Add(30 * time.Second)
	for !far.Done() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	rep := far.Report()
	if rep.Result != t30.OK || rep.Pages != 3 {
		t.Fatalf("far end: %v, %d pages", rep.Result, rep.Pages)
	}
	want, err := faxengine.LoadDocuments([]faxengine.Part{{Path: testdata(t, "chart-std-g3.tif"), Pages: "2-3"}, {Path: testdata(t, "chart-p1-fine-g3.tif")}}, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e2e.SamePages(t, out, want)
	if rep.RemoteIdent != "+15550001111" {
		t.Errorf("far end saw ident %q", rep.RemoteIdent)
	}
}

func TestSendFaxBadDocuments(t *testing.T) {
	st := newStack(t)
	docs := docServer(t)
	callJID, _ := st.offer(nil)
	if _, err := cmd(t, st.app, callJID, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ doc, want string }{
		{`url='` + docs.URL + `/missing.tif'`, "404"},
		{`url='` + docs.URL + `/notatiff'`, "TIFF"},
		{`url='` + docs.URL + `/doc/chart-std-g3.tif' pages='2,4-5'`, "page"},
		{`url='ftp://example.com/x.tif'`, "ftp"},
	} {
		ref, err := cmd(t, st.app, callJID, `<sendfax xmlns='urn:xmpp:rayo:fax:1'><document `+tc.doc+`/></sendfax>`)
		if err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		done := e2e.Completion(t, st.app, ref, time.Minute)
		if reason(done) != "error" || !strings.Contains(done.Children[0].Text, tc.want) {
			t.Errorf("%s: completion %s, want an error mentioning %q", tc.doc, done, tc.want)
		}
	}
	// A malformed page range is refused before anything starts.
	_, err := cmd(t, st.app, callJID, `<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='`+docs.URL+`/doc/chart-std-g3.tif' pages='1-4,x'/></sendfax>`)
	wantCondition(t, err, wire.BadRequest)
}

// pageWatcher is a far-end fax whose first confirmed page closes pageDone.
func pageWatcher(t *testing.T, doc string, caller bool) (*faxengine.Fax, chan struct{}) {
	pageDone := make(chan struct{})
	var once sync.Once
	f, err := faxengine.NewSender(doc, faxengine.Options{Caller: caller, OnEvent: func(e t30.Event) {
		if e.Kind == t30.EventPage {
			once.Do(func() { close(pageDone) })
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return f, pageDone
}

func TestReceiveFaxFarEndHangsUp(t *testing.T) {
	st := newStack(t)
	sender, firstPage := pageWatcher(t, testdata(t, "chart-std-g3.tif"), true)
	callJID, ch := st.offer(faxPeer(sender))
	if _, err := cmd(t, st.app, callJID, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := cmd(t, st.app, callJID, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-firstPage:
	case <-time.After(3 * time.Minute):
		t.Fatal("the first page never arrived")
	}
	ch.Hangup("NORMAL_CLEARING")
	done := e2e.Completion(t, st.app, ref, time.Minute)
	if reason(done) != "hangup" {
		t.Fatalf("reason %s, want hangup", reason(done))
	}
	fax := faxChild(done)
	if fax == nil {
		t.Fatal("no <fax/> for the pages received")
	}
	if p, _ := fax.Attribute("pages"); p != "1" && p != "2" {
		t.Errorf("pages=%s", p)
	}
	ev := event(t, st.app, 10*time.Second)
	if ev.Payload.Name.Local != "end" || ev.Payload.Children[0].Name.Local != "hungup" {
		t.Fatalf("expected end/hungup after the completion, got %s", ev.Payload)
	}
}

func TestStopAndCPA(t *testing.T) {
	st := newStack(t)
	sender, firstPage := pageWatcher(t, testdata(t, "chart-std-g3.tif"), true)
	callJID, _ := st.offer(faxPeer(sender))
	if _, err := cmd(t, st.app, callJID, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	// The calling fax machine sends CNG: CPA hears it.
	ref, err := cmd(t, st.app, callJID, `<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'><grammar url='urn:xmpp:rayo:cpa:fax-ced:1'/><grammar url='urn:xmpp:rayo:cpa:fax-cng:1'/></input>`)
	if err != nil {
		t.Fatal(err)
	}
	done := e2e.Completion(t, st.app, ref, 30*time.Second)
	sig := done.Children[0]
	if sig.Name.Space != wire.NSCPA || sig.Name.Local != "signal" {
		t.Fatalf("CPA completion %s", done)
	}
	if typ, _ := sig.Attribute("type"); typ != wire.SignalFaxCNG {
		t.Fatalf("signal type %s", typ)
	}
	// Then a fax component on the same stream, stopped after a page.
	ref, err = cmd(t, st.app, callJID, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-firstPage:
	case <-time.After(3 * time.Minute):
		t.Fatal("the first page never arrived")
	}
	uri, _ := ref.Attribute("uri")
	// Only the client that started a component may stop it.
	other := st.login("other", "otherpass")
	_, err = cmd(t, other, strings.TrimPrefix(uri, "xmpp:"), `<stop xmlns='urn:xmpp:rayo:ext:1'/>`)
	wantCondition(t, err, wire.Conflict)
	if _, err := cmd(t, st.app, strings.TrimPrefix(uri, "xmpp:"), `<stop xmlns='urn:xmpp:rayo:ext:1'/>`); err != nil {
		t.Fatal(err)
	}
	done = e2e.Completion(t, st.app, ref, time.Minute)
	if reason(done) != "stop" {
		t.Fatalf("reason %s, want stop", reason(done))
	}
	if faxChild(done) == nil {
		t.Error("a stopped receive with a page lacks its <fax/>")
	}
	_, err = cmd(t, st.app, strings.TrimPrefix(uri, "xmpp:"), `<stop xmlns='urn:xmpp:rayo:ext:1'/>`)
	wantCondition(t, err, wire.ItemNotFound)
	_ = os.Remove
}
