package rayo

import (
	"strings"

	"mellium.im/xmpp/jid"

	"github.com/rayofax/rayofax/rayo/wire"
)

const (
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsPing      = "urn:xmpp:ping"
)

// stanza is an incoming stanza with its addressing decoded.
type stanza struct {
	el       *wire.Element
	from, to jid.JID
	typ, id  string
}

func (s *Server) dispatch(el *wire.Element) {
	st := stanza{el: el}
	st.typ, _ = el.Attribute("type")
	st.id, _ = el.Attribute("id")
	f, _ := el.Attribute("from")
	t, _ := el.Attribute("to")
	var err error
	if st.from, err = jid.Parse(f); err != nil || f == "" {
		s.log.Warn("xmpp: stanza with a bad from address dropped", "from", f, "kind", el.Name.Local)
		return
	}
	if st.to, err = jid.Parse(t); err != nil || st.to.Domainpart() != s.domain.Domainpart() {
		s.log.Warn("xmpp: stanza for another address dropped", "to", t, "kind", el.Name.Local)
		return
	}
	switch el.Name.Local {
	case "presence":
		s.handlePresence(st)
	case "iq":
		s.handleIQ(st)
	case "message":
		if st.typ != "error" {
			s.replyStanzaError(st, &wire.Error{Type: wire.Cancel, Condition: wire.ServiceUnavailable,
				Text: "rayofax takes Rayo commands as <iq type='set'/>, not messages"})
		}
	}
}

// handlePresence tracks which allowed clients are available for offers
// (XEP-0327 6.1): available with <show>chat</show> or no <show/>, not
// available with dnd/away/xa or when unavailable.
func (s *Server) handlePresence(st stanza) {
	bare := st.from.Bare().String()
	if !s.clients[bare] {
		s.log.Debug("xmpp: presence from a JID that is not a configured client", "from", st.from.String())
		return
	}
	available := false
	switch st.typ {
	case "":
		available = true
		for _, c := range st.el.Children {
			if c.Name.Local == "show" {
				switch strings.TrimSpace(c.Text) {
				case "dnd", "away", "xa":
					available = false
				}
			}
		}
	case "unavailable":
	default:
		return // subscriptions and probes: nothing to track
	}
	s.mu.Lock()
	key := st.from.String()
	_, was := s.available[key]
	if available {
		s.available[key] = st.from
	} else {
		delete(s.available, key)
	}
	s.mu.Unlock()
	if was != available {
		s.log.Info("rayo: client availability", "client", key, "available", available)
	}
	if !available {
		s.clientGone(st.from)
	}
}

// availableClients returns the full JIDs offers go to.
func (s *Server) availableClients() []jid.JID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]jid.JID, 0, len(s.available))
	for _, j := range s.available {
		out = append(out, j)
	}
	return out
}

func (s *Server) handleIQ(st stanza) {
	switch st.typ {
	case "result", "error":
		return // we send no requests that await answers
	case "get":
		s.handleGet(st)
		return
	case "set":
	default:
		s.replyError(st, nil, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: "iq type " + st.typ + " is not get, set, result or error"})
		return
	}
	var payload *wire.Element
	for _, c := range st.el.Children {
		if c.Name.Local == "error" {
			continue
		}
		if payload != nil {
			s.replyError(st, payload, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: "an iq set carries exactly one command"})
			return
		}
		payload = c
	}
	if payload == nil {
		s.replyError(st, nil, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: "an iq set carries exactly one command"})
		return
	}
	if !s.clients[st.from.Bare().String()] {
		s.replyError(st, payload, &wire.Error{Type: wire.Auth, Condition: wire.Forbidden,
			Text: st.from.Bare().String() + " is not a client of this Rayo service"})
		return
	}
	cmd, err := wire.ParseCommand(payload)
	if err != nil {
		s.replyError(st, payload, asWireError(err))
		return
	}
	switch {
	case st.to.Localpart() == "":
		s.serverCommand(st, payload, cmd)
	case st.to.Resourcepart() == "":
		s.callCommand(st, payload, cmd)
	default:
		s.componentCommand(st, payload, cmd)
	}
}

func (s *Server) handleGet(st stanza) {
	if len(st.el.Children) != 1 {
		s.replyError(st, nil, &wire.Error{Type: wire.Modify, Condition: wire.BadRequest, Text: "an iq get carries exactly one query"})
		return
	}
	q := st.el.Children[0]
	switch {
	case q.Name.Space == nsDiscoInfo && q.Name.Local == "query":
		res := wire.New(nsDiscoInfo, "query")
		if node, ok := q.Attribute("node"); ok {
			// Entity capabilities queries name a node; the answer echoes it.
			res = wire.New(nsDiscoInfo, "query", "node", node)
		}
		res.Append(wire.New(nsDiscoInfo, "identity", "category", "component", "type", "generic", "name", "rayofax"))
		for _, f := range append([]string{nsDiscoInfo}, wire.Features...) {
			res.Append(wire.New(nsDiscoInfo, "feature", "var", f))
		}
		s.replyResult(st, res)
	case q.Name.Space == nsPing && q.Name.Local == "ping":
		s.replyResult(st, nil)
	default:
		s.replyError(st, q, &wire.Error{Type: wire.Cancel, Condition: wire.ServiceUnavailable,
			Text: "<" + q.Name.Local + " xmlns='" + q.Name.Space + "'/> is not a query rayofax answers"})
	}
}

func asWireError(err error) *wire.Error {
	if e, ok := err.(*wire.Error); ok {
		return e
	}
	return &wire.Error{Type: wire.Cancel, Condition: wire.InternalServerError, Text: err.Error()}
}

// replyResult answers an iq with type result, from the address it was sent to.
func (s *Server) replyResult(st stanza, payload *wire.Element) {
	iq := wire.New("", "iq", "type", "result", "id", st.id, "from", st.to.String(), "to", st.from.String())
	if payload != nil {
		iq.Append(payload)
	}
	s.enqueue(iq)
}

// replyError answers an iq with an error, echoing the command.
func (s *Server) replyError(st stanza, payload *wire.Element, e *wire.Error) {
	iq := wire.New("", "iq", "type", "error", "id", st.id, "from", st.to.String(), "to", st.from.String())
	if payload != nil {
		iq.Append(payload)
	}
	iq.Append(e.Element())
	s.log.Info("rayo: command refused", "from", st.from.String(), "to", st.to.String(), "condition", e.Condition, "text", e.Text)
	s.enqueue(iq)
}

func (s *Server) replyStanzaError(st stanza, e *wire.Error) {
	m := wire.New("", st.el.Name.Local, "type", "error", "from", st.to.String(), "to", st.from.String())
	if st.id != "" {
		m.SetAttr("id", st.id)
	}
	m.Append(e.Element())
	s.enqueue(m)
}

// presence sends a directed presence from the entity from to the client to.
func (s *Server) presence(from, to jid.JID, typ string, payload ...*wire.Element) {
	p := wire.New("", "presence", "from", from.String(), "to", to.String())
	if typ != "" {
		p.SetAttr("type", typ)
	}
	p.Append(payload...)
	s.enqueue(p)
}

// AvailableClients returns the full JIDs that offers go to now.
func (s *Server) AvailableClients() []string {
	var out []string
	for _, j := range s.availableClients() {
		out = append(out, j.String())
	}
	return out
}
