package fsim_test

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayofax/rayofax/eslbridge/esl"
	"github.com/rayofax/rayofax/test/fsim"
)

// client is an ESL connection and our end of a unicast stream, driven by
// hand to check the simulator's behaviours one by one.
type client struct {
	t    *testing.T
	sim  *fsim.Server
	c    *esl.Conn
	ctx  context.Context
	mu   sync.Mutex
	evs  []*esl.Event
	udp  *net.UDPConn
	port int // the switch's port for the next unicast
}

func newClient(t *testing.T) *client {
	sim, err := fsim.Start(fsim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	cl := &client{t: t, sim: sim, ctx: ctx}
	cl.c, err = esl.Dial(ctx, sim.Addr(), esl.Options{Password: "ClueCon", OnEvent: func(e *esl.Event) {
		cl.mu.Lock()
		cl.evs = append(cl.evs, e)
		cl.mu.Unlock()
	}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.c.Close() })
	if err := cl.c.Subscribe(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	cl.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.udp.Close() })
	return cl
}

func freePort(t *testing.T) int {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func (cl *client) unicast(uuid string, port int) {
	cl.t.Helper()
	cl.port = port
	err := cl.c.StartUnicast(cl.ctx, uuid, esl.Unicast{LocalIP: "127.0.0.1", LocalPort: port,
		RemoteIP: "127.0.0.1", RemotePort: cl.udp.LocalAddr().(*net.UDPAddr).Port})
	if err != nil {
		cl.t.Fatalf("unicast: %v (the switch always says +OK)", err)
	}
}

// packets collects what arrives during d.
func (cl *client) packets(d time.Duration) [][]byte {
	var out [][]byte
	end := time.Now().Add(d)
	buf := make([]byte, 2048)
	for {
		cl.udp.SetReadDeadline(end)
		n, _, err := cl.udp.ReadFromUDP(buf)
		if err != nil {
			return out
		}
		out = append(out, append([]byte(nil), buf[:n]...))
	}
}

func (cl *client) waitEvent(uuid, name string, after int) int {
	cl.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		cl.mu.Lock()
		for i := after; i < len(cl.evs); i++ {
			if cl.evs[i].UUID() == uuid && cl.evs[i].Name() == name {
				cl.mu.Unlock()
				return i + 1
			}
		}
		cl.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	cl.t.Fatalf("no %s for %s", name, uuid)
	return 0
}

func (cl *client) nEvents() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.evs)
}

func TestUnicastPortTakenStillSaysOK(t *testing.T) {
	cl := newClient(t)
	ch := cl.sim.NewInboundCall(fsim.CallOptions{Answer: true})
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cl.unicast(ch.UUID(), busy.LocalAddr().(*net.UDPAddr).Port)
	if p := cl.packets(300 * time.Millisecond); len(p) != 0 {
		t.Fatalf("%d packets from a stream that could not bind", len(p))
	}
}

func TestUnicastFramesCNGAndAnswer(t *testing.T) {
	cl := newClient(t)
	rec := &fsim.Recorder{Peer: &fsim.Tone{Freq: 1000, Amp: 5000}}
	ch := cl.sim.NewInboundCall(fsim.CallOptions{Peer: rec})
	cl.unicast(ch.UUID(), freePort(t))
	pre := cl.packets(200 * time.Millisecond)
	if len(pre) < 3 {
		t.Fatalf("%d packets before answer", len(pre))
	}
	for _, p := range pre {
		if len(p) != 320 || strings.Trim(string(p), "\xff") != "" {
			t.Fatalf("unanswered call sent %d bytes, want 320 of 0xFF (CNG)", len(p))
		}
	}
	if _, err := cl.c.API(cl.ctx, "uuid_answer "+ch.UUID()); err != nil {
		t.Fatal(err)
	}
	cl.packets(60 * time.Millisecond)
	got := cl.packets(500 * time.Millisecond)
	if len(got) < 10 {
		t.Fatalf("%d packets in 500 ms", len(got))
	}
	var peak int16
	for _, p := range got {
		if len(p) != 320 {
			t.Fatalf("packet of %d bytes", len(p))
		}
		for i := 0; i < 320; i += 2 {
			peak = max(peak, int16(binary.LittleEndian.Uint16(p[i:])))
		}
	}
	if peak < 4900 || peak > 5000 {
		t.Errorf("tone peak %d read as little-endian, want 5000", peak)
	}

	// What we send is not paced: ten frames at once are all taken, and
	// the far end hears them one per tick, in order.
	sw := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(cl.port))
	for k := 1; k <= 10; k++ {
		pkt := make([]byte, 320)
		for i := 0; i < 320; i += 2 {
			binary.LittleEndian.PutUint16(pkt[i:], uint16(1000+k))
		}
		cl.udp.WriteToUDPAddrPort(pkt, sw)
	}
	time.Sleep(400 * time.Millisecond)
	heard := rec.Heard()
	var seq []int16
	for i := 0; i < len(heard); i += fsim.FrameSamples {
		if v := heard[i]; v > 1000 {
			seq = append(seq, v)
		}
	}
	if len(seq) != 10 || seq[0] != 1001 || seq[9] != 1010 {
		t.Errorf("far end heard %v, want 1001..1010", seq)
	}
	if ms := ch.MediaStats(); ms.Received != 10 || ms.Overflows != 0 {
		t.Errorf("stats %+v", ms)
	}
}

func TestExecuteEndsStreamAndReparkRecovers(t *testing.T) {
	cl := newClient(t)
	ch := cl.sim.NewInboundCall(fsim.CallOptions{Answer: true})
	cl.unicast(ch.UUID(), freePort(t))
	if p := cl.packets(100 * time.Millisecond); len(p) < 2 {
		t.Fatalf("no stream: %d packets", len(p))
	}
	mark := cl.nEvents()
	if _, err := cl.c.Execute(cl.ctx, ch.UUID(), "playback", "silence_stream://300", true); err != nil {
		t.Fatal(err)
	}
	cl.waitEvent(ch.UUID(), "CHANNEL_EXECUTE", mark)
	cl.packets(30 * time.Millisecond)
	if p := cl.packets(150 * time.Millisecond); len(p) != 0 {
		t.Errorf("%d packets while the application runs", len(p))
	}
	mark = cl.waitEvent(ch.UUID(), "CHANNEL_EXECUTE_COMPLETE", mark)
	if p := cl.packets(200 * time.Millisecond); len(p) != 0 {
		t.Errorf("%d packets after the application: the stream should be torn down", len(p))
	}
	// unicast again within the same park: shut down at once.
	cl.unicast(ch.UUID(), freePort(t))
	if p := cl.packets(200 * time.Millisecond); len(p) > 1 {
		t.Errorf("%d packets from a second unicast in the same park", len(p))
	}
	// The recovery: transfer to park, wait for CHANNEL_PARK, unicast.
	if _, err := cl.c.API(cl.ctx, "uuid_transfer "+ch.UUID()+" park XML default"); err != nil {
		t.Fatal(err)
	}
	cl.waitEvent(ch.UUID(), "CHANNEL_UNPARK", mark)
	cl.waitEvent(ch.UUID(), "CHANNEL_PARK", mark)
	cl.unicast(ch.UUID(), freePort(t))
	if p := cl.packets(200 * time.Millisecond); len(p) < 3 {
		t.Errorf("%d packets after re-park and unicast", len(p))
	}
}

func TestHangupMidStreamAndImpairment(t *testing.T) {
	cl := newClient(t)
	cl.sim.SetUDPImpairment(0.3, 0.2)
	ch := cl.sim.NewInboundCall(fsim.CallOptions{Answer: true, HangupAfter: time.Second, Peer: &fsim.Counter{}})
	cl.unicast(ch.UUID(), freePort(t))
	got := cl.packets(700 * time.Millisecond)
	// Frame numbers show losses and swaps.
	var nums []int16
	for _, p := range got {
		nums = append(nums, int16(binary.LittleEndian.Uint16(p)))
	}
	gaps, swaps := 0, 0
	for i := 1; i < len(nums); i++ {
		switch {
		case nums[i] > nums[i-1]+1:
			gaps++
		case nums[i] < nums[i-1]:
			swaps++
		}
	}
	if gaps == 0 || swaps == 0 {
		t.Errorf("frames %v show %d gaps and %d swaps, want some of each", nums, gaps, swaps)
	}
	select {
	case <-ch.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("HangupAfter did not hang up")
	}
	cl.waitEvent(ch.UUID(), "CHANNEL_HANGUP_COMPLETE", 0)
	cl.packets(40 * time.Millisecond)
	if p := cl.packets(100 * time.Millisecond); len(p) != 0 {
		t.Errorf("%d packets after hangup", len(p))
	}
	ms := ch.MediaStats()
	if ms.LostTx == 0 || ms.Reordered == 0 {
		t.Errorf("stats %+v", ms)
	}
}
