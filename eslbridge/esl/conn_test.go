package esl_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayofax/rayofax/eslbridge/esl"
	"github.com/rayofax/rayofax/test/fsim"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startSim(t *testing.T, cfg fsim.Config) *fsim.Server {
	t.Helper()
	s, err := fsim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type eventLog struct {
	mu  sync.Mutex
	evs []*esl.Event
	ch  chan struct{}
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan struct{}, 1)} }

func (l *eventLog) add(e *esl.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, e)
	l.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
	default:
	}
}

// wait returns the first event matching f, waiting up to 5 s.
func (l *eventLog) wait(t *testing.T, f func(*esl.Event) bool) *esl.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		l.mu.Lock()
		for _, e := range l.evs {
			if f(e) {
				l.mu.Unlock()
				return e
			}
		}
		l.mu.Unlock()
		select {
		case <-l.ch:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatal("event not seen")
		}
	}
}

func (l *eventLog) names(uuid string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.evs {
		if e.UUID() == uuid {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestConnAgainstSimulator(t *testing.T) {
	sim := startSim(t, fsim.Config{})
	ctx := ctxT(t)
	log := newEventLog()
	c, err := esl.Dial(ctx, sim.Addr(), esl.Options{Password: "ClueCon", OnEvent: log.add, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	st, err := c.API(ctx, "status")
	if err != nil || !strings.HasPrefix(st, "UP ") || !strings.Contains(st, "is ready") {
		t.Fatalf("status: %q %v", st, err)
	}
	_, err = c.API(ctx, "uuid_answer 00000000-0000-0000-0000-000000000000")
	var ce *esl.CommandError
	if !errors.As(err, &ce) || ce.Text != "-ERROR" {
		t.Fatalf("uuid_answer unknown: %v", err)
	}
	err = c.StartUnicast(ctx, "00000000-0000-0000-0000-000000000000", esl.Unicast{LocalIP: "127.0.0.1", LocalPort: 1, RemoteIP: "127.0.0.1", RemotePort: 2})
	if !errors.As(err, &ce) || ce.Text != "-ERR invalid session id [00000000-0000-0000-0000-000000000000]" {
		t.Fatalf("sendmsg unknown: %v", err)
	}

	// An inbound call, URL-encoded values and the event order of a park.
	ch := sim.NewInboundCall(fsim.CallOptions{CallerNumber: "+15550001", CallerName: "Fax Sender",
		Dest: "4000", Vars: []fsim.Var{{Name: "sip_h_X-Tag", Value: "a b&c=d"}}})
	park := log.wait(t, func(e *esl.Event) bool { return e.Name() == "CHANNEL_PARK" && e.UUID() == ch.UUID() })
	if park.Var("sip_h_X-Tag") != "a b&c=d" || park.Get("Caller-Caller-ID-Name") != "Fax Sender" ||
		park.Get("Answer-State") != "ringing" {
		t.Errorf("park event: tag %q name %q state %q", park.Var("sip_h_X-Tag"), park.Get("Caller-Caller-ID-Name"), park.Get("Answer-State"))
	}
	if got, _ := c.API(ctx, "uuid_exists "+ch.UUID()); got != "true" {
		t.Errorf("uuid_exists = %q", got)
	}
	if _, err := c.API(ctx, "uuid_answer "+ch.UUID()); err != nil {
		t.Fatal(err)
	}
	log.wait(t, func(e *esl.Event) bool { return e.Name() == "CHANNEL_ANSWER" && e.UUID() == ch.UUID() })

	// sendmsg execute with event-lock: completion carries our Event-UUID.
	appID, err := c.Execute(ctx, ch.UUID(), "playback", "silence_stream://30", true)
	if err != nil {
		t.Fatal(err)
	}
	done := log.wait(t, func(e *esl.Event) bool {
		return e.Name() == "CHANNEL_EXECUTE_COMPLETE" && e.Get("Application-UUID") == appID
	})
	if done.Get("Application") != "playback" {
		t.Errorf("completed %q", done.Get("Application"))
	}
	if err := c.NoMedia(ctx, ch.UUID(), ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Hangup(ctx, ch.UUID(), "USER_BUSY"); err != nil {
		t.Fatal(err)
	}
	hc := log.wait(t, func(e *esl.Event) bool { return e.Name() == "CHANNEL_HANGUP_COMPLETE" && e.UUID() == ch.UUID() })
	if hc.Get("Hangup-Cause") != "USER_BUSY" {
		t.Errorf("cause %q", hc.Get("Hangup-Cause"))
	}
	want := "CHANNEL_CREATE CHANNEL_EXECUTE CHANNEL_PARK CHANNEL_ANSWER PRIVATE_COMMAND CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE PRIVATE_COMMAND PRIVATE_COMMAND CHANNEL_HANGUP CHANNEL_UNPARK CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP_COMPLETE"
	if got := strings.Join(log.names(ch.UUID()), " "); !strings.HasPrefix(got, want) {
		t.Errorf("event order:\n got %s\nwant %s", got, want)
	}
	if got, _ := c.API(ctx, "uuid_exists "+ch.UUID()); got != "false" {
		t.Errorf("uuid_exists after hangup = %q", got)
	}

	// bgapi originate: the result comes back through BACKGROUND_JOB.
	res, err := c.BgAPI(ctx, "originate {origination_uuid=11111111-2222-4333-8444-555555555555}loopback/x &park()")
	if err != nil || res != "+OK 11111111-2222-4333-8444-555555555555\n" {
		t.Fatalf("originate: %q %v", res, err)
	}
	js, err := c.API(ctx, "show channels as json")
	if err != nil || !strings.Contains(js, `"row_count":1`) || !strings.Contains(js, "11111111-2222-4333-8444-555555555555") {
		t.Fatalf("show channels: %q %v", js, err)
	}
	if res, err := c.API(ctx, "hupall NORMAL_CLEARING"); err != nil || res != "+OK hangup all channels with cause NORMAL_CLEARING\n" {
		t.Fatalf("hupall: %q %v", res, err)
	}
	if js, _ := c.API(ctx, "show channels as json"); js != "{\"row_count\":0}\n" {
		t.Errorf("show channels after hupall: %q", js)
	}
	if _, err := c.API(ctx, "bogus_cmd"); !errors.As(err, &ce) {
		t.Errorf("unknown api: %v", err)
	}
	if _, err := c.API(ctx, "status\n\nexit"); !errors.Is(err, esl.ErrBadArgument) {
		t.Errorf("newline in command: %v", err)
	}
	if err := c.Linger(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Exit(ctx); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if !strings.Contains(c.DisconnectNotice(), "Disconnected, goodbye.") {
		t.Errorf("notice %q", c.DisconnectNotice())
	}
	if _, err := c.API(ctx, "status"); !errors.Is(err, esl.ErrClosed) {
		t.Errorf("after exit: %v", err)
	}
}

func TestJSONEventsAndFilter(t *testing.T) {
	sim := startSim(t, fsim.Config{})
	ctx := ctxT(t)
	log := newEventLog()
	c, err := esl.Dial(ctx, sim.Addr(), esl.Options{Password: "ClueCon", OnEvent: log.add, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe(ctx, "json", "CHANNEL_PARK", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB"); err != nil {
		t.Fatal(err)
	}
	// A job's result travels as "_body" in JSON.
	res, err := c.BgAPI(ctx, "uuid_exists nobody")
	if err != nil || res != "false" {
		t.Fatalf("bgapi over json: %q %v", res, err)
	}
	if _, err := c.BgAPI(ctx, "uuid_kill nobody"); err == nil || !strings.Contains(err.Error(), "-ERR No such channel!") {
		t.Fatalf("failed job: %v", err)
	}
	a := sim.NewInboundCall(fsim.CallOptions{Vars: []fsim.Var{{Name: "rayofax", Value: "true"}}})
	ev := log.wait(t, func(e *esl.Event) bool { return e.UUID() == a.UUID() })
	if ev.Name() != "CHANNEL_PARK" || ev.Var("rayofax") != "true" {
		t.Errorf("json event %s %q", ev.Name(), ev.Var("rayofax"))
	}
	if err := c.Filter(ctx, "variable_rayofax", "true"); err != nil {
		t.Fatal(err)
	}
	b := sim.NewInboundCall(fsim.CallOptions{})
	a.Hangup("NORMAL_CLEARING")
	b.Hangup("NORMAL_CLEARING")
	log.wait(t, func(e *esl.Event) bool { return e.UUID() == a.UUID() && e.Name() == "CHANNEL_HANGUP_COMPLETE" })
	if n := log.names(b.UUID()); len(n) != 0 {
		t.Errorf("filtered call's events delivered: %v", n)
	}
}

func TestAuthFailuresAndRejection(t *testing.T) {
	sim := startSim(t, fsim.Config{Password: "secret"})
	ctx := ctxT(t)
	_, err := esl.Dial(ctx, sim.Addr(), esl.Options{Password: "wrong", Logger: quiet()})
	if !errors.Is(err, esl.ErrAuth) {
		t.Fatalf("wrong password: %v", err)
	}
	sim.SetAcceptMode(fsim.AcceptRude)
	_, err = esl.Dial(ctx, sim.Addr(), esl.Options{Password: "secret", Logger: quiet()})
	if !errors.Is(err, esl.ErrRejected) {
		t.Fatalf("rude rejection: %v", err)
	}
	sim.SetAcceptMode(fsim.AcceptNormal)
	c, err := esl.Dial(ctx, sim.Addr(), esl.Options{Password: "secret", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestCommandTimeoutKeepsOrder(t *testing.T) {
	sim := startSim(t, fsim.Config{})
	ctx := ctxT(t)
	c, err := esl.Dial(ctx, sim.Addr(), esl.Options{Password: "ClueCon", Timeout: 100 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sim.SetReplyDelay(300 * time.Millisecond)
	if _, err := c.API(ctx, "status"); !errors.Is(err, esl.ErrTimeout) {
		t.Fatalf("delayed reply: %v", err)
	}
	sim.SetReplyDelay(0)
	// The late status reply must not be taken for this command's reply.
	time.Sleep(400 * time.Millisecond)
	res, err := c.API(ctx, "uuid_exists nope")
	if err != nil || res != "false" {
		t.Fatalf("after timeout: %q %v", res, err)
	}
}

func TestConcurrentCallers(t *testing.T) {
	sim := startSim(t, fsim.Config{})
	ctx := ctxT(t)
	c, err := esl.Dial(ctx, sim.Addr(), esl.Options{Password: "ClueCon", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe(ctx, "plain", "BACKGROUND_JOB"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				id := esl.NewUUID()
				res, err := c.BgAPI(ctx, "originate {origination_uuid="+id+"}loopback/x &park()")
				if err != nil || res != "+OK "+id+"\n" {
					bad.Add(1)
				}
				return
			}
			res, err := c.API(ctx, "uuid_exists x"+string(rune('a'+i)))
			if err != nil || res != "false" {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d callers got a wrong answer", bad.Load())
	}
}

// A slow event handler must not hold replies back: the handler itself
// sends a command and waits for it.
func TestHandlerMaySendCommands(t *testing.T) {
	sim := startSim(t, fsim.Config{})
	ctx := ctxT(t)
	var c *esl.Conn
	got := make(chan string, 1)
	ready := make(chan struct{})
	c, err := esl.Dial(ctx, sim.Addr(), esl.Options{Password: "ClueCon", Logger: quiet(), OnEvent: func(e *esl.Event) {
		<-ready
		if e.Name() == "CHANNEL_PARK" {
			r, _ := c.API(ctx, "uuid_exists "+e.UUID())
			got <- r
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	defer c.Close()
	c.Subscribe(ctx, "plain", "CHANNEL_PARK")
	sim.NewInboundCall(fsim.CallOptions{})
	select {
	case r := <-got:
		if r != "true" {
			t.Fatalf("uuid_exists from handler: %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler's command never answered")
	}
}

// Garbage on the wire closes the connection with a protocol error.
func TestMalformedInputClosesConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.Write([]byte("Content-Type: auth/request\n\n"))
		buf := make([]byte, 100)
		nc.Read(buf)
		nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK accepted\n\n"))
		nc.Write([]byte("Content-Type: api/response\nContent-Length: banana\n\n"))
		time.Sleep(time.Second)
	}()
	ctx := ctxT(t)
	c, err := esl.Dial(ctx, ln.Addr().String(), esl.Options{Password: "x", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed")
	}
	var pe *esl.ProtocolError
	if !errors.As(c.Err(), &pe) {
		t.Fatalf("Err = %v, want a ProtocolError", c.Err())
	}
}

func TestClientReconnects(t *testing.T) {
	sim := startSim(t, fsim.Config{})
	ctx, cancel := context.WithCancel(ctxT(t))
	var connects, disconnects atomic.Int32
	cl := &esl.Client{
		Addr:       sim.Addr(),
		Options:    esl.Options{Password: "ClueCon", Logger: quiet()},
		Events:     []string{"CHANNEL_PARK"},
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		OnConnect:    func(context.Context, *esl.Conn) error { connects.Add(1); return nil },
		OnDisconnect: func(error) { disconnects.Add(1) },
	}
	done := make(chan error, 1)
	go func() { done <- cl.Run(ctx) }()
	if _, err := cl.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	// Refused while the switch is "down", then back.
	sim.SetAcceptMode(fsim.AcceptClose)
	sim.DropConnections()
	time.Sleep(150 * time.Millisecond)
	if _, err := cl.Conn(); err == nil {
		t.Error("connected while the switch refuses")
	}
	sim.SetAcceptMode(fsim.AcceptNormal)
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
	defer wcancel()
	c, err := cl.WaitConnected(wctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.API(ctx, "status"); err != nil {
		t.Fatal(err)
	}
	if connects.Load() != 2 || disconnects.Load() != 1 {
		t.Errorf("connects %d disconnects %d", connects.Load(), disconnects.Load())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
}
