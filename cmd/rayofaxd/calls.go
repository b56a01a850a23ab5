package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/rayo"
)

// startCalls connects rayofaxd to FreeSWITCH (eslbridge) and to the XMPP
// server (rayo): offers flow from the bridge to the Rayo service, commands
// from the service to the bridge, and every fax component counts as active
// work for the shutdown.
func (d *daemon) startCalls(ctx context.Context) error {
	c := d.cfg
	work := filepath.Join(c.StateDir, "work")
	if err := os.MkdirAll(work, 0o750); err != nil {
		return err
	}
	var srv *rayo.Server
	bridge, err := eslbridge.New(eslbridge.Config{
		Addr:           c.ESL.Address,
		Password:       c.ESL.Password.Reveal(),
		CommandTimeout: c.ESL.CommandTimeout,
		MinBackoff:     c.ESL.ReconnectMin,
		MaxBackoff:     c.ESL.ReconnectMax,
		MarkVariable:   c.ESL.MarkVariable,
		OfferTimeout:   c.ESL.OfferTimeout,
		Context:        c.ESL.Context,
		MediaIP:        c.Audio.BindAddress,
		SwitchMediaIP:  c.Audio.SwitchAddress,
		PortMin:        c.Audio.PortMin,
		PortMax:        c.Audio.PortMax,
		OnOffer:        func(call *eslbridge.Call) { srv.Offer(call) },
		Logger:         d.log,
	})
	if err != nil {
		return err
	}
	srv, err = rayo.New(rayo.Config{
		Domain:       c.XMPP.Domain,
		Server:       c.XMPP.Server,
		Secret:       c.XMPP.Secret.Reveal(),
		Clients:      c.XMPP.Clients,
		QueueSize:    c.XMPP.QueueSize,
		MinBackoff:   c.XMPP.ReconnectMin,
		MaxBackoff:   c.XMPP.ReconnectMax,
		DialTemplate: c.XMPP.DialTemplate,
		WorkDir:      work,
		Logger:       d.log,
		Metrics:      rayo.NewMetrics(d.reg),
		Track:        d.active.Begin,
		Fax: rayo.FaxDefaults{
			Ident:        c.Fax.Ident,
			Header:       c.Fax.Header,
			NoECM:        !c.Fax.ECM,
			MaxRate:      c.Fax.MaxRate,
			NoV17:        !c.Fax.V17,
			StartTimeout: c.Fax.StartTimeout,
			MaxDuration:  c.Fax.Timeout,
		},
	}, bridge, d.store, d.fetcher)
	if err != nil {
		return err
	}
	d.bridge, d.rayo = bridge, srv
	registerBridgeMetrics(d.reg, bridge)
	d.ready.Add("esl", func() error {
		if !bridge.Connected() {
			return errors.New("not connected to FreeSWITCH at " + c.ESL.Address)
		}
		return nil
	})
	d.ready.Add("xmpp", func() error {
		if !srv.Connected() {
			return errors.New("not connected to the XMPP server at " + c.XMPP.Server)
		}
		return nil
	})
	// The connections outlive ctx (SIGTERM) until the grace period is over,
	// so faxes in progress can finish and report.
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); bridge.Run(cctx) }()
	go func() { defer wg.Done(); srv.Run(cctx) }()
	d.stopCalls = func() {
		// Let the last completions and ends reach the clients first.
		for i := 0; i < 50 && srv.Connected() && srv.QueueLen() > 0; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		if n := srv.QueueLen(); n > 0 {
			d.log.Warn("rayofaxd: Rayo events not delivered at shutdown", "events", n)
		}
		cancel()
		wg.Wait()
	}
	return nil
}
