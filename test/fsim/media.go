package fsim

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// FrameSamples is the samples in one 20 ms frame at 8 kHz.
const FrameSamples = 160

const (
	frameBytes = 2 * FrameSamples
	frameTime  = 20 * time.Millisecond
	fifoFrames = 25 // 500 ms of what the client sent, then the oldest goes
	// jitterFrames is the far end's initial playout delay: it starts
	// playing what the client sent once this many frames are queued, and
	// counts an underrun (a silent tick) whenever the queue is empty.
	jitterFrames = 5
)

// MediaStats counts one stream's traffic.
type MediaStats struct {
	Sent      int // datagrams sent to the client
	Received  int // datagrams accepted from the client
	Underruns int // ticks with nothing from the client queued once playing
	Overflows int // frames dropped because the client sent too far ahead
	// Holes counts ticks (after the client's first frame) between which
	// no frame from the client arrived: what a switch that reads one
	// datagram per frame it writes, with no queue, plays as silence.
	// Unlike Underruns it does not depend on the queue's depth: a frame
	// lost or answered a tick late is a hole even while the queue still
	// holds enough to play on.
	Holes     int
	LostTx    int // datagrams to the client dropped on purpose
	LostRx    int // datagrams from the client dropped on purpose
	Reordered int // datagrams swapped with their successor on purpose
	Strays    int // datagrams from an unexpected source
	OddSize   int // datagrams not 320 bytes long
}

// MediaStats returns the totals of every stream this channel has had.
func (ch *Channel) MediaStats() MediaStats {
	ch.s.mu.Lock()
	st := ch.stream
	ch.s.mu.Unlock()
	ch.statsMu.Lock()
	total := ch.pastStats
	ch.statsMu.Unlock()
	if st != nil {
		total = total.add(st.snapshot())
	}
	return total
}

// Streaming reports whether a unicast stream is sending audio now.
func (ch *Channel) Streaming() bool {
	ch.s.mu.Lock()
	defer ch.s.mu.Unlock()
	return ch.activeLocked(ch.stream)
}

func (ch *Channel) activeLocked(st *stream) bool {
	return st != nil && ch.stream == st && !st.mute && ch.parked && !ch.appRunning && !ch.gone
}

func (a MediaStats) add(b MediaStats) MediaStats {
	a.Sent += b.Sent
	a.Received += b.Received
	a.Underruns += b.Underruns
	a.Overflows += b.Overflows
	a.Holes += b.Holes
	a.LostTx += b.LostTx
	a.LostRx += b.LostRx
	a.Reordered += b.Reordered
	a.Strays += b.Strays
	a.OddSize += b.OddSize
	return a
}

// stream is one unicast session: the switch's socket, the client's
// address and the queue of frames the client sent.
type stream struct {
	ch      *Channel
	pc      *net.UDPConn
	remote  *net.UDPAddr
	mute    bool // guarded by s.mu
	closed  atomic.Bool
	loss    float64
	reorder float64

	mu      sync.Mutex
	fifo    frameRing
	playing bool // jitterFrames were queued; playout started
	stats   MediaStats
	rxRng   *rand.Rand
	rxHeld  []int16 // a frame held back to be swapped with its successor
	// frames queued since the last tick's datagram went out, and whether
	// the client has sent any yet (for Holes)
	sinceSay  int
	answering bool
	rxSpare   []int16 // rxHeld's storage

	// used by the media clock goroutine only
	txRng  *rand.Rand
	txHeld []byte
	in     []int16
	out    []int16
	pkt    []byte
}

var streamSeq atomic.Uint64

func newStream(ch *Channel, pc *net.UDPConn, remote *net.UDPAddr, loss, reorder float64) *stream {
	n := streamSeq.Add(1)
	seed := ch.s.cfg.Seed
	return &stream{
		ch: ch, pc: pc, remote: remote, loss: loss, reorder: reorder,
		rxRng:   rand.New(rand.NewPCG(seed, 2*n)),
		txRng:   rand.New(rand.NewPCG(seed, 2*n+1)),
		in:      make([]int16, FrameSamples),
		out:     make([]int16, FrameSamples),
		pkt:     cng(),
		rxSpare: make([]int16, FrameSamples),
	}
}

// cng is a comfort-noise frame as FreeSWITCH writes it: 320 bytes of 0xFF.
func cng() []byte {
	b := make([]byte, frameBytes)
	for i := range b {
		b[i] = 0xFF
	}
	return b
}

// frameRing is the queue of frames the client sent, at most fifoFrames,
// in fixed storage: nothing is allocated per datagram.
type frameRing struct {
	buf        [fifoFrames][FrameSamples]int16
	head, size int
}

func (r *frameRing) len() int { return r.size }

// push appends a copy of f (at most FrameSamples samples, the rest zero);
// the ring must not be full.
func (r *frameRing) push(f []int16) {
	dst := r.buf[(r.head+r.size)%fifoFrames][:]
	n := copy(dst, f)
	clear(dst[n:])
	r.size++
}

// pop copies the oldest frame into dst and removes it; the ring must not
// be empty.
func (r *frameRing) pop(dst []int16) {
	copy(dst, r.buf[r.head][:])
	r.head = (r.head + 1) % fifoFrames
	r.size--
}

// drop removes the oldest frame.
func (r *frameRing) drop() {
	r.head = (r.head + 1) % fifoFrames
	r.size--
}

func (st *stream) snapshot() MediaStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.stats
}

func (st *stream) close() {
	if st.closed.Swap(true) {
		return
	}
	st.pc.Close()
	ch := st.ch
	ch.statsMu.Lock()
	ch.pastStats = ch.pastStats.add(st.snapshot())
	ch.statsMu.Unlock()
}

// readLoop queues what the client sends: each datagram whole, at once,
// unpaced, as the switch writes it into the channel; the far end plays it
// out through a jitter buffer of jitterFrames.
func (st *stream) readLoop() {
	buf := make([]byte, 4096)
	f := make([]int16, FrameSamples)
	for {
		n, from, err := st.pc.ReadFromUDP(buf)
		if err != nil {
			return
		}
		st.mu.Lock()
		if !from.IP.Equal(st.remote.IP) || from.Port != st.remote.Port {
			st.stats.Strays++
			st.mu.Unlock()
			continue
		}
		if n != frameBytes {
			st.stats.OddSize++
		}
		clear(f)
		for i := 0; i < FrameSamples && 2*i+1 < n; i++ {
			f[i] = int16(binary.LittleEndian.Uint16(buf[2*i:]))
		}
		switch {
		case st.loss > 0 && st.rxRng.Float64() < st.loss:
			st.stats.LostRx++
		case st.rxHeld == nil && st.reorder > 0 && st.rxRng.Float64() < st.reorder:
			st.stats.Reordered++
			st.rxHeld = st.rxSpare
			copy(st.rxHeld, f)
		default:
			st.pushLocked(f)
			if st.rxHeld != nil {
				st.pushLocked(st.rxHeld)
				st.rxHeld = nil
			}
		}
		st.mu.Unlock()
	}
}

func (st *stream) pushLocked(f []int16) {
	st.stats.Received++
	st.sinceSay++
	st.answering = true
	if st.fifo.len()+1 >= jitterFrames {
		st.playing = true
	}
	if st.fifo.len() >= fifoFrames {
		st.fifo.drop()
		st.stats.Overflows++
	}
	st.fifo.push(f)
}

// tick runs one 20 ms period: the far end hears the oldest queued frame
// (or silence) and its answer goes out as one datagram.
func (st *stream) tick(answered bool) {
	st.hear(answered)
	st.say()
}

// hear plays the tick's frame to the far end and prepares its answer in
// st.pkt.
func (st *stream) hear(answered bool) {
	st.mu.Lock()
	switch {
	case st.playing && st.fifo.len() > 0:
		st.fifo.pop(st.in)
	case st.playing:
		// Nothing queued: the far end hears silence for this tick, and
		// the next frame plays one tick later (as a channel's frame
		// queue behaves; only the start waits for jitterFrames).
		clear(st.in)
		st.stats.Underruns++
	default:
		clear(st.in)
	}
	st.mu.Unlock()
	if answered {
		st.ch.peer.Process(st.in, st.out)
		for i, v := range st.out {
			binary.LittleEndian.PutUint16(st.pkt[2*i:], uint16(v))
		}
	} else {
		// Comfort noise as FreeSWITCH writes it: 320 bytes of 0xFF.
		for i := range st.pkt {
			st.pkt[i] = 0xFF
		}
	}
}

// say sends the answer prepared in st.pkt as one datagram.
func (st *stream) say() {
	// A tick's window for the client's answer closes before its datagram
	// goes out (the answer to it may come back at once).
	st.mu.Lock()
	if st.answering && st.sinceSay == 0 {
		st.stats.Holes++
	}
	st.sinceSay = 0
	st.mu.Unlock()
	var lostTx, reordered int
	switch {
	case st.loss > 0 && st.txRng.Float64() < st.loss:
		lostTx++
	case st.txHeld == nil && st.reorder > 0 && st.txRng.Float64() < st.reorder:
		reordered++
		st.txHeld = append(st.txHeld[:0], st.pkt...)
	default:
		st.pc.WriteToUDP(st.pkt, st.remote)
		if st.txHeld != nil {
			st.pc.WriteToUDP(st.txHeld, st.remote)
			st.txHeld = nil
		}
	}
	st.mu.Lock()
	st.stats.Sent++
	st.stats.LostTx += lostTx
	st.stats.Reordered += reordered
	st.mu.Unlock()
}

// mediaClock is the switch's timer: every 20 ms it runs one tick of every
// active stream, like the session threads reading frames in park.
type mediaClock struct {
	s       *Server
	mu      sync.Mutex
	streams []*stream
	slips   atomic.Int64
}

func newMediaClock(s *Server) *mediaClock { return &mediaClock{s: s} }

func (m *mediaClock) add(st *stream) {
	m.mu.Lock()
	m.streams = append(m.streams, st)
	m.mu.Unlock()
}

// ClockSlips counts ticks the simulator's own clock ran late by more than
// a frame (the host was too busy); tests can use it to tell their own
// misses from the simulator's.
func (s *Server) ClockSlips() int64 { return s.media.slips.Load() }

func (m *mediaClock) run(done <-chan struct{}) {
	next := time.Now()
	var active []*stream
	var answered []bool
	for {
		next = next.Add(frameTime)
		d := time.Until(next)
		if d > 0 {
			select {
			case <-time.After(d):
			case <-done:
				return
			}
		} else if d < -frameTime {
			// The host did not run us in time: send the missed ticks in
			// a burst (the far end's jitter buffer absorbs it), or, more
			// than 100 ms behind, carry on from now.
			m.slips.Add(1)
			if d < -5*frameTime {
				next = time.Now()
			}
		}
		select {
		case <-done:
			return
		default:
		}
		m.mu.Lock()
		kept := m.streams[:0]
		for _, st := range m.streams {
			if !st.closed.Load() {
				kept = append(kept, st)
			}
		}
		clear(m.streams[len(kept):])
		m.streams = kept
		list := append([]*stream(nil), kept...)
		m.mu.Unlock()

		active, answered = active[:0], answered[:0]
		m.s.mu.Lock()
		for _, st := range list {
			if st.ch.activeLocked(st) {
				active = append(active, st)
				answered = append(answered, !st.ch.answeredAt.IsZero())
			}
		}
		m.s.mu.Unlock()
		m.tickAll(active, answered)
	}
}

// tickAll runs one tick of every active stream, on the clock goroutine or
// spread over Config.ClockWorkers goroutines, and returns when all are done.
//
// With workers, every stream first sends the answer its far end prepared
// in the previous tick, and only then do the far ends hear this tick's
// frame and prepare the next answer: the datagrams leave at the start of
// the tick, as each session thread of the real switch sends on its own
// timer, instead of after the far ends of all the streams before them in
// the list have run (which, with hundreds of fax terminals, put up to a
// frame of varying delay on the last streams' datagrams). The far ends
// answer one frame (20 ms) later, like a far end with a small jitter
// buffer; harmless to fax.
func (m *mediaClock) tickAll(active []*stream, answered []bool) {
	w := min(m.s.cfg.ClockWorkers, len(active))
	if w <= 1 {
		for i, st := range active {
			st.tick(answered[i])
		}
		return
	}
	var wg sync.WaitGroup
	// Contiguous shares keep each worker's streams apart in memory.
	for k := range w {
		lo, hi := k*len(active)/w, (k+1)*len(active)/w
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				active[i].say()
			}
			for i := lo; i < hi; i++ {
				active[i].hear(answered[i])
			}
		})
	}
	wg.Wait()
}
