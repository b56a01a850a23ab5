package audio

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// simulate runs slot tracking over synthetic arrival times (ms) as a
// reader does: each fill deadline that passes before a datagram's arrival
// answers its slot first; after the last datagram, the deadlines run out.
// It returns, per slot answered, the index of the datagram used ("-" for
// an answer without one, "|" before a new run), the times of those
// answers, and how many datagrams were dropped. With split, heard lists
// what was heard for each slot, in order (a datagram's index, or "-" for
// silence), as a SplitHandler hears it.
func simulate(at []float64, split bool) (answers, heard string, fillAt []float64, dropped int) {
	base := time.Unix(1000, 0)
	ms := func(x float64) time.Time { return base.Add(time.Duration(x * float64(time.Millisecond))) }
	sl := slots{split: split}
	var b, h strings.Builder
	deadline := func() time.Time {
		if !sl.running || sl.fills >= MaxFill {
			return time.Time{}
		}
		return sl.expected(sl.next).Add(FillMargin)
	}
	expire := func(now time.Time) {
		for d := deadline(); !d.IsZero() && !d.After(now); d = deadline() {
			sl.skip()
			b.WriteString("- ")
			if !split {
				h.WriteString("- ")
			}
			fillAt = append(fillAt, float64(d.Sub(base))/float64(time.Millisecond))
		}
	}
	for i, a := range at {
		expire(ms(a))
		p := sl.place(ms(a))
		for range p.lost {
			h.WriteString("- ")
		}
		if p.newRun && i > 0 {
			b.WriteString("| ")
		}
		if !p.use {
			dropped++
			continue
		}
		if p.late {
			fmt.Fprintf(&h, "%d ", i)
			continue
		}
		for range p.fill {
			b.WriteString("- ")
			h.WriteString("- ")
		}
		fmt.Fprintf(&b, "%d ", i)
		fmt.Fprintf(&h, "%d ", i)
	}
	expire(ms(at[len(at)-1] + 1000))
	return strings.TrimSpace(b.String()), strings.TrimSpace(h.String()), fillAt, dropped
}

// Slot tracking from synthetic arrival times: exact, no clock involved.
func TestSlots(t *testing.T) {
	for _, tc := range []struct {
		name    string
		at      []float64 // arrival times, ms
		slots   string    // datagram answering each slot, - for silence
		fillAt  []float64 // when the silent slots were answered (ms)
		dropped int
	}{
		{"steady with jitter", []float64{0, 20.4, 39.6, 60, 83, 100}, "0 1 2 3 4 5 - - -", []float64{130, 150, 170}, 0},
		// The lost slot is answered at its deadline (50 ms), before the
		// next datagram comes, not with it.
		{"one lost", []float64{0, 20, 60, 80}, "0 1 - 2 3 - - -", []float64{50, 110, 130, 150}, 0},
		{"three lost", []float64{0, 80, 100}, "0 - - - 1 2 - - -", []float64{30, 50, 70, 130, 150, 170}, 0},
		{"four lost is a pause", []float64{0, 20, 120, 140}, "0 1 - - - | 2 3 - - -", []float64{50, 70, 90, 170, 190, 210}, 0},
		{"9 ms late keeps its slot", []float64{0, 20, 49, 60, 80}, "0 1 2 3 4 - - -", []float64{110, 130, 150}, 0},
		// Late past the deadline: its slot went out as silence, so it
		// is dropped and its successor keeps its own slot.
		{"14 ms late is dropped", []float64{0, 20, 54, 60, 80}, "0 1 - 3 4 - - -", []float64{50, 110, 130, 150}, 1},
		{"early by 8 ms after an on-time one", []float64{0, 20, 40, 52, 80}, "0 1 2 3 4 - - -", []float64{110, 130, 150}, 0},
		{"swapped pair", []float64{0, 20, 60, 60.1, 80}, "0 1 - 2 4 - - -", []float64{50, 110, 130, 150}, 1},
		{"burst after a stall", []float64{0, 20, 80, 80.1, 80.2, 100}, "0 1 - - 2 5 - - -", []float64{50, 70, 130, 150, 170}, 2},
		{"pause starts a new run", []float64{0, 20, 520, 540}, "0 1 - - - | 2 3 - - -", []float64{50, 70, 90, 570, 590, 610}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, heard, fillAt, dropped := simulate(tc.at, false)
			if heard != strings.ReplaceAll(got, "| ", "") {
				t.Errorf("heard %q, answered %q", heard, got)
			}
			if got != tc.slots || dropped != tc.dropped {
				t.Errorf("slots %q dropped %d, want %q %d", got, dropped, tc.slots, tc.dropped)
			}
			if fmt.Sprintf("%.0f", fillAt) != fmt.Sprintf("%.0f", tc.fillAt) { // the anchor follows jitter
				t.Errorf("fills at %v ms, want %v", fillAt, tc.fillAt)
			}
		})
	}
}

// With a SplitHandler an overdue slot is answered at its deadline as
// before, but a datagram that then comes late is still heard, and only one
// that never comes is heard as silence (when the next shows it lost).
func TestSlotsSplit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		at      []float64
		slots   string // the answer of each slot
		heard   string // what was heard, slot by slot
		dropped int
	}{
		{"14 ms late is heard", []float64{0, 20, 54, 60, 80}, "0 1 - 3 4 - - -", "0 1 2 3 4", 0},
		{"one lost", []float64{0, 20, 60, 80}, "0 1 - 2 3 - - -", "0 1 - 2 3", 0},
		{"two late in a row", []float64{0, 20, 54, 74, 80}, "0 1 - - 4 - - -", "0 1 2 3 4", 0},
		{"lost, then late", []float64{0, 20, 74, 80}, "0 1 - - 3 - - -", "0 1 - 2 3", 0},
		{"swapped pair", []float64{0, 20, 60, 60.1, 80}, "0 1 - 2 4 - - -", "0 1 - 2 4", 1},
		{"four lost is a pause", []float64{0, 20, 120, 140}, "0 1 - - - | 2 3 - - -", "0 1 - - - 2 3", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, heard, _, dropped := simulate(tc.at, true)
			if got != tc.slots || heard != tc.heard || dropped != tc.dropped {
				t.Errorf("answers %q heard %q dropped %d, want %q %q %d", got, heard, dropped, tc.slots, tc.heard, tc.dropped)
			}
		})
	}
}

// A reader that got to a stream late (its deadline passed unnoticed)
// still answers the slots in order: silence for the lost one, then the
// datagram, and a datagram stamped in time is not taken for lost.
func TestSlotsReaderLate(t *testing.T) {
	base := time.Unix(1000, 0)
	var sl slots
	sl.place(base)
	sl.place(base.Add(20 * time.Millisecond))
	// Slot 2 lost; slot 3's datagram read with no deadline processed.
	if p := sl.place(base.Add(60 * time.Millisecond)); p.fill != 1 || !p.use {
		t.Errorf("fill %d use %v, want 1 true", p.fill, p.use)
	}
	// 12 ms late and its slot not yet answered: used, not silence.
	if p := sl.place(base.Add(92 * time.Millisecond)); p.fill != 0 || !p.use || sl.next != 5 {
		t.Errorf("fill %d use %v next %d, want 0 true 5", p.fill, p.use, sl.next)
	}
}

// Clock drift of 200 ppm for 10 minutes is followed without false fills.
func TestSlotsFollowDrift(t *testing.T) {
	for _, ppm := range []int64{200, -200} {
		var sl slots
		base := time.Unix(0, 0)
		period := FrameTime + FrameTime*time.Duration(ppm)/1e6
		for k := range 30000 {
			p := sl.place(base.Add(time.Duration(k) * period))
			if p.fill != 0 || p.lost != 0 || !p.use || (p.newRun && k > 0) {
				t.Fatalf("%d ppm, frame %d: %+v", ppm, k, p)
			}
		}
	}
}

// One answer per slot over a long run with random loss (1 %, up to
// MaxFill in a row), swapped pairs, datagrams late past their deadline
// and jitter up to 8 ms, through a whole Stream (handler and socket) on
// synthetic arrival times: every slot is answered exactly once, in order.
// A plain Handler hears each slot once: its own datagram or, if that was
// lost or came after the slot's deadline, silence. A SplitHandler hears
// the late ones too: only lost datagrams (and the late half of a swapped
// pair) are heard as silence.
func TestOneAnswerPerSlotRandomLoss(t *testing.T) {
	for _, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("split=%v", split), func(t *testing.T) { oneAnswerPerSlot(t, split) })
	}
}

// splitRecorder is a SplitHandler that records what it hears and how
// often it speaks.
type splitRecorder struct {
	heard  []int16
	spoken int
}

func (r *splitRecorder) Hear(in []int16)       { r.heard = append(r.heard, in[0]) }
func (r *splitRecorder) Speak(out []int16)     { r.spoken++; out[0] = int16(r.spoken) }
func (r *splitRecorder) Frame(in, out []int16) { r.Hear(in); r.Speak(out) }

func oneAnswerPerSlot(t *testing.T, split bool) {
	n := 50000
	if testing.Short() {
		n = 10000
	}
	sw := newSwitchEnd(t)
	rec := &splitRecorder{}
	var h Handler = rec
	if !split {
		h = HandlerFunc(rec.Frame) // hides Hear and Speak
	}
	st, err := Listen("127.0.0.1", 0, h)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Expect(sw.addr())
	// Nothing is sent to the stream's socket, so its reader never runs
	// it: the test drives datagram and expire itself, as the reader does.
	rng := rand.New(rand.NewPCG(7, 7))
	base := time.Now()
	type arrival struct {
		at   time.Time
		k    int
		late bool
	}
	var arrivals []arrival
	want := make([]int16, n) // 0: silence
	inRow, late := 0, 0
	for k := range n {
		if k > 0 && k < n-1 && inRow < MaxFill && rng.Float64() < 0.01 {
			inRow++
			continue
		}
		inRow = 0
		jitter := time.Duration(rng.Float64() * 8 * float64(time.Millisecond))
		want[k] = int16(k%30000 + 1)
		if k > 0 && arrivals[len(arrivals)-1].k == k-1 && rng.Float64() < 0.005 {
			// About 13 ms late (the anchor follows the mean jitter,
			// 4 ms): after its deadline (10 ms), within its slot (15 ms).
			// Its slot is answered without it; a SplitHandler still
			// hears it.
			jitter = 17 * time.Millisecond
			late++
			if !split {
				want[k] = 0
			}
		}
		arrivals = append(arrivals, arrival{base.Add(time.Duration(k)*FrameTime + jitter), k, jitter > 8*time.Millisecond})
	}
	// Delay 0.5 % of the datagrams past their successor (a swapped
	// pair): the late one finds its slot answered and heard (silence, its
	// datagram taken for lost when the next one came) and is dropped. (Not
	// a late one: swapped, it would be as near the slot after.)
	for i := 1; i+1 < len(arrivals); i++ {
		if rng.Float64() < 0.005 && !arrivals[i].late && !arrivals[i+1].late {
			a, b := &arrivals[i], &arrivals[i+1]
			want[a.k] = 0
			a.k, b.k = b.k, a.k
			a.at, b.at = b.at, b.at.Add(100*time.Microsecond)
			i++
		}
	}
	pkt := make([]byte, FrameBytes)
	for _, a := range arrivals {
		st.expire(a.at)
		binary.LittleEndian.PutUint16(pkt, uint16(int16(a.k%30000+1)))
		st.datagram(pkt, sw.addr(), a.at, a.at)
	}
	st.expire(arrivals[len(arrivals)-1].at.Add(FrameTime)) // nothing due yet
	s := st.Stats()
	if rec.spoken != n || s.Sent != int64(n) {
		t.Fatalf("%d slots answered, %d sent, want %d (stats %+v)", rec.spoken, s.Sent, n, s)
	}
	if len(rec.heard) != n {
		t.Fatalf("%d slots heard, want %d (stats %+v)", len(rec.heard), n, s)
	}
	for k := range n {
		if rec.heard[k] != want[k] {
			t.Fatalf("slot %d heard %d, want %d (stats %+v)", k, rec.heard[k], want[k], s)
		}
	}
	if s.Sent != s.Received-s.Dropped-s.HeardLate+s.Filled {
		t.Errorf("stats %+v: want sent = received - dropped - heard late + filled", s)
	}
	if split && s.HeardLate < int64(late) || !split && s.HeardLate != 0 {
		t.Errorf("%d datagrams heard late, %d were late (stats %+v)", s.HeardLate, late, s)
	}
	t.Logf("%d slots, %d late: %+v", n, late, s)
}

type switchEnd struct {
	pc   *net.UDPConn
	dest netip.AddrPort
}

func newSwitchEnd(t *testing.T) *switchEnd {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &switchEnd{pc: pc}
}

func (s *switchEnd) addr() netip.AddrPort { return s.pc.LocalAddr().(*net.UDPAddr).AddrPort() }

func (s *switchEnd) send(t *testing.T, v int16, n int) {
	pkt := make([]byte, n)
	for i := 0; i+1 < n; i += 2 {
		binary.LittleEndian.PutUint16(pkt[i:], uint16(v))
	}
	if _, err := s.pc.WriteToUDPAddrPort(pkt, s.dest); err != nil {
		t.Fatal(err)
	}
}

// connected returns a stream with handler h and the switch end it talks
// to, each knowing the other; the stream closes with the test.
func connected(t *testing.T, h Handler) (*switchEnd, *Stream) {
	t.Helper()
	sw := newSwitchEnd(t)
	st, err := Listen("127.0.0.1", 0, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Expect(sw.addr())
	sw.dest = st.LocalAddr().AddrPort()
	return sw, st
}

// echo answers each frame with the frame itself.
var echo = HandlerFunc(func(in, out []int16) { copy(out, in) })

// Through real UDP: a paced sender of numbered frames with planned losses
// and reorderings. Every accepted frame is answered once, losses become
// silence, the late half of a swapped pair is dropped, strays and odd
// sizes are ignored.
func TestStreamOverUDP(t *testing.T) {
	sw, st := connected(t, echo)

	stray := newSwitchEnd(t)
	stray.dest = sw.dest
	const frames = 100
	lost := map[int]bool{10: true, 40: true, 41: true, 70: true}
	swapped := map[int]bool{25: true, 55: true} // frame k is sent after k+1
	start := time.Now()
	mark := st.Received()
	for k := 1; k <= frames; k++ {
		time.Sleep(time.Until(start.Add(time.Duration(k) * FrameTime)))
		switch {
		case lost[k]:
		case swapped[k]:
		case swapped[k-1]:
			sw.send(t, int16(k), FrameBytes)
			sw.send(t, int16(k-1), FrameBytes)
		default:
			sw.send(t, int16(k), FrameBytes)
		}
		if k == 5 {
			stray.send(t, 999, FrameBytes)
			sw.send(t, 999, 100)
		}
	}
	if err := st.WaitReceived(context.Background(), mark, time.Second); err != nil {
		t.Fatal(err)
	}
	// Collect the answers.
	var got []int16
	buf := make([]byte, 2048)
	sw.pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		n, _, err := sw.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			break
		}
		if n != FrameBytes {
			t.Fatalf("answer of %d bytes", n)
		}
		got = append(got, int16(binary.LittleEndian.Uint16(buf)))
	}
	s := st.Stats()
	t.Logf("stats %+v", s)
	if s.Strays != 1 || s.BadSize != 1 {
		t.Errorf("strays %d bad size %d, want 1 and 1", s.Strays, s.BadSize)
	}
	if int(s.Sent) != len(got) || s.Sent != s.Received-s.Dropped+s.Filled {
		t.Errorf("sent %d answers, counted %d = %d received - %d dropped + %d filled",
			len(got), s.Sent, s.Received, s.Dropped, s.Filled)
	}
	// The slots: one answer per 20 ms of the sender's clock, however the
	// host scheduled the sender; unless it stalled, exactly frames.
	if s.Filled < int64(len(lost)) {
		t.Errorf("filled %d slots, at least %d were lost", s.Filled, len(lost))
	}
	seen := map[int16]bool{}
	last := int16(0)
	for _, v := range got {
		if v == 0 {
			continue
		}
		if seen[v] || (v < last && !swapped[int(v)]) {
			t.Fatalf("answer %d repeated or out of order in %v", v, got)
		}
		seen[v] = true
		last = v
	}
	for k := range lost {
		if seen[int16(k)] {
			t.Errorf("lost frame %d answered", k)
		}
	}
}

func TestWaitReceivedTimesOut(t *testing.T) {
	st, err := Listen("127.0.0.1", 0, echo)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.WaitReceived(context.Background(), 0, 50*time.Millisecond)
	if err == nil {
		t.Fatal("no error without datagrams")
	}
}

// pump streams n frames through a Stream over loopback UDP, keeping a
// window of frames in flight, and returns once all were answered.
func pump(tb testing.TB, n int) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	defer pc.Close()
	st, err := Listen("127.0.0.1", 0, echo)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	st.Expect(pc.LocalAddr().(*net.UDPAddr).AddrPort())
	dest := st.LocalAddr().AddrPort()
	window := make(chan struct{}, 16)
	go func() {
		pkt := make([]byte, FrameBytes)
		for range n {
			window <- struct{}{}
			pc.WriteToUDPAddrPort(pkt, dest)
		}
	}()
	buf := make([]byte, 2048)
	for got := 0; got < n; {
		pc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := pc.ReadFromUDPAddrPort(buf); err != nil {
			tb.Errorf("after %d of %d answers: %v", got, n, err)
			return
		}
		got++
		<-window
	}
}

// BenchmarkFrameUDP: the whole audio path per frame (receive, slot
// tracking, handler, send), both ends' syscalls included.
func BenchmarkFrameUDP(b *testing.B) {
	b.ReportAllocs()
	pump(b, b.N)
}

func BenchmarkSlots(b *testing.B) {
	var sl slots
	t := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		t = t.Add(FrameTime)
		sl.place(t)
	}
}

// BenchmarkStreamsParallel: one stream per P, all at once, as on a busy
// host; ns/op is wall time per frame answered across all streams.
func BenchmarkStreamsParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n++
		}
		pump(b, n)
	})
}

// Many streams at once (on Linux they share the readers): each answers
// its own switch end, and Close releases every port at once.
func TestManyStreamsReleasePorts(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			sw, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
			if err != nil {
				t.Skipf("no %s here: %v", ip, err)
			}
			defer sw.Close()
			const n = 50
			var streams []*Stream
			for range n {
				st, err := Listen(ip, 0, echo)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				st.Expect(sw.LocalAddr().(*net.UDPAddr).AddrPort())
				streams = append(streams, st)
			}
			pkt := make([]byte, FrameBytes)
			for i, st := range streams {
				binary.LittleEndian.PutUint16(pkt, uint16(i+1))
				if _, err := sw.WriteToUDP(pkt, st.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			// Each frame is answered at once (then its successors'
			// slots from silence, up to MaxFill).
			got := map[int16]int{}
			buf := make([]byte, 2048)
			sw.SetReadDeadline(time.Now().Add(2 * time.Second))
			for len(got) < n {
				m, from, err := sw.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("%d of %d answered: %v", len(got), n, err)
				}
				v := int16(binary.LittleEndian.Uint16(buf))
				if m == FrameBytes && v == 0 {
					continue // a slot after the frame, answered from silence
				}
				if m != FrameBytes || v < 1 || v > n || int(from.Port()) != streams[v-1].LocalAddr().Port {
					t.Fatalf("answer %d from %v (%d bytes)", v, from, m)
				}
				got[v]++
			}
			for _, st := range streams {
				st.Close()
				select {
				case <-st.Done():
				default:
					t.Fatal("Done open after Close")
				}
				pc, err := net.ListenUDP("udp", st.LocalAddr())
				if err != nil {
					t.Fatalf("port of a closed stream: %v", err)
				}
				pc.Close()
				if s := st.Stats(); s.Received != 1 || s.Sent != 1+s.Filled || s.Filled > MaxFill {
					t.Errorf("stats %+v, want 1 received and 1 sent besides at most %d fills", s, MaxFill)
				}
			}
		})
	}
}

// answers reads the answers at the switch end until none comes for wait:
// their first sample and arrival time.
func (s *switchEnd) answers(t *testing.T, wait time.Duration) (vals []int16, at []time.Time) {
	t.Helper()
	buf := make([]byte, 2048)
	for {
		s.pc.SetReadDeadline(time.Now().Add(wait))
		n, _, err := s.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return vals, at
		}
		if n != FrameBytes {
			t.Fatalf("answer of %d bytes", n)
		}
		vals = append(vals, int16(binary.LittleEndian.Uint16(buf)))
		at = append(at, time.Now())
	}
}

// A lost datagram's slot is answered from silence at its deadline, without
// waiting for the next datagram: the switch gets it before its next frame.
// The sender holds back the next datagram until that answer came (up to
// 300 ms), so an answer released only by the successor fails the test; the
// answer must also not come before the deadline.
func TestLostAnsweredOnTime(t *testing.T) {
	sw, st := connected(t, echo)
	buf := make([]byte, 2048)
	start := time.Now()
	const lost = 10
	for k := 0; k < 20; k++ {
		slot := start.Add(time.Duration(k) * FrameTime)
		time.Sleep(time.Until(slot))
		if k != lost {
			sw.send(t, int16(k+1), FrameBytes)
		}
		sw.pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, _, err := sw.pc.ReadFromUDPAddrPort(buf)
		if err != nil || n != FrameBytes {
			t.Fatalf("slot %d not answered before the next datagram: %v", k, err)
		}
		got, after := int16(binary.LittleEndian.Uint16(buf)), time.Since(slot)
		switch {
		case k != lost && got != int16(k+1):
			t.Fatalf("slot %d answered with %d", k, got)
		case k == lost && got != 0:
			t.Fatalf("lost slot %d answered with %d, not silence", k, got)
		case k == lost && after < FillMargin-2*time.Millisecond:
			t.Fatalf("lost slot answered %v after its time, before its deadline (%v)", after, FillMargin)
		case k == lost:
			t.Logf("lost slot answered %v after its expected arrival (deadline %v)", after, FillMargin)
		}
	}
	if s := st.Stats(); s.Filled != 1 || s.Received != 19 || s.Dropped != 0 {
		t.Errorf("stats %+v, want 19 received, 1 filled, none dropped", s)
	}
}

// A datagram that comes after its slot was answered from silence is
// dropped, not answered too: one answer per slot, and the frames after it
// keep their slots.
func TestLateNotAnsweredTwice(t *testing.T) {
	var heard []int16
	var mu sync.Mutex
	sw, st := connected(t, HandlerFunc(func(in, out []int16) {
		mu.Lock()
		heard = append(heard, in[0])
		mu.Unlock()
		copy(out, in)
	}))
	buf := make([]byte, 2048)
	var vals []int16
	read := func(what string) {
		sw.pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, _, err := sw.pc.ReadFromUDPAddrPort(buf)
		if err != nil || n != FrameBytes {
			t.Fatalf("%s not answered: %v", what, err)
		}
		vals = append(vals, int16(binary.LittleEndian.Uint16(buf)))
	}
	start := time.Now()
	const late = 5
	inTime := true
	for k := 0; k < 10; k++ {
		slot := start.Add(time.Duration(k) * FrameTime)
		time.Sleep(time.Until(slot))
		if k == late {
			// Wait for the slot's silence, then send its datagram.
			read("late slot")
			inTime = time.Since(slot) < FrameTime*3/4
			sw.send(t, int16(k+1), FrameBytes)
			continue
		}
		sw.send(t, int16(k+1), FrameBytes)
		read(fmt.Sprint("slot ", k))
	}
	rest, _ := sw.answers(t, 200*time.Millisecond)
	vals = append(vals, rest...)
	s := st.Stats()
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(heard) != fmt.Sprint(vals) {
		t.Errorf("handler heard %v, switch got %v", heard, vals)
	}
	if s.Dropped != 1 || s.Filled != 1+MaxFill || s.Sent != 10+MaxFill || len(vals) != 10+MaxFill {
		t.Errorf("stats %+v, %d answers: want 1 dropped, %d filled, %d sent", s, len(vals), 1+MaxFill, 10+MaxFill)
	}
	// The late datagram (6) is dropped; the next ones keep their slots.
	// (Were the silence itself 15 ms late, the late datagram would take
	// the next slot and its successor be dropped: still one per slot.)
	if want := "[1 2 3 4 5 0 7 8 9 10 0 0 0]"; inTime && fmt.Sprint(vals) != want {
		t.Errorf("answers %v, want %v", vals, want)
	} else if !inTime {
		t.Logf("host slow (silence late): answers %v", vals)
	}
}
