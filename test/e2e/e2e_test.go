// Package e2e runs rayofax as users meet it: the rayofaxd and rayoctl
// binaries, a real Prosody, the FreeSWITCH simulator with real ESL and
// unicast UDP, real storage (local files or versitygw S3), and far-end fax
// machines made of our own terminals.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/rayo/client"
	"github.com/rayofax/rayofax/rayo/wire"
	"github.com/rayofax/rayofax/storage/s3test"
	"github.com/rayofax/rayofax/test/fsim"
	"github.com/rayofax/rayofax/test/prosody"
	"github.com/rayofax/rayofax/test/testenv"
)

var bins struct {
	once              sync.Once
	rayofaxd, rayoctl string
	err               error
}

// binaries builds rayofaxd and rayoctl once per test run.
func binaries(t *testing.T) (string, string) {
	bins.once.Do(func() {
		dir, err := os.MkdirTemp("", "rayofax-e2e-bin-")
		if err != nil {
			bins.err = err
			return
		}
		for _, name := range []string{"rayofaxd", "rayoctl"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), "github.com/rayofax/rayofax/cmd/"+name).CombinedOutput()
			if err != nil {
				bins.err = fmt.Errorf("go build %s: %v\n%s", name, err, out)
				return
			}
		}
		bins.rayofaxd, bins.rayoctl = filepath.Join(dir, "rayofaxd"), filepath.Join(dir, "rayoctl")
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.rayofaxd, bins.rayoctl
}

// env is one running installation.
type env struct {
	t       *testing.T
	xmpp    *prosody.Server
	sw      *fsim.Server
	s3      *s3test.Server
	httpURL string
	cfg     string
	log     string
	daemon  *exec.Cmd
	exited  chan struct{}
	rayoctl string
}

type options struct {
	s3 bool // store faxes on versitygw instead of local files
}

var portBase = 30000

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func start(t *testing.T, o options) *env {
	t.Helper()
	daemonBin, ctlBin := binaries(t)
	e := &env{t: t, xmpp: prosody.Start(t), rayoctl: ctlBin}
	e.xmpp.AddUser("app", "apppass")
	e.xmpp.AddUser("intruder", "intruderpass")
	sw, err := fsim.Start(fsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.Close() })
	e.sw = sw

	dir := t.TempDir()
	httpPort := freePort(t)
	e.httpURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	portBase += 200
	storageCfg := "storage:\n  backend: local\n"
	if o.s3 {
		e.s3 = s3test.Start(t)
		storageCfg = fmt.Sprintf(`storage:
  backend: s3
  retry_min: 200ms
  retry_max: 1s
  s3:
    endpoint: %s
    bucket: faxes
    access_key: %s
    secret_key: %s
    tls: false
    create_bucket: true
`, e.s3.Endpoint, e.s3.AccessKey, e.s3.SecretKey)
	}
	cfg := fmt.Sprintf(`state_dir: %s
esl:
  address: %s
  password: ClueCon
  reconnect_min: 100ms
  reconnect_max: 1s
audio:
  bind_address: 127.0.0.1
  port_min: %d
  port_max: %d
xmpp:
  server: %s
  domain: %s
  secret: %s
  clients: [app@%s, intruder@%s]
  reconnect_min: 100ms
  reconnect_max: 1s
fax:
  ident: "+15550009999"
fetch:
  allowed_networks: [127.0.0.1/32]
http:
  listen: 127.0.0.1:%d
log:
  level: info
  format: json
%s`, filepath.Join(dir, "state"), sw.Addr(), portBase, portBase+199, e.xmpp.ComponentAddr, e.xmpp.ComponentDomain,
		e.xmpp.Secret, e.xmpp.Host, e.xmpp.Host, httpPort, storageCfg)
	e.cfg = filepath.Join(dir, "rayofax.yaml")
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.log = filepath.Join(dir, "rayofaxd.log")
	logf, err := os.Create(e.log)
	if err != nil {
		t.Fatal(err)
	}
	e.daemon = exec.Command(daemonBin, "--config", e.cfg)
	e.daemon.Stdout, e.daemon.Stderr = logf, logf
	if err := e.daemon.Start(); err != nil {
		t.Fatal(err)
	}
	e.exited = make(chan struct{})
	go func() { e.daemon.Wait(); logf.Close(); close(e.exited) }()
	t.Cleanup(func() {
		e.stopDaemon()
		if t.Failed() {
			b, _ := os.ReadFile(e.log)
			t.Logf("rayofaxd log:\n%s", b)
		}
	})
	e.waitReady()
	return e
}

func (e *env) stopDaemon() {
	select {
	case <-e.exited:
		return
	default:
	}
	e.daemon.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(60 * time.Second):
		e.daemon.Process.Kill()
		<-e.exited
	}
}

// waitReady waits until /readyz says the daemon reaches FreeSWITCH and XMPP.
func (e *env) waitReady() {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-e.exited:
			e.t.Fatal("rayofaxd exited at start")
		default:
		}
		resp, err := http.Get(e.httpURL + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("rayofaxd not ready: %s", last)
}

// login connects a Rayo client as user and announces it to the service.
func (e *env) login(user, pass string) *client.Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Addr: e.xmpp.C2SAddr, JID: user + "@" + e.xmpp.Host + "/e2e", Password: pass})
	if err != nil {
		e.t.Fatalf("login %s: %v", user, err)
	}
	e.t.Cleanup(func() { c.Close() })
	if err := c.Available(ctx, e.xmpp.ComponentDomain); err != nil {
		e.t.Fatal(err)
	}
	// The daemon learns of the client asynchronously; a disco round trip
	// through the same server orders us after the presence.
	// (After an XMPP server restart the daemon may still be reconnecting:
	// the server answers for it until then.)
	for {
		_, err := c.Raw(ctx, e.xmpp.ComponentDomain, "get", wire.New("http://jabber.org/protocol/disco#info", "query"))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			e.t.Fatalf("the Rayo service does not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
		if err := c.Available(ctx, e.xmpp.ComponentDomain); err != nil {
			e.t.Fatal(err)
		}
	}
	return c
}

// faxPeer makes one of our terminals the far end of a simulated call.
func faxPeer(f *faxengine.Fax) fsim.Peer {
	var mu sync.Mutex
	return fsim.PeerFunc(func(in, out []int16) {
		mu.Lock()
		defer mu.Unlock()
		if f.Done() {
			clear(out)
			return
		}
		f.Rx(in)
		f.Tx(out)
	})
}

func testdata(t *testing.T, name string) string {
	return filepath.Join(testenv.SharedDir(t), "testdata", name)
}

// samePages checks that the TIFF at got holds exactly want's pages.
func samePages(t *testing.T, got string, want faxengine.Document) {
	t.Helper()
	f, err := tiff.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.NumPages() != len(want) {
		t.Fatalf("%d pages, want %d", f.NumPages(), len(want))
	}
	for i := range want {
		img, err := f.DecodeBitmap(i)
		if err != nil {
			t.Fatal(err)
		}
		if !raster.Equal(img, want[i]) {
			t.Errorf("page %d differs from the page sent", i+1)
		}
	}
}

func download(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := filepath.Join(t.TempDir(), "fax.tif")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func nextEvent(t *testing.T, c *client.Client, timeout time.Duration) client.Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatalf("client connection closed: %v", c.Err())
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no Rayo event within %v", timeout)
	}
	return client.Event{}
}

func command(t *testing.T, c *client.Client, to, x string) (*wire.Element, error) {
	t.Helper()
	el, err := wire.Parse([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.Command(ctx, to, el)
}

// completion waits for the completion of the component ref names.
func completion(t *testing.T, c *client.Client, ref *wire.Element, timeout time.Duration) *wire.Element {
	t.Helper()
	uri, _ := ref.Attribute("uri")
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("client connection closed: %v", c.Err())
			}
			if "xmpp:"+ev.From.String() == uri && ev.Payload.Name.Local == "complete" {
				t.Logf("completion: %s", ev.Payload)
				return ev.Payload
			}
		case <-deadline:
			t.Fatalf("no completion of %s within %v", uri, timeout)
		}
	}
}

func faxURL(t *testing.T, complete *wire.Element) string {
	t.Helper()
	for _, c := range complete.Children {
		if c.Name.Local == "fax" {
			u, _ := c.Attribute("url")
			return u
		}
	}
	t.Fatalf("no <fax/> in %s", complete)
	return ""
}

// TestReceiveWithRayoctl: an inbound fax call, taken by `rayoctl receive`,
// arrives intact at the URL rayoctl prints.
func TestReceiveWithRayoctl(t *testing.T) {
	e := start(t, options{})
	ctl := exec.Command(e.rayoctl, "receive", "--server", e.xmpp.C2SAddr, "--jid", "app@"+e.xmpp.Host+"/ctl",
		"--service", e.xmpp.ComponentDomain, "--wait", "4m")
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
		b, _ := os.ReadFile(e.log)
		if strings.Contains(string(b), `"client":"app@`+e.xmpp.Host+`/ctl","available":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rayoctl never became available")
		}
		time.Sleep(20 * time.Millisecond)
	}
	doc := testdata(t, "chart-p1-fine-g3.tif")
	sender, err := faxengine.NewSender(doc, faxengine.Options{Caller: true, Ident: "+15551230000"})
	if err != nil {
		t.Fatal(err)
	}
	e.sw.NewInboundCall(fsim.CallOptions{CallerNumber: "15551230000", Dest: "15559990000", Peer: faxPeer(sender)})
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
	samePages(t, download(t, url), want)
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
	e := start(t, options{})
	app := e.login("app", "apppass")
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
	e.sw.NewInboundCall(fsim.CallOptions{CallerNumber: "15551230000", Dest: "15559990000", Peer: faxPeer(recv)})
	offer := nextEvent(t, app, 20*time.Second)
	if offer.Payload.Name.Local != "offer" {
		t.Fatalf("expected an offer, got %s", offer.Payload)
	}
	call := offer.From.String()
	if _, err := command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	intruder := e.login("intruder", "intruderpass")
	if _, err := command(t, intruder, call, `<hangup xmlns='urn:xmpp:rayo:1'/>`); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("intruder's hangup: %v, want conflict", err)
	}
	ref, err := command(t, app, call, `<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://`+ln.Addr().String()+`/chart-std-g3.tif' pages='1,3' header='rayofax e2e'/></sendfax>`)
	if err != nil {
		t.Fatal(err)
	}
	done := completion(t, app, ref, 5*time.Minute)
	if done.Children[0].Name.Local != "finish" {
		t.Fatalf("completion %s", done)
	}
	for i := 0; !recv.Done() && i < 600; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	want, err := faxengine.LoadDocuments([]faxengine.Part{{Path: testdata(t, "chart-std-g3.tif"), Pages: "1,3"}}, faxengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The header changes the top rows: compare below it.
	f, err := tiff.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.NumPages() != 2 {
		t.Fatalf("far end stored %d pages, want 2", f.NumPages())
	}
	for i := range want {
		img, err := f.DecodeBitmap(i)
		if err != nil {
			t.Fatal(err)
		}
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
	e := start(t, options{})
	app := e.login("app", "apppass")
	sender, err := faxengine.NewSender(testdata(t, "chart-p1-fine-g3.tif"), faxengine.Options{Caller: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sw.NewInboundCall(fsim.CallOptions{Peer: faxPeer(sender)})
	offer := nextEvent(t, app, 20*time.Second)
	call := offer.From.String()
	if _, err := command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := command(t, app, call, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	e.xmpp.Restart()
	app = e.login("app", "apppass") // same full JID as before
	done := completion(t, app, ref, 5*time.Minute)
	if done.Children[0].Name.Local != "finish" {
		t.Fatalf("completion %s", done)
	}
	want, _ := faxengine.LoadDocument(testdata(t, "chart-p1-fine-g3.tif"), faxengine.Options{})
	samePages(t, download(t, faxURL(t, done)), want)
}

// TestS3DownAtCompletion: the S3 server is down when a fax completes; the
// fax is kept in the spool and the completion comes once it is stored.
func TestS3DownAtCompletion(t *testing.T) {
	e := start(t, options{s3: true})
	app := e.login("app", "apppass")
	doc := testdata(t, "chart-p1-fine-g3.tif")
	sender, err := faxengine.NewSender(doc, faxengine.Options{Caller: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sw.NewInboundCall(fsim.CallOptions{Peer: faxPeer(sender)})
	call := nextEvent(t, app, 20*time.Second).From.String()
	if _, err := command(t, app, call, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		t.Fatal(err)
	}
	ref, err := command(t, app, call, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		t.Fatal(err)
	}
	e.s3.Stop()
	// The fax ends while S3 is away: no completion may come yet.
	for !sender.Done() {
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case ev := <-app.Events():
		if ev.Payload.Name.Local == "complete" {
			t.Fatalf("completed while S3 was down: %s", ev.Payload)
		}
	case <-time.After(3 * time.Second):
	}
	e.s3.Restart()
	done := completion(t, app, ref, 2*time.Minute)
	if done.Children[0].Name.Local != "finish" {
		t.Fatalf("completion %s", done)
	}
	want, _ := faxengine.LoadDocument(doc, faxengine.Options{})
	samePages(t, download(t, faxURL(t, done)), want)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.rayofaxd != "" {
		os.RemoveAll(filepath.Dir(bins.rayofaxd))
	}
	_ = runtime.NumCPU
	os.Exit(code)
}
