package load

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/rayo"
	"github.com/rayofax/rayofax/rayo/client"
	"github.com/rayofax/rayofax/rayo/wire"
	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/fetch"
	"github.com/rayofax/rayofax/test/child"
	"github.com/rayofax/rayofax/test/daemonconf"
	"github.com/rayofax/rayofax/test/fsim"
	"github.com/rayofax/rayofax/test/prosody"
	"github.com/rayofax/rayofax/test/testenv"
)

// stack is Prosody + the FreeSWITCH simulator + eslbridge + the Rayo server
// + local storage, as rayofaxd wires them, with one Rayo client logged in
// and an HTTP server for the documents to send.
type stack struct {
	t       testing.TB
	xmpp    *prosody.Server
	sw      *fsim.Server
	bridge  *eslbridge.Bridge
	rayo    *rayo.Server
	app     *client.Client
	service string
	docURL  string // the document <sendfax/> sends
	docPath string // the same document on disk, for the far-end senders
	logPath string
	// simLogPath is the simulator's log (warnings and up).
	simLogPath string
	router     *router
	// syncPeers runs the far-end terminals on the simulator's clock
	// goroutines (one per core), as every other suite does on its one
	// clock goroutine. RAYOFAX_LOADTEST_ASYNC=1 gives
	// each its own goroutine instead, a frame behind: that spreads the far
	// ends over the cores but, on an overloaded host, every late worker
	// stalls the simulator's clock for all calls.
	syncPeers bool

	// daemon is the rayofaxd process under test when the stack runs the
	// real binary (RAYOFAX_LOADTEST_DAEMON=1); nil when eslbridge and rayo
	// run in the test process.
	daemon *exec.Cmd
	// daemonHTTP is its HTTP listener (host:port), which serves the
	// profiler (RAYOFAXD_PPROF=1).
	daemonHTTP string

	dialMu    sync.Mutex
	dialPeers map[string]fsim.Peer // by dial string
}

// The media port range: 2000 pairs, above Linux's default ephemeral range
// (32768-60999), so no outgoing socket of the host takes one while a step
// runs.
const portMin, portMax = 61000, 64999

// testDoc is three A4 pages at standard resolution (about 40 s at 14400
// bit/s with ECM).
const testDoc = "chart-std-g3.tif"

func newStack(t testing.TB) *stack {
	t.Helper()
	st := &stack{t: t, xmpp: prosody.Start(t), dialPeers: map[string]fsim.Peer{}, syncPeers: os.Getenv("RAYOFAX_LOADTEST_ASYNC") == ""}
	st.xmpp.AddUser("app", "apppass")
	st.service = st.xmpp.ComponentDomain
	st.docPath = filepath.Join(testenv.SharedDir(t), "testdata", testDoc)

	// The switch runs its sessions on every core, as FreeSWITCH does; its
	// console log (warnings and up) goes to a file.
	st.simLogPath = filepath.Join(t.TempDir(), "fsim.log")
	simLog, err := os.Create(st.simLogPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { simLog.Close() })
	sw, err := fsim.Start(fsim.Config{Dial: st.dial, ClockWorkers: runtime.GOMAXPROCS(0),
		Logger: slog.New(slog.NewTextHandler(simLog, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.Close() })
	st.sw = sw

	// The daemon logs at info level, as in production, to a file: the cost
	// of logging is part of the load.
	st.logPath = filepath.Join(t.TempDir(), "rayofaxd.log")
	logFile, err := os.Create(st.logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))

	mux := http.NewServeMux()
	files := httptest.NewServer(mux)
	t.Cleanup(files.Close)
	mux.HandleFunc("/doc.tif", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, st.docPath) })
	st.docURL = files.URL + "/doc.tif"
	spool, handler, err := storage.Open(storage.Options{
		Backend: "local",
		Spool:   storage.SpoolOptions{Dir: filepath.Join(t.TempDir(), "spool"), Logger: log},
		Local:   storage.LocalOptions{Dir: filepath.Join(t.TempDir(), "store"), BaseURL: files.URL, TTL: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { spool.Close() })
	mux.Handle(storage.Route, handler)
	fcfg := fetch.DefaultConfig()
	fcfg.AllowedNetworks = []string{"127.0.0.1/32"}
	fetcher, err := fetch.New(fcfg)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if os.Getenv("RAYOFAX_LOADTEST_DAEMON") != "" {
		st.startDaemon(wctx)
	} else {
		st.startInProcess(ctx, wctx, log, spool, fetcher)
	}
	c, err := client.Dial(wctx, client.Options{Addr: st.xmpp.C2SAddr, JID: "app@" + st.xmpp.Host + "/load", Password: "apppass"})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Available(wctx, st.service); err != nil {
		t.Fatal(err)
	}
	st.waitAvailable(wctx, c)
	st.app = c
	st.router = newRouter()
	go st.router.run(c.Events())
	return st
}

// startInProcess wires eslbridge and the Rayo server in the test process,
// as rayofaxd does.
func (st *stack) startInProcess(ctx, wctx context.Context, log *slog.Logger, spool *storage.Spool, fetcher *fetch.Fetcher) {
	t := st.t
	var srv *rayo.Server
	var err error
	ready := make(chan struct{})
	st.bridge, err = eslbridge.New(eslbridge.Config{
		Addr: st.sw.Addr(), Password: "ClueCon", MediaIP: "127.0.0.1", PortMin: portMin, PortMax: portMax,
		OnOffer: func(c *eslbridge.Call) { <-ready; srv.Offer(c) },
		Logger:  log,
	})
	if err != nil {
		t.Fatal(err)
	}
	go st.bridge.Run(ctx)
	srv, err = rayo.New(rayo.Config{
		Domain: st.service, Server: st.xmpp.ComponentAddr, Secret: st.xmpp.Secret,
		Clients: []string{"app@" + st.xmpp.Host},
		WorkDir: t.TempDir(), Logger: log, MinBackoff: 50 * time.Millisecond,
		DialTemplate: "loopback/{to}",
	}, st.bridge, spool, fetcher)
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	st.rayo = srv
	go srv.Run(ctx)
	if err := st.bridge.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	for !srv.Connected() {
		if wctx.Err() != nil {
			t.Fatal("rayo did not connect to prosody:\n" + st.xmpp.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitAvailable waits until the service knows the client is available.
func (st *stack) waitAvailable(ctx context.Context, c *client.Client) {
	t := st.t
	if st.rayo != nil {
		for !slices.Contains(st.rayo.AvailableClients(), c.JID().String()) {
			if ctx.Err() != nil {
				t.Fatalf("the service never saw %s available", c.JID())
			}
			time.Sleep(5 * time.Millisecond)
		}
		return
	}
	// The daemon learns of the client asynchronously; a disco round trip
	// through the same server orders us after the presence.
	for {
		_, err := c.Raw(ctx, st.service, "get", wire.New("http://jabber.org/protocol/disco#info", "query"))
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the Rayo service does not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startDaemon builds and starts the rayofaxd binary against the simulator
// and Prosody, and waits until /readyz says it is connected to both.
func (st *stack) startDaemon(ctx context.Context) {
	t := st.t
	dir := t.TempDir()
	bin := filepath.Join(dir, "rayofaxd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/rayofax/rayofax/cmd/rayofaxd").CombinedOutput(); err != nil {
		t.Fatalf("go build rayofaxd: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	cfgPath := filepath.Join(dir, "rayofax.yaml")
	cfg := daemonconf.Config{
		StateDir: filepath.Join(dir, "state"), ESLAddr: st.sw.Addr(), AudioPortMin: portMin, AudioPortMax: portMax,
		XMPPServer: st.xmpp.ComponentAddr, Domain: st.xmpp.ComponentDomain, Secret: st.xmpp.Secret,
		Clients: []string{"app@" + st.xmpp.Host}, DialTemplate: "loopback/{to}",
		FetchLocal: true, HTTPListen: httpAddr,
	}
	if err := cfg.Write(cfgPath); err != nil {
		t.Fatal(err)
	}
	st.logPath = filepath.Join(dir, "rayofaxd.log")
	logf, err := os.Create(st.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Env = append(os.Environ(), "RAYOFAXD_PPROF=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	child.DieWithParent(cmd, syscall.SIGKILL)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	st.daemon = cmd
	st.daemonHTTP = httpAddr
	for {
		select {
		case <-exited:
			t.Fatal("rayofaxd exited at start:\n" + strings.Join(st.logLines("", 50), "\n"))
		default:
		}
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatal("rayofaxd not ready:\n" + strings.Join(st.logLines("", 50), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dial is the simulator's originate hook: the far end registered for the
// dial string answers after a short ring.
func (st *stack) dial(dest string, vars map[string]string) fsim.DialResult {
	st.dialMu.Lock()
	defer st.dialMu.Unlock()
	p, ok := st.dialPeers[dest]
	if !ok {
		return fsim.DialResult{Cause: "UNALLOCATED_NUMBER"}
	}
	delete(st.dialPeers, dest)
	return fsim.DialResult{Peer: p, Ring: 100 * time.Millisecond}
}

func (st *stack) expectDial(dest string, p fsim.Peer) {
	st.dialMu.Lock()
	st.dialPeers[dest] = p
	st.dialMu.Unlock()
}

// command sends a Rayo command and returns the reply and how long it took.
func (st *stack) command(to, xml string) (*wire.Element, time.Duration, error) {
	el, err := wire.Parse([]byte(xml))
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := st.app.Command(ctx, to, el)
	return res, time.Since(start), err
}

// logLines returns the daemon's log lines that mention id (at most max).
func (st *stack) logLines(id string, max int) []string {
	f, err := os.Open(st.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && len(out) < max {
		if strings.Contains(sc.Text(), id) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// router hands each call's events (offer, answered, complete, end) to the
// goroutine driving that call, keyed by the call ID; events for a call
// nobody subscribed to yet wait for the subscription.
type router struct {
	mu      sync.Mutex
	subs    map[string]chan client.Event
	pending map[string][]client.Event
}

func newRouter() *router {
	return &router{subs: map[string]chan client.Event{}, pending: map[string][]client.Event{}}
}

func (r *router) run(events <-chan client.Event) {
	for ev := range events {
		id := ev.From.Localpart()
		r.mu.Lock()
		if ch := r.subs[id]; ch != nil {
			select {
			case ch <- ev:
			default: // a call's handful of events never fills the buffer
			}
		} else {
			r.pending[id] = append(r.pending[id], ev)
		}
		r.mu.Unlock()
	}
}

func (r *router) subscribe(id string) <-chan client.Event {
	ch := make(chan client.Event, 64)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.pending[id] {
		ch <- ev
	}
	delete(r.pending, id)
	r.subs[id] = ch
	return ch
}

func (r *router) unsubscribe(id string) {
	r.mu.Lock()
	delete(r.subs, id)
	delete(r.pending, id)
	r.mu.Unlock()
}

// waitEvent waits for an event of the call whose payload is named name.
func waitEvent(ch <-chan client.Event, name string, timeout time.Duration) (client.Event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case ev := <-ch:
			if ev.Payload.Name.Local == name {
				return ev, nil
			}
			if ev.Payload.Name.Local == "end" && name != "end" {
				return ev, fmt.Errorf("call ended while waiting for <%s/>: %s", name, ev.Payload)
			}
		case <-deadline.C:
			return client.Event{}, fmt.Errorf("no <%s/> within %v", name, timeout)
		}
	}
}

func attr(el *wire.Element, name string) string {
	v, _ := el.Attribute(name)
	return v
}
