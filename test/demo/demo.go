package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go/build"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/rayo/wire"
	"github.com/rayofax/rayofax/test/child"
	"github.com/rayofax/rayofax/test/daemonconf"
	"github.com/rayofax/rayofax/test/fsim"
	"github.com/rayofax/rayofax/test/prosody"
)

// Config says where the demo finds its programs and puts its files.
type Config struct {
	Bin     string // directory holding rayofaxd and rayoctl
	Out     string // output directory (emptied first)
	Doc     string // TIFF the far end sends; "" draws a page
	Prosody string // prosody program; "" for prosody on $PATH
	// S3 stores the faxes on versitygw, an S3 server started on loopback,
	// instead of local files; the URL is then a presigned S3 URL.
	S3        bool
	Versitygw string        // versitygw program; "" for $PATH, then $GOPATH/bin
	Timeout   time.Duration // for the whole run; 3 minutes when zero
	Stdout    io.Writer     // progress and summary; io.Discard when nil
}

// Result is what the demo produced.
type Result struct {
	Dir      string // output directory
	URL      string // the fax URL rayoctl printed
	Received string // the fax downloaded from URL
	Preview  string // PNG of its first page
	Pages    int    // pages received (all equal to the pages sent)
	Sent     faxengine.Report
	// Complete is the <complete/> rayoctl received; Metadata its
	// <metadata name value/> pairs, in order.
	Complete string
	Metadata [][2]string
	S3       bool // stored on versitygw
}

// The Rayo client account and the numbers of the simulated call.
const (
	user       = "app"
	password   = "demo-password"
	resource   = "demo"
	callerNum  = "15551230000"
	calledNum  = "15559990000"
	farIdent   = "+15551230000"
	localIdent = "+15559990000"
)

// Run starts the stack, receives one fax through it and stops everything
// before it returns, whatever happened. On error the Result (when not nil)
// still names the directory holding the logs.
func Run(ctx context.Context, c Config) (*Result, error) {
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Minute
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	d := &demo{c: c, out: c.Stdout}
	res, err := d.run(ctx)
	d.stop()
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return res, err
}

type demo struct {
	c   Config
	out io.Writer
	dir string

	mu       sync.Mutex // guards out lines written from several goroutines
	stoppers []func()
}

// say prints one line of the demo's story: a component name and what it did.
func (d *demo) say(who, format string, a ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.out, "%-10s %s\n", who, fmt.Sprintf(format, a...))
}

// onStop registers cleanup, run in reverse order by stop.
func (d *demo) onStop(f func()) { d.stoppers = append(d.stoppers, f) }

func (d *demo) stop() {
	for i := len(d.stoppers) - 1; i >= 0; i-- {
		d.stoppers[i]()
	}
	d.stoppers = nil
}

func (d *demo) path(name string) string { return filepath.Join(d.dir, name) }

func (d *demo) run(ctx context.Context) (*Result, error) {
	dir, err := filepath.Abs(d.c.Out)
	if err != nil {
		return nil, err
	}
	d.dir = dir
	res := &Result{Dir: dir, S3: d.c.S3}
	if err := resetDir(dir); err != nil {
		return nil, err
	}
	daemonBin, ctlBin, err := binaries(d.c.Bin)
	if err != nil {
		return nil, err
	}

	// The document the far end sends.
	doc := d.c.Doc
	if doc == "" {
		doc = d.path("page.tif")
		if err := writeDemoPage(doc); err != nil {
			return res, fmt.Errorf("drawing the demo page: %w", err)
		}
	}
	want, err := faxengine.LoadDocument(doc, faxengine.Options{})
	if err != nil {
		return res, fmt.Errorf("document %s: %w", doc, err)
	}

	// The XMPP server.
	xmpp, err := prosody.Run(prosody.Options{Bin: d.c.Prosody, Dir: d.path("prosody")})
	if err != nil {
		return res, err
	}
	d.onStop(func() { xmpp.Stop() })
	if err := xmpp.Register(user, password); err != nil {
		return res, err
	}
	d.say("prosody", "XMPP server: clients on %s, component %s on %s", xmpp.C2SAddr, xmpp.ComponentDomain, xmpp.ComponentAddr)

	// The switch.
	sw, err := fsim.Start(fsim.Config{})
	if err != nil {
		return res, fmt.Errorf("FreeSWITCH simulator: %w", err)
	}
	d.onStop(func() { sw.Close() })
	d.say("switch", "FreeSWITCH simulator: event socket on %s, unicast UDP audio", sw.Addr())

	// The storage.
	var storageCfg daemonconf.S3 // local
	if d.c.S3 {
		if storageCfg, err = d.startS3(ctx); err != nil {
			return res, err
		}
	}

	// The daemon.
	base, err := d.startDaemon(ctx, daemonBin, xmpp, sw, storageCfg)
	if err != nil {
		return res, err
	}

	// The Rayo client.
	lines, ctlDone, err := d.startRayoctl(ctx, ctlBin, xmpp)
	if err != nil {
		return res, err
	}
	if err := d.waitLog(ctx, "rayofaxd.log", "client="+user+"@"+xmpp.Host+"/"+resource+" available=true", 30*time.Second); err != nil {
		return res, fmt.Errorf("rayoctl never became available to rayofaxd: %w", err)
	}

	// The far end dials in and sends the document.
	var sent faxengine.Report
	var sentMu sync.Mutex
	sentDone := make(chan struct{}) // closed at the far end's EventDone
	sender, err := faxengine.NewDocumentSender(want, faxengine.Options{Caller: true, Ident: farIdent, OnEvent: func(e t30.Event) {
		switch e.Kind {
		case t30.EventRate:
			d.say("far end", "training at %v", e.Rate)
		case t30.EventPage:
			d.say("far end", "page %d sent (%v, ECM %v)", e.Page.Number, e.Page.Rate, e.Page.ECM)
		case t30.EventDone:
			if e.Report != nil {
				sentMu.Lock()
				sent = faxengine.Report{Report: *e.Report}
				select {
				case <-sentDone:
				default:
					close(sentDone)
				}
				sentMu.Unlock()
				d.say("far end", "done: %v, %d page(s)", e.Report.Result, e.Report.Pages)
			}
		}
	}})
	if err != nil {
		return res, fmt.Errorf("far-end fax machine: %w", err)
	}
	d.say("far end", "fax machine %s calls %s, sending %s (%d page(s)) in real time", farIdent, calledNum, docName(d.c.Doc), len(want))
	sw.NewInboundCall(fsim.CallOptions{CallerNumber: callerNum, Dest: calledNum, Peer: faxPeer(sender)})

	// rayoctl prints the URL when the fax is complete.
	for line := range lines {
		if u, ok := strings.CutPrefix(line, "fax "); ok {
			res.URL = u
		}
		if i := strings.Index(line, "<complete "); i >= 0 && strings.HasPrefix(line, "event ") {
			res.Complete = line[i:]
			if el, err := wire.Parse([]byte(res.Complete)); err == nil {
				for _, c := range el.Children {
					if c.Name.Local == "metadata" {
						n, _ := c.Attribute("name")
						v, _ := c.Attribute("value")
						res.Metadata = append(res.Metadata, [2]string{n, v})
					}
				}
			}
		}
	}
	if err := <-ctlDone; err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("rayoctl receive: %w (see %s)", err, d.path("rayoctl.log"))
	}
	if res.URL == "" {
		return res, fmt.Errorf("rayoctl printed no fax URL (see %s)", d.path("rayoctl.log"))
	}
	// The far end finishes when its DCN has gone out, which can be a
	// moment after rayofaxd, hearing it, completed the fax.
	select {
	case <-sentDone:
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	sentMu.Lock()
	res.Sent = sent
	sentMu.Unlock()

	// The operator's side: fetch, check, preview.
	res.Received = d.path("received.tif")
	n, err := download(ctx, res.URL, res.Received)
	if err != nil {
		return res, err
	}
	got, err := readPages(res.Received)
	if err != nil {
		return res, err
	}
	if len(got) != len(want) {
		return res, fmt.Errorf("the fax has %d page(s), the far end sent %d", len(got), len(want))
	}
	for i := range want {
		if !raster.Equal(got[i], want[i]) {
			return res, fmt.Errorf("page %d of the fax differs from the page sent", i+1)
		}
	}
	res.Pages = len(got)
	d.say("check", "downloaded %d bytes: %d page(s) of %dx%d pixels, identical to the pages sent", n, len(got), got[0].Width, got[0].Height)
	res.Preview = d.path("received-page1.png")
	if err := writePNG(res.Preview, got[0]); err != nil {
		return res, err
	}
	resp, err := httpGet(ctx, base+"/metrics")
	if err == nil {
		for _, l := range strings.Split(string(resp), "\n") {
			if strings.HasPrefix(l, "rayofax_storage_stored_bytes_total") || strings.HasPrefix(l, "rayofax_storage_uploads_total") {
				d.say("metrics", "%s", l)
			}
		}
	}
	return res, nil
}

// marker names the demo's output directories, so that only those are
// emptied when the demo runs again.
const marker = ".rayofax-demo"

// resetDir empties dir if an earlier demo made it, creates it if it does not
// exist, and refuses any other non-empty directory.
func resetDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("output directory: %w", err)
	case len(ents) == 0:
	default:
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return fmt.Errorf("output directory %s is not empty and was not made by the demo: choose another", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("output directory: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, marker), []byte("output of rayofax's test/demo; emptied when it runs again\n"), 0o644)
}

func binaries(dir string) (daemon, ctl string, err error) {
	daemon, ctl = filepath.Join(dir, "rayofaxd"), filepath.Join(dir, "rayoctl")
	for _, p := range []string{daemon, ctl} {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("%s missing (run make build): %w", p, err)
		}
	}
	daemon, _ = filepath.Abs(daemon)
	ctl, _ = filepath.Abs(ctl)
	return daemon, ctl, nil
}

func docName(doc string) string {
	if doc == "" {
		return "a page drawn by the demo"
	}
	return filepath.Base(doc)
}

// startDaemon writes rayofaxd's configuration, starts it and waits until
// /readyz says it reaches the switch and the XMPP server. It returns the
// HTTP base URL.
func (d *demo) startDaemon(ctx context.Context, bin string, xmpp *prosody.Server, sw *fsim.Server, storageCfg daemonconf.S3) (string, error) {
	httpPort, err := freePort()
	if err != nil {
		return "", err
	}
	// One UDP port per call; a random block keeps two demos (or a demo and
	// the tests) apart.
	audioMin := 40000 + rand.IntN(200)*100
	cfg := daemonconf.Config{
		Comment:  "rayofaxd configuration written by the demo (test/demo).",
		StateDir: d.path("state"),
		ESLAddr:  sw.Addr(), ESLReconnectMin: "100ms", ESLReconnectMax: "1s",
		AudioPortMin: audioMin, AudioPortMax: audioMin + 99,
		XMPPServer: xmpp.ComponentAddr, Domain: xmpp.ComponentDomain, Secret: xmpp.Secret,
		Clients:          []string{user + "@" + xmpp.Host},
		XMPPReconnectMin: "200ms", XMPPReconnectMax: "2s",
		Ident:      localIdent,
		Storage:    storageCfg,
		HTTPListen: fmt.Sprintf("127.0.0.1:%d", httpPort),
		LogFormat:  "text", Grace: "5s",
	}
	cfgPath := d.path("rayofax.yaml")
	if err := cfg.Write(cfgPath); err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Env = environWithout("RAYOFAX_")
	p, err := d.startProcess("rayofaxd", cmd)
	if err != nil {
		return "", err
	}
	d.onStop(func() {
		switch {
		case p.exitedNow():
		case p.stop(15 * time.Second):
			d.say("rayofaxd", "killed: no exit within 15 s of SIGTERM")
		case p.err != nil:
			d.say("rayofaxd", "stopped: %v", p.err)
		default:
			d.say("rayofaxd", "stopped (SIGTERM, graceful, exit status 0)")
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	deadline := time.Now().Add(30 * time.Second)
	last := "no answer"
	for {
		select {
		case <-p.exited:
			return "", fmt.Errorf("rayofaxd exited at start: %v (see %s)", p.err, d.path("rayofaxd.log"))
		case <-ctx.Done():
			return "", ctx.Err()
		default:
		}
		b, err := httpGet(ctx, base+"/readyz")
		if err == nil {
			d.say("rayofaxd", "ready (pid %d), /readyz: %s", cmd.Process.Pid, strings.TrimSpace(firstLine(string(b))))
			where := "stored locally, served at " + base + "/files/..."
			if d.c.S3 {
				where = "stored on S3 (versitygw), presigned URLs"
			}
			d.say("rayofaxd", "config %s, faxes %s", cfgPath, where)
			return base, nil
		}
		last = err.Error()
		if time.Now().After(deadline) {
			return "", fmt.Errorf("rayofaxd not ready within 30 s: %s (see %s)", last, d.path("rayofaxd.log"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startS3 starts versitygw on a free loopback port, serving a directory of
// the demo's, and returns rayofaxd's storage configuration for it.
func (d *demo) startS3(ctx context.Context) (daemonconf.S3, error) {
	bin := d.c.Versitygw
	if bin == "" {
		if p, err := exec.LookPath("versitygw"); err == nil {
			bin = p
		} else {
			bin = filepath.Join(build.Default.GOPATH, "bin", "versitygw")
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return daemonconf.S3{}, fmt.Errorf("versitygw (S3 server) not found (test/tools/deps.sh installs it): %w", err)
	}
	dir := d.path("s3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return daemonconf.S3{}, err
	}
	port, err := freePort()
	if err != nil {
		return daemonconf.S3{}, err
	}
	endpoint := fmt.Sprintf("127.0.0.1:%d", port)
	const access, secret = "rayofaxdemo", "rayofax-demo-secret-key"
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", endpoint, "--quiet", "posix", dir)
	p, err := d.startProcess("versitygw", cmd)
	if err != nil {
		return daemonconf.S3{}, err
	}
	d.onStop(func() { p.stop(5 * time.Second) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", endpoint, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-p.exited:
			return daemonconf.S3{}, fmt.Errorf("versitygw exited at start (see %s)", d.path("versitygw.log"))
		case <-ctx.Done():
			return daemonconf.S3{}, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return daemonconf.S3{}, fmt.Errorf("versitygw did not listen on %s within 10 s (see %s)", endpoint, d.path("versitygw.log"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.say("s3", "versitygw S3 server on %s, bucket \"faxes\" in %s", endpoint, dir)
	return daemonconf.S3{Endpoint: endpoint, AccessKey: access, SecretKey: secret, RetryMin: "200ms", RetryMax: "2s"}, nil
}

// startRayoctl runs `rayoctl receive`. Its stdout lines come on the first
// channel (closed when it exits), also logged to rayoctl.log and shown
// shortened; its exit status comes on the second.
func (d *demo) startRayoctl(ctx context.Context, bin string, xmpp *prosody.Server) (<-chan string, <-chan error, error) {
	jid := user + "@" + xmpp.Host + "/" + resource
	args := []string{"receive", "--server", xmpp.C2SAddr, "--jid", jid, "--service", xmpp.ComponentDomain, "--wait", "3m"}
	logf, err := os.Create(d.path("rayoctl.log"))
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(logf, "$ RAYOCTL_PASSWORD=... rayoctl %s\n", strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = append(environWithout("RAYOCTL_"), "RAYOCTL_PASSWORD="+password)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, nil, err
	}
	child.DieWithParent(cmd, syscall.SIGKILL)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("rayoctl: %w", err)
	}
	d.say("rayoctl", "rayoctl %s", strings.Join(args, " "))
	lines := make(chan string, 64)
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			d.mu.Lock()
			fmt.Fprintln(logf, l)
			d.mu.Unlock()
			d.say("rayoctl", "%s", shorten(l))
			lines <- l
		}
		close(lines)
		err := cmd.Wait()
		logf.Close()
		done <- err
		close(exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			cmd.Process.Signal(syscall.SIGTERM)
		case <-exited:
		}
	}()
	d.onStop(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			// Drain so the reader goroutine can finish.
			go func() {
				for range lines {
				}
			}()
			<-exited
		}
	})
	return lines, done, nil
}

// process is a background program of the demo.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once it has exited
	err    error         // cmd.Wait's result, set before exited is closed
}

// startProcess starts cmd with its output in the demo's file NAME.log,
// to die with the demo.
func (d *demo) startProcess(name string, cmd *exec.Cmd) (*process, error) {
	logf, err := os.Create(d.path(name + ".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	child.DieWithParent(cmd, syscall.SIGKILL)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.exited) }()
	return p, nil
}

// exitedNow reports whether the process has exited.
func (p *process) exitedNow() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM, then SIGKILL if it has not exited within
// grace. It reports whether it had to kill.
func (p *process) stop(grace time.Duration) (killed bool) {
	if p.exitedNow() {
		return false
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return false
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.exited
		return true
	}
}

// environWithout is the environment without the variables starting with
// prefix: rayofaxd's RAYOFAX_* variables override its configuration file,
// and the demo's configuration must be the one that counts.
func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// shorten keeps a rayoctl line readable on a terminal: stanzas are long.
func shorten(s string) string {
	const max = 150
	if strings.HasPrefix(s, "fax ") || len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// waitLog waits until the log file name contains substr.
func (d *demo) waitLog(ctx context.Context, name, substr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(d.path(name))
		if strings.Contains(string(b), substr) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q in %s within %v", substr, d.path(name), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// faxPeer makes a fax terminal the far end of a simulated call.
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

func httpGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, nil
}

// download fetches url into file and returns its size.
func download(ctx context.Context, url, file string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("fax URL %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("downloading the fax: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("downloading the fax: GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("downloading the fax: %w", err)
	}
	return n, nil
}

func readPages(file string) ([]*raster.Bitmap, error) {
	pages, err := tiff.ReadBitmaps(file)
	if err != nil {
		return nil, fmt.Errorf("the received fax: %w", err)
	}
	if len(pages) == 0 {
		return nil, errors.New("the received fax has no pages")
	}
	return pages, nil
}

// writePNG writes a bitmap as a black-and-white PNG. Rows are repeated as
// often as the vertical resolution is coarser than the horizontal (twice at
// standard resolution), so the preview has the page's proportions.
func writePNG(name string, bm *raster.Bitmap) error {
	rep := 1
	if bm.YRes > 0 && bm.XRes > bm.YRes {
		rep = int(bm.XRes/bm.YRes + 0.5)
	}
	p := image.NewPaletted(image.Rect(0, 0, bm.Width, bm.Height*rep), color.Palette{color.White, color.Black})
	for y := 0; y < bm.Height; y++ {
		for x := 0; x < bm.Width; x++ {
			if bm.Black(x, y) {
				for r := 0; r < rep; r++ {
					p.Pix[(y*rep+r)*p.Stride+x] = 1
				}
			}
		}
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := png.Encode(f, p); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Summary writes what the demo showed, for the operator.
func Summary(w io.Writer, r *Result) {
	store := "local storage"
	if r.S3 {
		store = "S3 (versitygw)"
	}
	fmt.Fprintf(w, "\nAn inbound fax call went through the whole stack: far-end fax machine -> FreeSWITCH\n")
	fmt.Fprintf(w, "simulator (ESL + unicast UDP audio) -> rayofaxd -> %s; the Rayo client rayoctl\n", store)
	fmt.Fprintf(w, "(over prosody) answered it, received the fax and got its URL:\n\n  %s\n\n", r.URL)
	if r.S3 {
		fmt.Fprintf(w, "(a presigned URL of the S3 server, versitygw, which the demo has stopped; its files stay in\n%s/s3.)\n\n", r.Dir)
	} else {
		fmt.Fprintf(w, "(rayofaxd served it until the demo stopped it; `rayofaxd --config %s/rayofax.yaml`\n", r.Dir)
		fmt.Fprintf(w, "serves it again: the signing key is kept with the stored faxes.)\n\n")
	}
	for _, m := range r.Metadata {
		fmt.Fprintf(w, "  %-22s %s\n", m[0], m[1])
	}
	fmt.Fprintf(w, "\n%-22s %s (%d page(s), identical to the pages sent)\n", "received fax", r.Received, r.Pages)
	fmt.Fprintf(w, "%-22s %s\n", "page 1 preview", r.Preview)
	fmt.Fprintf(w, "%-22s %s/{rayofaxd,rayoctl}.log, %s/prosody/prosody.log\n", "logs", r.Dir, r.Dir)
	fmt.Fprintf(w, "%-22s %s/rayofax.yaml\n", "rayofaxd configuration", r.Dir)
}
