package esl

import (
	"strconv"
	"strings"
)

// Field is one header line of a message or event, in wire order.
type Field struct {
	Name, Value string
}

// Header is an ordered list of header fields. FreeSWITCH repeats some names
// (an event can carry Hangup-Cause twice); Get returns the first.
type Header []Field

// Get returns the value of the first field with the given name, compared
// case-insensitively as mod_event_socket does, or "".
func (h Header) Get(name string) string {
	v, _ := h.Lookup(name)
	return v
}

// Lookup is Get that also reports whether the field is present.
func (h Header) Lookup(name string) (string, bool) {
	for i := range h {
		if h[i].Name == name {
			return h[i].Value, true
		}
	}
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			return h[i].Value, true
		}
	}
	return "", false
}

// Content types mod_event_socket sends.
const (
	TypeAuthRequest      = "auth/request"
	TypeCommandReply     = "command/reply"
	TypeAPIResponse      = "api/response"
	TypeEventPlain       = "text/event-plain"
	TypeEventJSON        = "text/event-json"
	TypeEventXML         = "text/event-xml"
	TypeDisconnectNotice = "text/disconnect-notice"
	TypeRudeRejection    = "text/rude-rejection"
	TypeLogData          = "log/data"
)

// Message is one frame read from the event socket: its outer headers (not
// URL-encoded), its body (Content-Length bytes) and, for event frames, the
// decoded event.
type Message struct {
	Header Header
	Body   []byte
	Event  *Event // set for text/event-plain and text/event-json
}

// ContentType returns the frame's Content-Type.
func (m *Message) ContentType() string { return m.Header.Get("Content-Type") }

// ReplyText returns a command/reply's Reply-Text.
func (m *Message) ReplyText() string { return m.Header.Get("Reply-Text") }

// Event is a FreeSWITCH event with URL-decoded header values and its optional
// body (the result text of a BACKGROUND_JOB, for example).
type Event struct {
	Header Header
	Body   []byte
}

// Name returns Event-Name.
func (e *Event) Name() string { return e.Header.Get("Event-Name") }

// Get returns a header value.
func (e *Event) Get(name string) string { return e.Header.Get(name) }

// UUID returns the channel's Unique-ID.
func (e *Event) UUID() string { return e.Header.Get("Unique-ID") }

// Var returns the channel variable name (header variable_<name>).
func (e *Event) Var(name string) string { return e.Header.Get("variable_" + name) }

// Sequence returns Event-Sequence, or 0.
func (e *Event) Sequence() uint64 {
	n, _ := strconv.ParseUint(e.Header.Get("Event-Sequence"), 10, 64)
	return n
}

// unsafeURLBytes are the characters FreeSWITCH percent-encodes in event-plain
// header values besides control and non-ASCII bytes (as seen in the samples:
// ':' '=' '{' '&' ' ' '"' '<' '>' are encoded, '/' '(' ')' ',' are not).
const unsafeURLBytes = "\r\n \"#%&+:;<=>?@[\\]^`{|}"

// URLEncode encodes a header value the way FreeSWITCH does in event-plain
// bodies and command arguments.
func URLEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func needsEscape(c byte) bool {
	return c < ' ' || c > '~' || strings.IndexByte(unsafeURLBytes, c) >= 0
}

// URLDecode decodes %XX escapes. Unlike net/url it leaves '+' alone and
// keeps a malformed escape as it is: FreeSWITCH does the same, and an event
// must never be lost to one odd byte.
func URLDecode(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, h<<4|l)
				i += 2
				continue
			}
		}
		b = append(b, c)
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
