package audio

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// Slot tracking from synthetic arrival times: exact, no clock involved.
// fills[i] is the silence inserted before frame i.
func TestSlots(t *testing.T) {
	for _, tc := range []struct {
		name  string
		at    []float64 // arrival times, ms
		fills []int
		early int
		runs  int
	}{
		{"steady with jitter", []float64{0, 20.4, 39.6, 60, 83, 100}, []int{0, 0, 0, 0, 0, 0}, 0, 1},
		{"one lost", []float64{0, 20, 60, 80}, []int{0, 0, 1, 0}, 0, 1},
		{"three lost", []float64{0, 80, 100}, []int{0, 3, 0}, 0, 1},
		{"four lost is a pause", []float64{0, 20, 120, 140}, []int{0, 0, 0, 0}, 0, 2},
		{"sent 15 ms late", []float64{0, 20, 55, 60, 80}, []int{0, 0, 0, 0, 0}, 0, 1},
		{"lost, then late", []float64{0, 20, 75, 80, 100}, []int{0, 0, 0, 1, 0}, 0, 1}, // counted, one slot later
		{"reordered pair", []float64{0, 20, 60, 60.1, 80}, []int{0, 0, 0, 0, 0}, 0, 1},
		{"burst after a stall", []float64{0, 20, 80, 80.1, 80.2, 100}, []int{0, 0, 0, 0, 0, 0}, 0, 1},
		{"lost inside a stall", []float64{0, 20, 80, 80.1, 100}, []int{0, 0, 0, 1, 0}, 0, 1},
		{"pause starts a new run", []float64{0, 20, 520, 540}, []int{0, 0, 0, 0}, 0, 2},
		{"last frame alone", []float64{0, 20, 60}, []int{0, 0, 1}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := time.Unix(1000, 0)
			ms := func(x float64) time.Time { return base.Add(time.Duration(x * float64(time.Millisecond))) }
			var sl slots
			early, runs := 0, 0
			for i, a := range tc.at {
				var next time.Time
				if i+1 < len(tc.at) {
					next = ms(tc.at[i+1])
				}
				fill, e, nr := sl.place(ms(a), next)
				if fill != tc.fills[i] {
					t.Errorf("frame %d at %v ms: fill %d, want %d", i, a, fill, tc.fills[i])
				}
				if e {
					early++
				}
				if nr {
					runs++
				}
			}
			if early != tc.early || runs != tc.runs {
				t.Errorf("early %d runs %d, want %d %d", early, runs, tc.early, tc.runs)
			}
		})
	}
}

// Clock drift of 200 ppm for 10 minutes is followed without false fills.
func TestSlotsFollowDrift(t *testing.T) {
	var sl slots
	base := time.Unix(0, 0)
	period := FrameTime + FrameTime/5000
	for k := range 30000 {
		fill, early, _ := sl.place(base.Add(time.Duration(k)*period), base.Add(time.Duration(k+1)*period))
		if fill != 0 || early {
			t.Fatalf("frame %d: fill %d early %v", k, fill, early)
		}
	}
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

// echo answers each frame with the frame itself.
var echo = HandlerFunc(func(in, out []int16) { copy(out, in) })

// Through real UDP: a paced sender of numbered frames with planned losses
// and reorderings. Every accepted frame is answered once, losses become
// silence, the early half of a swapped pair is dropped, strays and odd
// sizes are ignored.
func TestStreamOverUDP(t *testing.T) {
	sw := newSwitchEnd(t)
	st, err := Listen("127.0.0.1", 0, echo)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Expect(sw.addr())
	sw.dest = st.LocalAddr().AddrPort()

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
	if int(s.Sent) != len(got) || s.Sent != s.Received+s.Filled {
		t.Errorf("sent %d answers, counted %d = %d received + %d filled",
			len(got), s.Sent, s.Received, s.Filled)
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
		sl.place(t, t.Add(FrameTime))
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
			// Each held frame is answered 30 ms later, its successor
			// not having come.
			got := map[int16]int{}
			buf := make([]byte, 2048)
			sw.SetReadDeadline(time.Now().Add(2 * time.Second))
			for len(got) < n {
				m, from, err := sw.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("%d of %d answered: %v", len(got), n, err)
				}
				v := int16(binary.LittleEndian.Uint16(buf))
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
				if s := st.Stats(); s.Received != 1 || s.Sent != 1 {
					t.Errorf("stats %+v, want 1 received and 1 sent", s)
				}
			}
		})
	}
}
