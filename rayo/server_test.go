package rayo_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/rayo"
	"github.com/rayofax/rayofax/rayo/client"
	"github.com/rayofax/rayofax/rayo/wire"
	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/fetch"
	"github.com/rayofax/rayofax/test/e2e"
	"github.com/rayofax/rayofax/test/fsim"
	"github.com/rayofax/rayofax/test/prosody"
	"github.com/rayofax/rayofax/test/testenv"
)

// stack is prosody + the FreeSWITCH simulator + eslbridge + rayo + storage,
// with a Rayo client logged in.
type stack struct {
	t       *testing.T
	xmpp    *prosody.Server
	sw      *fsim.Server
	bridge  *eslbridge.Bridge
	rayo    *rayo.Server
	app     *client.Client
	service string
	files   *httptest.Server
}

func newStack(t *testing.T) *stack { return newStackWith(t, fsim.Config{}) }

func newStackWith(t *testing.T, simCfg fsim.Config) *stack {
	t.Helper()
	st := &stack{t: t, xmpp: prosody.Start(t)}
	st.xmpp.AddUser("app", "apppass")
	st.xmpp.AddUser("other", "otherpass")
	st.service = st.xmpp.ComponentDomain

	sw, err := fsim.Start(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.Close() })
	st.sw = sw

	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	mux := http.NewServeMux()
	st.files = httptest.NewServer(mux)
	t.Cleanup(st.files.Close)
	spool, handler, err := storage.Open(storage.Options{
		Backend: "local",
		Spool:   storage.SpoolOptions{Dir: filepath.Join(t.TempDir(), "spool")},
		Local:   storage.LocalOptions{Dir: filepath.Join(t.TempDir(), "store"), BaseURL: st.files.URL, TTL: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { spool.Close() })
	mux.Handle(storage.Route, handler)
	fcfg := fetch.DefaultConfig()
	fcfg.AllowedNetworks = []string{"127.0.0.1/32"} // the test servers; the rest of loopback stays denied
	fetcher, err := fetch.New(fcfg)
	if err != nil {
		t.Fatal(err)
	}

	var srv *rayo.Server
	var once sync.Once
	ready := make(chan struct{})
	st.bridge, err = eslbridge.New(eslbridge.Config{
		Addr: sw.Addr(), Password: "ClueCon", MediaIP: "127.0.0.1", PortMin: 42000, PortMax: 42999,
		OnOffer: func(c *eslbridge.Call) { <-ready; srv.Offer(c) },
		Logger:  log,
	})
	if err != nil {
		t.Fatal(err)
	}
	go st.bridge.Run(ctx)
	srv, err = rayo.New(rayo.Config{
		Domain: st.service, Server: st.xmpp.ComponentAddr, Secret: st.xmpp.Secret,
		Clients: []string{"app@" + st.xmpp.Host, "other@" + st.xmpp.Host},
		WorkDir: t.TempDir(), Logger: log, MinBackoff: 50 * time.Millisecond,
		DialTemplate: "loopback/{to}",
	}, st.bridge, spool, fetcher)
	if err != nil {
		t.Fatal(err)
	}
	once.Do(func() { close(ready) })
	st.rayo = srv
	go srv.Run(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := st.bridge.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	for !srv.Connected() {
		if wctx.Err() != nil {
			t.Fatal("rayo did not connect to prosody:\n" + st.xmpp.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	st.app = st.login("app", "apppass")
	return st
}

func (st *stack) login(user, pass string) *client.Client {
	st.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Addr: st.xmpp.C2SAddr, JID: user + "@" + st.xmpp.Host + "/test", Password: pass})
	if err != nil {
		st.t.Fatalf("login %s: %v", user, err)
	}
	st.t.Cleanup(func() { c.Close() })
	if err := c.Available(ctx, st.service); err != nil {
		st.t.Fatal(err)
	}
	for !slices.Contains(st.rayo.AvailableClients(), c.JID().String()) {
		if ctx.Err() != nil {
			st.t.Fatalf("the service never saw %s available", c.JID())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// event waits for the next Rayo event of the client.
func event(t *testing.T, c *client.Client, timeout time.Duration) client.Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatalf("connection closed: %v", c.Err())
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
	}
	return client.Event{}
}

func cmd(t *testing.T, c *client.Client, to, xml string) (*wire.Element, error) {
	t.Helper()
	el, err := wire.Parse([]byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return c.Command(ctx, to, el)
}

func wantCondition(t *testing.T, err error, cond string) {
	t.Helper()
	var ce *client.CommandError
	if !errors.As(err, &ce) || ce.Condition != cond {
		t.Fatalf("got %v, want a %s error", err, cond)
	}
}

// waitOffer makes a call arrive and returns its JID after the offer.
func (st *stack) offer(peer fsim.Peer) (string, *fsim.Channel) {
	st.t.Helper()
	ch := st.sw.NewInboundCall(fsim.CallOptions{CallerNumber: "15551230000", Dest: "15559990000", Peer: peer,
		Vars: []fsim.Var{{Name: "sip_h_X-Fax-Id", Value: "42"}}})
	ev := event(st.t, st.app, 10*time.Second)
	if ev.Payload.Name.Local != "offer" || ev.Payload.Name.Space != wire.NSRayo {
		st.t.Fatalf("expected an offer, got %s", ev.Payload)
	}
	if to, _ := ev.Payload.Attribute("to"); !strings.Contains(to, "15559990000") {
		st.t.Errorf("offer to %q", to)
	}
	if ev.From.Localpart() != ch.UUID() {
		st.t.Errorf("offer from %s, want call %s", ev.From, ch.UUID())
	}
	return ev.From.String(), ch
}

func TestDiscoAndRefusals(t *testing.T) {
	st := newStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := st.app.Raw(ctx, st.service, "get", wire.New("http://jabber.org/protocol/disco#info", "query"))
	if err != nil {
		t.Fatal(err)
	}
	feats := map[string]bool{}
	for _, f := range res.Children {
		if v, ok := f.Attribute("var"); ok {
			feats[v] = true
		}
	}
	for _, f := range []string{wire.NSRayo, wire.NSFax, wire.NSCPA} {
		if !feats[f] {
			t.Errorf("disco#info lacks %s: %s", f, res)
		}
	}
	_, err = cmd(t, st.app, "nosuchcall@"+st.service, `<answer xmlns='urn:xmpp:rayo:1'/>`)
	wantCondition(t, err, wire.ItemNotFound)

	callJID, ch := st.offer(nil)
	_, err = cmd(t, st.app, callJID, `<output xmlns='urn:xmpp:rayo:output:1'/>`)
	wantCondition(t, err, wire.FeatureNotImplemented)
	_, err = cmd(t, st.app, callJID, `<answer xmlns='urn:xmpp:rayo:1' when='now'/>`)
	wantCondition(t, err, wire.BadRequest)
	// A fax component needs an answered call.
	_, err = cmd(t, st.app, callJID, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	wantCondition(t, err, wire.UnexpectedRequest)
	if _, err := cmd(t, st.app, callJID, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	if !ch.Answered() {
		t.Error("the switch call was not answered")
	}
	// Another client cannot take the call over.
	other := st.login("other", "otherpass")
	_, err = cmd(t, other, callJID, `<hangup xmlns='urn:xmpp:rayo:1'/>`)
	wantCondition(t, err, wire.Conflict)
	if _, err := cmd(t, st.app, callJID, `<hangup xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ev := event(t, st.app, 10*time.Second)
	if ev.Payload.Name.Local != "end" || ev.Type != "unavailable" || ev.Payload.Children[0].Name.Local != "hangup-command" {
		t.Fatalf("expected end with hangup-command, got %s (%s)", ev.Payload, ev.Type)
	}
	_, err = cmd(t, st.app, callJID, `<answer xmlns='urn:xmpp:rayo:1'/>`)
	wantCondition(t, err, wire.ItemNotFound)
}

// faxPeer is a far-end fax machine on a simulated call.
func faxPeer(f *faxengine.Fax) *e2e.FarEnd { return e2e.FaxPeer(f) }

func TestReceiveFax(t *testing.T) {
	st := newStack(t)
	doc := filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
	sender, err := faxengine.NewSender(doc, faxengine.Options{Caller: true, Ident: "+15551230000"})
	if err != nil {
		t.Fatal(err)
	}
	callJID, _ := st.offer(faxPeer(sender))
	if _, err := cmd(t, st.app, callJID, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := cmd(t, st.app, callJID, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	uri, _ := ref.Attribute("uri")
	if !strings.HasPrefix(uri, "xmpp:"+callJID+"/") {
		t.Fatalf("ref %s", ref)
	}
	// A second fax on the same call is a conflict.
	_, err = cmd(t, st.app, callJID, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	wantCondition(t, err, wire.Conflict)

	ev := event(t, st.app, 3*time.Minute)
	if ev.Type != "unavailable" || ev.Payload.Name.Local != "complete" || "xmpp:"+ev.From.String() != uri {
		t.Fatalf("expected the component's completion, got %s from %s", ev.Payload, ev.From)
	}
	t.Logf("completion: %s", ev.Payload)
	if r := ev.Payload.Children[0]; r.Name.Space != wire.NSFaxComplete || r.Name.Local != "finish" {
		t.Fatalf("completion reason %s", r)
	}
	var faxURL string
	for _, c := range ev.Payload.Children[1:] {
		if c.Name.Local == "fax" {
			faxURL, _ = c.Attribute("url")
			if p, _ := c.Attribute("pages"); p != "1" {
				t.Errorf("pages=%q", p)
			}
			if r, _ := c.Attribute("resolution"); r != "1728x2292" && !strings.HasPrefix(r, "1728x") {
				t.Errorf("resolution=%q", r)
			}
		}
	}
	if faxURL == "" {
		t.Fatal("no <fax url/>")
	}
	resp, err := http.Get(faxURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", faxURL, resp.Status)
	}
	got := filepath.Join(t.TempDir(), "got.tif")
	os.WriteFile(got, body, 0o644)
	want, err := faxengine.LoadDocument(doc, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := tiff.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := f.DecodeBitmap(0)
	if err != nil {
		t.Fatal(err)
	}
	if !raster.Equal(img, want[0]) {
		t.Error("received page differs from the page sent")
	}
}

func TestDial(t *testing.T) {
	st := newStackWith(t, fsim.Config{Dial: func(dest string, _ map[string]string) fsim.DialResult {
		if strings.Contains(dest, "busy") {
			return fsim.DialResult{Cause: "USER_BUSY", Ring: 50 * time.Millisecond}
		}
		return fsim.DialResult{Ring: 100 * time.Millisecond}
	}})
	ref, err := cmd(t, st.app, st.service, `<dial xmlns='urn:xmpp:rayo:1' to='tel:+15557654321' from='tel:+15550001111' timeout='20000'><header name='X-Fax-Job' value='7'/></dial>`)
	if err != nil {
		t.Fatal(err)
	}
	uri, _ := ref.Attribute("uri")
	call := strings.TrimPrefix(uri, "xmpp:")
	if !strings.HasSuffix(call, "@"+st.service) {
		t.Fatalf("ref %s", ref)
	}
	// The ref comes before the originate reaches the switch: wait for it.
	var ch *fsim.Channel
	for deadline := time.Now().Add(5 * time.Second); ch == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ch = st.sw.Channel(strings.TrimSuffix(call, "@"+st.service))
	}
	if ch == nil {
		t.Fatalf("the switch has no channel %s: the call ID is not the channel UUID", call)
	}
	if got := ch.Var("sip_h_X-Fax-Job"); got != "7" {
		t.Errorf("header X-Fax-Job on the channel: %q", got)
	}
	var kinds []string
	for len(kinds) == 0 || kinds[len(kinds)-1] != "answered" {
		ev := event(t, st.app, 15*time.Second)
		if ev.From.String() != call {
			t.Fatalf("event from %s", ev.From)
		}
		kinds = append(kinds, ev.Payload.Name.Local)
	}
	if kinds[0] != "ringing" && kinds[0] != "answered" {
		t.Errorf("events %v", kinds)
	}
	// Commands need no accept: the dialler controls the call.
	if _, err := cmd(t, st.app, call, `<hangup xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ev := event(t, st.app, 15*time.Second)
	if ev.Payload.Name.Local != "end" || ev.Payload.Children[0].Name.Local != "hangup-command" {
		t.Fatalf("end %s", ev.Payload)
	}

	ref, err = cmd(t, st.app, st.service, `<dial xmlns='urn:xmpp:rayo:1' to='sip:busy@example.com'/>`)
	if err != nil {
		t.Fatal(err)
	}
	uri, _ = ref.Attribute("uri")
	for {
		ev := event(t, st.app, 15*time.Second)
		if "xmpp:"+ev.From.String() != uri || ev.Payload.Name.Local != "end" {
			continue
		}
		if r := ev.Payload.Children[0]; r.Name.Local != "busy" {
			t.Fatalf("end %s, want busy", ev.Payload)
		}
		break
	}
	_, err = cmd(t, st.app, st.service, `<dial xmlns='urn:xmpp:rayo:1' to='mailto:x@example.com'/>`)
	wantCondition(t, err, wire.BadRequest)
	_, err = cmd(t, st.app, st.service, `<answer xmlns='urn:xmpp:rayo:1'/>`)
	wantCondition(t, err, wire.BadRequest)
}
