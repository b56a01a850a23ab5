package faxengine

import (
	"bytes"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tiff"
	"github.com/rayofax/rayofax/test/testenv"
)

// memFile is a TIFF destination in memory whose Sync can be held up or
// fail.
type memFile struct {
	mu      sync.Mutex
	b       []byte
	gate    chan struct{} // Sync waits for it when not nil
	syncErr error
	syncs   int
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := int(off) + len(p); n > len(m.b) {
		m.b = append(m.b, make([]byte, n-len(m.b))...)
	}
	copy(m.b[off:], p)
	return len(p), nil
}

func (m *memFile) Sync() error {
	if m.gate != nil {
		<-m.gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncs++
	return m.syncErr
}

func memReceiver(t *testing.T, m *memFile) *Fax {
	return memReceiverWith(t, m, Options{Ident: "+15551234567"})
}

func memReceiverWith(t *testing.T, m *memFile, o Options) *Fax {
	t.Helper()
	w, err := tiff.NewWriter(m, tiff.WriterOptions{Coding: tiff.MH})
	if err != nil {
		t.Fatal(err)
	}
	rx, err := newReceiver(w, filepath.Join(t.TempDir(), "none.tif"), o)
	if err != nil {
		t.Fatal(err)
	}
	return rx
}

func sender(t *testing.T) *Fax {
	t.Helper()
	in := filepath.Join(testenv.SharedDir(t), "testdata", "chart-p1-fine-g3.tif")
	tx, err := NewSender(in, Options{Caller: true, Ident: "+4930123"})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// While the disk holds a received page up (its fsync does not return),
// the audio path goes on (Rx and Tx return, sending silence) and the
// terminal's answer to the page waits: the sender has no confirmation
// until the page is synced; then the fax completes.
func TestPageWriteOffAudioPath(t *testing.T) {
	m := &memFile{gate: make(chan struct{})}
	rx, tx := memReceiver(t, m), sender(t)
	ba, bb := make([]int16, 160), make([]int16, 160)
	heldFrames, released := 0, false
	for n := 0; n < 8000*600 && !(tx.Done() && rx.Done()); n += 160 {
		tx.Tx(ba)
		rx.Tx(bb)
		tx.Rx(bb)
		rx.Rx(ba)
		if !released && rx.sink.busy() {
			heldFrames++
			for _, v := range bb {
				if v != 0 {
					t.Fatal("receiver sent a signal while its page was being written")
				}
			}
			if tx.Report().Pages != 0 {
				t.Fatal("sender has the page confirmed before the page was synced")
			}
			if heldFrames == 20 { // 400 ms: less than maxHold
				close(m.gate)
				released = true
			}
		}
	}
	if !released {
		t.Fatal("no page was written")
	}
	rt, rr := tx.Report(), rx.Report()
	if err := rx.Close(); err != nil {
		t.Fatal(err)
	}
	if rt.Result != t30.OK || rr.Result != t30.OK || rr.Pages != 1 || m.syncs != 1 {
		t.Fatalf("sender %v, receiver %v (%d pages), %d syncs", rt.Result, rr.Result, rr.Pages, m.syncs)
	}
	f, err := tiff.NewReader(bytes.NewReader(m.b), int64(len(m.b)), tiff.DefaultLimits)
	if err != nil || f.NumPages() != 1 {
		t.Fatalf("file written: %v", err)
	}
}

// Offline, Tx waits for the page's write instead of sending silence: no
// line time passes while the page is written.
func TestOfflineWaitsForTheWrite(t *testing.T) {
	m := &memFile{gate: make(chan struct{})}
	rx, tx := memReceiverWith(t, m, Options{Ident: "+15551234567", Offline: true}), sender(t)
	ba, bb := make([]int16, 160), make([]int16, 160)
	var held int
	for n := 0; n < 8000*600 && !(tx.Done() && rx.Done()); n += 160 {
		tx.Tx(ba)
		if rx.sink.busy() {
			if held++; held == 1 {
				go func() { close(m.gate) }() // the disk is done while Tx waits
			}
		}
		rx.Tx(bb)
		if held > 0 && rx.sink.busy() {
			t.Fatal("Tx returned with the page not yet written")
		}
		tx.Rx(bb)
		rx.Rx(ba)
	}
	if held != 1 {
		t.Fatalf("the page was pending at %d Tx calls, want 1", held)
	}
	rx.Close()
	if rt, rr := tx.Report(), rx.Report(); rt.Result != t30.OK || rr.Result != t30.OK || rr.Pages != 1 {
		t.Fatalf("sender %v, receiver %v (%d pages)", rt.Result, rr.Result, rr.Pages)
	}
}

// A page that cannot be stored is not confirmed: the receiver ends the
// call at once with ErrPageStore, and Close reports the error.
func TestPageStoreFailure(t *testing.T) {
	m := &memFile{syncErr: errors.New("disk on fire")}
	rx, tx := memReceiver(t, m), sender(t)
	run(t, tx, rx, 8000*600)
	err := rx.Close()
	if err == nil || rx.Report().Result != t30.ErrPageStore || rx.Err() == nil {
		t.Fatalf("Close %v, result %v, Err %v: want the sync error and ErrPageStore", err, rx.Report().Result, rx.Err())
	}
	if tx.Report().Pages != 0 || tx.Report().Result == t30.OK {
		t.Fatalf("sender: %+v, want no page confirmed", tx.Report())
	}
}
