package esl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Client keeps one connection to the switch alive: it dials, authenticates,
// subscribes and calls OnConnect, and when the connection drops it dials
// again after a capped exponential backoff. Commands go to the current
// connection and fail fast with ErrClosed while there is none.
type Client struct {
	Addr    string
	Options Options // Password, Timeout, OnEvent, Logger

	// Format is "plain" (default) or "json"; Events the subscription
	// (default ALL). BACKGROUND_JOB is always added, for BgAPI.
	Format string
	Events []string
	// Filters are sent after subscribing, in order.
	Filters []Field

	// OnConnect runs after each successful connect and subscription (for
	// example to resynchronise calls). Events may arrive and commands may
	// be sent meanwhile. An error closes the connection and counts as a
	// failed attempt.
	OnConnect func(ctx context.Context, c *Conn) error
	// OnDisconnect runs when a connection ends, after its last event was
	// handled, with the reason.
	OnDisconnect func(err error)

	// MinBackoff (default 100 ms) doubles after each failed attempt up to
	// MaxBackoff (default 10 s), with ±20 % jitter; a successful connect
	// resets it.
	MinBackoff, MaxBackoff time.Duration

	mu   sync.Mutex
	conn *Conn
	up   chan struct{} // closed while connected; replaced on disconnect
}

func (c *Client) log() *slog.Logger {
	if c.Options.Logger != nil {
		return c.Options.Logger
	}
	return slog.Default()
}

// Run connects and stays connected until ctx ends. It returns ctx.Err().
func (c *Client) Run(ctx context.Context) error {
	minB, maxB := c.MinBackoff, c.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB < minB {
		maxB = 10 * time.Second
		if maxB < minB {
			maxB = minB
		}
	}
	backoff := minB
	for {
		conn, err := c.connect(ctx)
		if err == nil {
			backoff = minB
			if c.OnConnect == nil {
				c.setConn(conn)
			}
			select {
			case <-conn.Done():
				err = conn.Err()
			case <-ctx.Done():
				conn.Close()
				<-conn.Done()
				c.setConn(nil)
				return ctx.Err()
			}
			c.setConn(nil)
			c.log().Warn("esl: disconnected", "addr", c.Addr, "err", err)
			if c.OnDisconnect != nil {
				c.OnDisconnect(err)
			}
		} else {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			lvl := slog.LevelWarn
			if errors.Is(err, ErrAuth) || errors.Is(err, ErrRejected) {
				lvl = slog.LevelError
			}
			c.log().Log(ctx, lvl, "esl: connect failed", "addr", c.Addr, "err", err, "retry_in", backoff)
		}
		wait := time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		if err != nil {
			backoff = min(backoff*2, maxB)
		}
	}
}

func (c *Client) connect(ctx context.Context) (*Conn, error) {
	conn, err := Dial(ctx, c.Addr, c.Options)
	if err != nil {
		return nil, err
	}
	format := c.Format
	if format == "" {
		format = "plain"
	}
	names := c.Events
	if len(names) == 0 {
		names = []string{"ALL"}
	} else {
		names = append(append([]string(nil), names...), "BACKGROUND_JOB")
	}
	fail := func(err error) (*Conn, error) {
		conn.Close()
		<-conn.Done()
		return nil, err
	}
	if err := conn.Subscribe(ctx, format, names...); err != nil {
		return fail(fmt.Errorf("esl: subscribe: %w", err))
	}
	for _, f := range c.Filters {
		if err := conn.Filter(ctx, f.Name, f.Value); err != nil {
			return fail(fmt.Errorf("esl: filter %s: %w", f.Name, err))
		}
	}
	if c.OnConnect != nil {
		// Commands may use the connection while OnConnect runs.
		c.setConn(conn)
		if err := c.OnConnect(ctx, conn); err != nil {
			c.setConn(nil)
			return fail(fmt.Errorf("esl: on connect: %w", err))
		}
	}
	return conn, nil
}

func (c *Client) setConn(conn *Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = conn
	if c.up == nil {
		c.up = make(chan struct{})
	}
	if conn != nil {
		close(c.up)
	} else {
		select {
		case <-c.up:
			c.up = make(chan struct{})
		default:
		}
	}
}

// Conn returns the current connection, or ErrClosed while disconnected.
func (c *Client) Conn() (*Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil, fmt.Errorf("%w: not connected to %s", ErrClosed, c.Addr)
	}
	return c.conn, nil
}

// WaitConnected blocks until a connection is up or ctx ends.
func (c *Client) WaitConnected(ctx context.Context) (*Conn, error) {
	for {
		c.mu.Lock()
		if c.up == nil {
			c.up = make(chan struct{})
		}
		up, conn := c.up, c.conn
		c.mu.Unlock()
		if conn != nil {
			return conn, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
