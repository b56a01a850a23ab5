package fsim

import (
	"math"
	"sync"
)

// Peer is the far end of a simulated call: every 20 ms it hears in (what
// the client sent, or silence) and says out. Both hold FrameSamples
// samples. Process is called by one goroutine at a time: the simulator's
// clock goroutine (or, with Config.ClockWorkers, one of its workers).
type Peer interface {
	Process(in, out []int16)
}

// PeerFunc adapts a function to Peer.
type PeerFunc func(in, out []int16)

// Process calls f.
func (f PeerFunc) Process(in, out []int16) { f(in, out) }

// Silence says nothing.
type Silence struct{}

// Process writes zeros.
func (Silence) Process(in, out []int16) { clear(out) }

// Tone says a continuous sine wave.
type Tone struct {
	Freq float64 // Hz
	Amp  float64 // peak
	n    int
}

// Process writes the next 20 ms of the tone.
func (t *Tone) Process(in, out []int16) {
	for i := range out {
		out[i] = int16(math.Round(t.Amp * math.Sin(2*math.Pi*t.Freq*float64(t.n)/8000)))
		t.n++
	}
}

// Recorder wraps a peer and keeps everything the far end heard.
type Recorder struct {
	Peer Peer // nil is Silence

	mu    sync.Mutex
	heard []int16
}

// Process records in and lets the wrapped peer answer.
func (r *Recorder) Process(in, out []int16) {
	r.mu.Lock()
	r.heard = append(r.heard, in...)
	r.mu.Unlock()
	if r.Peer == nil {
		clear(out)
		return
	}
	r.Peer.Process(in, out)
}

// Heard returns a copy of what was heard so far.
func (r *Recorder) Heard() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.heard...)
}

// Counter says frame numbers: every sample of frame k is int16(k+1), so a
// test can see which frames arrived, and in what order.
type Counter struct{ k int }

// Process writes the next frame number.
func (c *Counter) Process(in, out []int16) {
	c.k++
	for i := range out {
		out[i] = int16(c.k)
	}
}
