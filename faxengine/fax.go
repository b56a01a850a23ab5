// Package faxengine is the fax engine as the daemon and the rayofax tool use
// it: a sending or receiving T.30 terminal (package t30) on an audio line,
// with the documents as TIFF files. A sender reads a TIFF, selects pages,
// fits them to fax pages and stamps a header line; a receiver writes TIFF-F
// page by page as pages are confirmed, so a call that ends early leaves a
// valid file holding the pages received so far.
//
// A Fax is driven by the call's audio: Rx with each block of received
// samples, Tx for each block to send, in alternation. Time is the count of
// samples; nothing reads a clock except the header line's date.
//
// A receiving Fax has one goroutine of its own, its page writer, so that
// the audio path never waits on the disk (in the daemon one goroutine runs
// the audio of many calls): a page confirmed by the terminal is copied and
// handed to the writer, which appends it to the TIFF file and syncs it.
// Until that page is on disk, Tx sends silence and holds the terminal's
// transmitter back, so its MCF (the sender's proof the page arrived) goes
// out only after the sync, and a crash after MCF still finds the page in
// the file. A page that cannot be stored ends the call at once (no MCF),
// with t30.ErrPageStore and the error from Err and Close. When the call
// ends, the writer closes the file, and the Rx or Tx (or Close) that
// ended it waits for that before Done reports true.
package faxengine

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayofax/rayofax/faxengine/header"
	"github.com/rayofax/rayofax/faxengine/page"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/faxengine/tiff"
)

// Options configure a Fax. The zero value is a terminal that uses ECM,
// V.17 and rates up to 14400 bit/s.
type Options struct {
	Caller bool   // calling station (CNG) instead of answering (CED)
	Ident  string // our station identity (E.164: digits and '+'), up to 20 characters
	// Header, when not empty, puts a header line on every page sent: date
	// and time, this text, Ident and "Page N/M", as fax machines print it.
	Header  string
	Pages   string // sending: page ranges, XEP-0342 syntax ("1-3,5"); empty for all
	NoECM   bool   // do not use error correction mode
	MaxRate int    // highest bit rate (2400 ... 14400); 0 for 14400
	NoV17   bool   // do not use V.17 (then 9600 is the highest)
	NoMR    bool   // do not offer or use T.4 two-dimensional coding
	NoMMR   bool   // do not offer or use T.6 coding
	// Resolutions are those a receiver offers besides standard (nil: fine
	// and superfine).
	Resolutions []t30.Resolution
	// Paper limits the pages a receiver offers to take (nil: A3 wide,
	// unlimited length). A sender fits its pages to what the remote takes.
	Paper      *t30.Paper
	Coding     tiff.Coding
	Now        func() time.Time // header time; time.Now when nil
	OnEvent    func(t30.Event)  // phase changes, pages, frames (optional)
	FrameTrace bool             // also deliver EventFrameRx/EventFrameTx to OnEvent
	// Offline says the line runs faster than real time (a loopback, an
	// audio file): a receiver's Tx waits for each page's write at once,
	// where on a real-time line it first holds the answer back with up to
	// a second of silence so as not to hold up the audio path.
	Offline bool
}

// Report is the outcome of a fax call.
type Report struct {
	t30.Report
	File     string // receiving: the TIFF written (removed when no page arrived)
	FileSize int64  // its size in bytes
}

// Fax is one fax call.
type Fax struct {
	term    *t30.Terminal
	sink    *tiffSink
	offline bool
	closed  bool
	report  Report
	err     error
}

func (o Options) t30Config() t30.Config {
	c := t30.Config{
		Caller:   o.Caller,
		Codec:    t30.StdCodec{},
		Ident:    o.Ident,
		ECM:      !o.NoECM,
		MaxRate:  o.MaxRate,
		AllowV17: !o.NoV17,
		NoMR:     o.NoMR,
		NoMMR:    o.NoMMR,

		Resolutions: o.Resolutions,
		Paper:       o.Paper,
	}
	if o.OnEvent != nil {
		f := o.OnEvent
		trace := o.FrameTrace
		c.OnEvent = func(e t30.Event) {
			if !trace && (e.Kind == t30.EventFrameRx || e.Kind == t30.EventFrameTx) {
				return
			}
			f(e)
		}
	}
	return c
}

// NewSender prepares a fax of the TIFF file doc.
func NewSender(doc string, o Options) (*Fax, error) {
	pages, err := LoadDocument(doc, o)
	if err != nil {
		return nil, err
	}
	c := o.t30Config()
	c.Document = pages
	term, err := t30.NewTerminal(c)
	if err != nil {
		return nil, fmt.Errorf("faxengine: %w", err)
	}
	return &Fax{term: term}, nil
}

// NewReceiver prepares to receive a fax into the TIFF file out.
func NewReceiver(out string, o Options) (*Fax, error) {
	coding := o.Coding
	if coding == 0 {
		coding = tiff.MH
	}
	w, err := tiff.Create(out, tiff.WriterOptions{Coding: coding})
	if err != nil {
		return nil, fmt.Errorf("faxengine: %w", err)
	}
	f, err := newReceiver(w, out, o)
	if err != nil {
		w.Close()
		os.Remove(out)
		return nil, err
	}
	return f, nil
}

// newReceiver makes a receiving Fax writing into w (the file at path) and
// starts its page writer.
func newReceiver(w *tiff.Writer, path string, o Options) (*Fax, error) {
	sink := newTiffSink(w, path, o.Now)
	c := o.t30Config()
	c.Sink = sink
	term, err := t30.NewTerminal(c)
	if err != nil {
		return nil, fmt.Errorf("faxengine: %w", err)
	}
	go sink.run()
	return &Fax{term: term, sink: sink, offline: o.Offline}, nil
}

// Rx processes a block of received line samples (8000 Hz, 16-bit linear).
func (f *Fax) Rx(samples []int16) {
	f.term.Rx(samples)
	f.check()
}

// Tx fills buf with the next samples to send and returns len(buf). While
// a received page is being written, it is silence: the terminal's answer
// to the page waits until the page is on disk.
func (f *Fax) Tx(buf []int16) int {
	if k := f.sink; k != nil {
		if k.busy() && (k.held >= maxHold || f.offline) {
			// The disk is this slow (or the line runs faster than real
			// time, as in a loopback): wait rather than let the sender
			// time out.
			k.wait()
		}
		// (busy is read first: a write that fails is marked failed
		// before it stops being busy, so no answer slips out between.)
		if k.busy() || k.failed.Load() {
			k.held += len(buf)
			clear(buf)
			f.check()
			return len(buf)
		}
		k.held = 0
	}
	n := f.term.Tx(buf)
	f.check()
	return n
}

// Hangup tells the fax the line has gone; it ends at once.
func (f *Fax) Hangup() {
	f.term.Hangup()
	f.check()
}

// Stop ends the call from our side (DCN; the result is t30.ErrStopped).
// Keep calling Tx until Done so the DCN goes out.
func (f *Fax) Stop() { f.term.Stop(); f.check() }

// Done reports whether the call has ended (and the file, if any, is
// complete).
func (f *Fax) Done() bool { return f.closed }

// Phase returns the current T.30 phase.
func (f *Fax) Phase() t30.Phase { return f.term.Phase() }

// Report returns the outcome; complete once Done.
func (f *Fax) Report() Report {
	if f.closed {
		return f.report
	}
	return Report{Report: f.term.Report()}
}

// Err returns an error of the local side (storing pages), if any.
func (f *Fax) Err() error { return f.err }

// Close ends the call if it is still running (as a hang-up) and finishes
// the output file, waiting for the page writer. It is safe to call more
// than once.
func (f *Fax) Close() error {
	if !f.term.Done() {
		f.term.Hangup()
	}
	f.check()
	return f.err
}

// check notes a page the writer failed to store (ending the call: the
// page must not be confirmed) and completes the Fax once the terminal is
// done. Completing waits for the writer, which by then has only to close
// the file (the pages were synced before their MCF went out), unless the
// call ended while a page was still being written.
func (f *Fax) check() {
	if f.closed {
		return
	}
	if f.sink != nil && !f.term.Done() && f.sink.failed.Load() {
		f.term.Hangup()
	}
	if !f.term.Done() {
		return
	}
	f.closed = true
	f.report = Report{Report: f.term.Report()}
	k := f.sink
	if k == nil {
		return
	}
	k.finish()
	<-k.done
	f.report.File, f.report.FileSize = k.path, k.size
	if k.pages == 0 {
		f.report.File, f.report.FileSize = "", 0
	}
	if k.err != nil {
		f.err = k.err
		if k.failed.Load() {
			f.report.Result = t30.ErrPageStore
		}
	}
}

// tiffSink writes received pages into a TIFF-F file as they arrive, on
// its own goroutine (run): WritePage, called by the terminal on the audio
// path, only copies the page into the queue.
type tiffSink struct {
	w    *tiff.Writer
	path string
	now  func() time.Time

	queue   chan pageJob // to the writer; closed by finish
	free    chan *raster.Bitmap
	pending atomic.Int32  // pages queued and not yet synced
	synced  chan struct{} // a token after each page written (or not)
	held    int           // samples of silence sent while a page was pending (the Fax's)
	failed  atomic.Bool   // a page could not be stored
	once    sync.Once
	done    chan struct{} // closed when the writer has closed the file

	// The writer's, read by the Fax once done is closed.
	pages int
	size  int64
	err   error
}

type pageJob struct {
	img  *raster.Bitmap
	meta tiff.PageMeta
	num  int
}

// maxHold is how long (in samples) Tx holds the terminal's answer to a
// page back, sending silence, before it waits for the write: 1 s. The
// sender waits 3 s (T.30's T4) for that answer; a real-time line
// (the daemon) hardly ever gets there, a loopback that runs much faster
// than real time does at once (with Options.Offline it waits from the
// start).
const maxHold = 8000

// sinkQueue bounds the pages waiting for the writer. One is the most in
// practice (the next page comes only after the answer to this one, which
// waits for the write); a terminal that got ahead would wait for room.
const sinkQueue = 4

func newTiffSink(w *tiff.Writer, path string, now func() time.Time) *tiffSink {
	return &tiffSink{w: w, path: path, now: now,
		queue: make(chan pageJob, sinkQueue), synced: make(chan struct{}, sinkQueue), free: make(chan *raster.Bitmap, sinkQueue+1), done: make(chan struct{})}
}

// busy reports whether a page is still on its way to the disk.
func (s *tiffSink) busy() bool { return s.pending.Load() > 0 }

// wait waits until no page is pending.
func (s *tiffSink) wait() {
	for s.busy() {
		<-s.synced
	}
}

// WritePage queues a copy of the page for the writer (img's memory is the
// terminal's). It fails once a page could not be stored.
func (s *tiffSink) WritePage(img *raster.Bitmap, info t30.PageInfo) error {
	if s.failed.Load() {
		return fmt.Errorf("faxengine: page %d: an earlier page could not be stored", info.Number)
	}
	t := time.Now
	if s.now != nil {
		t = s.now
	}
	meta := tiff.PageMeta{Time: t(), BadLines: info.Quality.BadRows, ConsecutiveBadLines: info.Quality.MaxConsecutive,
		Regenerated: true}
	var cp *raster.Bitmap
	select {
	case cp = <-s.free:
	default:
		cp = new(raster.Bitmap)
	}
	pix := append(cp.Pix[:0], img.Pix...)
	*cp = *img
	cp.Pix = pix
	s.pending.Add(1)
	s.queue <- pageJob{img: cp, meta: meta, num: info.Number}
	return nil
}

// run is the writer: it appends and syncs each page, then closes the file
// (removing it when it holds no page: a TIFF needs at least one).
func (s *tiffSink) run() {
	defer close(s.done)
	for job := range s.queue {
		if s.err == nil {
			if err := s.w.WritePage(job.img, job.meta); err != nil {
				s.err = fmt.Errorf("faxengine: page %d: %w", job.num, err)
			} else if err := s.w.Sync(); err != nil {
				s.err = fmt.Errorf("faxengine: page %d: sync: %w", job.num, err)
			} else {
				s.pages++
			}
			if s.err != nil {
				s.failed.Store(true)
			}
		}
		select {
		case s.free <- job.img:
		default:
		}
		s.pending.Add(-1)
		select {
		case s.synced <- struct{}{}:
		default:
		}
	}
	err := s.w.Close()
	if s.pages == 0 {
		os.Remove(s.path)
	} else if st, serr := os.Stat(s.path); serr == nil {
		s.size = st.Size()
	}
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("faxengine: close %s: %w", s.path, err)
	}
}

// finish tells the writer that no page follows.
func (s *tiffSink) finish() { s.once.Do(func() { close(s.queue) }) }

// Document is a list of fax pages ready to send.
type Document []*raster.Bitmap

// Pages implements t30.Document.
func (d Document) Pages() int { return len(d) }

// Page implements t30.Document.
func (d Document) Page(i int) (*raster.Bitmap, error) {
	if i < 0 || i >= len(d) {
		return nil, fmt.Errorf("faxengine: no page %d", i+1)
	}
	return d[i], nil
}

// ErrNoPages is returned for a document without pages.
var ErrNoPages = errors.New("faxengine: document has no pages")

// LoadDocument reads the TIFF file name and turns the pages o selects into
// fax pages (fitted to a fax width and resolution, header line applied).
func LoadDocument(name string, o Options) (Document, error) {
	f, err := tiff.Open(name)
	if err != nil {
		return nil, fmt.Errorf("faxengine: %w", err)
	}
	defer f.Close()
	rs, err := page.ParseRanges(o.Pages)
	if o.Pages == "" {
		rs, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("faxengine: pages: %w", err)
	}
	var idx []int
	if rs == nil {
		for i := 0; i < f.NumPages(); i++ {
			idx = append(idx, i)
		}
	} else if idx, err = rs.Select(f.NumPages()); err != nil {
		return nil, fmt.Errorf("faxengine: pages: %w", err)
	}
	var doc Document
	for _, i := range idx {
		img, err := f.Decode(i)
		if err != nil {
			return nil, fmt.Errorf("faxengine: %s page %d: %w", name, i+1, err)
		}
		p := f.Page(i)
		fitted, err := page.Fit(img, p.XRes, p.YRes, page.Options{})
		if err != nil {
			return nil, fmt.Errorf("faxengine: %s page %d: %w", name, i+1, err)
		}
		doc = append(doc, fitted...)
	}
	if len(doc) == 0 {
		return nil, ErrNoPages
	}
	if o.Header == "" {
		return doc, nil
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	for i, bm := range doc {
		res := page.Resolution{X: bm.XRes, Y: bm.YRes}
		h := header.Header{Text: o.Header, Ident: o.Ident, Time: t, Page: i + 1, Pages: len(doc)}
		out, err := header.Apply(bm, h, res.Rows(page.A4Length))
		if err != nil {
			return nil, fmt.Errorf("faxengine: header on page %d: %w", i+1, err)
		}
		doc[i] = out
	}
	return doc, nil
}
