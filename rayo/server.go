// Package rayo is rayofax's Rayo server (XEP-0327) with the fax (XEP-0342)
// and CPA (XEP-0341) extensions. It runs as an XEP-0114 external component of
// an XMPP server, owning a domain such as rayo.example.com: each call is
// callid@domain and each of its components callid@domain/componentid.
//
// Inbound calls from the switch (package eslbridge) are offered by directed
// presence to every available resource of the configured client JIDs at once;
// the first of them to send the call a command becomes its controlling party,
// and commands from anyone else get a conflict error. When no client is
// available, the call is rejected (Rayo requires it). Events go out through one
// ordered queue: while the XMPP server is unreachable, calls keep running and
// their events wait in the queue (bounded by Config.QueueSize), to be sent in
// order after the reconnect.
package rayo

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	xmppcomponent "mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/rayo/wire"
	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/fetch"
)

// Config configures a Server.
type Config struct {
	// Domain is the component's domain: calls are id@Domain.
	Domain string
	// Server is the XMPP server's component port, host:port.
	Server string
	// Secret is the component secret shared with the XMPP server.
	Secret string
	// Clients are the bare JIDs allowed to control calls; offers go to
	// their available resources.
	Clients []string
	// QueueSize bounds the events kept while disconnected (default 10000).
	QueueSize int
	// MinBackoff and MaxBackoff bound the reconnect delay (default 100 ms, 10 s).
	MinBackoff, MaxBackoff time.Duration
	// Fax holds the defaults of fax components.
	Fax FaxDefaults
	// WorkDir holds faxes being received and fetched documents.
	WorkDir string
	// DialTemplate makes the FreeSWITCH dial string of a <dial/>: "{to}"
	// is replaced by the number of a tel: URI or the user@host of a sip:
	// URI (default DefaultDialTemplate).
	DialTemplate string
	// Logger, default slog.Default().
	Logger *slog.Logger
	// Metrics, optional.
	Metrics *Metrics
	// Track, when set, is called as each component starts; the function
	// it returns is called when the component has completed. The daemon
	// uses it to let a shutdown wait for faxes in progress.
	Track func() (done func())
}

// FaxDefaults are applied to every fax component.
type FaxDefaults struct {
	Ident   string // our station identity when a document names none
	Header  string // header line when a document names none
	NoECM   bool
	MaxRate int
	NoV17   bool
	// StoreTimeout bounds how long a completion waits for storage before
	// completing with an error (the fax stays spooled); default 10 minutes.
	StoreTimeout time.Duration
	// StartTimeout ends a fax whose far end has not negotiated a rate by
	// then (0: no limit beyond T.30's own timers).
	StartTimeout time.Duration
	// MaxDuration ends a fax that takes longer (0: no limit).
	MaxDuration time.Duration
}

// Switch is what the server needs from the telephony side beyond the calls
// it is handed: placing outbound calls. *eslbridge.Bridge implements it.
type Switch interface {
	Dial(ctx context.Context, req eslbridge.DialRequest) (*eslbridge.Call, error)
}

// Store keeps a received fax and returns its URL. *storage.Spool implements it.
type Store interface {
	StoreFile(ctx context.Context, key, path string) (storage.Object, error)
}

// Fetcher downloads a document to send. *fetch.Fetcher implements it.
type Fetcher interface {
	Fetch(ctx context.Context, rawURL, dir string) (*fetch.Document, error)
}

// Server is a running Rayo service.
type Server struct {
	cfg     Config
	log     *slog.Logger
	domain  jid.JID
	sw      Switch
	store   Store
	fetcher Fetcher
	clients map[string]bool // bare JIDs

	mu        sync.Mutex
	calls     map[string]*call
	available map[string]jid.JID // full JID string -> JID, of allowed clients
	queue     []*wire.Element
	queueWake chan struct{}
	dropped   int
	connected bool
	draining  bool
	active    sync.WaitGroup // running components
}

// Drain makes the server refuse new offers (they are rejected) and new
// components (resource-constraint) while running ones finish: the first step
// of a graceful shutdown.
func (s *Server) Drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.log.Info("rayo: draining: new calls and components are refused")
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// New checks the configuration and returns a Server; Run connects it.
func New(cfg Config, sw Switch, store Store, fetcher Fetcher) (*Server, error) {
	if cfg.Domain == "" {
		return nil, errors.New("rayo: Domain is required")
	}
	d, err := jid.Parse(cfg.Domain)
	if err != nil || d.Localpart() != "" || d.Resourcepart() != "" {
		return nil, fmt.Errorf("rayo: domain %q is not a bare domain", cfg.Domain)
	}
	if cfg.Server == "" {
		return nil, errors.New("rayo: Server (the XMPP component address) is required")
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 10000
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(10*time.Second, cfg.MinBackoff)
	}
	if cfg.Fax.StoreTimeout <= 0 {
		cfg.Fax.StoreTimeout = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, domain: d, sw: sw, store: store, fetcher: fetcher,
		clients:   map[string]bool{},
		calls:     map[string]*call{},
		available: map[string]jid.JID{},
		queueWake: make(chan struct{}, 1),
	}
	for _, c := range cfg.Clients {
		j, err := jid.Parse(c)
		if err != nil {
			return nil, fmt.Errorf("rayo: client %q: %w", c, err)
		}
		s.clients[j.Bare().String()] = true
	}
	return s, nil
}

// Connected reports whether the component connection is up.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Run keeps the component connected until ctx ends, reconnecting with capped
// exponential backoff. It returns nil when ctx ends.
func (s *Server) Run(ctx context.Context) error {
	backoff := s.cfg.MinBackoff
	for {
		start := time.Now()
		err := s.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > 10*s.cfg.MinBackoff {
			backoff = s.cfg.MinBackoff // it was up for a while: start over
		}
		s.log.Warn("xmpp: component connection lost", "server", s.cfg.Server, "err", err, "retry_in", backoff)
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Reconnects.Inc()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, s.cfg.MaxBackoff)
	}
}

func (s *Server) runOnce(ctx context.Context) error {
	dialer := net.Dialer{Timeout: 10 * time.Second}
	conn, err := dialer.DialContext(ctx, "tcp", s.cfg.Server)
	if err != nil {
		return err
	}
	nctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	sess, err := xmppcomponent.NewSession(nctx, s.domain, []byte(s.cfg.Secret), conn)
	cancel()
	if err != nil {
		conn.Close()
		return fmt.Errorf("component handshake: %w", err)
	}
	s.log.Info("xmpp: component connected", "server", s.cfg.Server, "domain", s.cfg.Domain)
	s.setConnected(true)
	defer s.setConnected(false)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	sendErr := make(chan error, 1)
	go func() { sendErr <- s.sendLoop(sctx, sess) }()
	go func() {
		<-sctx.Done()
		sess.Close()
		conn.Close()
	}()
	// Offer calls that arrived while we were away to the clients who are
	// now available: they announce themselves again after a reconnect.
	serveErr := sess.Serve(xmpp.HandlerFunc(s.handle))
	stop()
	if err := <-sendErr; err != nil && serveErr == nil {
		serveErr = err
	}
	if serveErr == nil {
		serveErr = errors.New("stream closed")
	}
	// Presence does not survive the connection: clients announce themselves
	// again when we are back.
	s.mu.Lock()
	clear(s.available)
	s.mu.Unlock()
	return serveErr
}

func (s *Server) setConnected(up bool) {
	s.mu.Lock()
	s.connected = up
	s.mu.Unlock()
	if s.cfg.Metrics != nil {
		v := 0.0
		if up {
			v = 1
		}
		s.cfg.Metrics.Connected.Set(v)
	}
}

// enqueue adds a stanza to the ordered outbound queue.
func (s *Server) enqueue(st *wire.Element) {
	s.mu.Lock()
	if len(s.queue) >= s.cfg.QueueSize {
		s.dropped++
		s.mu.Unlock()
		s.log.Error("xmpp: event queue full, stanza dropped", "queue_size", s.cfg.QueueSize, "dropped", s.dropped, "stanza", st.Name.Local)
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Dropped.Inc()
		}
		return
	}
	s.queue = append(s.queue, st)
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Queue.Set(float64(len(s.queue)))
	}
	s.mu.Unlock()
	select {
	case s.queueWake <- struct{}{}:
	default:
	}
}

// sendLoop writes queued stanzas in order. A stanza leaves the queue only once
// written, so a failed write is retried on the next connection.
func (s *Server) sendLoop(ctx context.Context, sess *xmpp.Session) error {
	for {
		s.mu.Lock()
		var head *wire.Element
		if len(s.queue) > 0 {
			head = s.queue[0]
		}
		s.mu.Unlock()
		if head == nil {
			select {
			case <-ctx.Done():
				return nil
			case <-s.queueWake:
				continue
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := sess.Send(wctx, head.TokenReader())
		cancel()
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		s.mu.Lock()
		if len(s.queue) > 0 && s.queue[0] == head {
			s.queue[0] = nil
			s.queue = s.queue[1:]
		}
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Queue.Set(float64(len(s.queue)))
		}
		s.mu.Unlock()
	}
}

// QueueLen returns how many stanzas wait to be sent.
func (s *Server) QueueLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Wait blocks until every running component has completed or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handle receives every stanza addressed to the component.
func (s *Server) handle(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	st, err := wire.ReadElement(t, *start)
	if err != nil {
		s.log.Warn("xmpp: unreadable stanza", "err", err)
		return nil
	}
	s.dispatch(st)
	return nil
}
