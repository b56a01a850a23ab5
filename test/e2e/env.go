// Package e2e runs rayofax as users meet it: the rayofaxd and rayoctl
// binaries, a real Prosody, the FreeSWITCH simulator with real ESL and
// unicast UDP, real storage (local files or versitygw S3), and far-end fax
// machines made of our own terminals.
package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	"github.com/rayofax/rayofax/test/child"
	"github.com/rayofax/rayofax/test/daemonconf"
	"github.com/rayofax/rayofax/test/fsim"
	"github.com/rayofax/rayofax/test/prosody"
	"github.com/rayofax/rayofax/test/testenv"
)

var bins struct {
	once              sync.Once
	rayofaxd, rayoctl string
	err               error
}

// Binaries builds rayofaxd and rayoctl once per test run.
func Binaries(t testing.TB) (string, string) {
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

// Env is one running installation.
type Env struct {
	t       testing.TB
	XMPP    *prosody.Server
	Switch  *fsim.Server
	S3      *s3test.Server
	HTTPURL string
	Config  string // the rayofaxd configuration file
	Log     string // rayofaxd's log file
	daemon  *exec.Cmd
	exited  chan struct{}
	Rayoctl string // the rayoctl binary
	Daemon  string // the rayofaxd binary
}

type Options struct {
	S3       bool   // store faxes on versitygw instead of local files
	LogLevel string // rayofaxd's log.level (default info; debug adds the T.30 frame trace)
}

var portBase = 30000

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func Start(t testing.TB, o Options) *Env {
	t.Helper()
	daemonBin, ctlBin := Binaries(t)
	e := &Env{t: t, XMPP: prosody.Start(t), Rayoctl: ctlBin}
	e.XMPP.AddUser("app", "apppass")
	e.XMPP.AddUser("intruder", "intruderpass")
	sw, err := fsim.Start(fsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.Close() })
	e.Switch = sw

	dir := t.TempDir()
	httpPort := freePort(t)
	e.HTTPURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	portBase += 200
	cfg := daemonconf.Config{
		StateDir: filepath.Join(dir, "state"),
		ESLAddr:  sw.Addr(), ESLReconnectMin: "100ms", ESLReconnectMax: "1s",
		AudioPortMin: portBase, AudioPortMax: portBase + 199,
		XMPPServer: e.XMPP.ComponentAddr, Domain: e.XMPP.ComponentDomain, Secret: e.XMPP.Secret,
		Clients:          []string{"app@" + e.XMPP.Host, "intruder@" + e.XMPP.Host},
		XMPPReconnectMin: "100ms", XMPPReconnectMax: "1s",
		Ident: "+15550009999", FetchLocal: true,
		HTTPListen: fmt.Sprintf("127.0.0.1:%d", httpPort),
		LogLevel:   o.LogLevel, LogFormat: "json",
	}
	if o.S3 {
		e.S3 = s3test.Start(t)
		cfg.Storage = daemonconf.S3{Endpoint: e.S3.Endpoint, AccessKey: e.S3.AccessKey, SecretKey: e.S3.SecretKey,
			RetryMin: "200ms", RetryMax: "1s"}
	}
	e.Config = filepath.Join(dir, "rayofax.yaml")
	if err := cfg.Write(e.Config); err != nil {
		t.Fatal(err)
	}
	e.Log = filepath.Join(dir, "rayofaxd.log")
	e.Daemon = daemonBin
	e.startDaemon()
	t.Cleanup(func() {
		e.StopDaemon()
		if t.Failed() {
			b, _ := os.ReadFile(e.Log)
			t.Logf("rayofaxd log:\n%s", b)
		}
	})
	e.WaitReady()
	return e
}

func (e *Env) startDaemon() {
	logf, err := os.OpenFile(e.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	e.daemon = exec.Command(e.Daemon, "--config", e.Config)
	e.daemon.Stdout, e.daemon.Stderr = logf, logf
	child.DieWithParent(e.daemon, syscall.SIGKILL)
	if err := e.daemon.Start(); err != nil {
		e.t.Fatal(err)
	}
	exited := make(chan struct{})
	e.exited = exited
	cmd := e.daemon
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
}

// Crash kills rayofaxd at once (SIGKILL), as a power cut or an OOM kill
// would, and starts it again with the same configuration.
func (e *Env) Crash() {
	e.t.Helper()
	e.daemon.Process.Kill()
	<-e.exited
	e.startDaemon()
	e.WaitReady()
}

// StopDaemon stops rayofaxd with SIGTERM.
func (e *Env) StopDaemon() {
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

// WaitReady waits until /readyz says the daemon reaches FreeSWITCH and XMPP.
func (e *Env) WaitReady() {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-e.exited:
			e.t.Fatal("rayofaxd exited at start")
		default:
		}
		resp, err := http.Get(e.HTTPURL + "/readyz")
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

// Login connects a Rayo client as user and announces it to the service.
func (e *Env) Login(user, pass string) *client.Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Addr: e.XMPP.C2SAddr, JID: user + "@" + e.XMPP.Host + "/e2e", Password: pass})
	if err != nil {
		e.t.Fatalf("login %s: %v", user, err)
	}
	e.t.Cleanup(func() { c.Close() })
	if err := c.Available(ctx, e.XMPP.ComponentDomain); err != nil {
		e.t.Fatal(err)
	}
	// The daemon learns of the client asynchronously; a disco round trip
	// through the same server orders us after the presence.
	// (After an XMPP server restart the daemon may still be reconnecting:
	// the server answers for it until then.)
	for {
		_, err := c.Raw(ctx, e.XMPP.ComponentDomain, "get", wire.New("http://jabber.org/protocol/disco#info", "query"))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			e.t.Fatalf("the Rayo service does not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
		if err := c.Available(ctx, e.XMPP.ComponentDomain); err != nil {
			e.t.Fatal(err)
		}
	}
	return c
}

// FarEnd is one of our terminals as the far end of a simulated call. The
// simulator runs it on its clock goroutine; Done and Report may be called
// from any goroutine meanwhile.
type FarEnd struct {
	mu sync.Mutex
	f  *faxengine.Fax
}

// FaxPeer makes f the far end of a simulated call.
func FaxPeer(f *faxengine.Fax) *FarEnd { return &FarEnd{f: f} }

// Process implements fsim.Peer.
func (p *FarEnd) Process(in, out []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f.Done() {
		clear(out)
		return
	}
	p.f.Rx(in)
	p.f.Tx(out)
}

// Done reports whether the far end's call has ended.
func (p *FarEnd) Done() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.f.Done()
}

// Report returns the far end's outcome.
func (p *FarEnd) Report() faxengine.Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.f.Report()
}

func Testdata(t testing.TB, name string) string {
	return filepath.Join(testenv.SharedDir(t), "testdata", name)
}

// SamePages checks that the TIFF at got holds exactly want's pages.
func SamePages(t testing.TB, got string, want faxengine.Document) {
	t.Helper()
	pages, err := tiff.ReadBitmaps(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != len(want) {
		t.Fatalf("%d pages, want %d", len(pages), len(want))
	}
	for i, img := range pages {
		if !raster.Equal(img, want[i]) {
			t.Errorf("page %d differs from the page sent", i+1)
		}
	}
}

func Download(t testing.TB, url string) string {
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

func NextEvent(t testing.TB, c *client.Client, timeout time.Duration) client.Event {
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

func Command(t testing.TB, c *client.Client, to, x string) (*wire.Element, error) {
	t.Helper()
	el, err := wire.Parse([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.Command(ctx, to, el)
}

// Completion waits for the completion of the component ref names, which
// must come as an unavailable presence (XEP-0327).
func Completion(t testing.TB, c *client.Client, ref *wire.Element, timeout time.Duration) *wire.Element {
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
				if ev.Type != "unavailable" {
					t.Errorf("completion presence of type %q", ev.Type)
				}
				t.Logf("completion: %s", ev.Payload)
				return ev.Payload
			}
		case <-deadline:
			t.Fatalf("no completion of %s within %v", uri, timeout)
		}
	}
}

func FaxURL(t testing.TB, complete *wire.Element) string {
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

// CleanBinaries removes the binaries Binaries built (from TestMain).
func CleanBinaries() {
	if bins.rayofaxd != "" {
		os.RemoveAll(filepath.Dir(bins.rayofaxd))
	}
}
