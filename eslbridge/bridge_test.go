package eslbridge_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/eslbridge/audio"
	"github.com/rayofax/rayofax/test/fsim"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type rig struct {
	sim    *fsim.Server
	b      *eslbridge.Bridge
	offers chan *eslbridge.Call
	ctx    context.Context
}

// newRig starts a simulator and a connected bridge on a random port range.
func newRig(t *testing.T, simCfg fsim.Config, tweak func(*eslbridge.Config)) *rig {
	t.Helper()
	sim, err := fsim.Start(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	r := &rig{sim: sim, offers: make(chan *eslbridge.Call, 256)}
	base := 20000 + 2*rand.IntN(15000)
	cfg := eslbridge.Config{
		Addr: sim.Addr(), Password: "ClueCon", MediaIP: "127.0.0.1",
		PortMin: base, PortMax: base + 999,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		OnOffer: func(c *eslbridge.Call) { r.offers <- c },
		Logger:  quiet(),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	b, err := eslbridge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := b.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	r.b, r.ctx = b, ctx
	return r
}

func (r *rig) offer(t *testing.T) *eslbridge.Call {
	t.Helper()
	select {
	case c := <-r.offers:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no offer")
		return nil
	}
}

func waitDone(t *testing.T, c *eslbridge.Call) eslbridge.End {
	t.Helper()
	select {
	case <-c.Done():
		return c.End()
	case <-time.After(5 * time.Second):
		t.Fatal("call did not end")
		return eslbridge.End{}
	}
}

func TestOfferAnswerHangup(t *testing.T) {
	r := newRig(t, fsim.Config{}, func(c *eslbridge.Config) { c.MarkVariable = "rayofax" })
	// Not marked: left alone.
	other := r.sim.NewInboundCall(fsim.CallOptions{Dest: "5000"})
	ch := r.sim.NewInboundCall(fsim.CallOptions{
		CallerNumber: "15550001", Dest: "4000",
		Vars: []fsim.Var{
			{Name: "rayofax", Value: "true"},
			{Name: "sip_from_uri", Value: "15550001@carrier.example"},
			{Name: "sip_to_uri", Value: "4000@fax.example"},
			{Name: "sip_h_X-Fax-Id", Value: "job 42"},
		},
	})
	c := r.offer(t)
	if c.ID != ch.UUID() || c.Direction != eslbridge.Inbound {
		t.Fatalf("offer %s %v, want %s inbound", c.ID, c.Direction, ch.UUID())
	}
	if c.From != "sip:15550001@carrier.example" || c.To != "sip:4000@fax.example" || c.Headers["X-Fax-Id"] != "job 42" {
		t.Errorf("offer From %q To %q headers %v", c.From, c.To, c.Headers)
	}
	select {
	case o := <-r.offers:
		t.Fatalf("unmarked call %s offered", o.ID)
	case <-time.After(50 * time.Millisecond):
	}
	if c.Answered() {
		t.Fatal("answered before Answer")
	}
	if err := c.Answer(r.ctx); err != nil {
		t.Fatal(err)
	}
	if !ch.Answered() || !c.Answered() {
		t.Fatal("not answered")
	}
	if err := c.Hangup(r.ctx, "NORMAL_CLEARING"); err != nil {
		t.Fatal(err)
	}
	if e := waitDone(t, c); e.Reason != eslbridge.EndHangupCommand || e.Cause != "NORMAL_CLEARING" {
		t.Errorf("end %+v", e)
	}
	if ch.HangupCause() != "NORMAL_CLEARING" {
		t.Errorf("switch cause %q", ch.HangupCause())
	}
	if err := c.Answer(r.ctx); !errors.Is(err, eslbridge.ErrEnded) {
		t.Errorf("answer after end: %v", err)
	}
	other.Hangup("NORMAL_CLEARING")
}

func TestRejectAndFarEndHangup(t *testing.T) {
	r := newRig(t, fsim.Config{}, nil)
	for _, tc := range []struct {
		reason eslbridge.RejectReason
		cause  string
	}{
		{eslbridge.RejectBusy, "USER_BUSY"},
		{eslbridge.RejectDecline, "CALL_REJECTED"},
		{eslbridge.RejectError, "NORMAL_TEMPORARY_FAILURE"},
	} {
		ch := r.sim.NewInboundCall(fsim.CallOptions{})
		c := r.offer(t)
		if err := c.Reject(r.ctx, tc.reason); err != nil {
			t.Fatal(err)
		}
		if e := waitDone(t, c); e.Reason != eslbridge.EndHangupCommand || e.Cause != tc.cause || ch.HangupCause() != tc.cause {
			t.Errorf("reject %v: end %+v, switch %q", tc.reason, e, ch.HangupCause())
		}
	}
	ch := r.sim.NewInboundCall(fsim.CallOptions{Answer: true})
	c := r.offer(t)
	if !c.Answered() {
		t.Error("call answered by the dialplan not seen as answered")
	}
	ch.Hangup("ORIGINATOR_CANCEL")
	if e := waitDone(t, c); e.Reason != eslbridge.EndHangup || e.Cause != "ORIGINATOR_CANCEL" {
		t.Errorf("far-end hangup: %+v", e)
	}
}

func TestRedirectAndOfferTimeout(t *testing.T) {
	r := newRig(t, fsim.Config{}, nil)
	ch := r.sim.NewInboundCall(fsim.CallOptions{})
	c := r.offer(t)
	if err := c.Redirect(r.ctx, "1234"); err != nil {
		t.Fatal(err)
	}
	if e := waitDone(t, c); e.Reason != eslbridge.EndRedirected {
		t.Errorf("end %+v", e)
	}
	if ch.TransferredTo() != "1234" {
		t.Errorf("transferred to %q", ch.TransferredTo())
	}
	ch.Hangup("")

	r = newRig(t, fsim.Config{}, func(c *eslbridge.Config) { c.OfferTimeout = 150 * time.Millisecond })
	ch = r.sim.NewInboundCall(fsim.CallOptions{})
	c = r.offer(t)
	if e := waitDone(t, c); e.Reason != eslbridge.EndTimeout || ch.HangupCause() != "NO_ANSWER" {
		t.Errorf("offer timeout: %+v, switch %q", e, ch.HangupCause())
	}
}

func TestDial(t *testing.T) {
	dial := func(dest string, vars map[string]string) fsim.DialResult {
		switch dest {
		case "sofia/gw/busy":
			return fsim.DialResult{Cause: "USER_BUSY", Ring: 20 * time.Millisecond}
		case "sofia/gw/reject":
			return fsim.DialResult{Cause: "CALL_REJECTED"}
		case "sofia/gw/slow":
			return fsim.DialResult{Ring: 3 * time.Second}
		}
		return fsim.DialResult{Ring: 20 * time.Millisecond}
	}
	r := newRig(t, fsim.Config{Dial: dial}, nil)
	rang := make(chan struct{})
	c, err := r.b.Dial(r.ctx, eslbridge.DialRequest{To: "sofia/gw/ok", From: "15550002",
		Headers: map[string]string{"X-Job": "7"}, OnRinging: func() { close(rang) }})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-rang:
	case <-time.After(2 * time.Second):
		t.Error("OnRinging not called")
	}
	ch := r.sim.Channel(c.ID)
	if ch == nil || !ch.Answered() || !ch.Parked() || ch.Var("sip_h_X-Job") != "7" || c.Direction != eslbridge.Outbound {
		t.Fatalf("dialled channel %v", ch)
	}
	if err := c.Hangup(r.ctx, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		to     string
		reason eslbridge.EndReason
		cause  string
		limit  time.Duration
	}{
		{"sofia/gw/busy", eslbridge.EndBusy, "USER_BUSY", 0},
		{"sofia/gw/reject", eslbridge.EndRejected, "CALL_REJECTED", 0},
		{"sofia/gw/slow", eslbridge.EndTimeout, "NO_ANSWER", time.Second},
	} {
		_, err := r.b.Dial(r.ctx, eslbridge.DialRequest{To: tc.to, Timeout: tc.limit})
		var de *eslbridge.DialError
		if !errors.As(err, &de) || de.End.Reason != tc.reason || de.End.Cause != tc.cause {
			t.Errorf("dial %s: %v", tc.to, err)
		}
	}
	if _, err := r.b.Dial(r.ctx, eslbridge.DialRequest{To: "x", FromName: "two words"}); err == nil {
		t.Error("bad caller name accepted")
	}
	if !r.sim.WaitChannels(2 * time.Second) {
		t.Error("channels left on the switch")
	}
}

// toneHandler sends a sine and measures what it hears.
type toneHandler struct {
	freq  float64
	n     int
	mu    sync.Mutex
	heard []int16
}

func (h *toneHandler) Frame(in, out []int16) {
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*h.freq*float64(h.n)/8000))
		h.n++
	}
	h.mu.Lock()
	h.heard = append(h.heard, in...)
	h.mu.Unlock()
}

func (h *toneHandler) samples() []int16 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int16(nil), h.heard...)
}

// power of x at freq (Goertzel), relative to total power: 1 for a pure
// tone; a frame shifted or filled on a loaded host lowers it a little.
func toneShare(x []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / 8000
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + 2*math.Cos(w)*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	p := s1*s1 + s2*s2 - 2*math.Cos(w)*s1*s2
	if total == 0 {
		return 0
	}
	return 2 * p / (float64(len(x)) * total)
}

func TestMediaBothWays(t *testing.T) {
	r := newRig(t, fsim.Config{}, nil)
	rec := &fsim.Recorder{Peer: &fsim.Tone{Freq: 1004, Amp: 7200}}
	ch := r.sim.NewInboundCall(fsim.CallOptions{Peer: rec})
	c := r.offer(t)
	h := &toneHandler{freq: 1500}
	m, err := c.StartMedia(r.ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	// Unanswered: comfort noise, 0xFF bytes = -1 samples.
	time.Sleep(100 * time.Millisecond)
	pre := h.samples()
	if len(pre) == 0 || pre[0] != -1 {
		t.Fatalf("before answer heard %v...", pre[:min(4, len(pre))])
	}
	if err := c.Answer(r.ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	heard := h.samples()[len(pre)+800:]
	if s := toneShare(heard, 1004); s < 0.6 {
		t.Errorf("bridge heard 1004 Hz at share %.2f", s)
	}
	far := rec.Heard()
	if len(far) < 1600 {
		t.Fatalf("far end heard %d samples", len(far))
	}
	if s := toneShare(far[len(far)-1600:], 1500); s < 0.6 {
		t.Errorf("far end heard 1500 Hz at share %.2f", s)
	}
	ours, sw := m.Ports()
	if err := m.Stop(r.ctx); err != nil {
		t.Fatal(err)
	}
	<-m.Done()
	if ch.Streaming() {
		t.Error("switch still streaming after Stop")
	}
	// Both ports are free again.
	for _, p := range []int{ours, sw} {
		pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			t.Errorf("port %d not released: %v", p, err)
		} else {
			pc.Close()
		}
	}
	st := m.Stats()
	if st.Strays != 0 || st.Received == 0 {
		t.Errorf("stats %+v", st)
	}
	c.Hangup(r.ctx, "")
}

// The switch cannot bind its port: unicast says +OK, nothing flows; the
// bridge notices within the start timeout and moves to another pair.
func TestMediaSwitchPortTaken(t *testing.T) {
	var base int
	r := newRig(t, fsim.Config{}, func(c *eslbridge.Config) { base = c.PortMin })
	blocker, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: base + 1})
	if err != nil {
		t.Skipf("port %d busy: %v", base+1, err)
	}
	defer blocker.Close()
	ch := r.sim.NewInboundCall(fsim.CallOptions{Answer: true})
	c := r.offer(t)
	var frames atomic.Int64
	m, err := c.StartMedia(r.ctx, audio.HandlerFunc(func(in, out []int16) { frames.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	if ours, _ := m.Ports(); ours == base {
		t.Errorf("still on the blocked pair")
	}
	if !ch.Streaming() {
		t.Error("switch not streaming")
	}
	c.Hangup(r.ctx, "")
	<-m.Done()
}

// An application executed on the channel ends the stream; the bridge
// re-parks and restarts unicast.
func TestMediaRecoversAfterExecute(t *testing.T) {
	r := newRig(t, fsim.Config{}, nil)
	ch := r.sim.NewInboundCall(fsim.CallOptions{Answer: true, Peer: &fsim.Tone{Freq: 1000, Amp: 5000}})
	c := r.offer(t)
	var frames atomic.Int64
	m, err := c.StartMedia(r.ctx, audio.HandlerFunc(func(in, out []int16) { frames.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Execute(r.ctx, "playback", "silence_stream://200"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !ch.Streaming() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !ch.Streaming() {
		t.Fatal("stream not restarted")
	}
	n := frames.Load()
	time.Sleep(200 * time.Millisecond)
	if frames.Load() <= n+3 {
		t.Errorf("frames stalled after recovery: %d -> %d", n, frames.Load())
	}
	select {
	case <-m.Done():
		t.Fatalf("media ended: %v", m.Err())
	default:
	}
	if got := ch.Executed(); len(got) != 1 || got[0] != "playback" {
		t.Errorf("executed %v", got)
	}
	c.Hangup(r.ctx, "")
}

// The ESL connection drops; meanwhile one owned call hangs up. After the
// reconnect, that call ends as vanished; the other carries on.
func TestResyncAfterReconnect(t *testing.T) {
	r := newRig(t, fsim.Config{}, nil)
	gone := r.sim.NewInboundCall(fsim.CallOptions{})
	c1 := r.offer(t)
	stay := r.sim.NewInboundCall(fsim.CallOptions{})
	c2 := r.offer(t)
	r.sim.SetAcceptMode(fsim.AcceptClose)
	r.sim.DropConnections()
	time.Sleep(50 * time.Millisecond)
	gone.Hangup("NORMAL_CLEARING") // its events reach nobody
	r.sim.SetAcceptMode(fsim.AcceptNormal)
	e := waitDone(t, c1)
	if e.Reason != eslbridge.EndError || !errors.Is(e.Err, eslbridge.ErrVanished) {
		t.Errorf("vanished call ended %+v", e)
	}
	select {
	case <-c2.Done():
		t.Fatalf("surviving call ended: %+v", c2.End())
	default:
	}
	if err := c2.Answer(r.ctx); err != nil {
		t.Fatal(err)
	}
	if !stay.Answered() {
		t.Error("not answered on the switch")
	}
}

// A call parked while the bridge was disconnected (or before it started)
// is offered at the next connect, from uuid_dump, headers and all.
func TestOfferParkedWhileDisconnected(t *testing.T) {
	r := newRig(t, fsim.Config{}, func(c *eslbridge.Config) { c.MarkVariable = "rayofax" })
	r.sim.SetAcceptMode(fsim.AcceptClose)
	r.sim.DropConnections()
	time.Sleep(30 * time.Millisecond)
	ch := r.sim.NewInboundCall(fsim.CallOptions{CallerNumber: "15550003", Dest: "4001",
		Vars: []fsim.Var{{Name: "rayofax", Value: "true"}, {Name: "sip_h_X-Fax-Id", Value: "77"}}})
	r.sim.NewInboundCall(fsim.CallOptions{Dest: "4002"}) // not ours
	r.sim.SetAcceptMode(fsim.AcceptNormal)
	c := r.offer(t)
	if c.ID != ch.UUID() || c.From != "15550003" || c.To != "4001" || c.Headers["X-Fax-Id"] != "77" {
		t.Fatalf("offer %s from %q to %q headers %v", c.ID, c.From, c.To, c.Headers)
	}
	select {
	case o := <-r.offers:
		t.Fatalf("second offer %s", o.ID)
	case <-time.After(100 * time.Millisecond):
	}
	if err := c.Answer(r.ctx); err != nil {
		t.Fatal(err)
	}
	if !ch.Answered() {
		t.Error("not answered")
	}
}
