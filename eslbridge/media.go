package eslbridge

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/rayofax/rayofax/eslbridge/audio"
	"github.com/rayofax/rayofax/eslbridge/esl"
)

// MediaHandler consumes a call's audio: for every 20 ms frame received
// (in, 160 samples of 8 kHz linear PCM; silence for a lost frame) it fills
// exactly one frame to send (out). A fax terminal with Rx/Tx methods adapts
// in two lines. Frame runs on a media goroutine that, on Linux, serves other
// calls' streams too: it must not block (no disk I/O, no fsync, no waiting
// on locks held for long), or their answers are late as well.
type MediaHandler = audio.Handler

// Media is a call's running audio stream.
type Media struct {
	c     *Call
	h     MediaHandler
	b     *Bridge
	pair  portPair
	st    *audio.Stream
	swIP  string
	local string

	mu           sync.Mutex
	interruptedN int // applications seen starting while streaming
	restarting   bool
	stopped      bool
	err          error
	done         chan struct{}
}

// Done is closed when the media has ended: stopped, call ended, or failed
// (see Err).
func (m *Media) Done() <-chan struct{} { return m.done }

// Err says why media failed, or nil.
func (m *Media) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Stats returns the stream's counters (see audio.Stats).
func (m *Media) Stats() audio.Stats {
	m.mu.Lock()
	st := m.st
	m.mu.Unlock()
	if st == nil {
		return audio.Stats{}
	}
	return st.Stats()
}

// Ports returns our UDP port and the switch's.
func (m *Media) Ports() (ours, switchs int) { return m.pair.ours, m.pair.sw }

// StartMedia streams the call's audio to h: it waits until the channel is
// parked, binds a port pair, sends unicast and waits for the first
// datagram. If none comes (the switch could not bind its port, or the
// channel left park), it re-parks the channel and tries another pair, up
// to three times, then fails with an error wrapping audio.ErrNoMedia.
func (c *Call) StartMedia(ctx context.Context, h MediaHandler) (*Media, error) {
	if h == nil {
		return nil, errors.New("eslbridge: start media: nil handler")
	}
	c.mu.Lock()
	if c.media != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("eslbridge: start media on %s: already streaming", c.ID)
	}
	m := &Media{c: c, h: h, b: c.b, done: make(chan struct{})}
	c.media = m
	c.mu.Unlock()
	err := m.start(ctx, false)
	if err != nil {
		c.mu.Lock()
		if c.media == m {
			c.media = nil
		}
		c.mu.Unlock()
		m.release()
		m.finish(err)
		return nil, fmt.Errorf("eslbridge: start media on %s: %w", c.ID, err)
	}
	return m, nil
}

// start (re)starts the switch's stream, keeping our socket when reuse is
// set and it is still bound.
func (m *Media) start(ctx context.Context, reuse bool) error {
	c := m.c
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 || reuse {
			if err := c.repark(ctx); err != nil {
				return err
			}
		} else if err := c.waitParked(ctx); err != nil {
			return err
		}
		if m.st == nil || attempt > 0 {
			if m.st != nil {
				m.b.ports.quarantine(m.pair)
				m.st.Close()
				m.mu.Lock()
				m.st = nil
				m.mu.Unlock()
			}
			pair, st, err := m.b.ports.acquire(m.b.cfg.MediaIP, m.h)
			if err != nil {
				return err
			}
			m.mu.Lock()
			m.pair, m.st = pair, st
			m.mu.Unlock()
			swAddr, err := netip.ParseAddr(m.b.cfg.SwitchMediaIP)
			if err != nil {
				return fmt.Errorf("eslbridge: switch media address %q: %w", m.b.cfg.SwitchMediaIP, err)
			}
			st.Expect(netip.AddrPortFrom(swAddr, uint16(pair.sw)))
		}
		conn, err := c.conn()
		if err != nil {
			return err
		}
		mark := m.st.Received()
		err = conn.StartUnicast(ctx, c.ID, esl.Unicast{
			LocalIP: m.b.cfg.SwitchMediaIP, LocalPort: m.pair.sw,
			RemoteIP: m.b.cfg.MediaIP, RemotePort: m.pair.ours,
		})
		if err != nil {
			return err
		}
		err = m.st.WaitReceived(ctx, mark, m.b.cfg.MediaStartTimeout)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || c.ended() {
			return err
		}
		lastErr = err
		m.b.log.Warn("eslbridge: unicast did not start, trying another port pair",
			"call", c.ID, "switch_port", m.pair.sw, "err", err)
	}
	return lastErr
}

// interrupted: an application started on the channel; the switch's stream
// is paused and will be torn down when it completes.
func (m *Media) interrupted() {
	m.mu.Lock()
	m.interruptedN++
	m.mu.Unlock()
}

// recover: an application completed; if it interrupted the stream, re-park
// and restart unicast on the same ports.
func (m *Media) recover() {
	m.mu.Lock()
	if m.interruptedN == 0 || m.stopped || m.restarting {
		m.mu.Unlock()
		return
	}
	m.interruptedN = 0
	m.restarting = true
	m.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := m.start(ctx, true)
		m.mu.Lock()
		m.restarting = false
		stopped := m.stopped
		m.mu.Unlock()
		if err != nil && !stopped && !m.c.ended() {
			m.b.log.Error("eslbridge: media recovery failed", "call", m.c.ID, "err", err)
			m.c.stopMedia(ctx, false)
			m.finish(fmt.Errorf("eslbridge: media recovery on %s: %w", m.c.ID, err))
		} else if err == nil {
			m.b.log.Info("eslbridge: media restarted after application", "call", m.c.ID)
		}
	}()
}

// Stop ends the stream: the channel is re-parked (which tears unicast
// down on the switch) and the ports are released.
func (m *Media) Stop(ctx context.Context) error {
	return m.c.stopMedia(ctx, true)
}

// stopMedia ends the call's media, re-parking the channel if asked and the
// call is still up.
func (c *Call) stopMedia(ctx context.Context, repark bool) error {
	c.mu.Lock()
	m := c.media
	c.media = nil
	c.mu.Unlock()
	if m == nil {
		return nil
	}
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	var err error
	if repark && !c.ended() {
		err = c.repark(ctx)
	}
	m.release()
	m.finish(nil)
	return err
}

func (m *Media) release() {
	if m.st != nil {
		m.b.addEnded(m.st.Stats())
		m.st.Close()
		m.b.ports.release(m.pair)
	}
}

func (m *Media) finish(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.done:
		return
	default:
	}
	m.err = err
	close(m.done)
}

// portPair is one stream's ports: ours (even) and the switch's (odd).
type portPair struct{ ours, sw int }

// portPool hands out port pairs round-robin, so a pair just released is
// not reused at once, and skips pairs that failed for a while.
type portPool struct {
	mu       sync.Mutex
	min, n   int
	next     int
	inUse    map[int]bool
	badUntil map[int]time.Time
}

func newPortPool(lo, hi int) *portPool {
	lo += lo & 1 // even
	return &portPool{min: lo, n: (hi - lo + 1) / 2, inUse: map[int]bool{}, badUntil: map[int]time.Time{}}
}

var errNoPorts = errors.New("eslbridge: no free media port pair")

// acquire binds our end of the next free pair.
func (p *portPool) acquire(ip string, h audio.Handler) (portPair, *audio.Stream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for range p.n {
		i := p.next
		p.next = (p.next + 1) % p.n
		if p.inUse[i] || now.Before(p.badUntil[i]) {
			continue
		}
		pair := portPair{ours: p.min + 2*i, sw: p.min + 2*i + 1}
		st, err := audio.Listen(ip, pair.ours, h)
		if err != nil {
			p.badUntil[i] = now.Add(30 * time.Second)
			continue
		}
		p.inUse[i] = true
		return pair, st, nil
	}
	return portPair{}, nil, errNoPorts
}

func (p *portPool) release(pp portPair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inUse, (pp.ours-p.min)/2)
}

// quarantine releases a pair and keeps it unused for a while (the switch
// could not bind its port).
func (p *portPool) quarantine(pp portPair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := (pp.ours - p.min) / 2
	delete(p.inUse, i)
	p.badUntil[i] = time.Now().Add(30 * time.Second)
}
