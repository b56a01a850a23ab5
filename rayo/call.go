package rayo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/rayo/wire"
)

// commandTimeout bounds one switch operation done for a command.
const commandTimeout = 15 * time.Second

// call is a Rayo call: a switch call plus its controlling party and
// components.
type call struct {
	s    *Server
	id   string
	addr jid.JID // id@domain

	mu        sync.Mutex
	sw        *eslbridge.Call // nil while an outbound call is being dialled
	offeredTo []jid.JID       // JIDs that get the end event
	dcp       jid.JID         // the definitive controlling party
	hasDCP    bool
	accepted  bool // accept or answer has been executed
	ended     bool
	comps     map[string]*component
	media     *callMedia
	dialStop  context.CancelFunc

	exec serial // runs the call's commands one at a time, in order
}

// Offer hands an inbound switch call to the Rayo clients. It is meant for
// eslbridge.Config.OnOffer.
func (s *Server) Offer(sc *eslbridge.Call) {
	targets := s.availableClients()
	log := s.log.With("call_id", sc.ID)
	if s.isDraining() {
		log.Warn("rayo: shutting down, rejecting offer", "to", sc.To, "from", sc.From)
		reject(sc, log)
		return
	}
	if len(targets) == 0 {
		// XEP-0327 6.2.2: with no potential controlling party the call
		// must be rejected.
		log.Warn("rayo: no client available, rejecting offer", "to", sc.To, "from", sc.From)
		reject(sc, log)
		return
	}
	c := s.newCall(sc.ID)
	c.sw = sc
	c.offeredTo = targets
	s.register(c)
	hs := make([]wire.Header, 0, len(sc.Headers))
	for _, k := range sortedKeys(sc.Headers) {
		hs = append(hs, wire.Header{Name: k, Value: sc.Headers[k]})
	}
	offer := wire.Offer(rayoURI(sc.To), rayoURI(sc.From), hs)
	log.Info("rayo: offer", "to", sc.To, "from", sc.From, "clients", len(targets))
	for _, t := range targets {
		s.presence(c.addr, t, "", wire.Caps(callCapsVer), offer)
	}
	go c.watch()
}

// callCapsVer is the XEP-0115 verification string of a call: the SHA-1 of
// its disco#info (identity and features), base64.
var callCapsVer = capsVer()

func (s *Server) newCall(id string) *call {
	return &call{
		s:     s,
		id:    id,
		addr:  jid.MustParse(id + "@" + s.domain.Domainpart()),
		comps: map[string]*component{},
	}
}

func (s *Server) register(c *call) {
	s.mu.Lock()
	s.calls[c.id] = c
	n := len(s.calls)
	s.mu.Unlock()
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Calls.Set(float64(n))
	}
}

func (s *Server) unregister(c *call) {
	s.mu.Lock()
	if s.calls[c.id] == c {
		delete(s.calls, c.id)
	}
	n := len(s.calls)
	s.mu.Unlock()
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Calls.Set(float64(n))
	}
}

func (s *Server) call(id string) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// watch waits for the switch call to end, then completes the call's
// components and sends the end event (XEP-0327 6.5.4).
func (c *call) watch() {
	c.mu.Lock()
	sc := c.sw
	c.mu.Unlock()
	<-sc.Done()
	end := sc.End()
	c.mu.Lock()
	c.ended = true
	comps := make([]*component, 0, len(c.comps))
	for _, k := range c.comps {
		comps = append(comps, k)
	}
	to := c.recipients()
	c.mu.Unlock()
	// Commands from now on find no call.
	c.s.unregister(c)
	for _, k := range comps {
		k.callEnded()
	}
	for _, k := range comps {
		<-k.done
	}
	c.mu.Lock()
	if c.media != nil {
		c.media.stop()
	}
	c.mu.Unlock()
	reason := endReason(end)
	log := c.s.log.With("call_id", c.id)
	log.Info("rayo: call ended", "reason", string(reason), "cause", end.Cause, "err", end.Err)
	for _, t := range to {
		c.s.presence(c.addr, t, "unavailable", wire.End(reason, end.Cause, nil))
	}
}

// recipients are the JIDs that get the call's end event: those it was
// offered to, and its controlling party. c.mu must be held.
func (c *call) recipients() []jid.JID {
	out := append([]jid.JID(nil), c.offeredTo...)
	if c.hasDCP {
		found := false
		for _, j := range out {
			if j.Equal(c.dcp) {
				found = true
			}
		}
		if !found {
			out = append(out, c.dcp)
		}
	}
	return out
}

func endReason(e eslbridge.End) wire.EndReason {
	switch e.Reason {
	case eslbridge.EndHangup:
		return wire.EndHungup
	case eslbridge.EndHangupCommand, eslbridge.EndRedirected:
		return wire.EndHangupCommand
	case eslbridge.EndTimeout:
		return wire.EndTimeout
	case eslbridge.EndBusy:
		return wire.EndBusy
	case eslbridge.EndRejected:
		return wire.EndRejected
	default:
		return wire.EndError
	}
}

// clientGone rejects offered calls none of whose potential controlling
// parties is still available (XEP-0327 6.2.2).
func (s *Server) clientGone(j jid.JID) {
	s.mu.Lock()
	var orphans []*call
	for _, c := range s.calls {
		c.mu.Lock()
		if !c.hasDCP && c.sw != nil && !c.ended {
			alive := false
			for _, t := range c.offeredTo {
				if _, ok := s.available[t.String()]; ok {
					alive = true
				}
			}
			if !alive {
				orphans = append(orphans, c)
			}
		}
		c.mu.Unlock()
	}
	s.mu.Unlock()
	for _, c := range orphans {
		log := c.s.log.With("call_id", c.id)
		log.Warn("rayo: every client offered the call went away, rejecting it", "client", j.String())
		reject(c.sw, log)
	}
}

// reject refuses a call nobody can take (NORMAL_TEMPORARY_FAILURE).
func reject(sc *eslbridge.Call, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if err := sc.Reject(ctx, eslbridge.RejectError); err != nil {
		log.Error("rayo: reject failed", "err", err)
	}
}

// take makes from the call's controlling party if it has none, or checks
// that from is it.
func (c *call) take(from jid.JID) *wire.Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hasDCP {
		c.dcp, c.hasDCP = from, true
		return nil
	}
	if !c.dcp.Equal(from) {
		return &wire.Error{Type: wire.Cancel, Condition: wire.Conflict,
			Text: "the call is controlled by another client"}
	}
	return nil
}

func (s *Server) callCommand(st stanza, payload *wire.Element, cmd wire.Command) {
	c := s.call(st.to.Localpart())
	if c == nil {
		s.replyError(st, payload, &wire.Error{Type: wire.Cancel, Condition: wire.ItemNotFound, Text: "no call " + st.to.Localpart()})
		return
	}
	if _, ok := cmd.(*wire.Dial); ok {
		s.replyError(st, payload, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: "<dial/> goes to the service " + s.domain.String() + ", not to a call"})
		return
	}
	if _, ok := cmd.(*wire.Stop); ok {
		s.replyError(st, payload, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: "<stop/> goes to a component, not to a call"})
		return
	}
	if e := c.take(st.from); e != nil {
		s.replyError(st, payload, e)
		return
	}
	start := time.Now()
	c.exec.Do(func() {
		res, e := c.run(st, cmd)
		if e != nil {
			s.replyError(st, payload, e)
		} else {
			s.replyResult(st, res)
		}
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.CommandSecs.Observe(time.Since(start).Seconds())
		}
	})
}

// run executes a call command and returns the result payload (or nil).
func (c *call) run(st stanza, cmd wire.Command) (*wire.Element, *wire.Error) {
	c.mu.Lock()
	sc, ended := c.sw, c.ended
	c.mu.Unlock()
	if ended {
		return nil, &wire.Error{Type: wire.Cancel, Condition: wire.ItemNotFound, Text: "the call has ended"}
	}
	log := c.s.log.With("call_id", c.id)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if sc == nil {
		if _, ok := cmd.(*wire.Hangup); ok {
			c.mu.Lock()
			stop := c.dialStop
			c.mu.Unlock()
			if stop != nil {
				stop()
			}
			return nil, nil
		}
		return nil, &wire.Error{Type: wire.Wait, Condition: wire.UnexpectedRequest, Text: "the call is still being dialled"}
	}
	if hs := commandHeaders(cmd); len(hs) > 0 {
		return nil, &wire.Error{Type: wire.Modify, Condition: wire.FeatureNotImplemented,
			Text: fmt.Sprintf("<%s/> with headers is not supported: rayofax cannot pass %q to the switch", cmd.Name(), hs[0].Name)}
	}
	switch cmd := cmd.(type) {
	case *wire.Accept:
		// FreeSWITCH holds the parked call; nothing goes to the caller.
		c.setAccepted()
		log.Info("rayo: accepted", "client", st.from.String())
		return nil, nil
	case *wire.Answer:
		if err := sc.Answer(ctx); err != nil {
			return nil, switchError("answer", err)
		}
		c.setAccepted()
		log.Info("rayo: answered", "client", st.from.String())
		return nil, nil
	case *wire.Hangup:
		if err := sc.Hangup(ctx, "NORMAL_CLEARING"); err != nil {
			return nil, switchError("hangup", err)
		}
		log.Info("rayo: hangup command", "client", st.from.String())
		return nil, nil
	case *wire.Reject:
		c.mu.Lock()
		accepted := c.accepted
		c.mu.Unlock()
		if accepted || sc.Answered() {
			return nil, &wire.Error{Type: wire.Cancel, Condition: wire.NotAllowed, Text: "the call was already accepted or answered"}
		}
		r := map[wire.RejectReason]eslbridge.RejectReason{
			wire.RejectDecline: eslbridge.RejectDecline, wire.RejectBusy: eslbridge.RejectBusy, wire.RejectError: eslbridge.RejectError,
		}[cmd.Reason]
		if err := sc.Reject(ctx, r); err != nil {
			return nil, switchError("reject", err)
		}
		log.Info("rayo: rejected", "reason", string(cmd.Reason))
		return nil, nil
	case *wire.Redirect:
		dest, err := redirectTarget(cmd.To)
		if err != nil {
			return nil, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: err.Error()}
		}
		if err := sc.Redirect(ctx, dest); err != nil {
			return nil, switchError("redirect", err)
		}
		log.Info("rayo: redirected", "to", cmd.To)
		return nil, nil
	case *wire.ReceiveFax, *wire.SendFax, *wire.Input:
		return c.startComponent(st, cmd)
	}
	return nil, &wire.Error{Type: wire.Cancel, Condition: wire.FeatureNotImplemented, Text: "<" + cmd.Name() + "/> is not a call command"}
}

func (c *call) setAccepted() {
	c.mu.Lock()
	c.accepted = true
	c.mu.Unlock()
}

func commandHeaders(cmd wire.Command) []wire.Header {
	switch cmd := cmd.(type) {
	case *wire.Accept:
		return cmd.Headers
	case *wire.Answer:
		return cmd.Headers
	case *wire.Hangup:
		return cmd.Headers
	case *wire.Reject:
		return cmd.Headers
	case *wire.Redirect:
		return cmd.Headers
	}
	return nil
}

func switchError(op string, err error) *wire.Error {
	if errors.Is(err, eslbridge.ErrEnded) {
		return &wire.Error{Type: wire.Cancel, Condition: wire.ItemNotFound, Text: op + ": the call has ended"}
	}
	return &wire.Error{Type: wire.Wait, Condition: wire.InternalServerError, Text: op + ": " + err.Error()}
}

// redirectTarget turns a Rayo redirect URI into a dialplan destination: the
// number of a tel: URI, the user part of a sip: URI.
func redirectTarget(to string) (string, error) {
	u, err := url.Parse(to)
	if err != nil {
		return "", fmt.Errorf("redirect to %q: %v", to, err)
	}
	var dest string
	switch u.Scheme {
	case "tel":
		dest = u.Opaque
	case "sip", "sips":
		dest, _, _ = strings.Cut(u.Opaque, "@")
	default:
		return "", fmt.Errorf("redirect to %q: only tel: and sip: URIs can be redirected to", to)
	}
	if dest == "" || strings.ContainsAny(dest, " \t\r\n'\"{},") {
		return "", fmt.Errorf("redirect to %q: no usable number or user", to)
	}
	return dest, nil
}

// rayoURI presents a switch address as a URI: SIP URIs as they are, bare
// numbers as tel: URIs.
func rayoURI(s string) string {
	if s == "" || strings.Contains(s, ":") {
		return s
	}
	return "tel:" + s
}

func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// serial runs functions one at a time, in the order given, on a goroutine
// that exists only while there is work.
type serial struct {
	mu      sync.Mutex
	q       []func()
	running bool
}

func (s *serial) Do(f func()) {
	s.mu.Lock()
	s.q = append(s.q, f)
	if !s.running {
		s.running = true
		go s.run()
	}
	s.mu.Unlock()
}

func (s *serial) run() {
	for {
		s.mu.Lock()
		if len(s.q) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		f := s.q[0]
		s.q[0] = nil
		s.q = s.q[1:]
		s.mu.Unlock()
		f()
	}
}
