// Package audio carries one call's audio between FreeSWITCH's `unicast`
// stream and an in-process media handler (the fax terminal).
//
// FreeSWITCH sends the call's audio as raw datagrams (no RTP header) of
// signed 16-bit little-endian PCM, 160 samples = 20 ms at 8 kHz, on its own
// clock, and plays back whatever it receives, unpaced. So the switch's
// clock paces the call: a Stream answers every 20 ms slot of that clock
// with exactly one transmitted frame, computed by the handler from the
// frame received for that slot.
//
// Missing frames. FreeSWITCH sends no sequence numbers, so slots are told
// apart by arrival time. The kernel stamps each datagram on arrival
// (SO_TIMESTAMPNS, where available), so the reader's own scheduling delays
// do not look like loss. Slot k of a run is expected at anchor + k·20 ms;
// the anchor follows the sender's clock slowly (jitter, clock drift). A
// frame is answered when the next one arrives (or 30 ms after it, if none
// does): knowing its successor tells a lost frame (the successor keeps the
// late frame's pace) from a frame that was merely sent late (the successor
// is on time again) or held up with others (the successor follows at
// once: the sender stalled and is catching up). A frame keeps its slot up
// to 15 ms late. Each lost slot (at most MaxFill in a row) is answered
// from silence, so both directions keep the switch's time; a frame
// arriving early or swapped is still used, in the next free slot. This costs one frame (20 ms) of
// latency, harmless to fax, and keeps reordered and late frames' content.
// After a pause of more than PauseReset (the stream stopped, e.g. while an
// application ran) the next datagram starts a new run without filling.
//
// Readers run the handlers. On Linux a few goroutines (one per CPU) each
// serve many streams' sockets from an epoll set, itself waited on through
// the Go poller: a frame costs one recvmsg and one sendto, and a reader
// wakes once for every frame that came meanwhile. Elsewhere each stream
// has a goroutine of its own. Either way a stream's handler runs on one
// goroutine at a time and nothing is allocated per frame. Only 8 kHz L16 (320-byte datagrams) is handled:
// other sizes (a 16 kHz channel) are counted as BadSize and ignored.
package audio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Frame geometry of FreeSWITCH's L16 unicast at 8 kHz.
const (
	FrameSamples = 160
	FrameBytes   = 2 * FrameSamples
	FrameTime    = 20 * time.Millisecond
)

// Tuning of slot tracking.
const (
	// MaxFill bounds the silence inserted for one gap (60 ms): more than
	// three datagrams lost in a row is rare (1e-8 at 1 % random loss),
	// while a switch that stalls and carries on without catching up is
	// not: a longer gap is taken as a pause and starts a new run.
	MaxFill = 3
	// PauseReset: a datagram after this long a silence starts a new run.
	PauseReset = 200 * time.Millisecond
)

// Handler turns each received frame into the frame to send back. in and out
// hold FrameSamples samples; in is silence for a lost frame. Frame is
// called by one goroutine at a time and must not keep the slices. CNG
// frames from the switch arrive as they are (-1 samples). Frame must not
// block: on Linux the goroutine that runs it serves other streams too, so
// a handler waiting on a disk (an fsync) or a lock delays their answers.
type Handler interface {
	Frame(in, out []int16)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(in, out []int16)

// Frame calls f.
func (f HandlerFunc) Frame(in, out []int16) { f(in, out) }

// Stats counts a stream's frames.
type Stats struct {
	Received int64 // datagrams accepted from the switch
	Sent     int64 // frames sent back (received + filled)
	Filled   int64 // slots with no datagram, answered from silence
	Early    int64 // frames that came before their slot (bursts, reordering)
	Strays   int64 // datagrams from other sources, ignored
	BadSize  int64 // datagrams of another size than 320 bytes, ignored
	// Late counts deadline misses of our own making: answers whose
	// service time (from reading the datagram that released them to
	// sending) exceeded 20 ms. Delayed counts answers that left more than
	// 20 ms after that datagram arrived in the kernel: it includes time
	// the host did not schedule us (an overloaded machine), so it is
	// reported, not a property of this code.
	Late    int64
	Delayed int64
	Runs    int64 // runs started (first datagram, and after each pause)
}

// ErrNoMedia: no datagram arrived in time after unicast was requested.
var ErrNoMedia = errors.New("audio: no datagram from the switch")

// Stream is one call's unicast endpoint: our socket and the switch's.
type Stream struct {
	sock   sock // the platform's socket and reader
	local  *net.UDPAddr
	h      Handler
	remote atomic.Pointer[netip.AddrPort]

	received, sent, filled, early, strays, badSize, late, delayed, runs atomic.Int64

	mu      sync.Mutex
	arrived *sync.Cond   // broadcast on each accepted datagram while waiters > 0
	waiters atomic.Int32 // WaitReceived calls waiting

	r rxState // the reader's only

	done chan struct{}
	once sync.Once
}

// rxState is the reader's: the frame held until its successor shows
// which slot it had, and the buffers to answer it.
type rxState struct {
	held, out, silence []int16
	pkt                []byte
	sl                 slots
	holding            bool
	heldAt             time.Time
}

// Listen binds our end of a stream on ip:port and starts reading; frames
// go to h. Datagrams are accepted only from the address set with Expect.
func Listen(ip string, port int, h Handler) (*Stream, error) {
	addr, err := net.ResolveUDPAddr("udp", net.JoinHostPort(ip, fmt.Sprint(port)))
	if err != nil {
		return nil, fmt.Errorf("audio: address %s:%d: %w", ip, port, err)
	}
	s := &Stream{h: h, done: make(chan struct{})}
	s.arrived = sync.NewCond(&s.mu)
	s.r = rxState{
		held:    make([]int16, FrameSamples),
		out:     make([]int16, FrameSamples),
		silence: make([]int16, FrameSamples),
		pkt:     make([]byte, FrameBytes),
	}
	if err := s.open(addr); err != nil {
		return nil, fmt.Errorf("audio: listen %s: %w", addr, err)
	}
	return s, nil
}

// LocalAddr is our address, the switch's remote-ip/remote-port.
func (s *Stream) LocalAddr() *net.UDPAddr { return s.local }

// Expect sets the switch's address (its local-ip/local-port): datagrams from
// anywhere else are ignored, and answers go there.
func (s *Stream) Expect(remote netip.AddrPort) {
	r := netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	s.remote.Store(&r)
}

// Received returns how many datagrams were accepted so far; with
// WaitReceived it detects that a (re)started unicast is flowing.
func (s *Stream) Received() int64 { return s.received.Load() }

// WaitReceived waits until more than mark datagrams were accepted, at most
// timeout; ErrNoMedia if none came.
func (s *Stream) WaitReceived(ctx context.Context, mark int64, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.arrived.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	// The reader counts a datagram, then looks for waiters; we count
	// ourselves, then look at the datagrams: one of us sees the other.
	s.waiters.Add(1)
	defer s.waiters.Add(-1)
	for s.received.Load() <= mark {
		select {
		case <-s.done:
			return fmt.Errorf("audio: stream closed: %w", ErrNoMedia)
		default:
		}
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%w within %v on %s", ErrNoMedia, timeout, s.local)
			}
			return ctx.Err()
		}
		s.arrived.Wait()
	}
	return nil
}

// Stats returns the counters so far.
func (s *Stream) Stats() Stats {
	return Stats{
		Received: s.received.Load(), Sent: s.sent.Load(), Filled: s.filled.Load(),
		Early: s.early.Load(), Strays: s.strays.Load(), BadSize: s.badSize.Load(),
		Late: s.late.Load(), Delayed: s.delayed.Load(), Runs: s.runs.Load(),
	}
}

// Close stops the stream and releases the socket; the handler is not
// called once Close has returned.
func (s *Stream) Close() error {
	s.once.Do(func() {
		s.shut()
		<-s.done
		s.mu.Lock()
		s.arrived.Broadcast()
		s.mu.Unlock()
	})
	return nil
}

// Done is closed when the stream's reading has ended.
func (s *Stream) Done() <-chan struct{} { return s.done }

// holdTimeout: a held frame whose successor has not come this long after
// it arrived is answered without it.
const holdTimeout = FrameTime * 3 / 2

// holdDeadline is when the held frame is answered if no successor comes;
// zero if no frame is held.
func (s *Stream) holdDeadline() time.Time {
	if !s.r.holding {
		return time.Time{}
	}
	return s.r.heldAt.Add(holdTimeout)
}

// datagram handles one datagram b from `from`, read at now, which reached
// the host at `at`: a frame from the switch releases the held frame's
// answer and is held in turn.
func (s *Stream) datagram(b []byte, from netip.AddrPort, at, now time.Time) {
	remote := s.remote.Load()
	if remote == nil || from.Port() != remote.Port() || from.Addr().Unmap() != remote.Addr() {
		s.strays.Add(1)
		return
	}
	if len(b) != FrameBytes {
		s.badSize.Add(1)
		return
	}
	r := &s.r
	if r.holding {
		s.answer(at, at, now)
	}
	for i := range r.held {
		r.held[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	r.holding, r.heldAt = true, at
	s.received.Add(1)
	if s.waiters.Load() > 0 {
		s.mu.Lock()
		s.arrived.Broadcast()
		s.mu.Unlock()
	}
}

// expire answers the held frame, whose successor did not come in time.
func (s *Stream) expire(now time.Time) {
	if s.r.holding {
		s.answer(time.Time{}, now, now)
	}
}

// answer sends the held frame, after silence for the slots lost before
// it; next is its successor's arrival (zero if none), trigger when the
// answer was released and started when we began serving it.
func (s *Stream) answer(next, trigger, started time.Time) {
	r := &s.r
	fill, early, newRun := r.sl.place(r.heldAt, next)
	if newRun {
		s.runs.Add(1)
	}
	if early {
		s.early.Add(1)
	}
	remote := *s.remote.Load()
	for range fill {
		s.h.Frame(r.silence, r.out)
		s.send(remote)
		s.filled.Add(1)
	}
	s.h.Frame(r.held, r.out)
	s.send(remote)
	r.holding = false
	done := time.Now()
	if done.Sub(started) > FrameTime {
		s.late.Add(1)
	}
	if done.Sub(trigger) > FrameTime {
		s.delayed.Add(1)
	}
}

func (s *Stream) send(to netip.AddrPort) {
	r := &s.r
	for i, v := range r.out {
		binary.LittleEndian.PutUint16(r.pkt[2*i:], uint16(v))
	}
	if s.write(r.pkt, to) == nil {
		s.sent.Add(1)
	}
}

// slots assigns frames to the sender's 20 ms slots.
type slots struct {
	running bool
	anchor  time.Time // expected arrival of slot 0 of the run
	last    int64     // slot of the last frame answered
	lastAt  time.Time // its arrival
}

// slotOf numbers the slot a frame arriving d after the anchor belongs to.
// A frame up to 15 ms late (or 5 ms early) keeps its slot: loss shows as
// a full 20 ms of lateness, while a loaded sender or receiver host (whose
// network stack may stamp packets late) shows smaller ones.
func slotOf(d time.Duration) int64 {
	return int64(math.Floor(float64(d+FrameTime/4) / float64(FrameTime)))
}

// place assigns the frame that arrived at `at` to a slot, knowing that
// its successor arrived at next (zero when unknown). It returns how many
// slots before it were lost (to be answered from silence), whether the
// frame came before its slot, and whether it starts a new run.
func (sl *slots) place(at, next time.Time) (fill int, early, newRun bool) {
	if !sl.running || at.Sub(sl.lastAt) > PauseReset || at.Before(sl.lastAt) {
		sl.running, sl.anchor, sl.last, sl.lastAt = true, at, 0, at
		return 0, false, true
	}
	s := slotOf(at.Sub(sl.anchor))
	if !next.IsZero() && next.Sub(at) < PauseReset {
		// A frame sent late is followed by one on time: the successor's
		// slot bounds this one's.
		if sn := slotOf(next.Sub(sl.anchor)); s > sn-1 {
			s = sn - 1
		}
		// Frames arriving back to back were queued at the sender (it
		// stalled and is catching up): nothing was lost before this one.
		if next.Sub(at) < FrameTime/2 && s > sl.last+1 {
			s = sl.last + 1
		}
	}
	if s <= sl.last {
		// Before its slot (a burst after a stall, or a swapped pair):
		// use the next slot and re-anchor there, so the frames after it
		// are on time again.
		s = sl.last + 1
		early = true
		sl.anchor = at.Add(-time.Duration(s) * FrameTime)
	}
	gap := s - sl.last - 1
	if gap > MaxFill {
		// A pause, not loss: start over from here.
		sl.anchor, sl.last, sl.lastAt = at, 0, at
		return 0, early, true
	}
	if dev := at.Sub(sl.anchor.Add(time.Duration(s) * FrameTime)); gap == 0 && dev > -FrameTime/2 && dev < FrameTime/2 {
		// On time: let the anchor follow the sender's clock.
		sl.anchor = sl.anchor.Add(dev / 16)
	}
	sl.last, sl.lastAt = s, at
	return int(gap), early, false
}
