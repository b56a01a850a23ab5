package t30

import (
	"testing"
)

// audioLoop runs two terminals against each other over a clean line, 160
// samples at a time, until both are done or limit samples have passed.
func audioLoop(t *testing.T, a, b *Terminal, limit int, impair func(from int, at int, buf []int16)) {
	t.Helper()
	ba, bb := make([]int16, 160), make([]int16, 160)
	for now := 0; now < limit && !(a.Done() && b.Done()); now += 160 {
		a.Tx(ba)
		b.Tx(bb)
		if impair != nil {
			impair(0, now, ba)
			impair(1, now, bb)
		}
		a.Rx(bb)
		b.Rx(ba)
	}
}

func TestAudioLoopback(t *testing.T) {
	cases := []simCase{
		{name: "V.29 9600 non-ECM caller sends", senderCalls: true, maxRate: 9600, res: ResFine, pages: 2, wantRate: Rate{V29, 9600}},
		{name: "V.17 14400 ECM answerer sends", senderCalls: false, ecm: true, v17: true, res: ResStandard, pages: 2, wantRate: Rate{V17, 14400}},
		{name: "V.27ter 4800 ECM", senderCalls: true, ecm: true, maxRate: 4800, res: ResStandard, pages: 1, wantRate: Rate{V27ter, 4800}},
		{name: "V.27ter 2400", senderCalls: true, maxRate: 2400, res: ResStandard, pages: 1, wantRate: Rate{V27ter, 2400}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx, rx, sink, doc := configs(c)
			tx.Codec, rx.Codec = StdCodec{}, StdCodec{}
			var trace []string
			rx.OnEvent = func(e Event) {
				if e.Kind == EventFrameRx || e.Kind == EventFrameTx {
					trace = append(trace, e.Frame.String())
				}
			}
			ta, err := NewTerminal(tx)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := NewTerminal(rx)
			if err != nil {
				t.Fatal(err)
			}
			audioLoop(t, ta, tb, ms(300000), nil)
			for _, r := range []Report{ta.Report(), tb.Report()} {
				if r.Result != OK || r.Pages != c.pages || r.Rate != c.wantRate || r.ECM != c.ecm {
					t.Errorf("report %+v", r)
				}
			}
			t.Logf("%v: tx %+v", c.name, ta.Report())
			if t.Failed() || testing.Verbose() {
				t.Logf("receiver trace: %q", trace)
			}
			samePages(t, sink.pages, doc)
		})
	}
}

// Stop ends a call from our side: DCN goes out, the stopper reports
// ErrStopped and the far end a disconnect, with the pages so far.
func TestAudioStop(t *testing.T) {
	tx, rx, sink, _ := configs(simCase{senderCalls: true, ecm: true, v17: true, res: ResFine, pages: 3})
	tx.Codec, rx.Codec = StdCodec{}, StdCodec{}
	var tb *Terminal
	rx.OnEvent = func(e Event) {
		if e.Kind == EventPage && e.Page.Number == 1 {
			tb.Stop()
		}
	}
	ta, err := NewTerminal(tx)
	if err != nil {
		t.Fatal(err)
	}
	if tb, err = NewTerminal(rx); err != nil {
		t.Fatal(err)
	}
	audioLoop(t, ta, tb, ms(300000), nil)
	if r := tb.Report(); r.Result != ErrStopped || r.Pages != 1 || !r.Partial {
		t.Errorf("stopper %+v", r)
	}
	if r := ta.Report(); r.Result == OK || r.Result == ErrStopped {
		t.Errorf("far end %+v", r)
	}
	if len(sink.pages) != 1 {
		t.Errorf("%d pages stored", len(sink.pages))
	}
}
