package fsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// field is one header line.
type field struct{ k, v string }

// event is a FreeSWITCH event under construction: ordered headers and an
// optional body.
type event struct {
	name string
	h    []field
	body string
}

func (e *event) add(k, v string) { e.h = append(e.h, field{k, v}) }

func (e *event) get(k string) string {
	for _, f := range e.h {
		if strings.EqualFold(f.k, k) {
			return f.v
		}
	}
	return ""
}

// urlUnsafe is the set FreeSWITCH percent-encodes in event-plain values,
// besides control and non-ASCII bytes.
const urlUnsafe = "\r\n \"#%&+:;<=>?@[\\]^`{|}"

func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' || strings.IndexByte(urlUnsafe, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// plain serialises an event as mod_event_socket does for "event plain":
// outer Content-Length first, then Content-Type; the body is URL-encoded
// header lines and a blank line, or, for an event with a body, the inner
// Content-Length, a blank line and the body.
func (e *event) plain() []byte {
	var body bytes.Buffer
	for _, f := range e.h {
		body.WriteString(f.k)
		body.WriteString(": ")
		body.WriteString(urlEncode(f.v))
		body.WriteByte('\n')
	}
	if e.body != "" {
		fmt.Fprintf(&body, "Content-Length: %d\n\n%s", len(e.body), e.body)
	} else {
		body.WriteByte('\n')
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "Content-Length: %d\nContent-Type: text/event-plain\n\n", body.Len())
	out.Write(body.Bytes())
	return out.Bytes()
}

// json serialises an event for "event json": one object, values as plain
// strings, the body under "_body".
func (e *event) json() []byte {
	var body bytes.Buffer
	body.WriteByte('{')
	for i, f := range e.h {
		if i > 0 {
			body.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		v, _ := json.Marshal(f.v)
		body.Write(k)
		body.WriteByte(':')
		body.Write(v)
	}
	if e.body != "" {
		b, _ := json.Marshal(e.body)
		body.WriteString(`,"Content-Length":"`)
		fmt.Fprint(&body, len(e.body))
		body.WriteString(`","_body":`)
		body.Write(b)
	}
	body.WriteByte('}')
	var out bytes.Buffer
	fmt.Fprintf(&out, "Content-Length: %d\nContent-Type: text/event-json\n\n", body.Len())
	out.Write(body.Bytes())
	return out.Bytes()
}

func commandReply(text string, extra ...field) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: command/reply\nReply-Text: ")
	b.WriteString(text)
	b.WriteByte('\n')
	for _, f := range extra {
		fmt.Fprintf(&b, "%s: %s\n", f.k, f.v)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func apiResponse(body string) []byte {
	return []byte(fmt.Sprintf("Content-Type: api/response\nContent-Length: %d\n\n%s", len(body), body))
}

const goodbye = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"

func disconnectNotice() []byte {
	return []byte(fmt.Sprintf("Content-Type: text/disconnect-notice\nContent-Length: %d\n\n%s", len(goodbye), goodbye))
}

func rudeRejection() []byte {
	const text = "Access Denied, go away.\n"
	return []byte(fmt.Sprintf("Content-Type: text/rude-rejection\nContent-Length: %d\n\n%s", len(text), text))
}
