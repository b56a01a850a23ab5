package rayo

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/rayo/wire"
)

// serverCommand runs a command sent to the service itself: only <dial/>.
func (s *Server) serverCommand(st stanza, payload *wire.Element, cmd wire.Command) {
	d, ok := cmd.(*wire.Dial)
	if !ok {
		s.replyError(st, payload, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest,
			Text: "<" + cmd.Name() + "/> goes to a call (callid@" + s.domain.String() + "), not to the service"})
		return
	}
	if s.sw == nil {
		s.replyError(st, payload, &wire.Error{Type: wire.Cancel, Condition: wire.ServiceUnavailable, Text: "outbound calls are not configured"})
		return
	}
	req, e := s.dialRequest(d)
	if e != nil {
		s.replyError(st, payload, e)
		return
	}
	id := newUUID()
	if d.URI != "" {
		u, err := url.Parse(d.URI)
		local, domain, _ := strings.Cut(u.Opaque, "@")
		if err != nil || u.Scheme != "xmpp" || domain != s.domain.Domainpart() || !validUUID(local) {
			s.replyError(st, payload, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest,
				Text: "dial uri must be xmpp:<uuid>@" + s.domain.Domainpart()})
			return
		}
		id = strings.ToLower(local)
	}
	c := s.newCall(id)
	c.dcp, c.hasDCP, c.accepted = st.from, true, true
	s.mu.Lock()
	_, taken := s.calls[id]
	if !taken {
		s.calls[id] = c
	}
	s.mu.Unlock()
	if taken {
		s.replyError(st, payload, &wire.Error{Type: wire.Cancel, Condition: wire.Conflict, Text: "a call " + id + " exists"})
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.dialStop = cancel
	req.ID = id
	req.OnRinging = func() { s.presence(c.addr, c.dcp, "", wire.Ringing(nil)) }
	log := s.log.With("call_id", id)
	log.Info("rayo: dial", "to", d.To, "dial_string", req.To, "client", st.from.String())
	s.replyResult(st, wire.Ref("xmpp:"+c.addr.String()))
	go func() {
		defer cancel()
		sc, err := s.sw.Dial(ctx, req)
		if err != nil {
			s.unregister(c)
			reason, cause := wire.EndError, ""
			var de *eslbridge.DialError
			if errors.As(err, &de) {
				reason, cause = endReason(de.End), de.End.Cause
			}
			if ctx.Err() != nil {
				reason = wire.EndHangupCommand
			}
			log.Info("rayo: dial failed", "reason", string(reason), "cause", cause, "err", err)
			s.presence(c.addr, c.dcp, "unavailable", wire.End(reason, cause, nil))
			return
		}
		c.mu.Lock()
		c.sw = sc
		c.dialStop = nil
		c.mu.Unlock()
		log.Info("rayo: dial answered")
		s.presence(c.addr, c.dcp, "", wire.Answered(nil))
		c.watch()
	}()
}

// dialRequest maps a <dial/> onto the switch: the number or SIP user@host of
// the to URI goes into Config.DialTemplate at "{to}".
func (s *Server) dialRequest(d *wire.Dial) (eslbridge.DialRequest, *wire.Error) {
	var req eslbridge.DialRequest
	to, err := uriTarget(d.To, true)
	if err != nil {
		return req, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: "dial to: " + err.Error()}
	}
	tmpl := s.cfg.DialTemplate
	if tmpl == "" {
		tmpl = DefaultDialTemplate
	}
	req.To = strings.ReplaceAll(tmpl, "{to}", to)
	if d.From != "" {
		from, err := uriTarget(d.From, false)
		if err != nil {
			return req, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: "dial from: " + err.Error()}
		}
		req.From = from
	}
	if d.TimeoutMS > 0 {
		req.Timeout = time.Duration(d.TimeoutMS) * time.Millisecond
	}
	for _, h := range d.Headers {
		if req.Headers == nil {
			req.Headers = map[string]string{}
		}
		if _, dup := req.Headers[h.Name]; dup {
			return req, &wire.Error{Type: wire.Modify, Condition: wire.FeatureNotImplemented,
				Text: "dial: repeated header " + h.Name + " cannot be passed to the switch"}
		}
		req.Headers[h.Name] = h.Value
	}
	return req, nil
}

// DefaultDialTemplate is the FreeSWITCH dial string of an outbound call
// when Config.DialTemplate is empty.
const DefaultDialTemplate = "sofia/gateway/default/{to}"

// uriTarget returns the number of a tel: URI or the user (with host, when
// withHost) of a sip: URI.
func uriTarget(raw string, withHost bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	var v string
	switch u.Scheme {
	case "tel":
		v = u.Opaque
	case "sip", "sips":
		v = u.Opaque
		if !withHost {
			v, _, _ = strings.Cut(v, "@")
		}
	default:
		return "", errors.New(raw + " is not a tel: or sip: URI")
	}
	v, _, _ = strings.Cut(v, ";") // URI parameters are not part of the address
	if v == "" || strings.ContainsAny(v, " \t\r\n'\"{},") {
		return "", errors.New(raw + " has no usable address")
	}
	return v, nil
}

func newUUID() string {
	b := []byte(newID() + newID())
	b[12] = '4'                  // version 4
	b[16] = "89ab"[int(b[16])%4] // RFC 4122 variant
	s := string(b)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
