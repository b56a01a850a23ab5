package rayo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tone"
	"github.com/rayofax/rayofax/rayo/wire"
	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/fetch"
)

// component is a running Rayo component of a call.
type component struct {
	c     *call
	id    string
	addr  jid.JID // call@domain/id
	owner jid.JID
	kind  string // receivefax, sendfax, input
	log   *slog.Logger

	stopOnce sync.Once
	stopCh   chan struct{} // closed by a stop command
	endOnce  sync.Once
	endCh    chan struct{} // closed when the call ends
	done     chan struct{} // closed after the complete event was queued

	negotiated atomic.Bool // a fax component's terminals agreed on a rate
	key        string      // receivefax: the storage key of the fax
}

func (k *component) requestStop() { k.stopOnce.Do(func() { close(k.stopCh) }) }
func (k *component) callEnded()   { k.endOnce.Do(func() { close(k.endCh) }) }

func (c *call) newComponent(owner jid.JID, kind string) *component {
	id := newID()
	return &component{
		c: c, id: id, owner: owner, kind: kind,
		addr:   jid.MustParse(c.addr.String() + "/" + id),
		log:    c.s.log.With("call_id", c.id, "component_id", id, "component", kind),
		stopCh: make(chan struct{}), endCh: make(chan struct{}), done: make(chan struct{}),
	}
}

// startComponent validates a component command, starts the component and
// returns the <ref/> for the result (XEP-0327 6.3).
func (c *call) startComponent(st stanza, cmd wire.Command) (*wire.Element, *wire.Error) {
	c.mu.Lock()
	sc := c.sw
	for _, k := range c.comps {
		_, isInput := cmd.(*wire.Input)
		if isInput == (k.kind == "input") {
			c.mu.Unlock()
			return nil, &wire.Error{Type: wire.Cancel, Condition: wire.Conflict,
				Text: fmt.Sprintf("a %s component (%s) is already running on this call", k.kind, k.id)}
		}
	}
	c.mu.Unlock()
	if c.s.isDraining() {
		return nil, &wire.Error{Type: wire.Wait, Condition: wire.ResourceConstraint, Text: "rayofax is shutting down"}
	}
	if !sc.Answered() {
		return nil, &wire.Error{Type: wire.Wait, Condition: wire.UnexpectedRequest,
			Text: "the call must be answered first: rayofax has no early media"}
	}
	if sf, ok := cmd.(*wire.SendFax); ok {
		if _, err := sendIdentity(sf); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cm, err := c.ensureMedia(ctx)
	if err != nil {
		return nil, &wire.Error{Type: wire.Wait, Condition: wire.ResourceConstraint, Text: "audio stream: " + err.Error()}
	}
	k := c.newComponent(st.from, cmd.Name())
	var start func()
	switch cmd := cmd.(type) {
	case *wire.ReceiveFax:
		if err := os.MkdirAll(c.s.cfg.WorkDir, 0o750); err != nil {
			return nil, &wire.Error{Type: wire.Wait, Condition: wire.ResourceConstraint, Text: "work directory: " + err.Error()}
		}
		k.key = time.Now().UTC().Format("2006/01/02") + "/" + c.id + "-" + k.id + ".tif"
		path := filepath.Join(c.s.cfg.WorkDir, c.id+"-"+k.id+".tif")
		if inc, ok := c.s.store.(incomingStore); ok {
			// Written straight into the spool, a page synced there survives
			// even a crash of the daemon: the spool stores it at the next
			// start.
			if path, err = inc.IncomingPath(k.key); err != nil {
				return nil, &wire.Error{Type: wire.Wait, Condition: wire.ResourceConstraint, Text: "spool: " + err.Error()}
			}
		}
		f, err := faxengine.NewReceiver(path, c.s.faxOptions(k, ""))
		if err != nil {
			return nil, &wire.Error{Type: wire.Wait, Condition: wire.ResourceConstraint, Text: err.Error()}
		}
		slot, ok := cm.attachFax(f)
		if !ok {
			f.Close()
			return nil, &wire.Error{Type: wire.Cancel, Condition: wire.Conflict, Text: "a fax is already on the line"}
		}
		start = func() { k.runFax(cm, slot, f, path) }
	case *wire.SendFax:
		start = func() { k.runSend(cm, cmd) }
	case *wire.Input:
		start = func() { k.runInput(cm, cmd) }
	}
	c.mu.Lock()
	c.comps[k.id] = k
	c.mu.Unlock()
	c.s.active.Add(1)
	untrack := func() {}
	if c.s.cfg.Track != nil {
		untrack = c.s.cfg.Track()
	}
	if m := c.s.cfg.Metrics; m != nil {
		m.Components.WithLabelValues(k.kind).Inc()
	}
	k.log.Info("rayo: component started", "client", st.from.String())
	go func() {
		defer c.s.active.Done()
		defer untrack()
		start()
	}()
	return wire.Ref("xmpp:" + k.addr.String()), nil
}

// finish queues the complete event and forgets the component.
func (k *component) finish(complete *wire.Element, reason string) {
	k.c.s.presence(k.addr, k.owner, "unavailable", complete)
	k.c.mu.Lock()
	delete(k.c.comps, k.id)
	k.c.mu.Unlock()
	if m := k.c.s.cfg.Metrics; m != nil {
		m.Components.WithLabelValues(k.kind).Dec()
	}
	k.log.Info("rayo: component complete", "reason", reason)
	close(k.done)
}

func (s *Server) faxOptions(k *component, ident string) faxengine.Options {
	logEvent := faxEventLogger(k.log)
	if ident == "" {
		ident = s.cfg.Fax.Ident
	}
	k.c.mu.Lock()
	outbound := k.c.sw != nil && k.c.sw.Direction == eslbridge.Outbound
	k.c.mu.Unlock()
	return faxengine.Options{
		// On a call we placed we are the calling terminal (CNG); on one
		// we answered, the called one (CED).
		Caller: outbound,
		Ident:  ident, NoECM: s.cfg.Fax.NoECM, MaxRate: s.cfg.Fax.MaxRate, NoV17: s.cfg.Fax.NoV17,
		OnEvent: func(e t30.Event) {
			if e.Kind == t30.EventRate {
				k.negotiated.Store(true)
			}
			logEvent(e)
		},
		FrameTrace: k.log.Enabled(context.Background(), slog.LevelDebug),
	}
}

// runSend fetches the documents, then sends them as one fax.
func (k *component) runSend(cm *callMedia, cmd *wire.SendFax) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-k.stopCh:
		case <-k.endCh:
		case <-ctx.Done():
		}
		cancel()
	}()
	fail := func(text string) {
		reason := wire.CompleteError(text)
		select {
		case <-k.endCh:
			reason = wire.CompleteHangup
		case <-k.stopCh:
			reason = wire.CompleteStop
		default:
		}
		k.finish(wire.Complete(reason, nil, nil), reason.Local+": "+text)
	}
	dir, err := os.MkdirTemp(k.c.s.cfg.WorkDir, "send-")
	if err != nil {
		fail("work directory: " + err.Error())
		return
	}
	defer os.RemoveAll(dir)
	var parts []faxengine.Part
	for i, d := range cmd.Documents {
		if k.c.s.fetcher == nil {
			fail("document fetching is not configured")
			return
		}
		doc, err := k.c.s.fetcher.Fetch(ctx, d.URL, dir)
		if err != nil {
			var fe *fetch.Error
			if errors.As(err, &fe) {
				fail(fmt.Sprintf("document %d: %v", i+1, fe))
			} else {
				fail(fmt.Sprintf("document %d: fetch %s: %v", i+1, d.URL, err))
			}
			return
		}
		h := d.Header
		if h == "" {
			h = k.c.s.cfg.Fax.Header
		}
		parts = append(parts, faxengine.Part{Path: doc.Path, Pages: d.PagesRaw, Header: h})
	}
	ident, _ := sendIdentity(cmd)
	opts := k.c.s.faxOptions(k, ident)
	pages, err := faxengine.LoadDocuments(parts, opts)
	if err != nil {
		fail(err.Error())
		return
	}
	f, err := faxengine.NewDocumentSender(pages, opts)
	if err != nil {
		fail(err.Error())
		return
	}
	slot, ok := cm.attachFax(f)
	if !ok {
		fail("a fax is already on the line")
		return
	}
	k.log.Info("rayo: sending fax", "documents", len(parts), "pages", len(pages))
	k.runFax(cm, slot, f, "")
}

// runFax waits for a fax terminal to end, however it ends, and completes the
// component with its outcome. out is the received file, or "" when sending.
func (k *component) runFax(cm *callMedia, slot *faxSlot, f *faxengine.Fax, out string) {
	stopped, hungUp := false, false
	var timedOut string
	startTimer, maxTimer := timer(k.c.s.cfg.Fax.StartTimeout), timer(k.c.s.cfg.Fax.MaxDuration)
	defer startTimer.Stop()
	defer maxTimer.Stop()
	stop := func() {
		cm.requestStop(slot)
		// Keep the line running until the terminal has said goodbye (DCN).
		select {
		case <-slot.finished:
		case <-k.endCh:
			hungUp = true
		case <-cm.done():
		case <-time.After(15 * time.Second):
		}
	}
wait:
	for {
		select {
		case <-slot.finished:
		case <-k.stopCh:
			stopped = true
			stop()
		case <-startTimer.C:
			if k.negotiated.Load() {
				continue
			}
			timedOut = fmt.Sprintf("no fax machine answered within %v (fax.start_timeout)", k.c.s.cfg.Fax.StartTimeout)
			stop()
		case <-maxTimer.C:
			timedOut = fmt.Sprintf("the fax took longer than %v (fax.timeout)", k.c.s.cfg.Fax.MaxDuration)
			stop()
		case <-k.endCh:
			hungUp = true
		case <-cm.done():
			hungUp = true
		}
		break wait
	}
	if cm.detachFax(slot) {
		f.Hangup() // the line is gone (or the stop took too long)
	}
	if err := f.Close(); err != nil {
		k.log.Error("rayo: fax file", "err", err)
	}
	rep := f.Report()
	select {
	case <-k.endCh:
		hungUp = true
	default:
	}
	dir := "send"
	if out != "" {
		dir = "receive"
	}
	if m := k.c.s.cfg.Metrics; m != nil {
		m.FaxResults.WithLabelValues(dir, rep.Result.Name()).Inc()
		m.FaxPages.WithLabelValues(dir).Add(float64(rep.Pages))
		m.ECMRetrans.WithLabelValues(dir).Add(float64(rep.Retransmits))
	}
	k.log.Info("rayo: fax ended", "direction", dir, "result", rep.Result.Name(), "text", rep.Result.String(),
		"pages", rep.Pages, "rate", rep.Rate.BitRate, "ecm", rep.ECM, "retransmits", rep.Retransmits, "remote_ident", rep.RemoteIdent)

	var fax *wire.Fax
	var storeErr error
	if out != "" {
		if rep.Pages > 0 && rep.File != "" {
			fax, storeErr = k.store(rep)
		} else {
			k.discard(out)
		}
	}
	var reason wire.CompleteReason
	switch {
	case stopped:
		reason = wire.CompleteStop
	case timedOut != "":
		reason = wire.CompleteError(timedOut)
	case hungUp:
		reason = wire.CompleteHangup
	case rep.Result.Success() && storeErr == nil:
		reason = wire.CompleteFinish
	case storeErr != nil:
		reason = wire.CompleteError("storing the fax: " + storeErr.Error())
	default:
		reason = wire.CompleteError(rep.Result.String())
	}
	k.finish(wire.Complete(reason, fax, faxMetadata(rep)), reason.Local)
}

// store keeps the received file and returns the <fax/> for it.
func (k *component) store(rep faxengine.Report) (*wire.Fax, error) {
	if k.c.s.store == nil {
		return nil, errors.New("no storage configured")
	}
	key := k.key
	ctx, cancel := context.WithTimeout(context.Background(), k.c.s.cfg.Fax.StoreTimeout)
	defer cancel()
	var obj storage.Object
	var err error
	if inc, ok := k.c.s.store.(incomingStore); ok {
		obj, err = inc.StoreIncoming(ctx, key)
	} else {
		obj, err = k.c.s.store.StoreFile(ctx, key, rep.File)
		if err == nil {
			os.Remove(rep.File)
		}
	}
	if err != nil {
		// The file stays where it is (spooled, or in the work directory):
		// nothing received is deleted on a failure.
		k.log.Error("rayo: storing fax", "key", key, "file", rep.File, "err", err)
		return nil, err
	}
	k.log.Info("rayo: fax stored", "key", key, "bytes", rep.FileSize)
	return &wire.Fax{URL: obj.URL, Width: rep.Width, Height: rep.Height, Pages: rep.Pages, Size: rep.FileSize}, nil
}

// discard removes the file of a receive that got no page.
func (k *component) discard(path string) {
	if inc, ok := k.c.s.store.(incomingStore); ok {
		if err := inc.DiscardIncoming(k.key); err != nil {
			k.log.Warn("rayo: discarding an empty fax", "err", err)
		}
		return
	}
	os.Remove(path)
}

// incomingStore is a Store that lets a fax be written straight into its
// spool while it is received (*storage.Spool).
type incomingStore interface {
	IncomingPath(key string) (string, error)
	StoreIncoming(ctx context.Context, key string) (storage.Object, error)
	DiscardIncoming(key string) error
}

// faxMetadata lists a fax's details as <metadata/> (names documented in the
// README).
func faxMetadata(r faxengine.Report) []wire.Metadata {
	md := []wire.Metadata{
		{Name: "fax-result", Value: r.Result.Name()},
		{Name: "fax-result-text", Value: r.Result.String()},
		{Name: "fax-pages", Value: strconv.Itoa(r.Pages)},
		{Name: "fax-transfer-rate", Value: strconv.Itoa(r.Rate.BitRate)},
		{Name: "fax-ecm", Value: strconv.FormatBool(r.ECM)},
		{Name: "fax-bad-rows", Value: strconv.Itoa(r.BadRows)},
		{Name: "fax-duration-ms", Value: strconv.Itoa(r.Samples / 8)},
	}
	if r.RemoteIdent != "" {
		md = append(md, wire.Metadata{Name: "fax-remote-ident", Value: r.RemoteIdent})
	}
	if r.PagesTotal > 0 {
		md = append(md, wire.Metadata{Name: "fax-pages-total", Value: strconv.Itoa(r.PagesTotal)})
	}
	if r.Encoding != 0 {
		md = append(md, wire.Metadata{Name: "fax-encoding", Value: fmt.Sprint(r.Encoding)})
	}
	if r.ECM {
		md = append(md, wire.Metadata{Name: "fax-ecm-retransmits", Value: strconv.Itoa(r.Retransmits)})
	}
	return md
}

// runInput detects fax tones (XEP-0341) until a terminating grammar matches,
// the component is stopped or the call ends.
func (k *component) runInput(cm *callMedia, cmd *wire.Input) {
	want := map[string]wire.CPAGrammar{}
	for _, g := range cmd.Grammars {
		want[g.Signal] = g
	}
	events := make(chan tone.Event, 16)
	det := tone.NewDetector(func(e tone.Event) {
		select {
		case events <- e:
		default: // a burst of tones while we are slow: later ones repeat
		}
	})
	cm.addDetector(det)
	defer cm.removeDetector(det)
	for {
		select {
		case e := <-events:
			var sig string
			switch {
			case e.Tone == tone.CNG:
				sig = wire.SignalFaxCNG
			case e.Tone == tone.CED && !e.Ended:
				sig = wire.SignalFaxCED
			default:
				continue
			}
			g, ok := want[sig]
			if !ok {
				continue // not asked for: ignored, as XEP-0341 says
			}
			ms := e.Duration / 8
			k.log.Info("rayo: CPA signal", "signal", sig, "duration_ms", ms, "level_dbm0", e.Level)
			signal := wire.Signal(sig, ms, "")
			if g.Terminate {
				k.finish(wire.CompleteSignal(signal), "signal")
				return
			}
			k.c.s.presence(k.addr, k.owner, "", signal)
		case <-k.stopCh:
			k.finish(wire.Complete(wire.CompleteStop, nil, nil), "stop")
			return
		case <-k.endCh:
			k.finish(wire.Complete(wire.CompleteHangup, nil, nil), "hangup")
			return
		case <-cm.done():
			k.finish(wire.Complete(wire.CompleteError("the audio stream ended"), nil, nil), "error")
			return
		}
	}
}

func (s *Server) componentCommand(st stanza, payload *wire.Element, cmd wire.Command) {
	c := s.call(st.to.Localpart())
	var k *component
	if c != nil {
		c.mu.Lock()
		k = c.comps[st.to.Resourcepart()]
		c.mu.Unlock()
	}
	if k == nil {
		s.replyError(st, payload, &wire.Error{Type: wire.Cancel, Condition: wire.ItemNotFound, Text: "no component " + st.to.String()})
		return
	}
	if !k.owner.Equal(st.from) {
		s.replyError(st, payload, &wire.Error{Type: wire.Cancel, Condition: wire.Conflict, Text: "only the client that started the component may command it"})
		return
	}
	if _, ok := cmd.(*wire.Stop); !ok {
		s.replyError(st, payload, &wire.Error{Type: wire.Cancel, Condition: wire.FeatureNotImplemented,
			Text: "<" + cmd.Name() + "/> is not a command of a " + k.kind + " component (only <stop/>)"})
		return
	}
	k.log.Info("rayo: stop command", "client", st.from.String())
	k.requestStop()
	s.replyResult(st, nil)
}

// sendIdentity returns the identity the documents of a sendfax name. A fax
// call has one identity (TSI), so documents that name different ones are
// refused rather than sent under one of them.
func sendIdentity(sf *wire.SendFax) (string, *wire.Error) {
	ident := ""
	for _, d := range sf.Documents {
		if d.Identity == "" {
			continue
		}
		if ident != "" && d.Identity != ident {
			return "", &wire.Error{Type: wire.Modify, Condition: wire.FeatureNotImplemented,
				Text: "documents with different identities cannot go in one fax call"}
		}
		ident = d.Identity
	}
	return ident, nil
}

// timer returns a timer that fires after d, or never when d is 0.
func timer(d time.Duration) *time.Timer {
	if d <= 0 {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return t
	}
	return time.NewTimer(d)
}
