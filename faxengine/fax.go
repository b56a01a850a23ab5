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
package faxengine

import (
	"errors"
	"fmt"
	"os"
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
}

// Report is the outcome of a fax call.
type Report struct {
	t30.Report
	File     string // receiving: the TIFF written (removed when no page arrived)
	FileSize int64  // its size in bytes
}

// Fax is one fax call.
type Fax struct {
	term   *t30.Terminal
	sink   *tiffSink
	closed bool
	report Report
	err    error
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
	sink := &tiffSink{w: w, path: out, now: o.Now}
	c := o.t30Config()
	c.Sink = sink
	term, err := t30.NewTerminal(c)
	if err != nil {
		w.Close()
		os.Remove(out)
		return nil, fmt.Errorf("faxengine: %w", err)
	}
	return &Fax{term: term, sink: sink}, nil
}

// Rx processes a block of received line samples (8000 Hz, 16-bit linear).
func (f *Fax) Rx(samples []int16) {
	f.term.Rx(samples)
	f.check()
}

// Tx fills buf with the next samples to send and returns len(buf).
func (f *Fax) Tx(buf []int16) int {
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
// the output file. It is safe to call more than once.
func (f *Fax) Close() error {
	if !f.term.Done() {
		f.term.Hangup()
	}
	f.check()
	return f.err
}

func (f *Fax) check() {
	if f.closed || !f.term.Done() {
		return
	}
	f.closed = true
	f.report = Report{Report: f.term.Report()}
	if f.sink != nil {
		f.report.File = f.sink.path
		if err := f.sink.finish(); err != nil && f.err == nil {
			f.err = err
		}
		if st, err := os.Stat(f.sink.path); err == nil {
			f.report.FileSize = st.Size()
		} else {
			f.report.File = ""
		}
	}
}

// tiffSink writes received pages into a TIFF-F file as they arrive.
type tiffSink struct {
	w     *tiff.Writer
	path  string
	now   func() time.Time
	pages int
	err   error
}

func (s *tiffSink) WritePage(img *raster.Bitmap, info t30.PageInfo) error {
	t := time.Now
	if s.now != nil {
		t = s.now
	}
	meta := tiff.PageMeta{Time: t(), BadLines: info.Quality.BadRows, ConsecutiveBadLines: info.Quality.MaxConsecutive,
		Regenerated: true}
	if err := s.w.WritePage(img, meta); err != nil {
		s.err = fmt.Errorf("faxengine: page %d: %w", info.Number, err)
		return s.err
	}
	if err := s.w.Sync(); err != nil {
		s.err = fmt.Errorf("faxengine: page %d: sync: %w", info.Number, err)
		return s.err
	}
	s.pages++
	return nil
}

// finish closes the file, removing it when it holds no page (a TIFF needs
// at least one).
func (s *tiffSink) finish() error {
	err := s.w.Close()
	if s.pages == 0 {
		os.Remove(s.path)
	}
	if err != nil {
		return fmt.Errorf("faxengine: close %s: %w", s.path, err)
	}
	return s.err
}

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
