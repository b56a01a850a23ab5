package eslbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rayofax/rayofax/eslbridge/audio"

	"github.com/rayofax/rayofax/eslbridge/esl"
)

// Config configures a Bridge.
type Config struct {
	// Addr of mod_event_socket (host:port) and its password.
	Addr     string
	Password string
	// CommandTimeout bounds each ESL command (default 5 s).
	CommandTimeout time.Duration
	// MinBackoff/MaxBackoff bound the reconnect delay (default 100 ms, 10 s).
	MinBackoff, MaxBackoff time.Duration

	// MarkVariable, if set, names the channel variable that hands an
	// inbound parked call to rayofax ("true", "yes", "1" or "on"); calls
	// without it are left alone. Empty offers every inbound parked call.
	MarkVariable string
	// OfferTimeout hangs up offers nobody answered in time (cause
	// NO_ANSWER, EndTimeout); 0 waits forever.
	OfferTimeout time.Duration
	// Context is the dialplan context for re-parking and Redirect
	// (default "default").
	Context string

	// MediaIP is our address the switch streams to; SwitchMediaIP the
	// switch's own address for its end of the stream (default MediaIP, for
	// a switch on the same host).
	MediaIP, SwitchMediaIP string
	// PortMin..PortMax is the UDP range. Each stream takes an adjacent
	// pair: the even port is ours, the odd one the switch binds.
	PortMin, PortMax int
	// MediaStartTimeout: how long to wait for the first datagram after
	// unicast (default 200 ms).
	MediaStartTimeout time.Duration

	// OnOffer receives each new inbound call, on its own goroutine.
	OnOffer func(*Call)
	// Logger, default slog.Default().
	Logger *slog.Logger
}

// Bridge connects rayofax to one FreeSWITCH.
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	client *esl.Client
	ports  *portPool

	mu    sync.Mutex
	calls map[string]*Call
	gone  recent      // the calls that ended last: never offered again
	ended audio.Stats // counters of the streams that have ended
}

// recent remembers the last IDs added to it (a few thousand).
type recent struct {
	ring []string
	pos  int
	set  map[string]struct{}
}

const recentCap = 4096

func (r *recent) add(id string) {
	if r.set == nil {
		r.ring, r.set = make([]string, recentCap), make(map[string]struct{}, recentCap)
	}
	delete(r.set, r.ring[r.pos])
	r.ring[r.pos] = id
	r.set[id] = struct{}{}
	r.pos = (r.pos + 1) % recentCap
}

func (r *recent) has(id string) bool {
	_, ok := r.set[id]
	return ok
}

// New checks the configuration and returns a Bridge; Run connects it.
func New(cfg Config) (*Bridge, error) {
	if cfg.Addr == "" {
		return nil, errors.New("eslbridge: config: Addr is empty")
	}
	if cfg.MediaIP == "" {
		return nil, errors.New("eslbridge: config: MediaIP is empty")
	}
	if cfg.SwitchMediaIP == "" {
		cfg.SwitchMediaIP = cfg.MediaIP
	}
	if cfg.PortMin <= 0 || cfg.PortMax > 65535 || cfg.PortMax-cfg.PortMin < 1 {
		return nil, fmt.Errorf("eslbridge: config: bad port range %d-%d", cfg.PortMin, cfg.PortMax)
	}
	if cfg.Context == "" {
		cfg.Context = "default"
	}
	if strings.ContainsAny(cfg.Context, " \r\n") {
		return nil, fmt.Errorf("eslbridge: config: bad context %q", cfg.Context)
	}
	if cfg.MediaStartTimeout <= 0 {
		cfg.MediaStartTimeout = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Bridge{cfg: cfg, log: cfg.Logger, calls: map[string]*Call{}}
	b.ports = newPortPool(cfg.PortMin, cfg.PortMax)
	b.client = &esl.Client{
		Addr: cfg.Addr,
		Options: esl.Options{
			Password: cfg.Password, Timeout: cfg.CommandTimeout,
			OnEvent: b.onEvent, Logger: cfg.Logger,
		},
		Events: []string{"CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_ANSWER", "CHANNEL_PROGRESS",
			"CHANNEL_PROGRESS_MEDIA", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE",
			"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"},
		OnConnect:  b.resync,
		MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff,
	}
	return b, nil
}

// Run keeps the bridge connected until ctx ends; it returns ctx.Err().
func (b *Bridge) Run(ctx context.Context) error { return b.client.Run(ctx) }

// WaitConnected blocks until the event socket is up.
func (b *Bridge) WaitConnected(ctx context.Context) error {
	_, err := b.client.WaitConnected(ctx)
	return err
}

// API runs an api command on the switch (for diagnostics and tests).
func (b *Bridge) API(ctx context.Context, cmd string) (string, error) {
	conn, err := b.client.Conn()
	if err != nil {
		return "", err
	}
	return conn.API(ctx, cmd)
}

// Call returns an owned call by channel UUID, or nil.
func (b *Bridge) Call(id string) *Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[id]
}

// Calls returns the calls the bridge owns now.
func (b *Bridge) Calls() []*Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*Call, 0, len(b.calls))
	for _, c := range b.calls {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "true", "yes", "1", "on":
		return true
	}
	return false
}

func (b *Bridge) onEvent(ev *esl.Event) {
	id := ev.UUID()
	if id == "" {
		return
	}
	b.mu.Lock()
	c := b.calls[id]
	b.mu.Unlock()
	if c != nil {
		c.event(ev)
		return
	}
	if ev.Name() != "CHANNEL_PARK" {
		return
	}
	b.maybeOffer(ev)
}

// maybeOffer offers the inbound parked channel an event (CHANNEL_PARK, or
// a uuid_dump at resync) describes, if it is for us and not yet known.
func (b *Bridge) maybeOffer(ev *esl.Event) {
	id := ev.UUID()
	if ev.Get("Call-Direction") != "inbound" {
		return
	}
	if b.cfg.MarkVariable != "" && !truthy(ev.Var(b.cfg.MarkVariable)) {
		return
	}
	c := b.offerFromEvent(ev)
	b.mu.Lock()
	if b.calls[id] != nil || b.gone.has(id) {
		// Known, or ended since what we know of it was read (a resync's
		// uuid_dump answered just before the call ended).
		b.mu.Unlock()
		return
	}
	b.calls[id] = c
	b.mu.Unlock()
	if b.cfg.OfferTimeout > 0 {
		c.mu.Lock()
		c.offerTimer = time.AfterFunc(b.cfg.OfferTimeout, func() {
			if !c.Answered() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := c.kill(ctx, "NO_ANSWER", EndTimeout); err != nil {
					b.log.Warn("eslbridge: offer timeout hangup failed", "call", c.ID, "err", err)
				}
			}
		})
		c.mu.Unlock()
	}
	b.log.Info("eslbridge: offer", "call", c.ID, "from", c.From, "to", c.To)
	if b.cfg.OnOffer != nil {
		go b.cfg.OnOffer(c)
	}
}

func (b *Bridge) offerFromEvent(ev *esl.Event) *Call {
	c := newCall(b, ev.UUID(), Inbound)
	c.parked = true
	c.answered = ev.Get("Answer-State") == "answered"
	if c.answered {
		close(c.answerWait)
	}
	for _, f := range ev.Header {
		name, ok := strings.CutPrefix(f.Name, "variable_")
		if !ok {
			continue
		}
		c.Variables[name] = f.Value
		if h, ok := strings.CutPrefix(name, "sip_h_"); ok {
			c.Headers[h] = f.Value
		}
	}
	c.To = ev.Get("Caller-Destination-Number")
	if v := c.Variables["sip_to_uri"]; v != "" {
		c.To = "sip:" + v
	}
	c.From = ev.Get("Caller-Caller-ID-Number")
	if v := c.Variables["sip_from_uri"]; v != "" {
		c.From = "sip:" + v
	}
	return c
}

// finish ends a call once: records the end, stops its media, releases it.
func (b *Bridge) finish(c *Call, e End) {
	c.mu.Lock()
	if c.ended() {
		c.mu.Unlock()
		return
	}
	c.end = e
	if c.offerTimer != nil {
		c.offerTimer.Stop()
	}
	close(c.done)
	c.mu.Unlock()
	b.mu.Lock()
	if b.calls[c.ID] == c {
		delete(b.calls, c.ID)
	}
	b.gone.add(c.ID)
	b.mu.Unlock()
	c.stopMedia(context.Background(), false)
	b.log.Info("eslbridge: call ended", "call", c.ID, "reason", e.Reason, "cause", e.Cause, "err", e.Err)
}

// resync runs after every (re)connect: calls owned but unknown to the
// switch end with ErrVanished, and inbound calls parked while we were away
// (or before we started) are offered.
func (b *Bridge) resync(ctx context.Context, conn *esl.Conn) error {
	owned := b.Calls()
	body, err := conn.API(ctx, "show channels as json")
	if err != nil {
		return fmt.Errorf("eslbridge: resync: %w", err)
	}
	var list struct {
		Rows []struct {
			UUID        string `json:"uuid"`
			Direction   string `json:"direction"`
			Application string `json:"application"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		return fmt.Errorf("eslbridge: resync: show channels: %w", err)
	}
	live := map[string]bool{}
	for _, r := range list.Rows {
		live[r.UUID] = true
	}
	for _, c := range owned {
		if live[c.ID] {
			continue
		}
		// Double-check: the channel may have been created after the list.
		res, err := conn.API(ctx, "uuid_exists "+c.ID)
		if err != nil {
			return fmt.Errorf("eslbridge: resync: %w", err)
		}
		if strings.TrimSpace(res) == "true" {
			continue
		}
		b.log.Warn("eslbridge: call vanished while disconnected", "call", c.ID)
		b.finish(c, End{Reason: EndError, Err: ErrVanished})
	}
	for _, r := range list.Rows {
		if r.Direction != "inbound" || r.Application != "park" || b.Call(r.UUID) != nil {
			continue
		}
		dump, err := conn.API(ctx, "uuid_dump "+r.UUID+" json")
		if err != nil {
			b.log.Warn("eslbridge: resync: cannot read a parked call", "call", r.UUID, "err", err)
			continue
		}
		ev, err := esl.ParseEventJSON([]byte(dump))
		if err != nil {
			b.log.Warn("eslbridge: resync: unreadable uuid_dump", "call", r.UUID, "err", err)
			continue
		}
		b.maybeOffer(ev)
	}
	return nil
}

// DialRequest describes an outbound call.
type DialRequest struct {
	// ID is the channel UUID to give the call (origination_uuid), so the
	// caller knows it before the call exists; empty for a new one.
	ID string
	// To is a FreeSWITCH dial string, e.g. "sofia/gateway/carrier/15551234".
	To string
	// From is the caller ID number, FromName its name (optional).
	From, FromName string
	// Headers become SIP headers on the INVITE (sip_h_<name>), Variables
	// channel variables. Names and values must not contain whitespace,
	// commas, quotes or braces.
	Headers, Variables map[string]string
	// Timeout is how long it may ring (originate_timeout, whole seconds,
	// default 60 s).
	Timeout time.Duration
	// OnRinging is called once when the callee rings.
	OnRinging func()
}

// DialError is a failed Dial: how the call ended.
type DialError struct{ End End }

func (e *DialError) Error() string {
	if e.End.Err != nil {
		return fmt.Sprintf("eslbridge: dial: %s: %v", e.End.Reason, e.End.Err)
	}
	return fmt.Sprintf("eslbridge: dial: %s (%s)", e.End.Reason, e.End.Cause)
}

// endForCause maps a failed call's hangup cause to an end reason.
func endForCause(cause string) EndReason {
	switch cause {
	case "USER_BUSY":
		return EndBusy
	case "NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT", "PROGRESS_TIMEOUT", "RECOVERY_ON_TIMER_EXPIRE":
		return EndTimeout
	case "CALL_REJECTED":
		return EndRejected
	}
	return EndError
}

func checkVar(s string) error {
	if s == "" || strings.ContainsAny(s, " \t\r\n,{}'\"") {
		return fmt.Errorf("eslbridge: dial: unusable variable text %q", s)
	}
	return nil
}

// Dial originates a call (bgapi originate ... &park()) and returns it once
// answered and parked, ready for StartMedia. A call that fails returns a
// *DialError with the reason (busy, timeout, reject, error) and cause.
func (b *Bridge) Dial(ctx context.Context, req DialRequest) (*Call, error) {
	if req.To == "" || strings.ContainsAny(req.To, " \t\r\n") {
		return nil, fmt.Errorf("eslbridge: dial: bad destination %q", req.To)
	}
	conn, err := b.client.Conn()
	if err != nil {
		return nil, err
	}
	id := req.ID
	if id == "" {
		id = esl.NewUUID()
	} else if err := checkVar(id); err != nil {
		return nil, fmt.Errorf("eslbridge: dial: bad call ID: %w", err)
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	vars := []string{"origination_uuid=" + id, fmt.Sprintf("originate_timeout=%d", max(1, int(timeout.Round(time.Second)/time.Second)))}
	if req.From != "" {
		if err := checkVar(req.From); err != nil {
			return nil, err
		}
		vars = append(vars, "origination_caller_id_number="+req.From)
	}
	if req.FromName != "" {
		if err := checkVar(req.FromName); err != nil {
			return nil, err
		}
		vars = append(vars, "origination_caller_id_name="+req.FromName)
	}
	add := func(prefix string, m map[string]string) error {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := checkVar(k); err != nil {
				return err
			}
			if err := checkVar(m[k]); err != nil {
				return err
			}
			vars = append(vars, prefix+k+"="+m[k])
		}
		return nil
	}
	if err := add("sip_h_", req.Headers); err != nil {
		return nil, err
	}
	if err := add("", req.Variables); err != nil {
		return nil, err
	}
	c := newCall(b, id, Outbound)
	c.To, c.From = req.To, req.From
	c.onRinging = req.OnRinging
	for k, v := range req.Headers {
		c.Headers[k] = v
	}
	for k, v := range req.Variables {
		c.Variables[k] = v
	}
	b.mu.Lock()
	b.calls[id] = c
	b.mu.Unlock()

	_, err = conn.BgAPI(ctx, "originate {"+strings.Join(vars, ",")+"}"+req.To+" &park()")
	if err != nil {
		var ce *esl.CommandError
		if errors.As(err, &ce) {
			cause := strings.TrimSpace(strings.TrimPrefix(ce.Text, "-ERR"))
			b.finish(c, End{Reason: endForCause(cause), Cause: cause})
		} else {
			// Cancelled or disconnected: make sure the attempt dies.
			kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if conn, cerr := b.client.Conn(); cerr == nil {
				conn.API(kctx, "uuid_kill "+id+" ORIGINATOR_CANCEL")
			}
			cancel()
			b.finish(c, End{Reason: EndError, Cause: "ORIGINATOR_CANCEL", Err: err})
		}
		return nil, &DialError{End: c.End()}
	}
	if err := c.waitParked(ctx); err != nil {
		if e := c.End(); e.Reason != 0 {
			return nil, &DialError{End: e}
		}
		return nil, fmt.Errorf("eslbridge: dial %s: %w", req.To, err)
	}
	c.mu.Lock()
	if !c.answered {
		c.answered = true
		close(c.answerWait)
	}
	c.mu.Unlock()
	return c, nil
}
