package t30

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/raster"
)

// This file holds a frame-level model of a telephone line between two
// sessions: transmissions take the time they take on a real line (V.21
// frames at 300 bit/s after a 1 s preamble, image data at the modem's rate
// after its training), receivers hear only what they listen for, a side
// that is transmitting hears nothing, and impairments are injected at
// chosen points. It tests the procedure without modems.

type simTx struct {
	kind      txKind
	end       int // -1 while the end is not known (image bits)
	frames    [][]byte
	at        []int // delivery time of each frame
	next      int
	rate      Rate
	short     bool
	src       modem.BitSource
	dataStart int
	sent      int // image bits delivered
	trained   bool
}

type simSide struct {
	name   string
	s      *session
	peer   *simSide
	link   *simLink
	cur    *simTx
	lRate  Rate
	lShort bool
	lECM   bool
	rxFCF  map[byte]int // frames heard, by FCF
}

type simLink struct {
	now  int
	a, b *simSide
	// dropFrame, if set, decides whether a V.21 frame from side from is lost.
	dropFrame func(from *simSide, f Frame, n int) bool
	// badFrame, if set, decides whether a V.21 frame from side from arrives
	// with a bad FCS.
	badFrame func(from *simSide, f Frame, n int) bool
	// corruptBit, if set, may flip image bits (non-ECM) from side from.
	corruptBit func(from *simSide, r Rate, at int) bool
	// dropImageFrame, if set, may lose ECM frames.
	dropImageFrame func(from *simSide, at int, b []byte) bool
	hangupAt       int // 0: never
	hungUp         bool
}

func trainingSamples(r Rate, short bool) int {
	switch r.Modulation {
	case V17:
		if short {
			return ms(142)
		}
		return ms(1393)
	case V29:
		return ms(253)
	case V27ter:
		if r.BitRate == 4800 {
			return ms(708)
		}
		return ms(943)
	}
	return 0
}

func (l *simLink) Now() int { return l.now }

func (d *simSide) start(t *simTx) {
	if d.link.hungUp {
		return
	}
	d.cur = t
}

func (d *simSide) SendSilence(n int) { d.start(&simTx{kind: txSilence, end: d.link.now + n}) }
func (d *simSide) SendTone(_ Tone, n int) {
	d.start(&simTx{kind: txTone, end: d.link.now + n})
}

// hdlcSamples is the time of n octets of HDLC at a bit rate, with an
// allowance for bit stuffing.
func hdlcSamples(octets, rate int) int {
	bits := octets * 8 * 63 / 62
	return bits * modem.SampleRate / rate
}

func (d *simSide) SendFrames(frames [][]byte) {
	t := &simTx{kind: txFrames, frames: frames}
	at := d.link.now + ms(1000) // preamble
	for _, f := range frames {
		at += hdlcSamples(len(f)+3, 300)
		t.at = append(t.at, at)
	}
	t.end = at + hdlcSamples(2, 300)
	d.start(t)
}

func (d *simSide) SendImage(r Rate, short bool, src modem.BitSource) {
	d.start(&simTx{kind: txImage, end: -1, rate: r, short: short, src: src,
		dataStart: d.link.now + trainingSamples(r, short)})
}

func (d *simSide) SendImageFrames(r Rate, short bool, frames [][]byte) {
	t := &simTx{kind: txImageFrames, frames: frames, rate: r, short: short}
	at := d.link.now + trainingSamples(r, short)
	t.dataStart = at
	for _, f := range frames {
		at += hdlcSamples(len(f)+3, r.BitRate)
		t.at = append(t.at, at)
	}
	t.end = at + hdlcSamples(2, r.BitRate)
	d.start(t)
}

func (d *simSide) Listen(r Rate, short, ecm bool) { d.lRate, d.lShort, d.lECM = r, short, ecm }

// deaf reports whether the side cannot hear: it is transmitting.
func (d *simSide) deaf() bool { return d.cur != nil && d.cur.kind != txSilence }

func (d *simSide) hears(t *simTx, ecm bool) bool {
	p := d.peer
	return !p.deaf() && p.lRate == t.rate && p.lECM == ecm && (t.rate.Modulation != V17 || p.lShort == t.short)
}

// step moves this side's transmission to time now, delivering to the peer.
func (d *simSide) step() {
	t, p, l := d.cur, d.peer, d.link
	if t == nil {
		return
	}
	switch t.kind {
	case txFrames:
		for t.next < len(t.frames) && t.at[t.next] <= l.now {
			b := t.frames[t.next]
			t.next++
			f, err := ParseFrame(b)
			if err != nil {
				panic(fmt.Sprintf("%s sent a bad frame % X", d.name, b))
			}
			n := d.rxCountFor(f.FCF)
			if p.deaf() || (l.dropFrame != nil && l.dropFrame(d, f, n)) {
				continue
			}
			ok := l.badFrame == nil || !l.badFrame(d, f, n)
			p.s.rxFrame(append([]byte(nil), b...), ok)
		}
		if l.now >= t.end && !p.deaf() {
			p.s.rxCarrierDown()
		}
	case txImage:
		if l.now < t.dataStart {
			return
		}
		if !t.trained {
			t.trained = true
			if d.hears(t, false) {
				p.s.imageStatus(modem.TrainingSucceeded)
			}
		}
		due := (l.now - t.dataStart) * t.rate.BitRate / modem.SampleRate
		for t.end < 0 && t.sent < due {
			b := t.src.GetBit()
			if b == modem.EndOfData {
				t.end = l.now + ms(10)
				break
			}
			t.sent++
			if l.corruptBit != nil && l.corruptBit(d, t.rate, l.now) {
				b ^= 1
			}
			if d.hears(t, false) {
				p.s.imageBit(b)
			}
		}
		if t.end >= 0 && l.now >= t.end && d.hears(t, false) {
			p.s.imageStatus(modem.CarrierDown)
		}
	case txImageFrames:
		if l.now >= t.dataStart && !t.trained {
			t.trained = true
			if d.hears(t, true) {
				p.s.imageStatus(modem.TrainingSucceeded)
			}
		}
		for t.next < len(t.frames) && t.at[t.next] <= l.now {
			b := t.frames[t.next]
			t.next++
			if l.dropImageFrame != nil && l.dropImageFrame(d, l.now, b) {
				continue
			}
			if d.hears(t, true) {
				p.s.imageFrame(append([]byte(nil), b...), true)
			}
		}
		if l.now >= t.end && d.hears(t, true) {
			p.s.imageStatus(modem.CarrierDown)
		}
	}
	if t.end >= 0 && l.now >= t.end {
		d.cur = nil
		d.s.txDone()
	}
}

func (d *simSide) rxCountFor(fcf byte) int {
	if d.rxFCF == nil {
		d.rxFCF = map[byte]int{}
	}
	d.rxFCF[fcf]++
	return d.rxFCF[fcf]
}

func newSimLink(t *testing.T, a, b Config) *simLink {
	t.Helper()
	l := &simLink{}
	l.a = &simSide{name: "A", link: l}
	l.b = &simSide{name: "B", link: l}
	l.a.peer, l.b.peer = l.b, l.a
	var err error
	if l.a.s, err = newSession(a, l.a); err != nil {
		t.Fatal(err)
	}
	if l.b.s, err = newSession(b, l.b); err != nil {
		t.Fatal(err)
	}
	return l
}

// run drives both sessions until both are done or limit samples passed.
func (l *simLink) run(limit int) {
	const step = 40
	l.a.s.start()
	l.b.s.start()
	for l.now < limit && !(l.a.s.done && l.b.s.done) {
		l.now += step
		if l.hangupAt > 0 && l.now >= l.hangupAt && !l.hungUp {
			l.hungUp = true
			l.a.cur, l.b.cur = nil, nil
			l.a.s.hangup()
			l.b.s.hangup()
		}
		if !l.hungUp {
			l.a.step()
			l.b.step()
		}
		l.a.s.advance(step)
		l.b.s.advance(step)
		if l.a.s.done && l.a.cur == nil && !l.b.s.done && l.a.s.report.Result != OK && l.hangupAt == 0 {
			// A finished: the other side will hear nothing more.
			l.hangupAt = l.now + ms(200)
		}
	}
}

// ---- a test codec: rows with a check octet, so damage shows as bad rows ----

type testCodec struct{}

func (testCodec) Encode(img *raster.Bitmap, enc Encoding, minRowBits int) ([]byte, error) {
	out := binary.BigEndian.AppendUint16(nil, uint16(img.Width))
	out = binary.BigEndian.AppendUint16(out, uint16(img.Height))
	out = append(out, byte(enc))
	for y := 0; y < img.Height; y++ {
		row := img.Row(y)
		var x byte
		for _, c := range row {
			x ^= c
		}
		out = append(out, row...)
		out = append(out, x^0x5A)
		for n := (len(row) + 1) * 8; n < minRowBits; n += 8 {
			out = append(out, 0) // fill, only for the time it takes
		}
	}
	return out, nil
}

func (testCodec) Decode(data []byte, enc Encoding, width int) (*raster.Bitmap, Quality, error) {
	var q Quality
	if len(data) < 5 {
		return nil, q, fmt.Errorf("short page")
	}
	w, h := int(binary.BigEndian.Uint16(data)), int(binary.BigEndian.Uint16(data[2:]))
	if w != width || Encoding(data[4]) != enc {
		return nil, q, fmt.Errorf("width %d, want %d", w, width)
	}
	img := raster.New(w, 0)
	data = data[5:]
	stride := (w + 7) / 8
	prev := make([]byte, stride)
	run := 0
	for y := 0; y < h; y++ {
		q.Rows++
		ok := len(data) > stride
		if ok {
			var x byte
			for _, c := range data[:stride] {
				x ^= c
			}
			ok = x^0x5A == data[stride]
		}
		if ok {
			copy(prev, data[:stride])
			run = 0
		} else {
			q.BadRows++
			run++
			q.MaxConsecutive = max(q.MaxConsecutive, run)
		}
		img.AppendRow(prev)
		if len(data) > stride {
			data = data[stride+1:]
		} else {
			data = nil
		}
	}
	return img, q, nil
}

type testDoc []*raster.Bitmap

func (d testDoc) Pages() int                         { return len(d) }
func (d testDoc) Page(i int) (*raster.Bitmap, error) { return d[i], nil }

type testSink struct{ pages []*raster.Bitmap }

func (s *testSink) WritePage(img *raster.Bitmap, _ PageInfo) error {
	c := *img // img's memory is reused for the next page
	c.Pix = append([]byte(nil), img.Pix[:img.Height*img.Stride]...)
	s.pages = append(s.pages, &c)
	return nil
}

// testPage makes a distinct page: a pattern seeded by n.
func testPage(n, width, height int, res Resolution) *raster.Bitmap {
	b := raster.New(width, height)
	b.XRes, b.YRes = res.DPI()
	seed := uint32(n*7919 + 1)
	for y := 0; y < height; y++ {
		for x := 0; x < width; x += 8 {
			seed = seed*1664525 + 1013904223
			if seed>>29 == 0 {
				b.Set(x, y, true)
			}
		}
	}
	return b
}

func samePages(t *testing.T, got, want []*raster.Bitmap) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("received %d pages, want %d", len(got), len(want))
	}
	for i := range want {
		if !raster.Equal(got[i], want[i]) {
			t.Errorf("page %d differs", i+1)
		}
	}
}

var _ = bytes.Equal
