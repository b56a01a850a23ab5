package eslbridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rayofax/rayofax/eslbridge/esl"
)

// Direction of a call as seen from the switch.
type Direction int

const (
	Inbound  Direction = iota // offered to us
	Outbound                  // dialled by us
)

func (d Direction) String() string {
	if d == Outbound {
		return "outbound"
	}
	return "inbound"
}

// EndReason says why a call ended.
type EndReason int

const (
	EndHangup        EndReason = iota + 1 // the far end (or the switch) hung up
	EndHangupCommand                      // we hung up or rejected (Hangup, Reject)
	EndTimeout                            // nobody answered in time (offer timeout, dial timeout)
	EndBusy                               // dial: the callee was busy
	EndRejected                           // dial: the callee declined
	EndRedirected                         // Redirect moved the call elsewhere
	EndError                              // the call failed or vanished
)

var endNames = map[EndReason]string{
	EndHangup: "hangup", EndHangupCommand: "hangup-command", EndTimeout: "timeout",
	EndBusy: "busy", EndRejected: "reject", EndRedirected: "redirect", EndError: "error",
}

func (r EndReason) String() string {
	if s, ok := endNames[r]; ok {
		return s
	}
	return fmt.Sprintf("EndReason(%d)", int(r))
}

// End describes how a call ended.
type End struct {
	Reason EndReason
	Cause  string // FreeSWITCH hangup cause, e.g. NORMAL_CLEARING, USER_BUSY
	Err    error  // for EndError
}

// ErrVanished: after a reconnect, the switch no longer knew the call.
var ErrVanished = errors.New("eslbridge: call vanished from the switch while disconnected")

// ErrEnded: the operation found the call already ended.
var ErrEnded = errors.New("eslbridge: call ended")

// RejectReason is how an offer is refused.
type RejectReason int

const (
	RejectDecline RejectReason = iota // CALL_REJECTED
	RejectBusy                        // USER_BUSY
	RejectError                       // NORMAL_TEMPORARY_FAILURE
)

// Cause returns the hangup cause sent for the reason.
func (r RejectReason) Cause() string {
	switch r {
	case RejectBusy:
		return "USER_BUSY"
	case RejectError:
		return "NORMAL_TEMPORARY_FAILURE"
	}
	return "CALL_REJECTED"
}

// Call is one channel on the switch that rayofax owns. Its methods are safe
// for concurrent use.
type Call struct {
	// ID is the FreeSWITCH channel UUID.
	ID        string
	Direction Direction
	// To and From: the SIP URIs when the switch knows them
	// ("sip:user@host"), else the dialled and calling numbers.
	To, From string
	// Headers are the SIP headers FreeSWITCH exposes as variable_sip_h_*
	// (X- headers and friends), by header name.
	Headers map[string]string
	// Variables are the channel variables at offer time (without the
	// "variable_" prefix).
	Variables map[string]string

	b *Bridge

	mu          sync.Mutex
	answered    bool
	parked      bool
	parkWait    chan struct{} // closed on the next CHANNEL_PARK
	answerWait  chan struct{}
	byUs        EndReason // reason to report if the hangup was ours
	end         End
	done        chan struct{}
	media       *Media
	execWaiters map[string]chan string // Application-UUID -> completion
	onRinging   func()
	offerTimer  *time.Timer
}

func newCall(b *Bridge, id string, dir Direction) *Call {
	return &Call{
		ID: id, Direction: dir, b: b,
		Headers: map[string]string{}, Variables: map[string]string{},
		parkWait: make(chan struct{}), answerWait: make(chan struct{}),
		done: make(chan struct{}), execWaiters: map[string]chan string{},
	}
}

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// End returns how the call ended; the zero End while it is up.
func (c *Call) End() End {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.end
}

// Answered reports whether the call was answered.
func (c *Call) Answered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

func (c *Call) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *Call) conn() (*esl.Conn, error) {
	if c.ended() {
		return nil, fmt.Errorf("eslbridge: call %s: %w", c.ID, ErrEnded)
	}
	return c.b.client.Conn()
}

// Answer answers the call and returns once the switch confirmed it
// (uuid_answer). Answering an answered call is not an error.
func (c *Call) Answer(ctx context.Context) error {
	conn, err := c.conn()
	if err != nil {
		return err
	}
	if _, err := conn.API(ctx, "uuid_answer "+c.ID); err != nil {
		return fmt.Errorf("eslbridge: answer %s: %w", c.ID, err)
	}
	select {
	case <-c.answerWait:
		return nil
	case <-c.done:
		return fmt.Errorf("eslbridge: answer %s: %w", c.ID, ErrEnded)
	case <-ctx.Done():
		return fmt.Errorf("eslbridge: answer %s: waiting for CHANNEL_ANSWER: %w", c.ID, ctx.Err())
	}
}

// Hangup hangs the call up with a FreeSWITCH cause (default
// NORMAL_CLEARING); the call ends with EndHangupCommand.
func (c *Call) Hangup(ctx context.Context, cause string) error {
	return c.kill(ctx, cause, EndHangupCommand)
}

// Reject refuses an unanswered offer with the reason's cause; the call ends
// with EndHangupCommand and that cause.
func (c *Call) Reject(ctx context.Context, r RejectReason) error {
	return c.kill(ctx, r.Cause(), EndHangupCommand)
}

func (c *Call) kill(ctx context.Context, cause string, reason EndReason) error {
	if cause == "" {
		cause = "NORMAL_CLEARING"
	}
	if strings.ContainsAny(cause, " \r\n") {
		return fmt.Errorf("eslbridge: hangup %s: bad cause %q", c.ID, cause)
	}
	conn, err := c.conn()
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.byUs == 0 {
		c.byUs = reason
	}
	c.mu.Unlock()
	if _, err := conn.API(ctx, "uuid_kill "+c.ID+" "+cause); err != nil {
		return fmt.Errorf("eslbridge: hangup %s: %w", c.ID, err)
	}
	return c.waitDone(ctx)
}

func (c *Call) waitDone(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("eslbridge: call %s: waiting for hangup: %w", c.ID, ctx.Err())
	}
}

// Redirect transfers the call to another extension of the dialplan (in
// Config.Context). The call leaves rayofax: it ends with EndRedirected.
func (c *Call) Redirect(ctx context.Context, dest string) error {
	if dest == "" || strings.ContainsAny(dest, " \r\n") {
		return fmt.Errorf("eslbridge: redirect %s: bad destination %q", c.ID, dest)
	}
	conn, err := c.conn()
	if err != nil {
		return err
	}
	c.stopMedia(context.WithoutCancel(ctx), false)
	if _, err := conn.API(ctx, "uuid_transfer "+c.ID+" "+dest+" XML "+c.b.cfg.Context); err != nil {
		return fmt.Errorf("eslbridge: redirect %s to %s: %w", c.ID, dest, err)
	}
	c.b.finish(c, End{Reason: EndRedirected})
	return nil
}

// Execute runs a dialplan application on the channel (sendmsg execute with
// event-lock) and waits for it to complete. If media was flowing, it is
// restarted afterwards (the application ends FreeSWITCH's stream).
func (c *Call) Execute(ctx context.Context, app, arg string) error {
	conn, err := c.conn()
	if err != nil {
		return err
	}
	id := esl.NewUUID()
	w := make(chan string, 1)
	c.mu.Lock()
	c.execWaiters[id] = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.execWaiters, id)
		c.mu.Unlock()
	}()
	h := esl.Header{{Name: "call-command", Value: "execute"}, {Name: "execute-app-name", Value: app}}
	if arg != "" {
		h = append(h, esl.Field{Name: "execute-app-arg", Value: arg})
	}
	h = append(h, esl.Field{Name: "event-lock", Value: "true"}, esl.Field{Name: "Event-UUID", Value: id})
	if err := conn.SendMsg(ctx, c.ID, h, nil); err != nil {
		return fmt.Errorf("eslbridge: execute %s on %s: %w", app, c.ID, err)
	}
	select {
	case <-w:
		return nil
	case <-c.done:
		return fmt.Errorf("eslbridge: execute %s on %s: %w", app, c.ID, ErrEnded)
	case <-ctx.Done():
		return fmt.Errorf("eslbridge: execute %s on %s: %w", app, c.ID, ctx.Err())
	}
}

// waitParked waits for the channel to be in park.
func (c *Call) waitParked(ctx context.Context) error {
	for {
		c.mu.Lock()
		parked, w := c.parked, c.parkWait
		c.mu.Unlock()
		if parked {
			return nil
		}
		select {
		case <-w:
		case <-c.done:
			return fmt.Errorf("eslbridge: call %s: %w", c.ID, ErrEnded)
		case <-ctx.Done():
			return fmt.Errorf("eslbridge: call %s: waiting for park: %w", c.ID, ctx.Err())
		}
	}
}

// repark moves the channel through park again (uuid_transfer), which tears
// any unicast stream down, and waits for the new CHANNEL_PARK.
func (c *Call) repark(ctx context.Context) error {
	conn, err := c.conn()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.parked = false
	c.mu.Unlock()
	if _, err := conn.API(ctx, "uuid_transfer "+c.ID+" park XML "+c.b.cfg.Context); err != nil {
		return fmt.Errorf("eslbridge: re-park %s: %w", c.ID, err)
	}
	return c.waitParked(ctx)
}

// event applies a channel event to the call (on the event goroutine).
func (c *Call) event(ev *esl.Event) {
	switch ev.Name() {
	case "CHANNEL_ANSWER":
		c.mu.Lock()
		if !c.answered {
			c.answered = true
			close(c.answerWait)
		}
		if c.offerTimer != nil {
			c.offerTimer.Stop()
		}
		c.mu.Unlock()
	case "CHANNEL_PARK":
		c.mu.Lock()
		c.parked = true
		close(c.parkWait)
		c.parkWait = make(chan struct{})
		c.mu.Unlock()
	case "CHANNEL_UNPARK":
		c.mu.Lock()
		c.parked = false
		c.mu.Unlock()
	case "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA":
		c.mu.Lock()
		f := c.onRinging
		c.onRinging = nil
		c.mu.Unlock()
		if f != nil {
			go f()
		}
	case "CHANNEL_EXECUTE":
		if app := ev.Get("Application"); app != "park" {
			c.mu.Lock()
			m := c.media
			c.mu.Unlock()
			if m != nil {
				m.interrupted()
			}
		}
	case "CHANNEL_EXECUTE_COMPLETE":
		id := ev.Get("Application-UUID")
		c.mu.Lock()
		w := c.execWaiters[id]
		m := c.media
		c.mu.Unlock()
		if w != nil {
			w <- ev.Get("Application-Response")
		}
		if app := ev.Get("Application"); app != "park" && m != nil {
			m.recover()
		}
	case "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE":
		cause := ev.Get("Hangup-Cause")
		c.mu.Lock()
		reason := c.byUs
		unanswered := c.Direction == Outbound && !c.answered
		c.mu.Unlock()
		if reason == 0 {
			reason = EndHangup
			if unanswered {
				reason = endForCause(cause)
			}
		}
		c.b.finish(c, End{Reason: reason, Cause: cause})
	}
}
