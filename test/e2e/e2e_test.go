package e2e

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/test/fsim"
	"github.com/rayofax/rayofax/test/testenv"
)

// TestReceiveWithRayoctl: an inbound fax call, taken by `rayoctl receive`,
// arrives intact at the URL rayoctl prints.
func TestReceiveWithRayoctl(t *testing.T) {
	e := Start(t, Options{})
	ctl := exec.Command(e.Rayoctl, "receive", "--server", e.XMPP.C2SAddr, "--jid", "app@"+e.XMPP.Host+"/ctl",
		"--service", e.XMPP.ComponentDomain, "--wait", "4m")
	ctl.Env = append(os.Environ(), "RAYOCTL_PASSWORD=apppass")
	out, err := ctl.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	ctl.Stderr = &stderr
	if err := ctl.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Wait until rayoctl is known to the service: the daemon logs it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(e.Log)
		if strings.Contains(string(b), `"client":"app@`+e.XMPP.Host+`/ctl","available":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rayoctl never became available")
		}
		time.Sleep(20 * time.Millisecond)
	}
	doc := Testdata(t, "chart-p1-fine-g3.tif")
	sender, err := faxengine.NewSender(doc, faxengine.Options{Caller: true, Ident: "+15551230000"})
	if err != nil {
		t.Fatal(err)
	}
	e.Switch.NewInboundCall(fsim.CallOptions{CallerNumber: "15551230000", Dest: "15559990000", Peer: FaxPeer(sender)})
	var url string
	for line := range lines {
		t.Logf("rayoctl: %.200s", line)
		if u, ok := strings.CutPrefix(line, "fax "); ok {
			url = u
		}
	}
	if err := ctl.Wait(); err != nil {
		t.Fatalf("rayoctl: %v\n%s", err, stderr.String())
	}
	if url == "" {
		t.Fatal("rayoctl printed no fax URL")
	}
	want, err := faxengine.LoadDocument(doc, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	SamePages(t, Download(t, url), want)
	// A tampered URL is refused.
	resp, err := http.Get(strings.Replace(url, "signature=", "signature=0", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered URL: %s", resp.Status)
	}
}

// TestSendFaxOverHTTP: a document served over HTTP is faxed to the far end
// intact; a client that does not own the call cannot touch it.
func TestSendFaxOverHTTP(t *testing.T) {
	e := Start(t, Options{})
	app := e.Login("app", "apppass")
	docs := http.FileServer(http.Dir(filepath.Join(testenv.SharedDir(t), "testdata")))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: docs}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	out := filepath.Join(t.TempDir(), "far.tif")
	recv, err := faxengine.NewReceiver(out, faxengine.Options{Caller: true})
	if err != nil {
		t.Fatal(err)
	}
	far := FaxPeer(recv)
	e.Switch.NewInboundCall(fsim.CallOptions{CallerNumber: "15551230000", Dest: "15559990000", Peer: far})
	offer := NextEvent(t, app, 20*time.Second)
	if offer.Payload.Name.Local != "offer" {
		t.Fatalf("expected an offer, got %s", offer.Payload)
	}
	call := offer.From.String()
	if _, err := Command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	intruder := e.Login("intruder", "intruderpass")
	if _, err := Command(t, intruder, call, `<hangup xmlns='urn:xmpp:rayo:1'/>`); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("intruder's hangup: %v, want conflict", err)
	}
	ref, err := Command(t, app, call, `<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://`+ln.Addr().String()+`/chart-std-g3.tif' pages='1,3' header='rayofax e2e'/></sendfax>`)
	if err != nil {
		t.Fatal(err)
	}
	done := Completion(t, app, ref, 5*time.Minute)
	if done.Children[0].Name.Local != "finish" {
		t.Fatalf("completion %s", done)
	}
	for i := 0; !far.Done() && i < 600; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	want, err := faxengine.LoadDocuments([]faxengine.Part{{Path: Testdata(t, "chart-std-g3.tif"), Pages: "1,3"}}, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The header changes the top rows: compare below it.
	pages, err := tiff.ReadBitmaps(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 {
		t.Fatalf("far end stored %d pages, want 2", len(pages))
	}
	for i, img := range pages {
		if img.Width != want[i].Width || img.Height != want[i].Height {
			t.Fatalf("page %d is %dx%d, want %dx%d", i+1, img.Width, img.Height, want[i].Width, want[i].Height)
		}
		skip := img.Height / 20 // the header band
		for y := skip; y < img.Height; y++ {
			if string(img.Row(y)) != string(want[i].Row(y)) {
				t.Errorf("page %d row %d differs below the header", i+1, y)
				break
			}
		}
		same := true
		for y := 0; y < skip; y++ {
			if string(img.Row(y)) != string(want[i].Row(y)) {
				same = false
			}
		}
		if same {
			t.Errorf("page %d has no header line", i+1)
		}
	}
}

// TestXMPPRestartMidFax: the XMPP server restarts while a fax is being
// received; the fax goes on, and its completion reaches the client once it
// is back.
func TestXMPPRestartMidFax(t *testing.T) {
	e := Start(t, Options{})
	app := e.Login("app", "apppass")
	sender, err := faxengine.NewSender(Testdata(t, "chart-p1-fine-g3.tif"), faxengine.Options{Caller: true})
	if err != nil {
		t.Fatal(err)
	}
	e.Switch.NewInboundCall(fsim.CallOptions{Peer: FaxPeer(sender)})
	offer := NextEvent(t, app, 20*time.Second)
	call := offer.From.String()
	if _, err := Command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := Command(t, app, call, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	e.XMPP.Restart()
	app = e.Login("app", "apppass") // same full JID as before
	done := Completion(t, app, ref, 5*time.Minute)
	if done.Children[0].Name.Local != "finish" {
		t.Fatalf("completion %s", done)
	}
	want, _ := faxengine.LoadDocument(Testdata(t, "chart-p1-fine-g3.tif"), faxengine.Options{})
	SamePages(t, Download(t, FaxURL(t, done)), want)
}

// TestS3DownAtCompletion: the S3 server is down when a fax completes; the
// fax is kept in the spool and the completion comes once it is stored.
func TestS3DownAtCompletion(t *testing.T) {
	e := Start(t, Options{S3: true})
	app := e.Login("app", "apppass")
	doc := Testdata(t, "chart-p1-fine-g3.tif")
	sender, err := faxengine.NewSender(doc, faxengine.Options{Caller: true})
	if err != nil {
		t.Fatal(err)
	}
	far := FaxPeer(sender)
	e.Switch.NewInboundCall(fsim.CallOptions{Peer: far})
	call := NextEvent(t, app, 20*time.Second).From.String()
	if _, err := Command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := Command(t, app, call, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	e.S3.Stop()
	// The fax ends while S3 is away: no completion may come yet.
	for !far.Done() {
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case ev := <-app.Events():
		if ev.Payload.Name.Local == "complete" {
			t.Fatalf("completed while S3 was down: %s", ev.Payload)
		}
	case <-time.After(3 * time.Second):
	}
	e.S3.Restart()
	done := Completion(t, app, ref, 2*time.Minute)
	if done.Children[0].Name.Local != "finish" {
		t.Fatalf("completion %s", done)
	}
	want, _ := faxengine.LoadDocument(doc, faxengine.Options{})
	SamePages(t, Download(t, FaxURL(t, done)), want)
}

func TestMain(m *testing.M) {
	code := m.Run()
	CleanBinaries()
	os.Exit(code)
}

// TestCPAStopAndHangup: CPA hears the caller's CNG, a receivefax follows on
// the same stream; a second call's fax is stopped mid-page, a third's far
// end hangs up after a page: each completion says so and keeps the pages.
func TestCPAStopAndHangup(t *testing.T) {
	e := Start(t, Options{})
	app := e.Login("app", "apppass")
	doc := Testdata(t, "chart-std-g3.tif")

	type farEnd struct {
		fax       *faxengine.Fax
		firstPage chan struct{}
	}
	newFar := func() farEnd {
		fe := farEnd{firstPage: make(chan struct{})}
		var once sync.Once
		var err error
		fe.fax, err = faxengine.NewSender(doc, faxengine.Options{Caller: true, OnEvent: func(ev t30.Event) {
			if ev.Kind == t30.EventPage {
				once.Do(func() { close(fe.firstPage) })
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		return fe
	}
	answer := func(fe farEnd) (string, *fsim.Channel) {
		ch := e.Switch.NewInboundCall(fsim.CallOptions{Peer: FaxPeer(fe.fax)})
		call := NextEvent(t, app, 20*time.Second).From.String()
		if _, err := Command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
			t.Fatal(err)
		}
		return call, ch
	}
	waitPage := func(fe farEnd) {
		select {
		case <-fe.firstPage:
		case <-time.After(4 * time.Minute):
			t.Fatal("no page arrived")
		}
	}

	// CPA, then stop after the first page.
	fe := newFar()
	call, _ := answer(fe)
	ref, err := Command(t, app, call, `<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'><grammar url='urn:xmpp:rayo:cpa:fax-cng:1'/></input>`)
	if err != nil {
		t.Fatal(err)
	}
	done := Completion(t, app, ref, 30*time.Second)
	if done.Children[0].Name.Local != "signal" {
		t.Fatalf("CPA completion %s", done)
	}
	ref, err = Command(t, app, call, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	waitPage(fe)
	uri, _ := ref.Attribute("uri")
	if _, err := Command(t, app, strings.TrimPrefix(uri, "xmpp:"), `<stop xmlns='urn:xmpp:rayo:ext:1'/>`); err != nil {
		t.Fatal(err)
	}
	done = Completion(t, app, ref, time.Minute)
	if done.Children[0].Name.Local != "stop" {
		t.Fatalf("completion %s, want stop", done)
	}
	FaxURL(t, done) // the page received before the stop is kept

	// The far end hangs up after the first page: hangup, with that page.
	fe = newFar()
	call, ch := answer(fe)
	ref, err = Command(t, app, call, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	waitPage(fe)
	ch.Hangup("NORMAL_CLEARING")
	done = Completion(t, app, ref, time.Minute)
	if done.Children[0].Name.Local != "hangup" {
		t.Fatalf("completion %s, want hangup", done)
	}
	want, err := faxengine.LoadDocument(doc, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := Download(t, FaxURL(t, done))
	f, err := tiff.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.NumPages() < 1 {
		t.Fatal("the partial fax has no page")
	}
	img, err := f.DecodeBitmap(0)
	if err != nil {
		t.Fatal(err)
	}
	if !raster.Equal(img, want[0]) {
		t.Error("the first page of the partial fax differs from the page sent")
	}
}

// TestCrashKeepsPages: rayofaxd is killed (SIGKILL) after the first page of a
// fax has arrived; started again, it stores what the spool holds, and the
// page can be fetched under the fax's key.
func TestCrashKeepsPages(t *testing.T) {
	e := Start(t, Options{})
	app := e.Login("app", "apppass")
	doc := Testdata(t, "chart-std-g3.tif")
	firstPage := make(chan struct{})
	var once sync.Once
	sender, err := faxengine.NewSender(doc, faxengine.Options{Caller: true, OnEvent: func(ev t30.Event) {
		if ev.Kind == t30.EventPage {
			once.Do(func() { close(firstPage) })
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.Switch.NewInboundCall(fsim.CallOptions{Peer: FaxPeer(sender)})
	call := NextEvent(t, app, 20*time.Second).From
	if _, err := Command(t, app, call.String(), `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := Command(t, app, call.String(), `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-firstPage:
	case <-time.After(4 * time.Minute):
		t.Fatal("no page arrived")
	}
	// The far end counts the page once our MCF is out: it is on disk.
	e.Crash()
	uri, _ := ref.Attribute("uri")
	comp := uri[strings.LastIndex(uri, "/")+1:]
	key := time.Now().UTC().Format("2006/01/02") + "/" + call.Localpart() + "-" + comp + ".tif"
	var out []byte
	for i := 0; i < 100; i++ { // the spool stores it in the background
		out, err = exec.Command(e.Daemon, "url", "--config", e.Config, key).Output()
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("rayofaxd url %s: %v", key, err)
	}
	var obj struct{ URL string }
	if err := json.Unmarshal(out, &obj); err != nil || obj.URL == "" {
		t.Fatalf("rayofaxd url printed %s (%v)", out, err)
	}
	f, err := tiff.Open(Download(t, obj.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := faxengine.LoadDocument(doc, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumPages() < 1 {
		t.Fatal("the fax kept over the crash has no page")
	}
	img, err := f.DecodeBitmap(0)
	if err != nil {
		t.Fatal(err)
	}
	if !raster.Equal(img, want[0]) {
		t.Error("page 1 kept over the crash differs from the page sent")
	}
	t.Logf("kept %d page(s) of %d over the crash", f.NumPages(), len(want))
}
