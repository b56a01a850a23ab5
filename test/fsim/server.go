// Package fsim is a FreeSWITCH simulator for tests: a TCP server speaking
// mod_event_socket's wire format (as captured from FreeSWITCH 1.11.1 in
// ../shared/freeswitch) with enough of the switch behind it to create
// inbound calls, park, answer, hang up, originate and transfer them, and to
// stream their audio with the `unicast` call-command over real UDP,
// reproducing the quirks measured on the real switch:
//
//   - sendmsg unicast always replies +OK, even when the stream cannot start
//     (its local port is taken): then no datagram is ever sent;
//   - audio flows only while the channel sits in park, 320-byte L16 LE
//     frames every 20 ms on the simulator's own clock; an unanswered call
//     sends comfort-noise frames (320 bytes of 0xFF);
//   - executing an application on the channel stops the stream, and the
//     stream is torn down when the application ends; a second unicast in the
//     same park is torn down at once; uuid_transfer to park and a new unicast
//     after CHANNEL_PARK recover it;
//   - what the client sends back is not paced: each datagram is queued
//     whole for the far end, which consumes one frame per tick.
//
// Each call's far end is a Peer: anything that turns the audio it hears into
// the audio it says, 20 ms at a time (a tone, a recorder, a fax terminal).
// The simulator misbehaves on demand: it drops ESL connections, rejects
// authentication or connections, delays replies, loses and reorders UDP
// packets and hangs calls up mid-stream.
package fsim

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// Config sets up a Server.
type Config struct {
	// Addr to listen on for ESL, default "127.0.0.1:0".
	Addr string
	// Password for auth, default "ClueCon".
	Password string
	// Dial decides what an originate reaches; nil answers every call at
	// once with a silent peer.
	Dial func(dest string, vars map[string]string) DialResult
	// Seed for the UDP impairments' random numbers.
	Seed uint64
	// Logger for the simulator's own log (FreeSWITCH's console), default
	// discards.
	Logger *slog.Logger
	// ClockWorkers, if above 1, spreads each 20 ms tick's streams (their
	// peers and sends) over that many goroutines, as FreeSWITCH runs each
	// session in a thread of its own; the tick ends when all are done. A
	// peer is still called by one goroutine at a time, but not always the
	// same one, so peers must not share unsynchronised state. Every
	// stream's datagram then leaves at the start of the tick, and a peer's
	// answer goes out one tick after it heard the frame (see tickAll).
	// Default 1: every peer runs on the clock goroutine and answers in the
	// same tick.
	ClockWorkers int
}

// DialResult is the outcome of an originate, chosen by Config.Dial.
type DialResult struct {
	// Cause, if not empty, fails the call with this hangup cause
	// (USER_BUSY, NO_ANSWER, CALL_REJECTED, ...).
	Cause string
	// Ring delays the answer (or the failure).
	Ring time.Duration
	// Peer is the far end's audio; nil is silence.
	Peer Peer
}

// AcceptMode says how new ESL connections are treated.
type AcceptMode int

const (
	AcceptNormal AcceptMode = iota
	AcceptRude              // send text/rude-rejection and close (ACL denial)
	AcceptClose             // close the TCP connection at once
)

// Server is a running simulator.
type Server struct {
	cfg      Config
	ln       net.Listener
	log      *slog.Logger
	coreUUID string
	started  time.Time

	mu         sync.Mutex
	password   string
	accept     AcceptMode
	replyDelay time.Duration
	conns      map[*conn]struct{}
	channels   map[string]*Channel
	order      []*Channel // creation order, for show channels
	seq        uint64
	sessions   int
	loss       float64
	reorder    float64
	commands   []string

	media *mediaClock
	wg    sync.WaitGroup
	done  chan struct{}
}

// Start listens and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Password == "" {
		cfg.Password = "ClueCon"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("fsim: listen: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		ln:       ln,
		log:      cfg.Logger,
		coreUUID: newUUID(),
		started:  time.Now(),
		password: cfg.Password,
		conns:    map[*conn]struct{}{},
		channels: map[string]*Channel{},
		done:     make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.media = newMediaClock(s)
	s.wg.Add(2)
	go s.acceptLoop()
	go func() { defer s.wg.Done(); s.media.run(s.done) }()
	return s, nil
}

// Addr returns the ESL address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the simulator: connections close, channels vanish without
// events, media stops.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	for _, ch := range s.channels {
		ch.stopMediaLocked()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// SetPassword changes the password (a client holding the old one is
// refused with "-ERR invalid").
func (s *Server) SetPassword(p string) { s.mu.Lock(); s.password = p; s.mu.Unlock() }

// SetAcceptMode makes new connections be served, rudely rejected or closed.
func (s *Server) SetAcceptMode(m AcceptMode) { s.mu.Lock(); s.accept = m; s.mu.Unlock() }

// SetReplyDelay delays every command reply by d.
func (s *Server) SetReplyDelay(d time.Duration) { s.mu.Lock(); s.replyDelay = d; s.mu.Unlock() }

// SetUDPImpairment makes every stream lose a fraction loss of its
// datagrams and swap a fraction reorder with the next one, in both
// directions, deterministically from Config.Seed. It applies to streams
// started afterwards.
func (s *Server) SetUDPImpairment(loss, reorder float64) {
	s.mu.Lock()
	s.loss, s.reorder = loss, reorder
	s.mu.Unlock()
}

// DropConnections closes every ESL connection abruptly, without a
// disconnect notice, as a switch restart or network failure would. Calls
// carry on.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
}

// Connections returns how many ESL clients are connected and authenticated.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.authed {
			n++
		}
	}
	return n
}

// Commands returns every command line received so far (first lines only,
// passwords masked), for assertions.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		mode := s.accept
		s.mu.Unlock()
		switch mode {
		case AcceptRude:
			nc.Write(rudeRejection())
			nc.Close()
			continue
		case AcceptClose:
			nc.Close()
			continue
		}
		c := &conn{s: s, nc: nc, out: make(chan []byte, 4096), subs: map[string]bool{}}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(2)
		go c.writeLoop()
		go c.serve()
	}
}

// conn is one ESL client connection.
type conn struct {
	s       *Server
	nc      net.Conn
	out     chan []byte
	closing sync.Once

	// guarded by s.mu
	authed  bool
	format  string // "", "plain" or "json"
	subs    map[string]bool
	all     bool
	filters []field
	linger  bool
	dead    bool
}

func (c *conn) send(b []byte) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.sendLocked(b)
}

// sendLocked queues b; a client that does not read 4096 frames behind is
// cut off, as the real switch drops a listener whose queue overflows.
func (c *conn) sendLocked(b []byte) {
	if c.dead {
		return
	}
	select {
	case c.out <- b:
	default:
		c.dead = true
		c.nc.Close()
		c.s.log.Warn("fsim: event socket client too slow, cut off", "queued", cap(c.out), "remote", c.nc.RemoteAddr().String())
	}
}

func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	for b := range c.out {
		if b == nil { // close marker
			c.nc.Close()
			continue
		}
		if _, err := c.nc.Write(b); err != nil {
			c.nc.Close()
		}
	}
	c.nc.Close()
}

func (c *conn) serve() {
	defer c.s.wg.Done()
	defer func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.dead = true
		c.s.mu.Unlock()
		close(c.out) // the writer drains what is queued, then closes
	}()
	c.send([]byte("Content-Type: auth/request\n\n"))
	br := bufio.NewReader(c.nc)
	for {
		cmd, hdrs, body, err := readCommand(br)
		if err != nil {
			return
		}
		c.s.mu.Lock()
		logged := cmd
		if strings.HasPrefix(cmd, "auth ") {
			logged = "auth ********"
		}
		c.s.commands = append(c.s.commands, logged)
		delay := c.s.replyDelay
		authed := c.authed
		c.s.mu.Unlock()
		if delay > 0 {
			time.Sleep(delay)
		}
		if !authed {
			if !c.auth(cmd) {
				return
			}
			continue
		}
		if !c.command(cmd, hdrs, body) {
			return
		}
	}
}

func (c *conn) auth(cmd string) bool {
	c.s.mu.Lock()
	pw := c.s.password
	c.s.mu.Unlock()
	if cmd == "auth "+pw {
		c.s.mu.Lock()
		c.authed = true
		c.s.mu.Unlock()
		c.send(commandReply("+OK accepted"))
		return true
	}
	if strings.HasPrefix(cmd, "auth") {
		c.send(commandReply("-ERR invalid"))
		c.send(disconnectNotice())
		c.send(nil)
		return false
	}
	c.send([]byte("Content-Type: command/reply\nReply-Text: -ERR command not found\n\n"))
	return true
}

// readCommand reads one command: a first line, header lines up to a blank
// line and, if the headers carry Content-Length, a body.
func readCommand(br *bufio.Reader) (cmd string, h []field, body []byte, err error) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", nil, nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if cmd == "" {
				continue
			}
			break
		}
		if cmd == "" {
			cmd = line
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		h = append(h, field{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	for _, f := range h {
		if strings.EqualFold(f.k, "content-length") {
			var n int
			fmt.Sscan(f.v, &n)
			if n > 0 && n < 1<<20 {
				body = make([]byte, n)
				if _, err := io.ReadFull(br, body); err != nil {
					return "", nil, nil, err
				}
			}
		}
	}
	return cmd, h, body, nil
}

func getField(h []field, k string) string {
	for _, f := range h {
		if strings.EqualFold(f.k, k) {
			return f.v
		}
	}
	return ""
}

// command handles one authenticated command; false ends the connection.
func (c *conn) command(cmd string, h []field, body []byte) bool {
	verb, args, _ := strings.Cut(cmd, " ")
	args = strings.TrimSpace(args)
	s := c.s
	switch strings.ToLower(verb) {
	case "event":
		words := strings.Fields(args)
		if len(words) == 0 || (words[0] != "plain" && words[0] != "json" && words[0] != "xml") {
			c.send(commandReply("-ERR invalid format"))
			return true
		}
		s.mu.Lock()
		c.format = words[0]
		for _, w := range words[1:] {
			if w == "ALL" || w == "all" {
				c.all = true
			} else {
				c.subs[w] = true
			}
		}
		s.mu.Unlock()
		c.send(commandReply("+OK event listener enabled " + words[0]))
	case "nixevent":
		s.mu.Lock()
		for _, w := range strings.Fields(args) {
			if w == "ALL" {
				c.all = false
			}
			delete(c.subs, w)
		}
		s.mu.Unlock()
		c.send(commandReply("+OK events nixed"))
	case "noevents":
		s.mu.Lock()
		c.format, c.all, c.subs = "", false, map[string]bool{}
		s.mu.Unlock()
		c.send(commandReply("+OK no longer listening for events"))
	case "filter":
		words := strings.SplitN(args, " ", 2)
		if len(words) == 2 && words[0] == "delete" {
			k, v, _ := strings.Cut(words[1], " ")
			s.mu.Lock()
			kept := c.filters[:0]
			for _, f := range c.filters {
				if !(strings.EqualFold(f.k, k) && (v == "" || f.v == v)) {
					kept = append(kept, f)
				}
			}
			c.filters = kept
			s.mu.Unlock()
			c.send(commandReply(fmt.Sprintf("+OK filter deleted. [%s]=[%s]", k, v)))
			return true
		}
		if len(words) != 2 {
			c.send(commandReply("-ERR invalid syntax"))
			return true
		}
		s.mu.Lock()
		c.filters = append(c.filters, field{words[0], words[1]})
		s.mu.Unlock()
		c.send(commandReply(fmt.Sprintf("+OK filter added. [%s]=[%s]", words[0], words[1])))
	case "linger":
		s.mu.Lock()
		c.linger = true
		s.mu.Unlock()
		c.send(commandReply("+OK will linger"))
	case "nolinger":
		s.mu.Lock()
		c.linger = false
		s.mu.Unlock()
		c.send(commandReply("+OK will not linger"))
	case "exit":
		c.send(commandReply("+OK bye"))
		c.send(disconnectNotice())
		c.send(nil)
		return false
	case "api":
		c.send(apiResponse(s.api(args)))
	case "bgapi":
		job := getField(h, "Job-UUID")
		if job == "" {
			job = newUUID()
		}
		c.send(commandReply("+OK Job-UUID: "+job, field{"Job-UUID", job}))
		go func() {
			res := s.api(args)
			name, arg, _ := strings.Cut(args, " ")
			ev := s.newEvent("BACKGROUND_JOB", "mod_event_socket.c", "api_exec", "1569")
			ev.add("Job-UUID", job)
			ev.add("Job-Command", name)
			if arg != "" {
				ev.add("Job-Command-Arg", arg)
			}
			ev.body = res
			s.mu.Lock()
			s.fireLocked(ev)
			s.mu.Unlock()
		}()
	case "sendmsg":
		c.send(commandReply(s.sendmsg(args, h, body)))
	case "log", "nolog":
		c.send(commandReply("+OK"))
	default:
		c.send(commandReply("-ERR command not found"))
	}
	return true
}

// wants reports whether c receives ev (guarded by s.mu).
func (c *conn) wants(ev *event) bool {
	if c.dead || !c.authed || c.format == "" {
		return false
	}
	name := ev.name
	if !c.all && !c.subs[name] {
		if !(name == "CUSTOM" && c.subs[ev.get("Event-Subclass")]) {
			return false
		}
	}
	if len(c.filters) == 0 {
		return true
	}
	for _, f := range c.filters {
		if ev.get(f.k) == f.v {
			return true
		}
	}
	return false
}

// fireLocked stamps the event's sequence and hands it to every subscriber.
func (s *Server) fireLocked(ev *event) {
	s.seq++
	for i := range ev.h {
		if ev.h[i].k == "Event-Sequence" {
			ev.h[i].v = fmt.Sprint(s.seq)
		}
	}
	var plain, js []byte
	for c := range s.conns {
		if !c.wants(ev) {
			continue
		}
		switch c.format {
		case "json":
			if js == nil {
				js = ev.json()
			}
			c.sendLocked(js)
		default:
			if plain == nil {
				plain = ev.plain()
			}
			c.sendLocked(plain)
		}
	}
}

// newEvent starts an event with the common headers, in FreeSWITCH's order.
func (s *Server) newEvent(name, file, fn, line string) *event {
	now := time.Now()
	ev := &event{name: name}
	ev.add("Event-Name", name)
	ev.add("Core-UUID", s.coreUUID)
	ev.add("FreeSWITCH-Hostname", "fsim")
	ev.add("FreeSWITCH-Switchname", "fsim")
	ev.add("FreeSWITCH-IPv4", "127.0.0.1")
	ev.add("FreeSWITCH-IPv6", "::1")
	ev.add("Event-Date-Local", now.Format("2006-01-02 15:04:05"))
	ev.add("Event-Date-GMT", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
	ev.add("Event-Date-Timestamp", fmt.Sprint(now.UnixMicro()))
	ev.add("Event-Calling-File", file)
	ev.add("Event-Calling-Function", fn)
	ev.add("Event-Calling-Line-Number", line)
	ev.add("Event-Sequence", "0")
	return ev
}

func newUUID() string {
	var b [16]byte
	randRead(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
