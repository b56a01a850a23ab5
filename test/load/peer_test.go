package load

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayofax/rayofax/faxengine"
)

// farEnd is a far-end fax machine on a simulated call: our own terminal.
// The simulator calls every far end from its clock goroutines, each far end
// from one at a time. In sync mode the terminal runs right there. Otherwise it runs on a goroutine of
// its own: Process hands it the frame heard and says the answer to the
// previous frame (one frame, 20 ms, more delay on the far end, like a small
// jitter buffer, harmless to fax). Either way the terminal's time per frame
// goes into hist.
type farEnd struct {
	f    *faxengine.Fax
	hist *histogram

	work chan struct{} // a frame is in req
	done chan struct{} // res holds the answer
	quit chan struct{}
	req  []int16
	res  []int16
	busy bool // a frame is with the worker (the caller of Process only)
	sync bool // run the terminal on the simulator's clock goroutine itself

	stalls atomic.Int64 // ticks that had to wait for the worker

	fmu sync.Mutex // held while the terminal runs

	finishOnce sync.Once
	finished   chan struct{} // closed when the terminal is done
	mu         sync.Mutex
	report     faxengine.Report
	closeErr   error
}

func newFarEnd(f *faxengine.Fax, hist *histogram, sync bool) *farEnd {
	p := &farEnd{
		f: f, hist: hist, sync: sync,
		work: make(chan struct{}, 1), done: make(chan struct{}, 1), quit: make(chan struct{}),
		req: make([]int16, 160), res: make([]int16, 160),
		finished: make(chan struct{}),
	}
	if !sync {
		go p.loop()
	}
	return p
}

func (p *farEnd) loop() {
	for {
		select {
		case <-p.quit:
			return
		case <-p.work:
		}
		p.fmu.Lock()
		select {
		case <-p.quit:
			clear(p.res) // stopped: the terminal is closed
		default:
			if p.f.Done() {
				clear(p.res)
				break
			}
			start := time.Now()
			p.f.Rx(p.req)
			p.f.Tx(p.res)
			p.hist.add(time.Since(start))
			if p.f.Done() {
				p.finish()
			}
		}
		p.fmu.Unlock()
		p.done <- struct{}{} // never blocks: at most one frame is in flight
	}
}

func (p *farEnd) finish() {
	p.finishOnce.Do(func() {
		err := p.f.Close()
		p.mu.Lock()
		p.report, p.closeErr = p.f.Report(), err
		p.mu.Unlock()
		close(p.finished)
	})
}

// Process implements fsim.Peer.
func (p *farEnd) Process(in, out []int16) {
	if p.sync {
		p.fmu.Lock()
		defer p.fmu.Unlock()
		select {
		case <-p.quit:
			clear(out)
			return
		default:
		}
		if p.f.Done() {
			clear(out)
			return
		}
		start := time.Now()
		p.f.Rx(in)
		p.f.Tx(out)
		p.hist.add(time.Since(start))
		if p.f.Done() {
			p.finish()
		}
		return
	}
	if p.busy {
		select {
		case <-p.done:
		default:
			p.stalls.Add(1)
			select {
			case <-p.done:
			case <-p.quit:
				clear(out)
				return
			}
		}
		p.busy = false
	}
	copy(out, p.res)
	copy(p.req, in)
	p.busy = true
	p.work <- struct{}{}
}

// stop ends the worker; a terminal still running is closed as hung up.
func (p *farEnd) stop() {
	select {
	case <-p.quit:
		return
	default:
	}
	close(p.quit)
	p.fmu.Lock()
	p.finish()
	p.fmu.Unlock()
}

// result waits until the terminal is done (at most timeout).
func (p *farEnd) result(timeout time.Duration) (faxengine.Report, error, bool) {
	select {
	case <-p.finished:
	case <-time.After(timeout):
		return faxengine.Report{}, nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.report, p.closeErr, true
}

// histogram counts durations in quarter-octave buckets from 1 µs to about
// 1 s, concurrently.
type histogram struct {
	b [84]atomic.Int64
}

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	i := int(math.Ceil(4 * math.Log2(us)))
	return min(i, 83)
}

func bucketTop(i int) time.Duration {
	return time.Duration(math.Pow(2, float64(i)/4) * float64(time.Microsecond))
}

func (h *histogram) add(d time.Duration) { h.b[bucketOf(d)].Add(1) }

func (h *histogram) count() int64 {
	var n int64
	for i := range h.b {
		n += h.b[i].Load()
	}
	return n
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.count()
	if n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range h.b {
		seen += h.b[i].Load()
		if seen >= want {
			return bucketTop(i)
		}
	}
	return bucketTop(len(h.b) - 1)
}

// durations is a concurrent list of latencies.
type durations struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *durations) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// quantile returns the q quantile (nearest rank).
func (l *durations) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), l.d...)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
