package rayo

import (
	"context"
	"sync"
	"time"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/tone"
)

// callMedia is a call's audio stream shared by its components: at most one
// fax terminal, which hears the line and talks on it, and any number of tone
// detectors, which only listen. It is the stream's eslbridge.MediaHandler:
// Frame runs on the media goroutine for every 20 ms frame.
type callMedia struct {
	m *eslbridge.Media

	mu  sync.Mutex
	fax *faxSlot
	det []*tone.Detector
}

// faxSlot is a fax terminal attached to the media.
type faxSlot struct {
	f        *faxengine.Fax
	stopReq  bool          // Stop the terminal on the next frame
	stopped  bool          // Stop was called
	finished chan struct{} // closed when the terminal is done
}

// Frame hears in, then makes out.
func (cm *callMedia) Frame(in, out []int16) {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	cm.hear(in)
	cm.speak(out)
}

// Hear takes a received frame (the stream calls it alone for a frame that
// came after its slot was answered: it is heard, not lost).
func (cm *callMedia) Hear(in []int16) {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	cm.hear(in)
}

// Speak makes the next frame to send (the stream calls it alone to answer
// a slot whose frame is overdue).
func (cm *callMedia) Speak(out []int16) {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	cm.speak(out)
}

func (cm *callMedia) hear(in []int16) {
	for _, d := range cm.det {
		d.Process(in)
	}
	if slot := cm.fax; slot != nil {
		slot.f.Rx(in)
		cm.checkDone(slot)
	}
}

func (cm *callMedia) speak(out []int16) {
	slot := cm.fax
	if slot == nil {
		clear(out)
		return
	}
	if slot.stopReq && !slot.stopped {
		slot.f.Stop()
		slot.stopped = true
	}
	slot.f.Tx(out)
	cm.checkDone(slot)
}

// checkDone takes a finished terminal off the line.
func (cm *callMedia) checkDone(slot *faxSlot) {
	if slot.f.Done() {
		cm.fax = nil
		close(slot.finished)
	}
}

// attachFax puts a terminal on the line; it reports false when one is there.
func (cm *callMedia) attachFax(f *faxengine.Fax) (*faxSlot, bool) {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if cm.fax != nil {
		return nil, false
	}
	cm.fax = &faxSlot{f: f, finished: make(chan struct{})}
	return cm.fax, true
}

// detachFax takes the terminal off the line; it reports whether it was still
// running (and now belongs to the caller alone).
func (cm *callMedia) detachFax(slot *faxSlot) bool {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if cm.fax != slot {
		return false
	}
	cm.fax = nil
	return true
}

func (cm *callMedia) requestStop(slot *faxSlot) {
	cm.mu.Lock()
	slot.stopReq = true
	cm.mu.Unlock()
}

func (cm *callMedia) addDetector(d *tone.Detector) {
	cm.mu.Lock()
	cm.det = append(cm.det, d)
	cm.mu.Unlock()
}

func (cm *callMedia) removeDetector(d *tone.Detector) {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	for i, x := range cm.det {
		if x == d {
			cm.det = append(cm.det[:i], cm.det[i+1:]...)
			return
		}
	}
}

// done is closed when the stream has ended.
func (cm *callMedia) done() <-chan struct{} { return cm.m.Done() }

func (cm *callMedia) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cm.m.Stop(ctx)
}

// ensureMedia starts the call's audio stream if it is not running.
func (c *call) ensureMedia(ctx context.Context) (*callMedia, error) {
	c.mu.Lock()
	if c.media != nil {
		select {
		case <-c.media.done():
			c.media = nil // it failed or stopped: start again
		default:
			cm := c.media
			c.mu.Unlock()
			return cm, nil
		}
	}
	sc := c.sw
	c.mu.Unlock()
	cm := &callMedia{}
	m, err := sc.StartMedia(ctx, cm)
	if err != nil {
		return nil, err
	}
	cm.m = m
	c.mu.Lock()
	c.media = cm
	c.mu.Unlock()
	return cm, nil
}
