package main

// The fax commands: send, receive and loopback. send and receive exchange
// line audio on stdin/stdout: signed 16-bit little-endian mono samples at
// 8000 Hz in blocks of 160 (320 bytes). The program writes one block first,
// then one block for each whole block it reads, flushing each; EOF on stdin
// means the far end hung up.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/test/linesim"
)

func init() {
	register("send", "send a fax over line audio on stdin/stdout",
		"send FILE.tif [--caller|--answerer] [--ecm=true|false] [--max-rate N] [--no-v17]\n"+
			" [--ident +15551234567] [--header TEXT] [--pages 1-3,5]", runSend)
	register("receive", "receive a fax over line audio on stdin/stdout",
		"receive -o OUT.tif [--caller|--answerer] [--ecm=true|false] [--max-rate N] [--no-v17] [--ident ID]", runReceive)
	register("loopback", "send a fax to ourselves over a simulated line",
		"loopback FILE.tif -o OUT.tif [--ecm=true|false] [--max-rate N] [--no-v17] [--noise-dbm0 LEVEL] [--gap-ms N]", runLoopback)
}

// Audio I/O used by send and receive (replaced in tests).
var (
	audioIn  io.Reader = os.Stdin
	audioOut io.Writer = os.Stdout
)

const block = 160

// faxFlags are the options common to the fax commands.
type faxFlags struct {
	caller, answerer bool
	ecm              bool
	maxRate          int
	noV17            bool
	ident            string
}

func (f *faxFlags) add(fs *flag.FlagSet, roles bool) {
	if roles {
		fs.BoolVar(&f.caller, "caller", false, "act as the calling station (CNG)")
		fs.BoolVar(&f.answerer, "answerer", false, "act as the answering station (CED)")
	}
	fs.BoolVar(&f.ecm, "ecm", true, "use error correction mode")
	fs.IntVar(&f.maxRate, "max-rate", 14400, "highest bit rate: 14400, 12000, 9600, 7200, 4800 or 2400")
	fs.BoolVar(&f.noV17, "no-v17", false, "do not use V.17 (9600 bit/s at most)")
	fs.StringVar(&f.ident, "ident", "", "our station identity (digits, '+', up to 20)")
}

func (f *faxFlags) options(defaultCaller bool) (faxengine.Options, error) {
	if f.caller && f.answerer {
		return faxengine.Options{}, usage("--caller and --answerer exclude each other")
	}
	switch f.maxRate {
	case 14400, 12000, 9600, 7200, 4800, 2400:
	default:
		return faxengine.Options{}, usage("--max-rate %d: not a fax rate (14400, 12000, 9600, 7200, 4800, 2400)", f.maxRate)
	}
	if len(f.ident) > 20 {
		return faxengine.Options{}, usage("--ident %q: longer than 20 characters", f.ident)
	}
	for _, c := range f.ident {
		if !(c >= '0' && c <= '9' || c == '+' || c == ' ') {
			return faxengine.Options{}, usage("--ident %q: only digits, '+' and spaces are allowed", f.ident)
		}
	}
	caller := defaultCaller
	if f.caller {
		caller = true
	}
	if f.answerer {
		caller = false
	}
	return faxengine.Options{Caller: caller, Ident: f.ident, NoECM: !f.ecm, MaxRate: f.maxRate, NoV17: f.noV17}, nil
}

func runSend(env *Env, args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	var ff faxFlags
	ff.add(fs, true)
	hdr := fs.String("header", "", "header line text on every page")
	pages := fs.String("pages", "", "pages to send, e.g. 1-3,5 (default all)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usage("want one TIFF file, got %d arguments", len(pos))
	}
	o, err := ff.options(true)
	if err != nil {
		return err
	}
	o.Header, o.Pages = *hdr, *pages
	fx, err := faxengine.NewSender(pos[0], o)
	if err != nil {
		return failBefore(env, t30.ErrDocument, err)
	}
	return finish(env, pipeAudio(fx, audioIn, audioOut), nil)
}

func runReceive(env *Env, args []string) error {
	fs := flag.NewFlagSet("receive", flag.ContinueOnError)
	var ff faxFlags
	ff.add(fs, true)
	out := fs.String("o", "", "output TIFF file (required)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usage("unexpected argument %q", pos[0])
	}
	if *out == "" {
		return usage("-o OUT.tif is required")
	}
	o, err := ff.options(false)
	if err != nil {
		return err
	}
	fx, err := faxengine.NewReceiver(*out, o)
	if err != nil {
		return failBefore(env, t30.ErrPageStore, err)
	}
	r := pipeAudio(fx, audioIn, audioOut)
	return finish(env, r, fx.Err())
}

// pipeAudio runs fx on the stream contract until the fax ends or the input
// does.
func pipeAudio(fx *faxengine.Fax, in io.Reader, out io.Writer) faxengine.Report {
	w := bufio.NewWriterSize(out, 2*block)
	samples := make([]int16, block)
	raw := make([]byte, 2*block)
	send := func() error {
		fx.Tx(samples)
		for i, s := range samples {
			binary.LittleEndian.PutUint16(raw[2*i:], uint16(s))
		}
		if _, err := w.Write(raw); err != nil {
			return err
		}
		return w.Flush()
	}
	if send() != nil {
		fx.Hangup()
	}
	for !fx.Done() {
		if _, err := io.ReadFull(in, raw); err != nil {
			fx.Hangup() // EOF (or a short block): the far end hung up
			break
		}
		for i := range samples {
			samples[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		fx.Rx(samples)
		if fx.Done() {
			break
		}
		if send() != nil {
			fx.Hangup() // nobody listens any more
		}
	}
	fx.Close()
	return fx.Report()
}

// resultLine is the JSON line each fax command prints at the end.
type resultLine struct {
	Result       string  `json:"result"`
	ResultText   string  `json:"result_text"`
	Pages        int     `json:"pages"`
	Rate         int     `json:"rate"`
	Modem        string  `json:"modem,omitempty"`
	ECM          bool    `json:"ecm"`
	Resolution   string  `json:"resolution"`
	Width        int     `json:"width,omitempty"`
	Height       int     `json:"height,omitempty"`
	RemoteIdent  string  `json:"remote_ident"`
	Bytes        int     `json:"bytes"`
	FileBytes    int64   `json:"file_bytes,omitempty"`
	AudioSeconds float64 `json:"audio_seconds"`
	Partial      bool    `json:"partial,omitempty"`
	Error        string  `json:"error,omitempty"` // a local error (reading the document, writing the file)
}

func newResultLine(r faxengine.Report) resultLine {
	l := resultLine{
		Result: r.Result.Name(), ResultText: r.Result.String(), Pages: r.Pages, ECM: r.ECM,
		RemoteIdent: r.RemoteIdent, Bytes: r.Bytes, FileBytes: r.FileSize, Partial: r.Partial,
		AudioSeconds: float64(r.Samples) / 8000, Width: r.Width, Height: r.Height,
	}
	if r.Rate.Valid() {
		l.Rate, l.Modem = r.Rate.BitRate, r.Rate.Modulation.String()
		x, y := r.Resolution.DPI()
		l.Resolution = fmt.Sprintf("%gx%g", x, y)
	}
	return l
}

// faxFailed is returned when a fax ended without success: exit status 1,
// with nothing printed after the JSON line that reported it.
type faxFailed struct{ r t30.Result }

func (e faxFailed) Error() string { return e.r.String() }
func (faxFailed) reported()       {}

// finish prints the JSON result line (the only line on stderr, bar the
// progress display) and returns faxFailed unless the fax succeeded. err is
// a local error to report with it (nil for none).
func finish(env *Env, r faxengine.Report, err error) error {
	l := newResultLine(r)
	if err != nil {
		l.Error = err.Error()
	}
	b, _ := json.Marshal(l)
	fmt.Fprintf(env.Stderr, "%s\n", b)
	if r.Result != t30.OK || err != nil {
		return faxFailed{r.Result}
	}
	return nil
}

// failBefore reports a fax that could not start: result r, error err.
func failBefore(env *Env, r t30.Result, err error) error {
	return finish(env, faxengine.Report{Report: t30.Report{Result: r}}, err)
}

func runLoopback(env *Env, args []string) error {
	fs := flag.NewFlagSet("loopback", flag.ContinueOnError)
	var ff faxFlags
	ff.add(fs, false)
	out := fs.String("o", "", "output TIFF file (required)")
	noise := fs.Float64("noise-dbm0", linesim.NoNoise, "add white noise at this level (dBm0)")
	gapMs := fs.Int("gap-ms", 0, "silence this many ms of the line in the middle of the first page")
	progress := fs.String("progress", "auto", "progress display: auto (when stderr is a terminal), on or off")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usage("want one TIFF file, got %d arguments", len(pos))
	}
	if *out == "" {
		return usage("-o OUT.tif is required")
	}
	if *gapMs < 0 || *gapMs > 60000 {
		return usage("--gap-ms %d: want 0 to 60000", *gapMs)
	}
	if *noise > 0 {
		return usage("--noise-dbm0 %g: want a level at or below 0 dBm0", *noise)
	}
	show := false
	switch *progress {
	case "auto":
		show = isTerminal(os.Stderr)
	case "on":
		show = true
	case "off":
	default:
		return usage("--progress %q: want auto, on or off", *progress)
	}
	o, err := ff.options(true)
	if err != nil {
		return err
	}
	pr := &progressLine{w: env.Stderr, on: show}
	var gapAt int = -1
	now := 0
	o.OnEvent = func(e t30.Event) {
		pr.event(e)
		if e.Kind == t30.EventPhase && e.Phase == t30.PhaseC && gapAt < 0 && *gapMs > 0 {
			gapAt = now + 8000 // a second into the first page's signal
		}
	}
	o.Ident = orDefault(o.Ident, "+4930123456")
	tx, err := faxengine.NewSender(pos[0], o)
	if err != nil {
		return failBefore(env, t30.ErrDocument, err)
	}
	pr.total = tx.Report().PagesTotal
	ro := o
	ro.Caller, ro.Ident, ro.OnEvent = false, "+15551234567", nil
	ro.Offline = true // the line is ours, not a clock
	rx, err := faxengine.NewReceiver(*out, ro)
	if err != nil {
		return failBefore(env, t30.ErrPageStore, err)
	}
	lineAB := linesim.New(linesim.Config{NoiseDBm0: *noise, Seed: 1})
	lineBA := linesim.New(linesim.Config{NoiseDBm0: *noise, Seed: 2})
	ba, bb := make([]int16, block), make([]int16, block)
	var ia, ib []int16
	const limit = 8000 * 60 * 30 // half an hour of line time
	for ; now < limit && !(tx.Done() && rx.Done()); now += block {
		tx.Tx(ba)
		rx.Tx(bb)
		if gapAt >= 0 && now+block > gapAt && now < gapAt+*gapMs*8 {
			for i := range ba {
				if t := now + i; t >= gapAt && t < gapAt+*gapMs*8 {
					ba[i], bb[i] = 0, 0
				}
			}
		}
		ia = lineAB.Process(ia[:0], ba)
		ib = lineBA.Process(ib[:0], bb)
		rx.Rx(ia)
		tx.Rx(ib)
		if tx.Done() && !rx.Done() {
			rx.Hangup()
		}
		if rx.Done() && !tx.Done() {
			tx.Hangup()
		}
	}
	tx.Close()
	rx.Close()
	pr.done()
	rt, rr := tx.Report(), rx.Report()
	if rt.Result != t30.OK && rr.Result == t30.OK {
		rr.Result = rt.Result
	}
	return finish(env, rr, rx.Err())
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine shows phase, page and rate on one terminal line.
type progressLine struct {
	w     io.Writer
	on    bool
	phase t30.Phase
	page  int
	total int
	rate  t30.Rate
	shown bool
}

func (p *progressLine) event(e t30.Event) {
	switch e.Kind {
	case t30.EventPhase:
		p.phase = e.Phase
	case t30.EventRate:
		p.rate = e.Rate
	case t30.EventPage:
		p.page = e.Page.Number
	default:
		return
	}
	if !p.on {
		return
	}
	rate := "-"
	if p.rate.Valid() {
		rate = p.rate.String()
	}
	cur := min(p.page+1, max(p.total, 1))
	if p.phase == t30.PhaseE {
		cur = p.page
	}
	fmt.Fprintf(p.w, "\r%-8s  page %s/%d  %-12s  line time %5.1f s ", p.phase, strconv.Itoa(cur), p.total, rate, float64(e.At)/8000)
	p.shown = true
}

func (p *progressLine) done() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}

var _ = errors.New
