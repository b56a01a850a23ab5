// Package client is a small Rayo client (XEP-0327) over an XMPP
// client-to-server session: it announces itself to a Rayo service, sends
// commands as <iq type='set'/> and waits for their replies, and delivers the
// service's events (offers, ends, completions: directed presence) on a
// channel. rayoctl and the end-to-end tests use it.
package client

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/rayofax/rayofax/rayo/wire"
)

// Options configure a connection.
type Options struct {
	// Addr is the XMPP server's client port, host:port.
	Addr string
	// JID and Password authenticate the client (user@host/resource; a
	// resource is bound when none is given).
	JID, Password string
	// TLS, when set, negotiates STARTTLS with this config; otherwise the
	// stream stays plain (loopback tests and trusted networks only).
	TLS *tls.Config
}

// Event is a presence the service sent: its sender and its payload.
type Event struct {
	From    jid.JID
	Type    string // "" or "unavailable"
	Payload *wire.Element
}

// Client is a connected Rayo client.
type Client struct {
	sess   *xmpp.Session
	events chan Event
	nextID atomic.Uint64

	mu      sync.Mutex
	pending map[string]chan *wire.Element
	err     error
	done    chan struct{}
}

// Dial connects and authenticates.
func Dial(ctx context.Context, o Options) (*Client, error) {
	j, err := jid.Parse(o.JID)
	if err != nil {
		return nil, fmt.Errorf("rayo client: jid: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("rayo client: %w", err)
	}
	features := []xmpp.StreamFeature{
		xmpp.SASL("", o.Password, sasl.ScramSha256Plus, sasl.ScramSha256, sasl.ScramSha1, sasl.Plain),
		xmpp.BindResource(),
	}
	state := xmpp.Secure // plain TCP: do not wait for STARTTLS
	if o.TLS != nil {
		features = append([]xmpp.StreamFeature{xmpp.StartTLS(o.TLS)}, features...)
		state = 0
	}
	if j.Resourcepart() != "" {
		features[len(features)-1] = bindResource(j.Resourcepart())
	}
	sess, err := xmpp.NewSession(ctx, j.Domain(), j, conn, state, xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
		return xmpp.StreamConfig{Features: features}
	}))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("rayo client: session: %w", err)
	}
	c := &Client{
		sess:    sess,
		events:  make(chan Event, 256),
		pending: map[string]chan *wire.Element{},
		done:    make(chan struct{}),
	}
	go c.serve()
	return c, nil
}

// JID returns the client's full address.
func (c *Client) JID() jid.JID { return c.sess.LocalAddr() }

// Events delivers the service's presences. It is closed when the connection
// ends.
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the connection has ended; Err says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the session.
func (c *Client) Close() error { return c.sess.Close() }

func (c *Client) serve() {
	err := c.sess.Serve(xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		el, err := wire.ReadElement(t, *start)
		if err != nil {
			return nil
		}
		c.stanza(el)
		return nil
	}))
	c.mu.Lock()
	c.err = err
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	c.mu.Unlock()
	close(c.events)
	close(c.done)
}

func (c *Client) stanza(el *wire.Element) {
	typ, _ := el.Attribute("type")
	switch el.Name.Local {
	case "iq":
		if typ != "result" && typ != "error" {
			return
		}
		id, _ := el.Attribute("id")
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- el
		}
	case "presence":
		from, _ := el.Attribute("from")
		j, err := jid.Parse(from)
		if err != nil {
			return
		}
		ev := Event{From: j, Type: typ}
		for _, ch := range el.Children {
			if ch.Name.Space == wire.NSCaps {
				continue
			}
			ev.Payload = ch
			break
		}
		if ev.Payload == nil {
			return // plain presence, not a Rayo event
		}
		select {
		case c.events <- ev:
		default:
			// A reader that stopped reading loses events rather than the
			// connection.
		}
	}
}

// Available announces the client to the Rayo service as ready for offers.
func (c *Client) Available(ctx context.Context, service string) error {
	return c.presence(ctx, service, "chat")
}

// Unavailable tells the service to stop offering calls to this client.
func (c *Client) Unavailable(ctx context.Context, service string) error {
	return c.presence(ctx, service, "dnd")
}

func (c *Client) presence(ctx context.Context, to, show string) error {
	p := wire.New("", "presence", "to", to)
	s := wire.New("", "show")
	s.Text = show
	p.Append(s)
	return c.sess.Send(ctx, p.TokenReader())
}

// CommandError is an <iq type='error'/> answer.
type CommandError struct {
	Type, Condition, Text string
}

func (e *CommandError) Error() string {
	if e.Text == "" {
		return e.Type + "/" + e.Condition
	}
	return e.Type + "/" + e.Condition + ": " + e.Text
}

// ErrClosed is returned for commands on a closed connection.
var ErrClosed = errors.New("rayo client: connection closed")

// Command sends payload in an <iq type='set'/> to the call, component or
// service address to and waits for the answer: the result's payload (nil
// when empty), or a *CommandError.
func (c *Client) Command(ctx context.Context, to string, payload *wire.Element) (*wire.Element, error) {
	return c.Raw(ctx, to, "set", payload)
}

// Raw sends an iq of the given type and waits for its answer.
func (c *Client) Raw(ctx context.Context, to, typ string, payload *wire.Element) (*wire.Element, error) {
	id := "c" + strconv.FormatUint(c.nextID.Add(1), 10)
	iq := wire.New("", "iq", "type", typ, "id", id, "to", to)
	if payload != nil {
		iq.Append(payload)
	}
	ch := make(chan *wire.Element, 1)
	c.mu.Lock()
	if c.err != nil || isClosed(c.done) {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.sess.Send(ctx, iq.TokenReader()); err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, err
	}
	select {
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, ctx.Err()
	case res, ok := <-ch:
		if !ok {
			return nil, ErrClosed
		}
		return answer(res)
	}
}

func answer(res *wire.Element) (*wire.Element, error) {
	typ, _ := res.Attribute("type")
	var payload *wire.Element
	for _, ch := range res.Children {
		if ch.Name.Local == "error" && typ == "error" {
			e := &CommandError{}
			e.Type, _ = ch.Attribute("type")
			for _, x := range ch.Children {
				if x.Name.Local == "text" {
					e.Text = x.Text
				} else if x.Name.Space == wire.NSStanzas {
					e.Condition = x.Name.Local
				}
			}
			return nil, e
		}
		if payload == nil {
			payload = ch
		}
	}
	if typ == "error" {
		return nil, &CommandError{Type: "cancel", Condition: "undefined-condition"}
	}
	return payload, nil
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
