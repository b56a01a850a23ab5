package t30

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
)

type simCase struct {
	name            string
	senderCalls     bool
	ecm             bool
	frame64         bool
	maxRate         int
	v17             bool
	res             Resolution
	pages           int
	wantRate        Rate
	rxNoMR, rxNoMMR bool
}

func docOf(n int, res Resolution) testDoc {
	var d testDoc
	for i := 0; i < n; i++ {
		d = append(d, testPage(i, 1728, 300+40*i, res))
	}
	return d
}

func configs(c simCase) (tx, rx Config, sink *testSink, doc testDoc) {
	doc = docOf(c.pages, c.res)
	sink = &testSink{}
	tx = Config{Caller: c.senderCalls, Document: doc, Codec: testCodec{}, Ident: "+4930123", ECM: c.ecm,
		MaxRate: c.maxRate, AllowV17: c.v17, ECMFrame64: c.frame64}
	rx = Config{Caller: !c.senderCalls, Sink: sink, Codec: testCodec{}, Ident: "+15551234567", ECM: c.ecm,
		AllowV17: true, NoMR: c.rxNoMR, NoMMR: c.rxNoMMR}
	return
}

func TestSimTransfers(t *testing.T) {
	cases := []simCase{
		{name: "caller-sends V.29 non-ECM", senderCalls: true, maxRate: 9600, res: ResFine, pages: 3, wantRate: Rate{V29, 9600}},
		{name: "answerer-sends V.29 non-ECM", senderCalls: false, maxRate: 9600, res: ResStandard, pages: 3, wantRate: Rate{V29, 9600}},
		{name: "caller-sends V.17 ECM", senderCalls: true, ecm: true, v17: true, res: ResFine, pages: 3, wantRate: Rate{V17, 14400}},
		{name: "answerer-sends V.17 ECM 64", senderCalls: false, ecm: true, frame64: true, v17: true, res: ResStandard, pages: 3, wantRate: Rate{V17, 14400}},
		{name: "V.27ter 4800 ECM", senderCalls: true, ecm: true, maxRate: 4800, res: ResStandard, pages: 1, wantRate: Rate{V27ter, 4800}},
		{name: "V.27ter 2400", senderCalls: true, maxRate: 2400, res: ResStandard, pages: 1, wantRate: Rate{V27ter, 2400}},
		{name: "superfine V.17", senderCalls: true, v17: true, maxRate: 12000, res: ResSuperfine, pages: 1, wantRate: Rate{V17, 12000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx, rx, sink, doc := configs(c)
			l := newSimLink(t, tx, rx)
			if !c.senderCalls {
				l = newSimLink(t, rx, tx)
			}
			l.run(ms(600000))
			sender, receiver := l.a.s, l.b.s
			if !c.senderCalls {
				sender, receiver = l.b.s, l.a.s
			}
			for _, s := range []*session{sender, receiver} {
				r := s.report
				if r.Result != OK || r.Pages != c.pages || r.Rate != c.wantRate || r.ECM != c.ecm || r.Partial {
					t.Errorf("report %+v", r)
				}
			}
			if receiver.report.RemoteIdent != "+4930123" || sender.report.RemoteIdent != "+15551234567" {
				t.Errorf("idents %q %q", receiver.report.RemoteIdent, sender.report.RemoteIdent)
			}
			samePages(t, sink.pages, doc)
		})
	}
}

func TestSimFallbackOnFTT(t *testing.T) {
	tx, rx, sink, doc := configs(simCase{senderCalls: true, v17: true, res: ResFine, pages: 2})
	l := newSimLink(t, tx, rx)
	// The line is too poor for 14400 and 12000: TCF arrives with errors.
	n := 0
	l.corruptBit = func(from *simSide, r Rate, at int) bool {
		n++
		return r.BitRate > 9600 && n%100 == 0
	}
	l.run(ms(600000))
	if r := l.a.s.report; r.Result != OK || r.Rate != (Rate{V17, 9600}) {
		t.Errorf("sender %+v", r)
	}
	samePages(t, sink.pages, doc)
}

func TestSimTrainingFailsAtAllRates(t *testing.T) {
	tx, rx, _, _ := configs(simCase{senderCalls: true, maxRate: 9600, res: ResFine, pages: 1})
	l := newSimLink(t, tx, rx)
	n := 0
	l.corruptBit = func(*simSide, Rate, int) bool { n++; return n%50 == 0 }
	l.run(ms(600000))
	if r := l.a.s.report; r.Result != ErrTrainingFailed {
		t.Errorf("sender %v", r.Result)
	}
	if r := l.b.s.report; r.Result == OK {
		t.Errorf("receiver %v", r.Result)
	}
}

func TestSimNoAnswerT1(t *testing.T) {
	tx, _, _, _ := configs(simCase{senderCalls: true, res: ResFine, pages: 1})
	l := &simLink{}
	l.a = &simSide{name: "A", link: l}
	l.b = &simSide{name: "B", link: l}
	l.a.peer, l.b.peer = l.b, l.a
	var err error
	if l.a.s, err = newSession(tx, l.a); err != nil {
		t.Fatal(err)
	}
	// B is a silent line: a session that never starts.
	l.b.s = &session{done: true, line: l.b, deadline: -1}
	l.run(ms(60000))
	if r := l.a.s.report; r.Result != ErrT1Timeout {
		t.Errorf("result %v", r.Result)
	}
}

// A lost MCF makes the sender repeat MPS; the receiver repeats its answer
// and does not store the page twice.
func TestSimLostMCF(t *testing.T) {
	for _, ecm := range []bool{false, true} {
		tx, rx, sink, doc := configs(simCase{senderCalls: true, ecm: ecm, maxRate: 9600, res: ResFine, pages: 3})
		l := newSimLink(t, tx, rx)
		l.dropFrame = func(from *simSide, f Frame, n int) bool {
			return from == l.b && f.FCF == FCFMCF && n == 1
		}
		l.run(ms(600000))
		if r := l.a.s.report; r.Result != OK || r.Pages != 3 {
			t.Errorf("ecm %v: sender %+v", ecm, r)
		}
		samePages(t, sink.pages, doc)
	}
}

// A damaged non-ECM page is answered RTN; the sender retrains and sends it
// again.
func TestSimRTN(t *testing.T) {
	tx, rx, sink, doc := configs(simCase{senderCalls: true, v17: true, res: ResFine, pages: 2})
	l := newSimLink(t, tx, rx)
	// Damage the first page image heavily, once.
	var hit int
	from := -1
	l.a.s.cfg.OnEvent = func(e Event) {
		if e.Kind == EventPhase && e.Phase == PhaseC && from < 0 {
			from = e.At + ms(300)
		}
	}
	l.corruptBit = func(_ *simSide, r Rate, at int) bool {
		if from > 0 && at > from && at < from+ms(3000) {
			hit++
			return hit%40 == 0
		}
		return false
	}
	var rtn int
	l.b.s.cfg.OnEvent = func(e Event) {
		if e.Kind == EventFrameTx && e.Frame.FCF == FCFRTN {
			rtn++
		}
	}
	l.run(ms(600000))
	if rtn == 0 {
		t.Errorf("no RTN sent")
	}
	if r := l.a.s.report; r.Result != OK || r.Pages != 2 {
		t.Errorf("sender %+v", r)
	}
	samePages(t, sink.pages, doc)
}

// A 200 ms gap in the middle of an ECM page loses frames; PPR brings them
// back and the page arrives exact.
func TestSimECMGap(t *testing.T) {
	tx, rx, sink, doc := configs(simCase{senderCalls: true, ecm: true, v17: true, res: ResFine, pages: 2})
	doc[0] = testPage(9, 1728, 2000, ResFine) // long enough for the gap to fall inside it
	tx.Document = doc
	l := newSimLink(t, tx, rx)
	var ppr int
	gapAt := -1
	l.a.s.cfg.OnEvent = func(e Event) {
		if e.Kind == EventPhase && e.Phase == PhaseC && gapAt < 0 {
			gapAt = e.At + ms(1000)
		}
	}
	l.b.s.cfg.OnEvent = func(e Event) {
		if e.Kind == EventFrameTx && e.Frame.FCF == FCFPPR {
			ppr++
		}
	}
	l.dropImageFrame = func(from *simSide, at int, _ []byte) bool { return gapAt > 0 && at >= gapAt && at < gapAt+ms(200) }
	l.run(ms(600000))
	if ppr == 0 {
		t.Errorf("no PPR: the gap missed the page")
	}
	if r := l.a.s.report; r.Result != OK || r.Retransmits == 0 {
		t.Errorf("sender %+v", r)
	}
	samePages(t, sink.pages, doc)
}

// Frames that never get through exhaust PPR, then CTC, then end with EOR.
func TestSimECMRetriesExhausted(t *testing.T) {
	tx, rx, _, _ := configs(simCase{senderCalls: true, ecm: true, v17: true, res: ResFine, pages: 1})
	l := newSimLink(t, tx, rx)
	var seen []byte
	l.b.s.cfg.OnEvent = func(e Event) {
		if e.Kind == EventFrameTx {
			seen = append(seen, e.Frame.FCF)
		}
	}
	// Frame 5 of the block never gets through.
	l.dropImageFrame = func(_ *simSide, _ int, b []byte) bool { return b[2] == FCFFCD && b[3] == 5 }
	l.run(ms(900000))
	if r := l.a.s.report; r.Result != ErrECMRetriesOut {
		t.Errorf("sender %v", r.Result)
	}
	count := map[byte]int{}
	for _, f := range seen {
		count[f]++
	}
	if count[FCFPPR] != 2*maxPPR || count[FCFCTR] != 1 || count[FCFERR] != 1 {
		t.Errorf("receiver sent %v", count)
	}
}

// The far end hangs up after the second page: the receiver keeps two pages
// and reports a partial result.
func TestSimHangupMidDocument(t *testing.T) {
	for _, ecm := range []bool{false, true} {
		tx, rx, sink, doc := configs(simCase{senderCalls: true, ecm: ecm, maxRate: 9600, res: ResFine, pages: 3})
		l := newSimLink(t, tx, rx)
		l.b.s.cfg.OnEvent = func(e Event) {
			if e.Kind == EventPage && e.Page.Number == 2 && l.hangupAt == 0 {
				l.hangupAt = e.At + ms(3000) // during page 3
			}
		}
		l.run(ms(600000))
		r := l.b.s.report
		if r.Result != ErrHangupPhaseC || r.Pages != 2 || !r.Partial {
			t.Errorf("ecm %v: receiver %+v", ecm, r)
		}
		samePages(t, sink.pages, doc[:2])
		if r := l.a.s.report; r.Result == OK || r.Pages != 2 {
			t.Errorf("ecm %v: sender %+v", ecm, r)
		}
	}
}

// Pages of different resolutions go with EOM and a new DCS.
func TestSimEOM(t *testing.T) {
	tx, rx, sink, _ := configs(simCase{senderCalls: true, maxRate: 9600, res: ResFine, pages: 1})
	doc := testDoc{testPage(1, 1728, 200, ResFine), testPage(2, 1728, 100, ResStandard), testPage(3, 1728, 100, ResStandard)}
	tx.Document = doc
	l := newSimLink(t, tx, rx)
	l.run(ms(600000))
	if r := l.a.s.report; r.Result != OK || r.Pages != 3 {
		t.Errorf("sender %+v", r)
	}
	samePages(t, sink.pages, doc)
}

// Incompatible requests end cleanly with a typed result.
func TestSimIncompatible(t *testing.T) {
	// The receiver has V.29 only; the sender goes no faster than 4800.
	tx, rx, _, _ := configs(simCase{senderCalls: true, maxRate: 4800, res: ResFine, pages: 1})
	l := newSimLink(t, tx, rx)
	l.b.s.avail = ModemSet{V29: true}
	l.run(ms(600000))
	if r := l.a.s.report; r.Result != ErrIncompatible {
		t.Errorf("sender %v", r.Result)
	}
	if r := l.b.s.report; r.Result != ErrRemoteDCNPhaseB {
		t.Errorf("receiver %v", r.Result)
	}
	// Both want to send.
	tx2 := tx
	tx2.Caller = false
	l = newSimLink(t, tx, tx2)
	l.run(ms(600000))
	if r := l.a.s.report; r.Result == OK {
		t.Errorf("both sending: %v", r.Result)
	}
}

var _ = raster.Equal

// Some senders (spandsp) count only the retransmitted frames in the PPS
// after a PPR; the receiver keeps the block's full count.
func TestSimPPSBurstCount(t *testing.T) {
	tx, rx, sink, doc := configs(simCase{senderCalls: true, ecm: true, v17: true, res: ResFine, pages: 1})
	doc[0] = testPage(4, 1728, 1500, ResFine)
	tx.Document = doc
	l := newSimLink(t, tx, rx)
	l.a.s.ecm.burstCount = true
	dropped := false
	l.dropImageFrame = func(_ *simSide, _ int, b []byte) bool {
		if !dropped && b[2] == FCFFCD && b[3] == 3 {
			dropped = true
			return true
		}
		return false
	}
	l.run(ms(600000))
	if !dropped || l.a.s.report.Result != OK || l.a.s.report.Retransmits != 1 {
		t.Fatalf("sender %+v", l.a.s.report)
	}
	samePages(t, sink.pages, doc)
}

// A garbled post-message command is answered with CRP and sent again.
func TestSimCRP(t *testing.T) {
	for _, ecm := range []bool{false, true} {
		tx, rx, sink, doc := configs(simCase{senderCalls: true, ecm: ecm, maxRate: 9600, res: ResFine, pages: 2})
		l := newSimLink(t, tx, rx)
		l.badFrame = func(from *simSide, f Frame, n int) bool {
			return from == l.a && (f.FCF == FCFMPS || f.FCF == FCFPPS) && n == 1
		}
		crp := 0
		l.b.s.cfg.OnEvent = func(e Event) {
			if e.Kind == EventFrameTx && e.Frame.FCF == FCFCRP {
				crp++
			}
		}
		l.run(ms(600000))
		if crp != 1 || l.a.s.report.Result != OK || l.b.s.report.Result != OK {
			t.Errorf("ecm %v: %d CRP; %+v / %+v", ecm, crp, l.a.s.report, l.b.s.report)
		}
		samePages(t, sink.pages, doc)
	}
}

// An empty identity sends no CSI/TSI frame (T.30 makes them optional;
// spandsp sends none either): the call is shorter by their V.21 time.
func TestSimNoEmptyIdentFrames(t *testing.T) {
	for _, ident := range []string{"", "+4930123"} {
		tx, rx, sink, doc := configs(simCase{senderCalls: true, ecm: true, v17: true, res: ResFine, pages: 1})
		tx.Ident, rx.Ident = ident, ident
		l := newSimLink(t, tx, rx)
		idents := 0
		for _, s := range []*session{l.a.s, l.b.s} {
			s.cfg.OnEvent = func(e Event) {
				if e.Kind == EventFrameTx && (e.Frame.FCF == FCFCSI || e.Frame.FCF == FCFTSI) {
					idents++
				}
			}
		}
		l.run(ms(600000))
		if l.a.s.report.Result != OK || l.b.s.report.Result != OK {
			t.Fatalf("ident %q: %v %v", ident, l.a.s.report.Result, l.b.s.report.Result)
		}
		if want := map[bool]int{true: 0, false: 2}[ident == ""]; idents < want || ident == "" && idents != 0 {
			t.Errorf("ident %q: %d CSI/TSI frames sent", ident, idents)
		}
		if l.b.s.report.RemoteIdent != ident {
			t.Errorf("remote ident %q, want %q", l.b.s.report.RemoteIdent, ident)
		}
		samePages(t, sink.pages, doc)
	}
}

// After FTT the sender's next DCS arrives garbled. The sender then sends
// its TCF and waits T4 for a response before repeating DCS; the receiver
// must still be waiting then (seen at 1 % datagram loss against spandsp,
// whose repeat came after our T2 had ended the call).
func TestSimGarbledDCSAfterFTT(t *testing.T) {
	tx, rx, sink, doc := configs(simCase{senderCalls: true, v17: true, ecm: true, res: ResFine, pages: 1})
	l := newSimLink(t, tx, rx)
	bits := 0
	l.corruptBit = func(from *simSide, r Rate, at int) bool {
		bits++
		return r.BitRate == 14400 && bits%100 == 0
	}
	dcs := 0
	l.badFrame = func(from *simSide, f Frame, n int) bool {
		if from == l.a && f.FCF == FCFDCS {
			dcs++
			return dcs == 2
		}
		return false
	}
	l.run(ms(600000))
	if l.a.s.report.Result != OK || l.b.s.report.Result != OK || dcs < 3 {
		t.Errorf("%d DCS; %+v / %+v", dcs, l.a.s.report, l.b.s.report)
	}
	samePages(t, sink.pages, doc)
}

// A TCF with 20 ms holes in it (lost packets) is accepted with ECM, which
// repairs what such holes do to pages, and refused without ECM; errors
// spread over it (a poor line) are always refused.
func TestSimTCFHole(t *testing.T) {
	for _, c := range []struct {
		ecm, spread bool
		holes       []int // bit offsets of error bursts
		burst       int   // their length in bits (default 288: 20 ms)
		want        int
	}{
		{ecm: true, holes: []int{9000}, want: 14400},
		{ecm: true, holes: []int{6000, 14000}, want: 14400},
		{ecm: true, holes: []int{2000, 6000, 10000, 14000}, want: 14400},
		{ecm: true, holes: []int{9000}, burst: 1440, want: 12000}, // 100 ms: not a lost packet
		{ecm: false, holes: []int{9000}, want: 12000},
		{ecm: true, spread: true, want: 12000},
	} {
		tx, rx, sink, doc := configs(simCase{senderCalls: true, v17: true, ecm: c.ecm, res: ResFine, pages: 1})
		l := newSimLink(t, tx, rx)
		tcfs := 0
		l.corruptBit = func(from *simSide, r Rate, _ int) bool {
			if r.BitRate != 14400 || l.b.s.state != stRxTCF {
				return false
			}
			at := l.b.s.tcf.bits // the bit's place in the TCF
			if at == 0 {
				tcfs++
			}
			if c.spread {
				return at%2000 == 1000
			}
			burst := c.burst
			if burst == 0 {
				burst = 288
			}
			for _, h := range c.holes {
				if at >= h && at < h+burst && at%3 == 0 {
					return true
				}
			}
			return false
		}
		l.run(ms(600000))
		r := l.a.s.report
		if r.Result != OK || r.Rate.BitRate != c.want || l.b.s.report.Result != OK || tcfs == 0 {
			t.Errorf("ecm %v spread %v holes %v: %d TCFs; %+v / %+v", c.ecm, c.spread, c.holes, tcfs, r, l.b.s.report)
		}
		samePages(t, sink.pages, doc)
	}
}
