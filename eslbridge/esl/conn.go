package esl

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// Errors callers branch on.
var (
	// ErrAuth: the switch refused the password.
	ErrAuth = errors.New("esl: authentication failed")
	// ErrRejected: the switch refused the connection (text/rude-rejection,
	// an ACL denial).
	ErrRejected = errors.New("esl: connection rejected by switch")
	// ErrTimeout: no reply within the command timeout. The connection stays
	// usable; the late reply is discarded when it arrives.
	ErrTimeout = errors.New("esl: command timed out")
	// ErrClosed: the connection is closed (or closed while waiting).
	ErrClosed = errors.New("esl: connection closed")
	// ErrBadArgument: a command or header would break the framing (it holds
	// a newline), so it is not sent.
	ErrBadArgument = errors.New("esl: argument contains a line break")
)

// CommandError is a "-ERR ..." (or "-USAGE", "-ERROR") answer to a command.
type CommandError struct {
	Command string // the command sent, without arguments beyond the first word
	Text    string // the reply text, e.g. "-ERR No such channel!"
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("esl: %s: %s", e.Command, e.Text)
}

// Options configure a connection.
type Options struct {
	Password string
	// Timeout bounds each command's wait for its reply when the caller's
	// context has no earlier deadline; default 5 s. A bgapi job's result is
	// bounded by the context only (an originate can ring for a minute).
	Timeout time.Duration
	// OnEvent receives every event, in wire order, on one goroutine that is
	// not the reader: a slow handler delays later events, never replies,
	// so a handler may itself send commands and wait for them.
	OnEvent func(*Event)
	// Logger, default slog.Default().
	Logger *slog.Logger
}

// Conn is an authenticated inbound connection to mod_event_socket. It is
// safe for concurrent use: one goroutine reads the socket and hands each
// reply to the command waiting for it (replies come back in command order),
// so callers never wait for each other beyond the switch's own ordering.
type Conn struct {
	nc      net.Conn
	opts    Options
	log     *slog.Logger
	timeout time.Duration

	wmu sync.Mutex // serialises writes and keeps pending in write order

	mu      sync.Mutex
	pending []chan result
	jobs    map[string]chan *Event
	closed  bool
	err     error // why the connection ended
	notice  string

	evq *eventQueue

	done       chan struct{} // reader finished
	eventsDone chan struct{} // dispatcher finished
}

type result struct {
	msg *Message
	err error
}

// Dial connects to addr (host:port), authenticates and starts reading.
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("esl: dial %s: %w", addr, err)
	}
	c, err := NewConn(ctx, nc, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// NewConn authenticates over an established connection and starts reading.
// On error the caller still owns nc.
func NewConn(ctx context.Context, nc net.Conn, opts Options) (*Conn, error) {
	c := &Conn{
		nc:         nc,
		opts:       opts,
		log:        opts.Logger,
		timeout:    opts.Timeout,
		jobs:       make(map[string]chan *Event),
		done:       make(chan struct{}),
		eventsDone: make(chan struct{}),
		evq:        newEventQueue(),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.timeout <= 0 {
		c.timeout = 5 * time.Second
	}
	if strings.ContainsAny(opts.Password, "\r\n") {
		return nil, fmt.Errorf("esl: password: %w", ErrBadArgument)
	}
	rd := NewReader(nc)
	if err := c.authenticate(ctx, rd); err != nil {
		return nil, err
	}
	go c.readLoop(rd)
	go c.dispatch()
	return c, nil
}

func (c *Conn) authenticate(ctx context.Context, rd *Reader) error {
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.nc.SetDeadline(deadline)
	defer c.nc.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	m, err := rd.ReadMessage()
	if err != nil {
		return fmt.Errorf("esl: waiting for auth/request: %w", ctxErr(ctx, err))
	}
	switch m.ContentType() {
	case TypeAuthRequest:
	case TypeRudeRejection:
		return fmt.Errorf("%w: %s", ErrRejected, strings.TrimSpace(string(m.Body)))
	default:
		return protoErr("expected auth/request, got %q", m.ContentType())
	}
	if _, err := io.WriteString(c.nc, "auth "+c.opts.Password+"\n\n"); err != nil {
		return fmt.Errorf("esl: sending auth: %w", ctxErr(ctx, err))
	}
	m, err = rd.ReadMessage()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: connection closed after auth", ErrAuth)
		}
		return fmt.Errorf("esl: waiting for auth reply: %w", ctxErr(ctx, err))
	}
	if m.ContentType() != TypeCommandReply {
		return protoErr("auth answered with %q", m.ContentType())
	}
	if rt := m.ReplyText(); !strings.HasPrefix(rt, "+OK") {
		return fmt.Errorf("%w: %s", ErrAuth, rt)
	}
	return nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Done is closed when the connection has ended (and every event read from
// it has been handed to OnEvent).
func (c *Conn) Done() <-chan struct{} { return c.eventsDone }

// Err reports why the connection ended; nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// DisconnectNotice returns the text of a text/disconnect-notice, if the
// switch sent one.
func (c *Conn) DisconnectNotice() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.notice
}

// Close closes the connection. Waiting commands fail with ErrClosed.
func (c *Conn) Close() error {
	c.shutdown(ErrClosed)
	<-c.done
	return nil
}

func (c *Conn) shutdown(why error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.err = why
	pending := c.pending
	c.pending = nil
	jobs := c.jobs
	c.jobs = map[string]chan *Event{}
	c.mu.Unlock()
	c.nc.Close()
	for _, w := range pending {
		w <- result{err: fmt.Errorf("%w: %v", ErrClosed, why)}
	}
	for _, j := range jobs {
		close(j)
	}
}

func (c *Conn) readLoop(rd *Reader) {
	defer close(c.done)
	defer c.evq.close()
	for {
		m, err := rd.ReadMessage()
		if err != nil {
			var pe *ProtocolError
			switch {
			case errors.As(err, &pe):
				c.log.Error("esl: closing connection on malformed input", "reason", pe.Reason)
			case c.isClosed():
			default:
				c.log.Warn("esl: connection lost", "err", err)
			}
			c.shutdown(err)
			return
		}
		switch m.ContentType() {
		case TypeCommandReply, TypeAPIResponse:
			c.mu.Lock()
			if len(c.pending) == 0 {
				c.mu.Unlock()
				c.log.Warn("esl: reply without a command", "type", m.ContentType(), "reply", m.ReplyText())
				continue
			}
			w := c.pending[0]
			c.pending = c.pending[1:]
			c.mu.Unlock()
			w <- result{msg: m}
		case TypeEventPlain, TypeEventJSON:
			ev := m.Event
			if ev.Name() == "BACKGROUND_JOB" {
				id := ev.Get("Job-UUID")
				c.mu.Lock()
				j := c.jobs[id]
				delete(c.jobs, id)
				c.mu.Unlock()
				if j != nil {
					j <- ev
				}
			}
			c.evq.push(ev)
		case TypeDisconnectNotice:
			c.mu.Lock()
			c.notice = strings.TrimSpace(string(m.Body))
			c.mu.Unlock()
			c.log.Info("esl: switch announced disconnect", "notice", c.notice)
		case TypeRudeRejection:
			c.log.Error("esl: switch rejected the connection", "text", strings.TrimSpace(string(m.Body)))
			c.shutdown(fmt.Errorf("%w: %s", ErrRejected, strings.TrimSpace(string(m.Body))))
			return
		default:
			c.log.Debug("esl: ignoring frame", "type", m.ContentType())
		}
	}
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Conn) dispatch() {
	defer close(c.eventsDone)
	for {
		ev, ok := c.evq.pop()
		if !ok {
			return
		}
		if c.opts.OnEvent != nil {
			c.opts.OnEvent(ev)
		}
	}
}

// send writes one command (text must end in "\n\n") and waits for its
// reply, at most the command timeout.
func (c *Conn) send(ctx context.Context, text string) (*Message, error) {
	w := make(chan result, 1)
	if err := c.write(text, w); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	select {
	case r := <-w:
		return r.msg, r.err
	case <-ctx.Done():
		// The waiter stays queued so later replies still match their
		// commands; its reply is dropped into the buffered channel.
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: %s", ErrTimeout, firstWord(text))
		}
		return nil, ctx.Err()
	}
}

func (c *Conn) write(text string, w chan result) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.closed {
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("%w: %v", ErrClosed, err)
	}
	c.pending = append(c.pending, w)
	c.mu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	if _, err := io.WriteString(c.nc, text); err != nil {
		c.shutdown(fmt.Errorf("esl: write: %w", err))
		return fmt.Errorf("esl: write %s: %w", firstWord(text), err)
	}
	return nil
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \n"); i >= 0 {
		s = s[:i]
	}
	return s
}

func checkLine(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("%w: %.60q", ErrBadArgument, s)
	}
	return nil
}

// Command sends a raw single-line command (e.g. "event plain ALL") and
// returns its reply frame. A "-ERR" Reply-Text becomes a *CommandError.
func (c *Conn) Command(ctx context.Context, cmd string) (*Message, error) {
	if err := checkLine(cmd); err != nil {
		return nil, err
	}
	m, err := c.send(ctx, cmd+"\n\n")
	if err != nil {
		return nil, err
	}
	if rt := m.ReplyText(); strings.HasPrefix(rt, "-") {
		return m, &CommandError{Command: firstWord(cmd), Text: rt}
	}
	return m, nil
}

// API runs a synchronous api command and returns its body. A body starting
// with "-ERR" (also "-ERROR") or "-USAGE" becomes a *CommandError.
//
// FreeSWITCH runs api commands inline on the socket's thread, so a slow
// command delays the replies to commands sent after it on this connection;
// use BgAPI for anything that can take long (originate).
func (c *Conn) API(ctx context.Context, cmd string) (string, error) {
	if err := checkLine(cmd); err != nil {
		return "", err
	}
	m, err := c.send(ctx, "api "+cmd+"\n\n")
	if err != nil {
		return "", err
	}
	body := string(m.Body)
	if m.ContentType() != TypeAPIResponse {
		return body, &CommandError{Command: firstWord(cmd), Text: "unexpected " + m.ContentType() + ": " + m.ReplyText()}
	}
	if isErrText(body) {
		return body, &CommandError{Command: firstWord(cmd), Text: strings.TrimRight(body, "\n")}
	}
	return body, nil
}

func isErrText(s string) bool {
	return strings.HasPrefix(s, "-ERR") || strings.HasPrefix(s, "-USAGE")
}

// BgAPI runs a command in the background and waits for its BACKGROUND_JOB
// event, returning the job's result body (e.g. "+OK <uuid>\n"). The
// connection must be subscribed to BACKGROUND_JOB. The Job-UUID is chosen
// here and sent with the command, so the result cannot outrun its
// registration. A "-ERR" result becomes a *CommandError.
func (c *Conn) BgAPI(ctx context.Context, cmd string) (string, error) {
	job, err := c.StartBgAPI(ctx, cmd)
	if err != nil {
		return "", err
	}
	return job.Wait(ctx)
}

// Job is a running bgapi command.
type Job struct {
	UUID string
	cmd  string
	ch   chan *Event
	c    *Conn
}

// StartBgAPI sends a bgapi command and returns once the switch accepted it.
func (c *Conn) StartBgAPI(ctx context.Context, cmd string) (*Job, error) {
	if err := checkLine(cmd); err != nil {
		return nil, err
	}
	j := &Job{UUID: NewUUID(), cmd: firstWord(cmd), ch: make(chan *Event, 1), c: c}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", ErrClosed, c.Err())
	}
	c.jobs[j.UUID] = j.ch
	c.mu.Unlock()
	m, err := c.send(ctx, "bgapi "+cmd+"\nJob-UUID: "+j.UUID+"\n\n")
	if err == nil && !strings.HasPrefix(m.ReplyText(), "+OK") {
		err = &CommandError{Command: "bgapi " + firstWord(cmd), Text: m.ReplyText()}
	}
	if err != nil {
		c.mu.Lock()
		delete(c.jobs, j.UUID)
		c.mu.Unlock()
		return nil, err
	}
	return j, nil
}

// Wait waits for the job's BACKGROUND_JOB event and returns its body.
func (j *Job) Wait(ctx context.Context) (string, error) {
	select {
	case ev, ok := <-j.ch:
		if !ok {
			return "", fmt.Errorf("%w: waiting for job %s (%s)", ErrClosed, j.UUID, j.cmd)
		}
		body := string(ev.Body)
		if isErrText(body) {
			return body, &CommandError{Command: j.cmd, Text: strings.TrimRight(body, "\n")}
		}
		return body, nil
	case <-ctx.Done():
		j.c.mu.Lock()
		delete(j.c.jobs, j.UUID)
		j.c.mu.Unlock()
		return "", fmt.Errorf("esl: job %s (%s): %w", j.UUID, j.cmd, ctx.Err())
	}
}

// Subscribe enables events in the given format ("plain" or "json"). With no
// names it subscribes to ALL. Sending it again adds to the subscription.
func (c *Conn) Subscribe(ctx context.Context, format string, names ...string) error {
	if format != "plain" && format != "json" {
		return fmt.Errorf("esl: subscribe: unsupported format %q", format)
	}
	if len(names) == 0 {
		names = []string{"ALL"}
	}
	_, err := c.Command(ctx, "event "+format+" "+strings.Join(names, " "))
	return err
}

// Filter restricts delivered events to those whose header has the value.
// Once any filter is set, only matching events are delivered (filters
// add up as alternatives).
func (c *Conn) Filter(ctx context.Context, header, value string) error {
	_, err := c.Command(ctx, "filter "+header+" "+value)
	return err
}

// Linger asks the switch to keep sending a channel's remaining events
// after it hangs up, before closing (used on outbound sockets).
func (c *Conn) Linger(ctx context.Context) error {
	_, err := c.Command(ctx, "linger")
	return err
}

// Exit asks the switch to close the connection and waits until it has.
func (c *Conn) Exit(ctx context.Context) error {
	if _, err := c.Command(ctx, "exit"); err != nil {
		return err
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SendMsg sends "sendmsg <uuid>" with the given headers (and an optional
// body, framed by Content-Length) and returns the switch's reply.
// A "-ERR" reply (e.g. "-ERR invalid session id [...]") is a *CommandError.
func (c *Conn) SendMsg(ctx context.Context, uuid string, h Header, body []byte) error {
	if err := checkLine(uuid); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("sendmsg ")
	b.WriteString(uuid)
	b.WriteByte('\n')
	for _, f := range h {
		if err := checkLine(f.Name + f.Value); err != nil {
			return err
		}
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
	if len(body) > 0 {
		fmt.Fprintf(&b, "content-length: %d\n\n", len(body))
		b.Write(body)
	} else {
		b.WriteByte('\n')
	}
	m, err := c.send(ctx, b.String())
	if err != nil {
		return err
	}
	if rt := m.ReplyText(); !strings.HasPrefix(rt, "+OK") {
		return &CommandError{Command: "sendmsg " + h.Get("call-command"), Text: rt}
	}
	return nil
}

// Execute runs a dialplan application on a channel through sendmsg. With
// lock, event-lock makes the channel run queued messages one at a time.
// It returns the Event-UUID sent, which the switch echoes as
// Application-UUID in CHANNEL_EXECUTE and CHANNEL_EXECUTE_COMPLETE.
func (c *Conn) Execute(ctx context.Context, uuid, app, arg string, lock bool) (string, error) {
	id := NewUUID()
	h := Header{{"call-command", "execute"}, {"execute-app-name", app}}
	if arg != "" {
		h = append(h, Field{"execute-app-arg", arg})
	}
	if lock {
		h = append(h, Field{"event-lock", "true"})
	}
	h = append(h, Field{"Event-UUID", id})
	if err := c.SendMsg(ctx, uuid, h, nil); err != nil {
		return "", err
	}
	return id, nil
}

// Hangup hangs a channel up through sendmsg with the given cause
// (e.g. "NORMAL_CLEARING").
func (c *Conn) Hangup(ctx context.Context, uuid, cause string) error {
	return c.SendMsg(ctx, uuid, Header{{"call-command", "hangup"}, {"hangup-cause", cause}}, nil)
}

// Unicast describes a unicast media stream. Local is the switch's own
// address (it binds it), Remote is ours. Native asks for the channel's
// codec instead of L16.
type Unicast struct {
	LocalIP    string
	LocalPort  int
	RemoteIP   string
	RemotePort int
	Native     bool
}

// StartUnicast sends the unicast call-command. FreeSWITCH answers +OK even
// when it cannot start the stream, so the caller must watch for datagrams.
func (c *Conn) StartUnicast(ctx context.Context, uuid string, u Unicast) error {
	h := Header{
		{"call-command", "unicast"},
		{"local-ip", u.LocalIP},
		{"local-port", fmt.Sprint(u.LocalPort)},
		{"remote-ip", u.RemoteIP},
		{"remote-port", fmt.Sprint(u.RemotePort)},
		{"transport", "udp"},
	}
	if u.Native {
		h = append(h, Field{"flags", "native"})
	}
	return c.SendMsg(ctx, uuid, h, nil)
}

// NoMedia sends the nomedia call-command, asking the switch to take itself
// out of the media path (or back with "nomedia-uuid").
func (c *Conn) NoMedia(ctx context.Context, uuid, nomediaUUID string) error {
	h := Header{{"call-command", "nomedia"}}
	if nomediaUUID != "" {
		h = append(h, Field{"nomedia-uuid", nomediaUUID})
	}
	return c.SendMsg(ctx, uuid, h, nil)
}

// NewUUID returns a random (version 4) UUID in FreeSWITCH's textual form.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[x>>4], hex[x&15])
	}
	return string(out)
}

// eventQueue is an unbounded FIFO between the reader and the dispatcher, so
// that a slow event handler never stalls replies.
type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []*Event
	closed bool
}

func newEventQueue() *eventQueue {
	q := &eventQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *eventQueue) push(e *Event) {
	q.mu.Lock()
	q.q = append(q.q, e)
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *eventQueue) pop() (*Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.q) == 0 {
		if q.closed {
			return nil, false
		}
		q.cond.Wait()
	}
	e := q.q[0]
	q.q[0] = nil
	q.q = q.q[1:]
	return e, true
}
