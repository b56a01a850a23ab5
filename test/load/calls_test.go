package load

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/rayo/wire"
	"github.com/rayofax/rayofax/test/fsim"
)

// pagesPerFax is the length of testDoc.
const pagesPerFax = 3

// step is the outcome of one run of n concurrent calls.
type step struct {
	N        int
	OK       int
	Failures []string

	Wall     time.Duration // first call started .. last call ended
	CallTime time.Duration // sum of the calls' durations
	CPU      time.Duration // the test process's CPU (user+system) during the step
	// ProsodyCPU is the XMPP server's CPU during the step (0 if its
	// process was not found).
	ProsodyCPU time.Duration

	RSSBase, RSSPeak   int64  // bytes
	HeapBase, HeapPeak uint64 // runtime heap in use

	Underruns, Overflows, Strays int64 // far-end (switch side) counts
	ClockSlips                   int64 // the simulator's own clock ran late
	// Our side of the audio (eslbridge's counters, from the process or
	// rayofaxd's /metrics): slots the bridge filled with silence because
	// no frame came, answers late by our own processing (audio.Stats.Late)
	// and answers delayed past 20 ms including scheduling (Delayed).
	Bridge       *bridgeCounts
	FarEndStalls int64 // far-end terminals that lagged a tick

	Frame     *histogram // far-end terminal time per 20 ms frame
	Answer    durations  // <answer/> → result
	Start     durations  // <receivefax/>, <sendfax/> → ref
	Dial      durations  // <dial/> → ref
	Completed durations  // fax component start → <complete/>
	Load1     float64    // the host's 1-minute load average at the end

	// The rayofaxd process alone, when the stack runs the binary.
	Daemon                       bool
	DaemonCPU                    time.Duration
	DaemonRSSBase, DaemonRSSPeak int64
}

// missed reports whether frames missed their deadline on the switch side
// (the far end had nothing to play, or got more than it could queue).
func (s *step) missed() bool { return s.Underruns > 0 || s.Overflows > 0 }

// hostKeptTime reports whether the simulator's clock never slipped and no
// far-end terminal lagged: only then are deadline misses ours.
func (s *step) hostKeptTime() bool { return s.ClockSlips == 0 && s.FarEndStalls == 0 }

func (s *step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "N=%d: %d/%d faxes ok (%d pages each), wall %v", s.N, s.OK, s.N, pagesPerFax, s.Wall.Round(time.Second))
	fmt.Fprintf(&b, "\n  switch side: underruns %d, overflows %d, strays %d; simulator clock slips %d; far-end terminal stalls %d",
		s.Underruns, s.Overflows, s.Strays, s.ClockSlips, s.FarEndStalls)
	if s.Bridge != nil {
		fmt.Fprintf(&b, "\n  bridge side: slots filled %d (of which heard late %d), late answers %d, delayed answers %d",
			s.Bridge.Filled, s.Bridge.HeardLate, s.Bridge.Late, s.Bridge.Delayed)
	}
	if s.CallTime > 0 {
		// Each process's CPU per call (of call time) and cores busy on
		// average over the step's wall time.
		share := func(d time.Duration) (float64, float64) {
			return 100 * d.Seconds() / s.CallTime.Seconds(), d.Seconds() / s.Wall.Seconds()
		}
		fmt.Fprintf(&b, "\n  CPU for %v of calls, as %% of a core per call and cores busy on average:", s.CallTime.Round(time.Second))
		total := s.CPU + s.ProsodyCPU
		if s.Daemon {
			total += s.DaemonCPU
			pc, cores := share(s.DaemonCPU)
			fmt.Fprintf(&b, "\n    rayofaxd (bridge, fax terminals, Rayo): %v, %.3f%%, %.2f cores", s.DaemonCPU.Round(time.Millisecond), pc, cores)
			pc, cores = share(s.CPU)
			fmt.Fprintf(&b, "\n    test process (far-end terminals, FreeSWITCH simulator, Rayo client): %v, %.3f%%, %.2f cores", s.CPU.Round(time.Millisecond), pc, cores)
		} else {
			pc, cores := share(s.CPU)
			fmt.Fprintf(&b, "\n    test process (bridge, fax terminals, Rayo, far-end terminals, FreeSWITCH simulator, Rayo client): %v, %.3f%%, %.2f cores", s.CPU.Round(time.Millisecond), pc, cores)
		}
		pc, cores := share(s.ProsodyCPU)
		fmt.Fprintf(&b, "\n    prosody: %v, %.3f%%, %.2f cores", s.ProsodyCPU.Round(time.Millisecond), pc, cores)
		pc, cores = share(total)
		fmt.Fprintf(&b, "\n    total: %v, %.3f%%, %.2f cores", total.Round(time.Millisecond), pc, cores)
	}
	if s.Daemon && s.N > 0 {
		fmt.Fprintf(&b, "\n  rayofaxd memory: RSS %.1f -> %.1f MiB (%.0f KiB per call)",
			mib(s.DaemonRSSBase), mib(s.DaemonRSSPeak), float64(s.DaemonRSSPeak-s.DaemonRSSBase)/1024/float64(s.N))
	}
	if s.N > 0 {
		fmt.Fprintf(&b, "\n  test process memory: RSS %.1f -> %.1f MiB (%.0f KiB per call), heap in use %.1f -> %.1f MiB (%.0f KiB per call)",
			mib(s.RSSBase), mib(s.RSSPeak), float64(s.RSSPeak-s.RSSBase)/1024/float64(s.N),
			mib(int64(s.HeapBase)), mib(int64(s.HeapPeak)), (float64(s.HeapPeak)-float64(s.HeapBase))/1024/float64(s.N))
	}
	if s.Frame != nil {
		fmt.Fprintf(&b, "\n  fax terminal time per 20 ms frame: p50 %v, p99 %v, p99.9 %v (%d frames)",
			s.Frame.quantile(0.5), s.Frame.quantile(0.99), s.Frame.quantile(0.999), s.Frame.count())
	}
	fmt.Fprintf(&b, "\n  Rayo command latency: answer p50 %v p99 %v; dial p50 %v p99 %v; fax start p50 %v p99 %v",
		s.Answer.quantile(0.5).Round(time.Microsecond), s.Answer.quantile(0.99).Round(time.Microsecond),
		s.Dial.quantile(0.5).Round(time.Microsecond), s.Dial.quantile(0.99).Round(time.Microsecond),
		s.Start.quantile(0.5).Round(time.Microsecond), s.Start.quantile(0.99).Round(time.Microsecond))
	fmt.Fprintf(&b, "\n  fax duration p50 %v max %v; host load average %.1f",
		s.Completed.quantile(0.5).Round(time.Second), s.Completed.quantile(1).Round(time.Second), s.Load1)
	for i, f := range s.Failures {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... %d more failures", len(s.Failures)-10)
			break
		}
		fmt.Fprintf(&b, "\n  FAIL %s", f)
	}
	return b.String()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// run places n concurrent calls (even-numbered ones receive, odd ones
// send), started over spread, and waits for all of them. With profile set,
// a heap profile of the test process is written to profile.heap while
// every call is up; when the daemon is the rayofaxd binary, its CPU profile
// over the step's busy part goes to profile.rayofaxd and its heap profile
// to profile.rayofaxd.heap.
func (st *stack) run(n int, spread time.Duration, profile string) *step {
	heapProfile := ""
	if profile != "" {
		heapProfile = profile + ".heap"
	}
	s := &step{N: n, Frame: &histogram{}}
	runtime.GC()
	debug.FreeOSMemory()
	s.RSSBase = rss()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.HeapBase = ms.HeapInuse
	slips0 := st.sw.ClockSlips()
	bridge0, bridgeOK := st.bridgeCounts()
	cpu0 := cpuTime()
	pid := 0
	if st.daemon != nil {
		pid = st.daemon.Process.Pid
		s.Daemon = true
		s.DaemonRSSBase = rssOf(pid)
	}
	dcpu0 := cpuOf(pid)
	ppid := st.prosodyPid()
	pcpu0 := cpuOf(ppid)
	var daemonProfiles sync.WaitGroup
	if pid > 0 && profile != "" {
		// Every call is up about 20 s after the last one started; most
		// end some 45 s after they started.
		secs := int((spread + 35*time.Second) / time.Second)
		daemonProfiles.Add(1)
		go func() {
			defer daemonProfiles.Done()
			st.daemonProfile(fmt.Sprintf("profile?seconds=%d", secs), profile+".rayofaxd")
		}()
	}
	var daemonPeak atomic.Int64

	// Sample memory while the calls run.
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	var rssPeak atomic.Int64
	var heapPeak atomic.Uint64
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		// Every call is up (in its page transfer) about 20 s after the
		// last one started.
		heapAt := time.After(spread + 20*time.Second)
		for {
			select {
			case <-stopSampling:
				return
			case <-heapAt:
				if heapProfile != "" {
					if f, err := os.Create(heapProfile); err == nil {
						runtime.GC()
						pprof.WriteHeapProfile(f)
						f.Close()
					}
					if pid > 0 {
						st.daemonProfile("heap?gc=1", profile+".rayofaxd.heap")
					}
				}
				continue
			case <-tick.C:
			}
			if r := rss(); r > rssPeak.Load() {
				rssPeak.Store(r)
			}
			if pid > 0 {
				if r := rssOf(pid); r > daemonPeak.Load() {
					daemonPeak.Store(r)
				}
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > heapPeak.Load() {
				heapPeak.Store(m.HeapInuse)
			}
		}
	}()

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		callTime time.Duration
	)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n > 1 {
				time.Sleep(spread * time.Duration(i) / time.Duration(n))
			}
			t0 := time.Now()
			var r callResult
			if i%2 == 0 {
				r = st.receiveCall(s, i)
			} else {
				r = st.sendCall(s, i)
			}
			mu.Lock()
			defer mu.Unlock()
			callTime += time.Since(t0)
			s.Underruns += int64(r.media.Underruns)
			s.Overflows += int64(r.media.Overflows)
			s.Strays += int64(r.media.Strays)
			s.FarEndStalls += r.stalls
			if r.err != nil {
				msg := fmt.Sprintf("call %d (%s): %v", i, r.id, r.err)
				for _, l := range st.logLines(r.id, 12) {
					msg += "\n      " + l
				}
				s.Failures = append(s.Failures, msg)
			} else {
				s.OK++
			}
		}()
	}
	wg.Wait()
	s.Wall = time.Since(start)
	s.CPU = cpuTime() - cpu0
	s.ProsodyCPU = cpuOf(ppid) - pcpu0
	if pid > 0 {
		s.DaemonCPU = cpuOf(pid) - dcpu0
		s.DaemonRSSPeak = max(daemonPeak.Load(), s.DaemonRSSBase)
	}
	close(stopSampling)
	sampler.Wait()
	s.CallTime = callTime
	s.RSSPeak = max(rssPeak.Load(), s.RSSBase)
	s.HeapPeak = max(heapPeak.Load(), s.HeapBase)
	s.ClockSlips = st.sw.ClockSlips() - slips0
	if b, ok := st.bridgeCounts(); ok && bridgeOK {
		s.Bridge = &bridgeCounts{Filled: b.Filled - bridge0.Filled, HeardLate: b.HeardLate - bridge0.HeardLate,
			Late: b.Late - bridge0.Late, Delayed: b.Delayed - bridge0.Delayed}
	}
	s.Load1 = loadAverage()
	daemonProfiles.Wait()
	// Let the bridge release the last calls before the next step.
	deadline := time.Now().Add(30 * time.Second)
	for st.bridge != nil && len(st.bridge.Calls()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

type callResult struct {
	id     string
	err    error
	media  fsim.MediaStats
	stalls int64
}

// faxTimeout bounds one fax: about 40 s of audio (70 s at most seen at 500
// calls), with margin for a loaded host.
const faxTimeout = 2 * time.Minute

// receiveCall: an inbound call from a fax machine; the app answers and
// receives.
func (st *stack) receiveCall(s *step, i int) (r callResult) {
	ident := fmt.Sprintf("+1555100%04d", i)
	sender, err := faxengine.NewSender(st.docPath, faxengine.Options{Caller: true, Ident: ident})
	if err != nil {
		r.err = err
		return r
	}
	far := newFarEnd(sender, s.Frame, st.syncPeers)
	defer far.stop()
	ch := st.sw.NewInboundCall(fsim.CallOptions{CallerNumber: ident[1:], Dest: fmt.Sprintf("15559990%03d", i%1000), Peer: far})
	r.id = ch.UUID()
	defer func() { r.media, r.stalls = ch.MediaStats(), far.stalls.Load() }()
	events := st.router.subscribe(r.id)
	defer st.router.unsubscribe(r.id)
	defer ch.Hangup("NORMAL_CLEARING")

	offer, err := waitEvent(events, "offer", 30*time.Second)
	if err != nil {
		r.err = err
		return r
	}
	callJID := offer.From.String()
	if _, d, err := st.command(callJID, `<answer xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		r.err = fmt.Errorf("answer: %w", err)
		return r
	} else {
		s.Answer.add(d)
	}
	t0 := time.Now()
	ref, d, err := st.command(callJID, `<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`)
	if err != nil {
		r.err = fmt.Errorf("receivefax: %w", err)
		return r
	}
	s.Start.add(d)
	done, err := waitEvent(events, "complete", faxTimeout)
	if err != nil {
		r.err = fmt.Errorf("receivefax %s: %w", attr(ref, "uri"), err)
		return r
	}
	s.Completed.add(time.Since(t0))
	if len(done.Payload.Children) == 0 || done.Payload.Children[0].Name.Local != "finish" {
		r.err = fmt.Errorf("receivefax completed with %s", done.Payload)
		return r
	}
	pages := ""
	for _, c := range done.Payload.Children {
		if c.Name.Local == "fax" && c.Name.Space == wire.NSFaxComplete {
			pages = attr(c, "pages")
		}
	}
	if pages != strconv.Itoa(pagesPerFax) {
		r.err = fmt.Errorf("received %q pages: %s", pages, done.Payload)
		return r
	}
	rep, ferr, ok := far.result(30 * time.Second)
	if !ok {
		r.err = fmt.Errorf("the far-end sender did not finish")
		return r
	}
	if rep.Result != t30.OK || rep.Pages != pagesPerFax || ferr != nil {
		r.err = fmt.Errorf("far-end sender: %v, %d pages, %v", rep.Result, rep.Pages, ferr)
		return r
	}
	if _, _, err := st.command(callJID, `<hangup xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		r.err = fmt.Errorf("hangup: %w", err)
	}
	return r
}

// sendCall: the app dials a fax machine and sends it the document.
func (st *stack) sendCall(s *step, i int) (r callResult) {
	out := filepath.Join(os.TempDir(), fmt.Sprintf("rayofax-load-%d-%d.tif", os.Getpid(), i))
	defer os.Remove(out)
	recv, err := faxengine.NewReceiver(out, faxengine.Options{Ident: fmt.Sprintf("+1555200%04d", i)})
	if err != nil {
		r.err = err
		return r
	}
	far := newFarEnd(recv, s.Frame, st.syncPeers)
	defer far.stop()
	number := fmt.Sprintf("+1555200%04d", i)
	st.expectDial("loopback/"+number, far)
	ref, d, err := st.command(st.service, `<dial xmlns='urn:xmpp:rayo:1' to='tel:`+number+`' from='tel:+15550000000'/>`)
	if err != nil {
		r.err = fmt.Errorf("dial: %w", err)
		return r
	}
	s.Dial.add(d)
	callJID := strings.TrimPrefix(attr(ref, "uri"), "xmpp:")
	r.id, _, _ = strings.Cut(callJID, "@")
	events := st.router.subscribe(r.id)
	defer st.router.unsubscribe(r.id)
	defer func() {
		if ch := st.sw.Channel(r.id); ch != nil {
			r.media = ch.MediaStats()
			ch.Hangup("NORMAL_CLEARING")
		}
		r.stalls = far.stalls.Load()
	}()
	if _, err := waitEvent(events, "answered", 30*time.Second); err != nil {
		r.err = fmt.Errorf("dial: %w", err)
		return r
	}
	t0 := time.Now()
	ref, d, err = st.command(callJID, `<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='`+st.docURL+`'/></sendfax>`)
	if err != nil {
		r.err = fmt.Errorf("sendfax: %w", err)
		return r
	}
	s.Start.add(d)
	done, err := waitEvent(events, "complete", faxTimeout)
	if err != nil {
		r.err = fmt.Errorf("sendfax %s: %w", attr(ref, "uri"), err)
		return r
	}
	s.Completed.add(time.Since(t0))
	if len(done.Payload.Children) == 0 || done.Payload.Children[0].Name.Local != "finish" {
		r.err = fmt.Errorf("sendfax completed with %s", done.Payload)
		return r
	}
	rep, ferr, ok := far.result(30 * time.Second)
	if !ok {
		r.err = fmt.Errorf("the far-end receiver did not finish")
		return r
	}
	if rep.Result != t30.OK || rep.Pages != pagesPerFax || ferr != nil {
		r.err = fmt.Errorf("far-end receiver: %v, %d pages, %v", rep.Result, rep.Pages, ferr)
		return r
	}
	if _, _, err := st.command(callJID, `<hangup xmlns='urn:xmpp:rayo:1'/>`); err != nil {
		r.err = fmt.Errorf("hangup: %w", err)
	}
	return r
}

type bridgeCounts struct{ Filled, HeardLate, Late, Delayed int64 }

// bridgeCounts reads eslbridge's audio counters so far: from the bridge in
// this process, or from rayofaxd's /metrics.
func (st *stack) bridgeCounts() (bridgeCounts, bool) {
	if st.bridge != nil {
		a := st.bridge.AudioStats()
		return bridgeCounts{Filled: a.Filled, HeardLate: a.HeardLate, Late: a.Late, Delayed: a.Delayed}, true
	}
	if st.daemonHTTP == "" {
		return bridgeCounts{}, false
	}
	resp, err := http.Get("http://" + st.daemonHTTP + "/metrics")
	if err != nil {
		return bridgeCounts{}, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return bridgeCounts{}, false
	}
	var c bridgeCounts
	found := 0
	for _, line := range strings.Split(string(body), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		var p *int64
		switch name {
		case "rayofax_audio_frames_filled_total":
			p = &c.Filled
		case "rayofax_audio_frames_heard_late_total":
			p = &c.HeardLate
		case "rayofax_audio_frames_late_total":
			p = &c.Late
		case "rayofax_audio_frames_delayed_total":
			p = &c.Delayed
		default:
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return bridgeCounts{}, false
		}
		*p = int64(f)
		found++
	}
	return c, found == 4
}

// daemonProfile fetches /debug/pprof/what from rayofaxd into file; a
// failure is logged, not fatal (the profile is a by-product of the step).
func (st *stack) daemonProfile(what, file string) {
	resp, err := http.Get("http://" + st.daemonHTTP + "/debug/pprof/" + what)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s", resp.Status)
	}
	if err == nil {
		var f *os.File
		if f, err = os.Create(file); err == nil {
			_, err = io.Copy(f, resp.Body)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if resp != nil {
		resp.Body.Close()
	}
	if err != nil {
		st.t.Logf("rayofaxd profile %s: %v", what, err)
	}
}

// prosodyPid finds the XMPP server's process (a child of ours started with
// a configuration in its directory), or 0.
func (st *stack) prosodyPid() int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(cmd), st.xmpp.Dir) || !strings.Contains(string(cmd), "--config") {
			continue
		}
		return pid
	}
	return 0
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss is the process's resident set size (Linux), or 0.
func rss() int64 { return rssOf(0) }

// cpuOf is the user + system CPU time of process pid (Linux), or 0.
func cpuOf(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// rssOf is the resident set size of process pid (0: this one), or 0.
func rssOf(pid int) int64 {
	name := "/proc/self/status"
	if pid > 0 {
		name = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// loadAverage is the host's 1-minute load average (Linux), or 0.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}
