package esl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits that keep a broken or hostile peer from exhausting memory.
const (
	MaxHeaderLine = 64 << 10 // one header line
	MaxHeaders    = 4096     // header lines per frame or event
	MaxBody       = 32 << 20 // Content-Length of one frame
)

// ProtocolError reports malformed input. The connection it came from cannot
// be resynchronised and must be closed.
type ProtocolError struct {
	Reason string
}

func (e *ProtocolError) Error() string { return "esl: protocol error: " + e.Reason }

func protoErr(format string, args ...any) error {
	return &ProtocolError{Reason: fmt.Sprintf(format, args...)}
}

// Reader reads frames from an event socket stream.
type Reader struct {
	r *bufio.Reader
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 16<<10)}
}

// ReadMessage reads one frame: headers up to a blank line, then a body of
// Content-Length bytes. Event frames are decoded into Message.Event. A
// malformed frame yields a *ProtocolError; I/O errors are returned as is
// (io.EOF when the peer closed between frames).
func (r *Reader) ReadMessage() (*Message, error) {
	var h Header
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && len(h) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			if len(h) == 0 {
				// FreeSWITCH never sends empty frames, but tolerate stray
				// blank lines between frames.
				continue
			}
			break
		}
		if len(h) >= MaxHeaders {
			return nil, protoErr("more than %d header lines", MaxHeaders)
		}
		name, value, ok := splitHeader(line)
		if !ok {
			return nil, protoErr("header line without colon: %.60q", line)
		}
		h = append(h, Field{Name: name, Value: value})
	}
	m := &Message{Header: h}
	if cl, ok := h.Lookup("Content-Length"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(cl))
		if err != nil || n < 0 {
			return nil, protoErr("bad Content-Length %.40q", cl)
		}
		if n > MaxBody {
			return nil, protoErr("Content-Length %d exceeds limit %d", n, MaxBody)
		}
		m.Body = make([]byte, n)
		if _, err := io.ReadFull(r.r, m.Body); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("esl: reading %d-byte body: %w", n, err)
		}
	}
	if _, ok := h.Lookup("Content-Type"); !ok {
		return nil, protoErr("frame without Content-Type")
	}
	switch m.ContentType() {
	case TypeEventPlain:
		ev, err := ParseEventPlain(m.Body)
		if err != nil {
			return nil, err
		}
		m.Event = ev
	case TypeEventJSON:
		ev, err := ParseEventJSON(m.Body)
		if err != nil {
			return nil, err
		}
		m.Event = ev
	}
	return m, nil
}

// readLine returns one line without its "\n" (and without a "\r" before it).
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Accumulate a long line, up to the limit.
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			if len(buf) > MaxHeaderLine {
				return nil, protoErr("header line longer than %d bytes", MaxHeaderLine)
			}
			line, err = r.r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) > MaxHeaderLine {
		return nil, protoErr("header line longer than %d bytes", MaxHeaderLine)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func splitHeader(line []byte) (name, value string, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	name = string(bytes.TrimSpace(line[:i]))
	if name == "" {
		return "", "", false
	}
	v := line[i+1:]
	if len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	return name, string(v), true
}

// ParseEventPlain decodes a text/event-plain body: URL-encoded "Name: value"
// lines; a blank line ends them. If the headers carry Content-Length, that
// many bytes after the blank line are the event's body (BACKGROUND_JOB).
func ParseEventPlain(b []byte) (*Event, error) {
	ev := &Event{}
	rest := b
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		var line []byte
		if i < 0 {
			line, rest = rest, nil
		} else {
			line, rest = rest[:i], rest[i+1:]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			break
		}
		if len(ev.Header) >= MaxHeaders {
			return nil, protoErr("event with more than %d headers", MaxHeaders)
		}
		name, value, ok := splitHeader(line)
		if !ok {
			return nil, protoErr("event header line without colon: %.60q", line)
		}
		ev.Header = append(ev.Header, Field{Name: name, Value: URLDecode(value)})
	}
	if cl, ok := ev.Header.Lookup("Content-Length"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(cl))
		if err != nil || n < 0 {
			return nil, protoErr("bad event Content-Length %.40q", cl)
		}
		if n > len(rest) {
			return nil, protoErr("event body of %d bytes announced, %d present", n, len(rest))
		}
		ev.Body = append([]byte(nil), rest[:n]...)
	}
	if ev.Header.Get("Event-Name") == "" {
		return nil, protoErr("event without Event-Name")
	}
	return ev, nil
}

// ParseEventJSON decodes a text/event-json body: one JSON object of string
// values; "_body" is the event body. Values are not URL-encoded in JSON.
// Object key order is kept.
func ParseEventJSON(b []byte) (*Event, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, protoErr("json event: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, protoErr("json event is not an object")
	}
	ev := &Event{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, protoErr("json event: %v", err)
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, protoErr("json event value of %.40q: %v", key, err)
		}
		val, err := jsonString(raw)
		if err != nil {
			return nil, protoErr("json event value of %.40q: %v", key, err)
		}
		if key == "_body" {
			ev.Body = []byte(val)
			continue
		}
		if len(ev.Header) >= MaxHeaders {
			return nil, protoErr("event with more than %d headers", MaxHeaders)
		}
		ev.Header = append(ev.Header, Field{Name: key, Value: val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, protoErr("json event: %v", err)
	}
	if ev.Header.Get("Event-Name") == "" {
		return nil, protoErr("event without Event-Name")
	}
	return ev, nil
}

// jsonString turns a JSON value into header text: strings as they are,
// numbers and booleans as written, arrays (FreeSWITCH uses them for repeated
// headers) joined by "|".
func jsonString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", errors.New("empty value")
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '[':
		var a []json.RawMessage
		if err := json.Unmarshal(raw, &a); err != nil {
			return "", err
		}
		parts := make([]string, 0, len(a))
		for _, x := range a {
			s, err := jsonString(x)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "|"), nil
	case '{':
		return "", errors.New("nested object")
	case 'n':
		return "", nil
	}
	return string(raw), nil
}
