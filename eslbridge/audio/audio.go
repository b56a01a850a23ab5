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
// datagram is answered as soon as it is read, as the slot nearest its
// arrival. A slot whose datagram has not arrived FillMargin (10 ms) after
// its expected time is answered then from silence (at most MaxFill in a
// row), so the switch, which plays what it gets on its own clock, gets
// one frame per slot in time even when a datagram to us is lost: a lost
// datagram costs a hole in what we hear, not also one in what we send.
// The deadlines are kept on a timing wheel; when one passes, the reader
// first reads what is queued, so a datagram that arrived (by its stamp)
// in time while the reader was busy is still answered as its slot, not
// taken for lost. And a late sender is told from loss: a lost datagram is
// one stream's, a switch (or host) running late delays every stream's at
// once, so when many of the deadlines passing together find no datagram,
// those slots wait up to 15 ms (the lateness a datagram may have and keep
// its slot) before silence (Stats.Graced). A datagram that comes for a slot already answered (more
// than FillMargin late, the second of a swapped pair, the rest of a burst
// after a stall) is counted as Dropped: a slot never gets two answers and
// the timeline never shifts. A SplitHandler is not made to choose: the
// overdue slot is answered with the handler's next frame (Speak) before
// anything is heard for it, and its datagram, if it comes late after all,
// is still heard (Hear, Stats.HeardLate); only a datagram that never comes
// is heard as silence, once the next one shows it lost.
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

// SplitHandler is a Handler that can hear a frame and make the next frame
// to send separately (Frame is Hear, then Speak). A stream answers an
// overdue slot with Speak alone and hears its datagram if it comes late,
// so that a datagram late past the deadline costs nothing instead of a
// frame of what the handler hears.
type SplitHandler interface {
	Handler
	Hear(in []int16)
	Speak(out []int16)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(in, out []int16)

// Frame calls f.
func (f HandlerFunc) Frame(in, out []int16) { f(in, out) }

// Stats counts a stream's frames.
type Stats struct {
	Received int64 // datagrams accepted from the switch
	Sent     int64 // frames sent back (received + filled)
	// Filled counts slots answered before their datagram came: from
	// silence, or with a SplitHandler from its next frame.
	Filled int64
	// HeardLate counts datagrams that came after their slot was answered
	// and were still heard (SplitHandler). Filled - HeardLate were lost.
	HeardLate int64
	// Dropped counts datagrams that came for a slot already answered:
	// late (the slot was answered from silence at its deadline), or a
	// second datagram within one slot (a swapped pair, a burst after a
	// stall).
	Dropped int64
	// Graced counts deadlines put off because many streams' datagrams
	// were overdue at once (the sender ran late; Linux readers only).
	Graced  int64
	Strays  int64 // datagrams from other sources, ignored
	BadSize int64 // datagrams of another size than 320 bytes, ignored
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
	split  SplitHandler // h, if it hears and speaks separately
	remote atomic.Pointer[netip.AddrPort]

	received, sent, filled, heardLate, dropped, graced, strays, badSize, late, delayed, runs atomic.Int64

	mu      sync.Mutex
	arrived *sync.Cond   // broadcast on each accepted datagram while waiters > 0
	waiters atomic.Int32 // WaitReceived calls waiting

	r rxState // the reader's only

	done chan struct{}
	once sync.Once
}

// rxState is the reader's: the slots answered so far, and the buffers to
// answer the next.
type rxState struct {
	in, out, silence []int16
	pkt              []byte
	sl               slots
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
		in:      make([]int16, FrameSamples),
		out:     make([]int16, FrameSamples),
		silence: make([]int16, FrameSamples),
		pkt:     make([]byte, FrameBytes),
	}
	if sh, ok := h.(SplitHandler); ok {
		s.split = sh
		s.r.sl.split = true
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
		Received: s.received.Load(), Sent: s.sent.Load(), Filled: s.filled.Load(), HeardLate: s.heardLate.Load(),
		Dropped: s.dropped.Load(), Graced: s.graced.Load(), Strays: s.strays.Load(), BadSize: s.badSize.Load(),
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

// FillMargin is how long after its expected arrival a slot waits for its
// datagram before it is answered from silence. Half a frame: a datagram
// up to 10 ms late keeps its slot, and the silence still leaves 10 ms for
// our own scheduling before the switch, which reads one datagram per frame
// it writes, looks for the answer to that slot (fsim plays it at its next
// tick). A datagram later than this finds its slot answered and is
// dropped: the timeline holds, at the cost of one frame's content, as for
// a loss.
const FillMargin = FrameTime / 2

// fillDeadline is when the next slot is answered from silence if no
// datagram comes for it; zero when none is due (no run, or MaxFill slots
// in a row were filled: the stream has paused).
func (s *Stream) fillDeadline() time.Time {
	sl := &s.r.sl
	if !sl.running || sl.fills >= MaxFill {
		return time.Time{}
	}
	return sl.expected(sl.next).Add(FillMargin)
}

// datagram handles one datagram b from `from`, read at now, which reached
// the host at `at`: a frame from the switch is answered at once, after
// silence for any earlier slot whose deadline passed unanswered.
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
	s.received.Add(1)
	if s.waiters.Load() > 0 {
		s.mu.Lock()
		s.arrived.Broadcast()
		s.mu.Unlock()
	}
	p := r.sl.place(at)
	if p.newRun {
		s.runs.Add(1)
	}
	if !p.use {
		s.dropped.Add(1)
		return
	}
	for range p.lost {
		s.split.Hear(r.silence)
	}
	for i := range r.in {
		r.in[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	if p.late {
		// Its slot was answered at the deadline: hear it, send nothing.
		s.split.Hear(r.in)
		s.heardLate.Add(1)
		return
	}
	to := *remote
	for range p.fill {
		s.fillOne(to)
	}
	s.h.Frame(r.in, r.out)
	s.send(to)
	s.timing(at, now)
}

// expire answers from silence every slot whose deadline has passed by now
// without a datagram (a datagram the reader has not read yet is looked at
// first, by the caller: its kernel stamp, not our reading, says whether it
// came in time).
func (s *Stream) expire(now time.Time) {
	remote := s.remote.Load()
	if remote == nil {
		return
	}
	for {
		d := s.fillDeadline()
		if d.IsZero() || d.After(now) {
			return
		}
		s.r.sl.skip()
		if s.split != nil {
			// Answer now; what the slot brings is heard if it comes.
			s.split.Speak(s.r.out)
			s.send(*remote)
			s.filled.Add(1)
		} else {
			s.fillOne(*remote)
		}
		s.timing(d, now)
	}
}

// fillOne answers a slot from silence.
func (s *Stream) fillOne(to netip.AddrPort) {
	s.h.Frame(s.r.silence, s.r.out)
	s.send(to)
	s.filled.Add(1)
}

// timing counts an answer released at trigger (the datagram's arrival, or
// the fill deadline) whose service began at started.
func (s *Stream) timing(trigger, started time.Time) {
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

// slots numbers the sender's 20 ms slots and records which have been
// answered: every slot before next has had its one answer (its datagram's,
// or silence at its deadline), so a datagram for one of them is late.
// With split answers, the slots from heard to next were answered at their
// deadline but not heard yet: a datagram for one of them is still heard.
type slots struct {
	running bool
	split   bool      // overdue slots are answered without being heard
	anchor  time.Time // expected arrival of slot 0 of the run
	next    int64     // the first slot not yet answered
	heard   int64     // the first slot not yet heard (== next unless split)
	fills   int       // slots answered without their datagram in a row
	lastAt  time.Time // arrival of the last datagram used
}

// placement is what to do with a datagram: hear silence for lost slots
// (answered, never heard), answer fill slots from silence, then use the
// datagram: answer its slot with it, or (late) only hear it.
type placement struct {
	lost, fill int
	use, late  bool
	newRun     bool
}

func (sl *slots) expected(k int64) time.Time { return sl.anchor.Add(time.Duration(k) * FrameTime) }

// slotOf numbers the slot a datagram arriving d after the anchor most
// likely belongs to: up to 15 ms late or 5 ms early. Loss shows as a full
// 20 ms of lateness; a loaded sender shows smaller ones.
func slotOf(d time.Duration) int64 {
	return int64(math.Floor(float64(d+FrameTime/4) / float64(FrameTime)))
}

// place assigns the datagram that arrived at `at` to a slot and says what
// to do (placement): how many slots before it were lost (answered but never
// heard: hear silence for them), how many are to be answered from silence
// first (their deadlines passed while the reader was busy), whether the
// datagram is used (false: its slot was already answered and heard, so it
// came too late, or it is a second datagram in one slot), whether it is
// only heard (its slot was answered at the deadline), and whether it
// starts a new run.
func (sl *slots) place(at time.Time) placement {
	if !sl.running || at.Sub(sl.lastAt) > PauseReset || at.Before(sl.lastAt) {
		var p placement
		if sl.running {
			p.lost = int(sl.next - sl.heard)
		}
		sl.running, sl.anchor, sl.next, sl.heard, sl.fills, sl.lastAt = true, at, 1, 1, 0, at
		p.use, p.newRun = true, true
		return p
	}
	k := slotOf(at.Sub(sl.anchor))
	switch {
	case k >= sl.heard && k < sl.next:
		// Answered at its deadline, not heard yet: late, not lost. (A
		// steady lateness moves the anchor, so the deadlines follow.)
		if dev := at.Sub(sl.expected(k)); dev > 0 && dev < FrameTime {
			sl.anchor = sl.anchor.Add(dev / 16)
		}
		p := placement{lost: int(k - sl.heard), use: true, late: true}
		sl.heard, sl.lastAt = k+1, at
		sl.fills = int(sl.next - sl.heard) // the answers after it still wait for theirs
		return p
	case k >= sl.next:
		// Its slot is open (if it came after the slot's deadline, the
		// reader had not got to it: the content is better than silence).
	case k == sl.next-1 && sl.fills == 0 && at.Sub(sl.expected(k)) >= FillMargin:
		// Its slot had a datagram already, and this one is nearer the
		// next slot: that slot's, a little early (jitter).
		k = sl.next
	default:
		// Its slot was answered: from silence at the deadline (this one
		// is late: dropping it keeps the timeline), or by another
		// datagram (a swapped pair, a burst after a stall).
		return placement{}
	}
	lost := int(sl.next - sl.heard) // answered at their deadlines, never came
	gap := k - sl.next
	if gap > int64(MaxFill-sl.fills) {
		// Longer than a loss: the sender paused (and carried on from
		// here, not catching up). Start over.
		sl.anchor, sl.next, sl.heard, sl.fills, sl.lastAt = at, 1, 1, 0, at
		return placement{lost: lost, use: true, newRun: true}
	}
	if dev := at.Sub(sl.expected(k)); gap == 0 && dev > -FrameTime/2 && dev < FrameTime/2 {
		// On time: let the anchor follow the sender's clock (jitter
		// averages out; drift of a few hundred ppm is followed).
		sl.anchor = sl.anchor.Add(dev / 16)
	}
	sl.next, sl.heard, sl.fills, sl.lastAt = k+1, k+1, 0, at
	return placement{lost: lost, fill: int(gap), use: true}
}

// skip marks the next slot answered without its datagram (its deadline
// passed): heard as silence, or with split answers not heard yet.
func (sl *slots) skip() {
	sl.next++
	sl.fills++
	if !sl.split {
		sl.heard = sl.next
	}
}
