//go:build spandsp

package interop

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rayofax/rayofax/faxengine/fsk"
	"github.com/rayofax/rayofax/faxengine/hdlc"
	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/test/linesim"
)

// testFrames returns T.30-like frames: address 0xFF, a control octet, then
// pseudo-random octets (some all ones, the worst case for bit stuffing).
func testFrames(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 99))
	frames := make([][]byte, n)
	for i := range frames {
		f := []byte{0xFF, 0x03}
		if i == n-1 {
			f[1] = 0x13 // final frame
		}
		for range 3 + r.IntN(40) {
			b := byte(r.Uint32())
			if i%4 == 1 {
				b = 0xFF
			}
			f = append(f, b)
		}
		frames[i] = f
	}
	return frames
}

type gotFrame struct {
	data []byte
	ok   bool
}

// frameSpan is where a frame lies in the transmitted signal, in samples.
type frameSpan struct{ from, to int }

// spans computes where each frame's bits fall, given the preamble length,
// using the encoder itself to count bits.
func frameSpans(frames [][]byte, preamble, pad int) []frameSpan {
	enc := hdlc.NewEncoder(hdlc.EncoderConfig{PreambleFlags: preamble})
	for _, f := range frames {
		enc.Queue(f)
	}
	enc.End()
	var spans []frameSpan
	bit, sent := 0, 0
	start := preamble * 8
	for b := enc.GetBit(); b != modem.EndOfData; b = enc.GetBit() {
		bit++
		if enc.Sent() > sent {
			sent = enc.Sent()
			spans = append(spans, frameSpan{pad + start*80/3, pad + bit*80/3})
			start = bit
		}
	}
	return spans
}

// checkFrames: every frame not touching the gap arrives intact with a good
// FCS, in order; nothing arrives good but wrong.
func checkFrames(t *testing.T, who string, sent [][]byte, got []gotFrame, spans []frameSpan, gap *linesim.Gap) {
	t.Helper()
	var good [][]byte
	for _, g := range got {
		if g.ok {
			good = append(good, g.data)
		}
	}
	var want [][]byte
	for i, f := range sent {
		if gap != nil && spans[i].to+40 > gap.At && spans[i].from-40 < gap.At+gap.Len {
			continue // overlaps the gap (with the receiver's delay as margin)
		}
		want = append(want, f)
	}
	// Every wanted frame must be among the good ones, in order, and every
	// good one must be a frame that was sent.
	j := 0
	for _, g := range good {
		found := false
		for _, f := range sent {
			if bytes.Equal(f, g) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: a frame with a good FCS that was never sent: %x", who, g)
		}
		if j < len(want) && bytes.Equal(g, want[j]) {
			j++
		}
	}
	if j != len(want) {
		t.Errorf("%s: %d of %d frames arrived intact (got %d good, %d in all)", who, j, len(want), len(good), len(got))
	}
}

const hdlcPreamble = hdlc.DefaultPreambleFlags

func hdlcCases() []v21Case {
	var cs []v21Case
	for _, c := range v21Cases() {
		cs = append(cs, c)
	}
	return cs
}

func (tc v21Case) hdlcGap(spans []frameSpan) *linesim.Gap {
	if !tc.gap {
		return nil
	}
	// In the middle of the third frame.
	mid := (spans[2].from + spans[2].to) / 2
	return &linesim.Gap{At: mid, Len: 160}
}

// TestHDLCSpandspToOurs: spandsp's HDLC transmitter over its V.21
// transmitter, into our V.21 receiver and HDLC decoder.
func TestHDLCSpandspToOurs(t *testing.T) {
	for i, tc := range hdlcCases() {
		t.Run(tc.name, func(t *testing.T) {
			frames := testFrames(6, uint64(i))
			htx := NewSpanHDLCTx(hdlcPreamble)
			defer htx.Close()
			for _, f := range frames {
				if err := htx.Queue(f); err != nil {
					t.Fatal(err)
				}
			}
			htx.End()
			tx := NewSpanV21HDLCTx(htx)
			defer tx.Close()
			tx.SetLevel(tc.level)
			sig := Pad(Modulate(tx, 160, 1<<22), 800, 1600)
			spans := frameSpans(frames, hdlcPreamble, 800)
			cfg := tc.line
			gap := tc.hdlcGap(spans)
			if gap != nil {
				cfg.Gaps = []linesim.Gap{*gap}
			}
			sig = Impair(cfg, sig)

			var got []gotFrame
			var framing bool
			dec := hdlc.NewDecoder(hdlc.DecoderConfig{
				OnFrame:  func(f []byte, ok bool) { got = append(got, gotFrame{bytes.Clone(f), ok}) },
				OnStatus: func(s modem.Status) { framing = framing || s == modem.FramingOK },
			})
			Demodulate(fsk.NewReceiver(dec), sig, 160)
			checkFrames(t, "ours", frames, got, spans, gap)
			if !framing {
				t.Errorf("no FramingOK reported")
			}
		})
	}
}

// TestHDLCOursToSpandsp: our HDLC encoder over our V.21 transmitter, into
// spandsp's V.21 receiver and HDLC receiver (and ours, on the same samples).
func TestHDLCOursToSpandsp(t *testing.T) {
	for i, tc := range hdlcCases() {
		t.Run(tc.name, func(t *testing.T) {
			frames := testFrames(6, uint64(50+i))
			enc := hdlc.NewEncoder(hdlc.EncoderConfig{})
			for _, f := range frames {
				if err := enc.Queue(f); err != nil {
					t.Fatal(err)
				}
			}
			enc.End()
			tx := fsk.NewTransmitter(enc)
			tx.SetLevel(tc.level)
			sig := Pad(Modulate(tx, 160, 1<<22), 800, 1600)
			spans := frameSpans(frames, hdlcPreamble, 800)
			cfg := tc.line
			gap := tc.hdlcGap(spans)
			if gap != nil {
				cfg.Gaps = []linesim.Gap{*gap}
			}
			sig = Impair(cfg, sig)

			var got []gotFrame
			hrx := NewSpanHDLCRx(5, func(f []byte, ok bool) { got = append(got, gotFrame{bytes.Clone(f), ok}) })
			defer hrx.Close()
			rx := NewSpanV21HDLCRx(hrx)
			rx.SetCutoff(spanV21Cutoff)
			defer rx.Close()
			Demodulate(rx, sig, 160)
			checkFrames(t, "spandsp", frames, got, spans, gap)

			var ours []gotFrame
			dec := hdlc.NewDecoder(hdlc.DecoderConfig{OnFrame: func(f []byte, ok bool) { ours = append(ours, gotFrame{bytes.Clone(f), ok}) }})
			Demodulate(fsk.NewReceiver(dec), sig, 160)
			checkFrames(t, "ours", frames, ours, spans, gap)
		})
	}
}

// TestHDLCBitLevel crosses the two HDLC implementations without a modem,
// both ways, with frames of every length from 1 to 300 octets.
func TestHDLCBitLevel(t *testing.T) {
	var frames [][]byte
	r := rand.New(rand.NewPCG(5, 5))
	for n := 1; n <= 300; n += 7 {
		f := make([]byte, n)
		for i := range f {
			f[i] = byte(r.Uint32())
		}
		frames = append(frames, f)
	}
	// spandsp -> ours.
	htx := NewSpanHDLCTx(4)
	defer htx.Close()
	var got []gotFrame
	dec := hdlc.NewDecoder(hdlc.DecoderConfig{OnFrame: func(f []byte, ok bool) { got = append(got, gotFrame{bytes.Clone(f), ok}) }})
	for i, f := range frames {
		if err := htx.Queue(f); err != nil {
			t.Fatal(err)
		}
		// spandsp queues one frame at a time: drain it before the next.
		for range (len(f) + 8) * 10 {
			dec.PutBit(htx.GetBit())
		}
		_ = i
	}
	checkBitLevel(t, "spandsp->ours", frames, got)

	// ours -> spandsp.
	enc := hdlc.NewEncoder(hdlc.EncoderConfig{PreambleFlags: 4})
	for _, f := range frames {
		enc.Queue(f)
	}
	enc.End()
	got = got[:0]
	hrx := NewSpanHDLCRx(5, func(f []byte, ok bool) { got = append(got, gotFrame{bytes.Clone(f), ok}) })
	defer hrx.Close()
	for b := enc.GetBit(); b != modem.EndOfData; b = enc.GetBit() {
		hrx.PutBit(b)
	}
	checkBitLevel(t, "ours->spandsp", frames, got)
}

func checkBitLevel(t *testing.T, who string, frames [][]byte, got []gotFrame) {
	t.Helper()
	// Frames under MinFrameLen-2 octets are not frames to our decoder;
	// spandsp's receiver drops the shortest ones too.
	var want [][]byte
	for _, f := range frames {
		if len(f) >= 2 {
			want = append(want, f)
		}
	}
	var good [][]byte
	for _, g := range got {
		if !g.ok {
			t.Errorf("%s: bad frame %x", who, g.data)
			continue
		}
		good = append(good, g.data)
	}
	if fmt.Sprintf("%x", good) != fmt.Sprintf("%x", want) {
		t.Errorf("%s: got %d frames, want %d", who, len(good), len(want))
	}
}
