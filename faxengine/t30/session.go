package t30

import (
	"fmt"
	"strings"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/raster"
)

type state int

const (
	stIdle           state = iota
	stCallerWait           // caller: CNG, waiting for DIS
	stAnsWaitCmd           // answerer: DIS sent, waiting for DCS or DTC
	stWaitCFR              // sender: DCS and TCF sent
	stRxTCF                // receiver: DCS received, receiving TCF
	stRxWaitDCS            // receiver: DTC or FTT sent, waiting for DCS
	stRxImage              // receiver: waiting for or receiving phase C
	stRxWaitPostPage       // receiver: non-ECM image ended, waiting for MPS/EOP/EOM
	stRxWaitDCN            // receiver: EOP confirmed
	stTxImage              // sender: transmitting phase C
	stTxWaitResp           // sender: post-message command sent
	stTxWaitDIS            // sender: EOM confirmed, waiting for a new DIS
	stDone
)

type txKind int

const (
	txSilence txKind = iota
	txTone
	txFrames
	txImage
	txImageFrames
)

type txItem struct {
	kind    txKind
	samples int
	tone    Tone
	frames  [][]byte
	rate    Rate
	short   bool
	src     modem.BitSource
}

// session is the T.30 procedure of one terminal, independent of the
// physical layer. All methods run on the caller's goroutine.
type session struct {
	cfg   Config
	line  Line
	avail ModemSet // the image modems the line has

	now       int
	deadline  int
	onTimeout func()
	t1        int // deadline of T1

	state   state
	phase   Phase
	queue   []txItem
	txBusy  bool
	afterTx func()

	xbit     bool
	seq      []Frame
	seqBad   bool
	tries    int
	lastCmd  []Frame // the last command sent, for repetition and CRP
	lastResp []Frame // the last response sent, for duplicated commands

	remote      Capabilities
	remoteIdent string
	settings    Settings
	haveDCS     bool

	// Sending.
	pageIdx    int    // fax pages confirmed: the number of the page being sent, from 0
	cur        txPage // the page being sent
	refitted   []*raster.Bitmap
	refitOf    refitKey
	pageData   []byte
	pageDataOf int // page index pageData belongs to (-1: none)
	rtn        int // RTN answers for the current page
	ppm        byte
	ecm        ecmTx

	// Receiving.
	tcf    tcfCheck
	rx     rxPage
	ecmRx  ecmRx
	stored int
	// rxImage is the last page decoded, whose memory the next one reuses.
	rxImage *raster.Bitmap

	// lastSignal is when the line last carried a signal (sample time; the
	// audio terminal sets it).
	lastSignal int
	// imageWait is when the current wait for an image began (T2 is
	// extended while the line carries a signal).
	imageWait int

	report Report
	done   bool
}

func newSession(cfg Config, line Line) (*session, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &session{cfg: cfg, line: line, deadline: -1, pageDataOf: -1,
		avail: ModemSet{V27ter: true, V29: true, V17: true}}
	if cfg.Document != nil {
		s.report.PagesTotal = cfg.Document.Pages()
	}
	return s, nil
}

func (s *session) sending() bool { return s.cfg.Document != nil }

// allow reports whether rate r is permitted locally and the line has its modem.
func (s *session) allow(r Rate) bool { return s.cfg.allow(r) && s.avail.Has(r) }

// ---- time, transmission and events ----

func (s *session) setTimer(n int, f func()) { s.deadline, s.onTimeout = s.now+n, f }
func (s *session) stopTimer()               { s.deadline, s.onTimeout = -1, nil }

// advance moves time on by n samples and fires a due timer.
func (s *session) advance(n int) {
	s.now += n
	if s.done {
		return
	}
	if s.t1 > 0 && s.now >= s.t1 && (s.state == stCallerWait || s.state == stAnsWaitCmd) {
		s.t1 = 0
		s.fail(ErrT1Timeout, false)
		return
	}
	if s.deadline >= 0 && s.now >= s.deadline {
		f := s.onTimeout
		s.stopTimer()
		if f != nil {
			f()
		}
	}
}

func (s *session) emit(e Event) {
	if s.cfg.OnEvent != nil {
		e.At = s.now
		s.cfg.OnEvent(e)
	}
}

func (s *session) setPhase(p Phase) {
	if s.phase != p {
		s.phase = p
		s.emit(Event{Kind: EventPhase, Phase: p})
	}
}

// send replaces any transmission in progress with items, then calls then.
func (s *session) send(then func(), items ...txItem) {
	s.queue = append(s.queue[:0], items...)
	s.afterTx = then
	s.txBusy = false
	s.nextTx()
}

func (s *session) nextTx() {
	if len(s.queue) == 0 {
		s.txBusy = false
		if f := s.afterTx; f != nil {
			s.afterTx = nil
			f()
		}
		return
	}
	it := s.queue[0]
	s.queue = s.queue[1:]
	s.txBusy = true
	switch it.kind {
	case txSilence:
		s.line.SendSilence(it.samples)
	case txTone:
		s.line.SendTone(it.tone, it.samples)
	case txFrames:
		s.line.SendFrames(it.frames)
	case txImage:
		s.line.SendImage(it.rate, it.short, it.src)
	case txImageFrames:
		s.line.SendImageFrames(it.rate, it.short, it.frames)
	}
}

// txDone is called by the line when the current transmission has ended.
func (s *session) txDone() {
	if s.txBusy {
		s.nextTx()
	}
}

func silence(n int) txItem { return txItem{kind: txSilence, samples: n} }

// framesItem encodes frames for V.21, marking the last final and setting
// the X bit.
func (s *session) framesItem(fs []Frame) txItem {
	out := make([][]byte, len(fs))
	for i, f := range fs {
		f.Final = i == len(fs)-1
		f.X = s.xbit
		out[i] = f.Bytes()
		s.emit(Event{Kind: EventFrameTx, Frame: f})
	}
	return txItem{kind: txFrames, frames: out}
}

// sendFrames transmits frames after the turnaround pause.
func (s *session) sendFrames(fs []Frame, then func()) {
	s.send(then, silence(turnaround), s.framesItem(fs))
}

// command sends fs as a command to be repeated on timeout or CRP, up to
// three times, and waits for the response in state st.
func (s *session) command(fs []Frame, st state, first bool) {
	if first {
		s.tries = 0
	}
	s.tries++
	s.lastCmd = fs
	s.state = st
	s.sendFrames(fs, func() { s.setTimer(T4, s.commandTimeout) })
}

func (s *session) commandTimeout() {
	if s.tries >= 3 {
		s.fail(ErrNoResponse, true)
		return
	}
	s.command(s.lastCmd, s.state, false)
}

// respond sends a response and remembers it for repeated commands.
func (s *session) respond(fs []Frame, then func()) {
	s.lastResp = fs
	s.sendFrames(fs, then)
}

// fail ends the session with r, sending DCN first when dcn is set.
func (s *session) fail(r Result, dcn bool) {
	if s.done {
		return
	}
	s.stopTimer()
	if dcn {
		s.setPhase(PhaseE)
		s.state = stDone
		s.sendFrames([]Frame{{FCF: FCFDCN}}, func() { s.finish(r) })
		return
	}
	s.finish(r)
}

func (s *session) finish(r Result) {
	if s.done {
		return
	}
	s.done = true
	s.state = stDone
	s.stopTimer()
	s.setPhase(PhaseE)
	s.line.Listen(Rate{}, false, false)
	s.report.Result = r
	s.report.RemoteIdent = s.remoteIdent
	s.report.Samples = s.now
	if s.haveDCS {
		s.report.Rate = s.settings.Rate
		s.report.ECM = s.settings.ECM
		s.report.Encoding = s.settings.Encoding
		s.report.Resolution = s.settings.Resolution
	}
	s.report.Partial = r != OK && s.report.Pages > 0
	rep := s.report
	s.emit(Event{Kind: EventDone, Report: &rep})
}

// hangup is called when the line has gone away.
func (s *session) hangup() {
	if s.done {
		return
	}
	switch {
	case s.state == stRxWaitDCN:
		s.finish(OK)
	case s.state == stDone: // our DCN was being sent
		s.finish(s.pendingResult())
	case s.phase == PhaseC:
		s.finish(ErrHangupPhaseC)
	default:
		s.finish(ErrHangup)
	}
}

func (s *session) pendingResult() Result {
	if s.sending() && s.report.Pages == s.report.PagesTotal {
		return OK
	}
	return ErrHangup
}

// ---- start ----

func (s *session) start() {
	s.setPhase(PhaseA)
	s.line.Listen(Rate{}, false, false)
	s.t1 = s.now + T1
	if s.cfg.Caller {
		s.state = stCallerWait
		s.cngCycle()
		return
	}
	s.state = stAnsWaitCmd
	s.send(s.sendDIS, txItem{kind: txTone, tone: ToneCED, samples: cedSamples}, silence(turnaround))
}

func (s *session) cngCycle() {
	if s.state != stCallerWait {
		return
	}
	s.send(s.cngCycle, txItem{kind: txTone, tone: ToneCNG, samples: cngOn}, silence(cngOff))
}

// ourCaps is what we offer in DIS or DTC.
func (s *session) ourCaps() Capabilities {
	c := Capabilities{
		ReadyToTransmit: s.sending(),
		CanReceive:      s.cfg.Sink != nil,
		Modems: ModemSet{V27ter: s.avail.V27ter && s.cfg.maxRate() >= 4800, V29: s.avail.V29 && s.cfg.maxRate() >= 7200,
			V17: s.avail.V17 && s.cfg.AllowV17 && s.cfg.maxRate() >= 7200},
		MR:        !s.cfg.NoMR,
		MaxWidth:  WidthA3,
		MaxLength: LengthUnlimited,
		ECM:       s.cfg.ECM,
	}
	if s.cfg.maxRate() < 4800 {
		c.Modems = ModemSet{V27terFallback: s.avail.V27ter}
	}
	c.MMR = c.ECM && !s.cfg.NoMMR
	if p := s.cfg.Paper; p != nil {
		c.MaxWidth, c.MaxLength = p.Width, p.Length
	}
	c.Resolutions = append([]Resolution{ResStandard}, s.cfg.Resolutions...)
	if s.cfg.Resolutions == nil {
		c.Resolutions = append(c.Resolutions, ResFine, ResSuperfine)
	}
	return c
}

// withIdent returns f preceded by our identification frame (CSI, CIG or
// TSI) when we have an identity: an empty one is not sent (T.30 makes the
// frames optional), which saves 0.7 s of V.21 per command.
func (s *session) withIdent(fcf byte, f Frame) []Frame {
	if strings.TrimSpace(s.cfg.Ident) == "" {
		return []Frame{f}
	}
	return []Frame{{FCF: fcf, FIF: EncodeIdent(s.cfg.Ident)}, f}
}

func (s *session) sendDIS() {
	if s.done {
		return
	}
	s.setPhase(PhaseB)
	s.state = stAnsWaitCmd
	if s.t1 == 0 {
		s.t1 = s.now + T1 // back in phase B after EOM: T1 runs again
	}
	s.lastCmd = s.withIdent(FCFCSI, Frame{FCF: FCFDIS, FIF: s.ourCaps().Encode()})
	// DIS is repeated every T4 until T1 runs out (advance checks T1).
	s.sendFrames(s.lastCmd, func() { s.setTimer(T4, s.sendDIS) })
}

// ---- received frames ----

// rxFrame is called by the line for each V.21 HDLC frame (without FCS).
func (s *session) rxFrame(b []byte, ok bool) {
	if s.done || s.state == stDone { // our DCN is going out
		return
	}
	if !ok {
		s.seqBad = true
		return
	}
	f, err := ParseFrame(b)
	if err != nil {
		s.seqBad = true
		return
	}
	f.FIF = append([]byte(nil), f.FIF...)
	s.emit(Event{Kind: EventFrameRx, Frame: f})
	s.seq = append(s.seq, f)
	if len(s.seq) > 16 { // a sequence is a handful of frames; drop runaway input
		s.seq = s.seq[1:]
	}
	if f.Final {
		seq := s.seq
		s.seq, s.seqBad = nil, false
		s.onSequence(seq)
	}
}

// rxCarrier is called when the V.21 carrier drops: a sequence that ended
// without a good final frame was damaged.
func (s *session) rxCarrierDown() {
	if s.done || s.state == stDone || (len(s.seq) == 0 && !s.seqBad) {
		return
	}
	s.seq, s.seqBad = nil, false
	if s.state == stRxWaitDCS {
		// A garbled DCS is followed by its TCF (up to about 3 s with a
		// long train), then the sender waits T4 before repeating: T2
		// from now would end the call just before the repeat arrives.
		s.setTimer(T2+T4+tcfMaxSamples, s.t2Timeout)
		return
	}
	if s.state == stRxWaitPostPage || (s.state == stRxImage && (s.rx.answered || s.settings.ECM)) {
		// A post-message command was garbled: ask for it again. With
		// ECM that includes a PPS after an image we did not hear at all
		// (its training lost), and a PPS repeated because our PPR was
		// lost: without CRP, T2 would end the call while the sender is
		// still asking.
		s.sendFrames([]Frame{{FCF: FCFCRP}}, func() { s.setTimer(T2, s.t2Timeout) })
	}
}

func (s *session) onSequence(seq []Frame) {
	last := seq[len(seq)-1]
	for _, f := range seq {
		switch f.FCF {
		case FCFCSI, FCFTSI, FCFCIG:
			if id := DecodeIdent(f.FIF); id != "" {
				s.remoteIdent = id
			}
		}
	}
	if last.FCF == FCFDCN {
		s.remoteDCN()
		return
	}
	switch s.state {
	case stCallerWait, stTxWaitDIS:
		if last.FCF == FCFDIS {
			s.onDIS(last)
		}
	case stAnsWaitCmd:
		switch last.FCF {
		case FCFDCS:
			s.onDCS(last)
		case FCFDTC:
			s.onDTC(last)
		}
	case stWaitCFR:
		s.onTrainingResponse(last)
	case stRxWaitDCS, stRxTCF:
		switch last.FCF {
		case FCFDCS:
			s.onDCS(last)
		case FCFDIS:
			if s.state == stRxWaitDCS && !s.cfg.Caller {
				return
			}
			if s.state == stRxWaitDCS && len(s.lastCmd) > 0 && s.lastCmd[len(s.lastCmd)-1].FCF == FCFDTC {
				// Our DTC was lost: the remote repeated its DIS.
				s.stopTimer()
				s.command(s.lastCmd, stRxWaitDCS, false)
			}
		}
	case stRxImage, stRxWaitPostPage:
		s.onRxPhaseCD(last)
	case stRxWaitDCN:
		switch {
		case last.FCF == FCFPPS && s.settings.ECM:
			s.onRxECMCommand(last)
		case postMessage(last.FCF) && s.lastResp != nil:
			s.respond(s.lastResp, func() { s.setTimer(T2, func() { s.finish(OK) }) })
		}
	case stTxWaitResp:
		s.onPostResponse(last)
	}
}

func (s *session) remoteDCN() {
	switch {
	case s.state == stRxWaitDCN:
		s.finish(OK)
	case s.phase == PhaseA || s.phase == PhaseB:
		s.finish(ErrRemoteDCNPhaseB)
	case s.phase == PhaseD || s.state == stTxWaitResp || s.state == stRxWaitPostPage:
		s.finish(ErrRemoteDCNPhaseD)
	default:
		s.finish(ErrRemoteDCNEarly)
	}
}

// ---- phase B ----

// onDIS handles the remote's DIS as the calling station (or after EOM).
func (s *session) onDIS(f Frame) {
	c, err := ParseCapabilities(f.FIF)
	if err != nil {
		return // wait for a good one
	}
	s.stopTimer()
	s.t1 = 0
	s.remote = c
	s.xbit = true
	s.setPhase(PhaseB)
	if s.sending() {
		s.cur.pieces = 0 // fit the pages to these capabilities
		if !c.CanReceive {
			s.fail(ErrRemoteCannotRx, true)
			return
		}
		s.startSending()
		return
	}
	if !c.ReadyToTransmit {
		s.fail(ErrRemoteNothingTx, true)
		return
	}
	// We want to receive what the answering station holds: DTC.
	s.command(s.withIdent(FCFCIG, Frame{FCF: FCFDTC, FIF: s.ourCaps().Encode()}), stRxWaitDCS, true)
}

// onDTC handles a DTC: the caller wants what we hold.
func (s *session) onDTC(f Frame) {
	c, err := ParseCapabilities(f.FIF)
	if err != nil {
		return
	}
	s.stopTimer()
	s.t1 = 0
	if !s.sending() {
		s.fail(ErrIncompatible, true)
		return
	}
	s.remote = c
	s.xbit = true
	s.cur.pieces = 0
	if !c.CanReceive {
		s.fail(ErrRemoteCannotRx, true)
		return
	}
	s.startSending()
}

// chooseSettings picks the DCS for fax page p.
func (s *session) chooseSettings(p txPage) (Settings, Result) {
	c := s.remote
	res := p.res
	st := Settings{Resolution: res, Width: p.width, Length: c.MaxLength, ReceiveMode: true}
	st.ECM = s.cfg.ECM && c.ECM
	st.ECMFrame64 = st.ECM && s.cfg.ECMFrame64
	switch {
	case st.ECM && c.MMR && !s.cfg.NoMMR:
		st.Encoding = MMR
	case c.MR && !s.cfg.NoMR:
		st.Encoding = MR
	}
	if !st.ECM {
		st.MinScanMs = c.MinScanTime.At(res)
	}
	if s.haveDCS && s.settings.Rate.Valid() {
		st.Rate = s.settings.Rate // keep the trained rate across EOM
	} else {
		for _, r := range allRates {
			if c.Modems.Has(r) && s.allow(r) {
				st.Rate = r
				break
			}
		}
	}
	if !st.Rate.Valid() || !c.Modems.Has(st.Rate) {
		return Settings{}, ErrIncompatible
	}
	return st, OK
}

// ensurePlanned plans the current page if it is not yet, failing the
// session when the document cannot be read.
func (s *session) ensurePlanned() bool {
	if s.cur.pieces > 0 {
		return true
	}
	if s.cur.piece > 0 {
		// Capabilities changed in the middle of a split page: the pieces
		// sent are gone; send the page again from its start.
		s.cur.piece = 0
	}
	p, r := s.plan(s.cur.src)
	if r != OK {
		s.fail(r, true)
		return false
	}
	s.cur = p
	s.countPages()
	return true
}

func (s *session) startSending() {
	if !s.ensurePlanned() {
		return
	}
	st, r := s.chooseSettings(s.cur)
	if r != OK {
		s.fail(r, true)
		return
	}
	s.settings, s.haveDCS = st, true
	s.emit(Event{Kind: EventRate, Rate: st.Rate})
	s.tries = 0
	s.sendDCS()
}

// sendDCS sends TSI, DCS and the training check at the current rate.
func (s *session) sendDCS() {
	s.setPhase(PhaseB)
	s.state = stWaitCFR
	s.tries++
	fs := s.withIdent(FCFTSI, Frame{FCF: FCFDCS, FIF: s.settings.Encode()})
	s.lastCmd = fs
	r := s.settings.Rate
	s.send(func() { s.setTimer(T4, s.dcsTimeout) },
		silence(turnaround), s.framesItem(fs), silence(turnaround),
		txItem{kind: txImage, rate: r, src: zeros(r.BitRate * tcfSamples / modem.SampleRate)})
}

func (s *session) dcsTimeout() {
	if s.tries >= 3 {
		s.fail(ErrNoResponse, true)
		return
	}
	s.sendDCS()
}

func (s *session) onTrainingResponse(f Frame) {
	switch f.FCF {
	case FCFCFR:
		s.stopTimer()
		s.startPage()
	case FCFFTT:
		s.stopTimer()
		r, ok := nextRate(s.settings.Rate, s.remote.Modems, s.allow)
		if !ok {
			s.fail(ErrTrainingFailed, true)
			return
		}
		s.settings.Rate = r
		s.emit(Event{Kind: EventRate, Rate: r})
		s.tries = 0
		s.sendDCS()
	case FCFDIS, FCFCRP:
		// The remote did not hear our DCS.
		s.stopTimer()
		s.dcsTimeout()
	}
}

// onDCS handles a DCS as the receiving station.
func (s *session) onDCS(f Frame) {
	st, err := ParseSettings(f.FIF)
	if err != nil {
		s.fail(ErrBadDCS, true)
		return
	}
	our := s.ourCaps()
	if s.cfg.Sink == nil || !our.Modems.Has(st.Rate) || !s.allow(st.Rate) || !our.HasResolution(st.Resolution) ||
		st.Width > our.MaxWidth ||
		(st.ECM && !our.ECM) || (st.Encoding == MR && !our.MR) || (st.Encoding == MMR && !our.MMR) {
		if s.cfg.Sink == nil {
			s.fail(ErrBothSending, true)
			return
		}
		s.fail(ErrBadDCS, true)
		return
	}
	s.stopTimer()
	s.t1 = 0
	s.settings, s.haveDCS = st, true
	s.emit(Event{Kind: EventRate, Rate: st.Rate})
	s.setPhase(PhaseB)
	s.state = stRxTCF
	s.tcf = tcfCheck{}
	s.line.Listen(st.Rate, false, false)
	// TCF follows DCS within 75 ms: allow for the longest training and
	// 1.5 s of TCF with margin.
	s.setTimer(ms(5000), s.tcfDone)
}

// tcfCheck measures the training check.
type tcfCheck struct {
	trained   bool
	bits      int
	run, best int
	// Long runs of zeros separated by short error bursts, the mark of lost
	// packets rather than of a poor line: their total (chain) and the bit
	// after the last one (chainEnd).
	chain, chainEnd int
	holed           bool
}

// zeroRunEnd notes that the current run of zeros ended before bit end,
// for the lost-packet criterion of tcfDone.
func (c *tcfCheck) zeroRunEnd(end, rate int) {
	if c.run < rate/4 { // runs under 250 ms do not count
		return
	}
	if c.chain > 0 && end-c.run-c.chainEnd > rate*60/1000 {
		c.chain = 0 // a burst longer than a lost packet or two
	}
	c.chain += c.run
	c.chainEnd = end
	if c.chain >= rate*6/5 {
		c.holed = true
	}
}

func (s *session) tcfDone() {
	if s.state != stRxTCF {
		return
	}
	s.stopTimer()
	// The standard's criterion: TCF is 1.5 s of zeros; we accept it when a
	// run of at least 1 s of zeros arrived (errors outside it are allowed).
	// With ECM we also accept 1.2 s of zeros in long runs broken only by
	// bursts of errors no longer than 60 ms: that is packets lost on a VoIP
	// leg, which a lower rate would not avoid (it only makes the page
	// longer), and ECM repairs what such holes do to the page.
	s.tcf.zeroRunEnd(s.tcf.bits, s.settings.Rate.BitRate)
	good := s.tcf.trained && (s.tcf.best >= s.settings.Rate.BitRate || s.settings.ECM && s.tcf.holed)
	if good {
		s.respond([]Frame{{FCF: FCFCFR}}, s.awaitImage)
		return
	}
	s.respond([]Frame{{FCF: FCFFTT}}, func() {
		s.state = stRxWaitDCS
		s.line.Listen(Rate{}, false, false)
		s.setTimer(T2, s.t2Timeout)
	})
}

func (s *session) t2Timeout() {
	if s.state == stRxImage && s.now-s.lastSignal < signalGone && s.now-s.imageWait < maxImageWait {
		// The line still carries a signal: the sender is still sending
		// (an image whose training we missed, e.g. to a lost packet). Its
		// post-message command follows; then PPR or RTN asks again.
		s.setTimer(signalGone, s.t2Timeout)
		return
	}
	switch {
	case s.state == stRxImage && s.stored > 0 && s.rx.lastPPM == FCFEOP:
		s.finish(OK)
	case s.state == stRxImage && s.rx.answered:
		s.fail(ErrT2Timeout, true)
	case s.state == stRxImage:
		s.fail(ErrNoPage, true)
	case s.state == stRxWaitPostPage:
		s.fail(ErrPostPageTimeout, true)
	default:
		s.fail(ErrT2Timeout, true)
	}
}

// zeros is a bit source of n zero bits (TCF).
func zeros(n int) modem.BitSource {
	return modem.BitFunc(func() int {
		if n <= 0 {
			return modem.EndOfData
		}
		n--
		return 0
	})
}

// ---- events from the image modem ----

// imageStatus is called by the line for the image modem's status changes.
func (s *session) imageStatus(st modem.Status) {
	if s.done || s.state == stDone {
		return
	}
	switch s.state {
	case stRxTCF:
		switch st {
		case modem.TrainingSucceeded:
			s.tcf.trained = true
		case modem.CarrierDown:
			if s.tcf.trained {
				s.tcfDone()
			}
		}
	case stRxImage:
		if s.settings.ECM {
			if st == modem.CarrierDown && s.ecmRx.rcp {
				// The block is over: rest the image receiver until the
				// next one is due.
				s.line.Listen(Rate{}, false, false)
			}
			return
		}
		switch st {
		case modem.TrainingSucceeded:
			s.rx.startImage()
			s.setPhase(PhaseC)
			s.stopTimer()
		case modem.CarrierDown:
			if s.rx.receiving {
				s.rx.receiving = false
				s.rx.haveImage = true
				s.state = stRxWaitPostPage
				s.line.Listen(Rate{}, false, false)
				s.setPhase(PhaseD)
				s.setTimer(T2, s.t2Timeout)
			}
		}
	}
}

// imageBit is called by the line for each bit of the image modem (non-ECM).
func (s *session) imageBit(b int) {
	switch s.state {
	case stRxTCF:
		if !s.tcf.trained {
			return
		}
		s.tcf.bits++
		if b == 0 {
			s.tcf.run++
			if s.tcf.run > s.tcf.best {
				s.tcf.best = s.tcf.run
			}
		} else {
			s.tcf.zeroRunEnd(s.tcf.bits-1, s.settings.Rate.BitRate)
			s.tcf.run = 0
		}
	case stRxImage:
		if s.rx.receiving {
			s.rx.putBit(b)
		}
	}
}

// imageFrame is called by the line for each HDLC frame of the image modem
// (ECM), good or bad.
func (s *session) imageFrame(b []byte, ok bool) {
	if s.done || !ok || s.state != stRxImage || !s.settings.ECM {
		return
	}
	num, data, rcp, err := ParseFCD(b)
	if err != nil {
		return
	}
	s.setPhase(PhaseC)
	s.stopTimer()
	if rcp {
		s.ecmRx.rcp = true
		s.setTimer(T2, s.t2Timeout)
		return
	}
	s.ecmRx.put(num, data)
}

func (s *session) awaitImage() {
	s.state = stRxImage
	s.rx.reset()
	s.ecmRx.rcp = false
	s.line.Listen(s.settings.Rate, s.settings.Rate.Modulation == V17 && !s.ecmRx.longNext, s.settings.ECM)
	s.ecmRx.longNext = false
	s.imageWait = s.now
	s.setTimer(T2, s.t2Timeout)
}

// signalGone: a line silent this long carries no signal any more.
var signalGone = ms(250)

// maxImageWait bounds the wait for an image on a line that keeps carrying
// a signal: the longest ECM block (256 frames of 256 octets) at 4800 bit/s
// is under two minutes.
var maxImageWait = ms(180000)

// ---- receiving phases C and D ----

// rxPage collects a non-ECM page.
type rxPage struct {
	receiving bool
	haveImage bool
	answered  bool // a post-message command has been answered for the last image
	lastPPM   byte
	data      []byte
	acc       byte
	nbits     uint
}

func (r *rxPage) reset() {
	r.receiving, r.haveImage = false, false
	r.data, r.acc, r.nbits = r.data[:0], 0, 0
}

func (r *rxPage) startImage() {
	r.reset()
	r.receiving = true
	r.answered = false
}

func (r *rxPage) putBit(b int) {
	if b != 0 {
		r.acc |= 1 << r.nbits
	}
	r.nbits++
	if r.nbits == 8 {
		if len(r.data) < maxPageBytes {
			r.data = append(r.data, r.acc)
		}
		r.acc, r.nbits = 0, 0
	}
}

// maxPageBytes bounds the memory of one received page (an A3 400 dpi page
// of random dots in MH is well below this).
const maxPageBytes = 8 << 20

func (s *session) onRxPhaseCD(f Frame) {
	switch {
	case f.FCF == FCFDCS:
		s.onDCS(f)
	case s.settings.ECM:
		s.onRxECMCommand(f)
	case postMessage(f.FCF):
		s.onPostMessage(f.FCF)
	}
}

// judge turns a decoded page's quality into MCF, RTP or RTN.
func judge(q Quality, err error) byte {
	switch {
	case err != nil || q.Rows == 0:
		return FCFRTN
	case q.BadRows == 0:
		return FCFMCF
	case q.BadRows*20 <= q.Rows && q.MaxConsecutive <= 8:
		return FCFRTP // stored, but the sender should retrain
	}
	return FCFRTN
}

// onPostMessage answers MPS, EOP, EOM (or PRI-Q, treated as Q: there is
// no operator to talk to) after a non-ECM page.
func (s *session) onPostMessage(fcf byte) {
	s.stopTimer()
	ppm := plainPostMessage(fcf)
	if !s.rx.haveImage {
		if s.rx.answered && s.lastResp != nil {
			// Our response was lost: repeat it.
			s.respond(s.lastResp, func() { s.afterPostResponse(ppm, s.lastResp[0].FCF) })
			return
		}
		s.rx.answered = true
		s.respond([]Frame{{FCF: FCFRTN}}, func() { s.afterPostResponse(ppm, FCFRTN) })
		return
	}
	s.rx.haveImage = false
	s.rx.answered = true
	s.setPhase(PhaseD)
	data := s.rx.data
	if s.rx.nbits > 0 {
		data = append(data, s.rx.acc)
	}
	resp := s.storePage(data)
	if s.done {
		return
	}
	s.respond([]Frame{{FCF: resp}}, func() { s.afterPostResponse(ppm, resp) })
}

// storePage decodes and stores a page; it returns the response to send.
func (s *session) storePage(data []byte) byte {
	st := s.settings
	var img *raster.Bitmap
	var q Quality
	var err error
	if pd, ok := s.cfg.Codec.(PageDecoder); ok {
		img, q, err = pd.DecodeInto(s.rxImage, data, st.Encoding, st.Width.Pixels(st.Resolution))
		if img != nil {
			s.rxImage = img // its memory serves the next page
		}
	} else {
		img, q, err = s.cfg.Codec.Decode(data, st.Encoding, st.Width.Pixels(st.Resolution))
	}
	resp := judge(q, err)
	if st.ECM && err == nil && q.Rows > 0 {
		resp = FCFMCF // ECM data is checked frame by frame
	}
	if resp == FCFRTN {
		return resp
	}
	img.XRes, img.YRes = st.Resolution.DPI()
	info := PageInfo{Number: s.stored + 1, Rate: st.Rate, ECM: st.ECM, Encoding: st.Encoding, Resolution: st.Resolution,
		Width: img.Width, Height: img.Height, Bytes: len(data), Quality: q}
	if err := s.cfg.Sink.WritePage(img, info); err != nil {
		s.fail(ErrPageStore, true)
		return FCFDCN
	}
	s.stored++
	s.report.Pages = s.stored
	s.report.Bytes += len(data)
	s.report.BadRows += q.BadRows
	s.report.Width, s.report.Height = img.Width, img.Height
	s.emit(Event{Kind: EventPage, Page: info})
	return resp
}

func (s *session) afterPostResponse(ppm, resp byte) {
	s.rx.lastPPM = ppm
	switch {
	case ppm == FCFEOP && resp != FCFRTN:
		s.state = stRxWaitDCN
		s.setTimer(T2, func() { s.finish(OK) })
	case ppm == FCFEOM && resp != FCFRTN:
		s.sendDIS()
	default:
		s.awaitImage()
		s.rx.answered = true
	}
}

// ---- sending phases C and D ----

func (s *session) encodePage(i int) ([]byte, bool) {
	if s.pageDataOf == i {
		return s.pageData, true
	}
	img, r := s.pageImage(s.cur)
	if r != OK {
		s.fail(r, true)
		return nil, false
	}
	st := s.settings
	minBits := st.MinScanMs * st.Rate.BitRate / 1000
	data, err := s.cfg.Codec.Encode(img, st.Encoding, minBits)
	if err != nil {
		s.fail(ErrDocument, true)
		return nil, false
	}
	s.pageData, s.pageDataOf = data, i
	s.report.Width, s.report.Height = img.Width, img.Height
	return data, true
}

// nextPPM is the post-message command after the current page.
func (s *session) nextPPM() byte {
	next, more, r := s.nextTxPage(s.cur)
	if !more {
		return FCFEOP
	}
	if r != OK || next.res != s.settings.Resolution || next.width != s.settings.Width {
		return FCFEOM
	}
	return FCFMPS
}

func (s *session) startPage() {
	if !s.ensurePlanned() {
		return
	}
	if s.settings.ECM {
		s.startECMPage()
		return
	}
	data, ok := s.encodePage(s.pageIdx)
	if !ok {
		return
	}
	s.setPhase(PhaseC)
	s.state = stTxImage
	s.ppm = s.nextPPM()
	r := s.settings.Rate
	s.send(s.sendPPM, silence(turnaround),
		txItem{kind: txImage, rate: r, short: r.Modulation == V17, src: newByteSource(data)})
}

func (s *session) sendPPM() {
	s.setPhase(PhaseD)
	s.command([]Frame{{FCF: s.ppm}}, stTxWaitResp, true)
}

func (s *session) pageConfirmed() {
	s.report.Pages++
	s.report.Bytes += len(s.pageData)
	st := s.settings
	s.emit(Event{Kind: EventPage, Page: PageInfo{Number: s.report.Pages, Rate: st.Rate, ECM: st.ECM, Encoding: st.Encoding,
		Resolution: st.Resolution, Width: s.report.Width, Height: s.report.Height, Bytes: len(s.pageData)}})
	s.pageIdx++
	s.rtn = 0
	next, more, r := s.nextTxPage(s.cur)
	switch {
	case !more:
	case r == OK:
		s.cur = next
	default:
		s.cur = txPage{src: s.cur.src + 1} // planning it fails the session
	}
}

// afterPage continues after a confirmed page: next page, EOM or the end.
func (s *session) afterPage(retrain bool) {
	switch s.ppm {
	case FCFEOP:
		s.fail(OK, true)
	case FCFEOM:
		s.state = stTxWaitDIS
		s.setPhase(PhaseB)
		s.setTimer(T1, func() { s.fail(ErrNoDIS, true) })
	default:
		if retrain {
			s.tries = 0
			s.sendDCS()
			return
		}
		s.startPage()
	}
}

func (s *session) onPostResponse(f Frame) {
	if f.FCF == FCFDIS || f.FCF == FCFDTC {
		// The receiver has gone back to phase B (spandsp does this when it
		// lost the image carrier): negotiate and train again, then send the
		// page again from its start.
		if c, err := ParseCapabilities(f.FIF); err == nil && c.CanReceive {
			s.stopTimer()
			s.remote = c
			s.ecm.lost = false
			s.tries = 0
			s.sendDCS()
		}
		return
	}
	if s.settings.ECM {
		s.onECMResponse(f)
		return
	}
	switch f.FCF {
	case FCFMCF:
		s.stopTimer()
		s.pageConfirmed()
		s.afterPage(false)
	case FCFRTP:
		s.stopTimer()
		s.pageConfirmed()
		s.afterPage(true)
	case FCFRTN:
		s.stopTimer()
		s.rtn++
		if s.rtn >= 3 {
			s.fail(ErrPageNotConfirmed, true)
			return
		}
		if r, ok := nextRate(s.settings.Rate, s.remote.Modems, s.allow); ok {
			s.settings.Rate = r
			s.emit(Event{Kind: EventRate, Rate: r})
		}
		s.tries = 0
		s.sendDCS() // retrain, then send the same page again
	case FCFPIP:
		s.stopTimer()
		s.pageConfirmed()
		if s.ppm == FCFEOP {
			s.fail(OK, true)
			return
		}
		s.fail(ErrProcedureInterrupt, true)
	case FCFPIN:
		s.stopTimer()
		s.fail(ErrProcedureInterrupt, true)
	case FCFCRP:
		s.stopTimer()
		s.commandTimeout()
	}
}

// byteSource sends octets least significant bit first.
type byteSource struct {
	data []byte
	i    int
	bit  uint
}

func newByteSource(b []byte) *byteSource { return &byteSource{data: b} }

func (b *byteSource) GetBit() int {
	if b.i >= len(b.data) {
		return modem.EndOfData
	}
	v := int(b.data[b.i]>>b.bit) & 1
	b.bit++
	if b.bit == 8 {
		b.bit = 0
		b.i++
	}
	return v
}

func (s *session) String() string {
	return fmt.Sprintf("t30 session state %d %v", s.state, s.phase)
}
