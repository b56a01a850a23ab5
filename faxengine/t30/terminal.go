package t30

import (
	"fmt"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/fsk"
	"github.com/rayofax/rayofax/faxengine/hdlc"
	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/tone"
	"github.com/rayofax/rayofax/faxengine/v17"
	"github.com/rayofax/rayofax/faxengine/v27ter"
	"github.com/rayofax/rayofax/faxengine/v29"
)

// Terminal is a T.30 fax terminal on an audio line: feed it the received
// samples with Rx and take the samples to send with Tx, in blocks of any
// size (a telephony stream calls them alternately, e.g. 160 samples each).
// Time is the number of samples received. A Terminal is not safe for
// concurrent use.
type Terminal struct {
	s       *session
	started bool
	stopReq bool

	// Transmit side.
	cur      modem.Transmitter
	txActive bool // sending a signal (not silence): the receivers are muted
	sil      silenceTx
	cut      cutTx
	cng, ced *tone.Generator
	v21tx    *fsk.Transmitter
	v21enc   *hdlc.Encoder
	fastEnc  *hdlc.Encoder
	// fastEncRate is the bit rate fastEnc's preamble is for (0: none).
	fastEncRate int
	v17tx       *v17.Transmitter

	// Receive side.
	v21rx    *fsk.Receiver
	v21dec   *hdlc.Decoder
	fast     modem.Receiver
	fastRate Rate
	fastUp   bool
	// fastCarrier: the image receiver has reported a carrier that has not
	// ended yet.
	fastCarrier bool
	v17rx       *v17.Receiver
	v29rx       *v29.Receiver
	fastDec     *hdlc.Decoder
	bits        bitForwarder
}

// Modems returns the image modems the audio terminal implements.
func Modems() ModemSet { return ModemSet{V27ter: true, V29: true, V17: true} }

// NewTerminal returns a terminal for cfg. It starts (CNG or CED) with the
// first call of Rx or Tx.
func NewTerminal(cfg Config) (*Terminal, error) {
	t := &Terminal{}
	s, err := newSession(cfg, t)
	if err != nil {
		return nil, err
	}
	s.avail = Modems()
	ok := false
	for _, r := range allRates {
		ok = ok || s.allow(r)
	}
	if !ok {
		return nil, fmt.Errorf("t30: config: no image modem available at or below %d bit/s", cfg.maxRate())
	}
	t.s = s
	t.bits.t = t
	t.cng, t.ced = tone.NewCNG(), tone.NewCED()
	t.v21enc = hdlc.NewEncoder(hdlc.EncoderConfig{})
	t.v21tx = fsk.NewTransmitter(t.v21enc)
	t.fastEnc = hdlc.NewEncoder(hdlc.EncoderConfig{})
	t.v21dec = hdlc.NewDecoder(hdlc.DecoderConfig{OnFrame: t.onV21Frame, OnStatus: t.onV21Status})
	t.v21rx = fsk.NewReceiver(t.v21dec)
	t.fastDec = hdlc.NewDecoder(hdlc.DecoderConfig{OnFrame: t.onFastFrame, OnStatus: t.onFastStatus})
	return t, nil
}

func (t *Terminal) begin() {
	if !t.started {
		t.started = true
		t.s.start()
	}
}

// Rx processes received line samples.
func (t *Terminal) Rx(samples []int16) {
	t.begin()
	t.checkStop()
	if !t.s.done && !t.txActive {
		// A block of silence is skipped by receivers that hear nothing:
		// the idle stretches of a call then cost next to nothing. A
		// receiver with a carrier always sees the silence that ends it.
		silent := isSilent(samples)
		if !silent {
			t.s.lastSignal = t.s.now + len(samples)
		}
		if !t.fastUp && !(silent && !t.v21rx.Carrier()) {
			t.v21rx.Process(samples)
		}
		if t.fast != nil && !(silent && !t.fastUp && !t.fastCarrier) {
			t.fast.Process(samples)
		}
	}
	t.s.advance(len(samples))
}

// Tx fills buf with the samples to send (silence when there is nothing to
// send) and returns len(buf).
func (t *Terminal) Tx(buf []int16) int {
	t.begin()
	t.checkStop()
	n := 0
	for n < len(buf) && t.cur != nil {
		k := t.cur.Fill(buf[n:])
		n += k
		if n < len(buf) {
			t.cur, t.txActive = nil, false
			t.s.txDone()
		}
	}
	clear(buf[n:])
	return len(buf)
}

// Hangup tells the terminal that the line has gone (the far end hung up).
func (t *Terminal) Hangup() { t.s.hangup() }

// Stop ends the call from our side: DCN, then done, with ErrStopped. It
// takes effect at the next Rx or Tx, so it may be called from OnEvent.
func (t *Terminal) Stop() { t.stopReq = true }

func (t *Terminal) checkStop() {
	if t.stopReq && !t.s.done && t.s.state != stDone {
		t.stopReq = false
		t.s.fail(ErrStopped, t.started)
	}
}

// Done reports whether the session has ended.
func (t *Terminal) Done() bool { return t.s.done }

// Report returns the outcome (complete once Done).
func (t *Terminal) Report() Report {
	if t.s.done {
		return t.s.report
	}
	r := t.s.report
	r.Samples = t.s.now
	r.RemoteIdent = t.s.remoteIdent
	if t.s.haveDCS {
		r.Rate, r.ECM, r.Resolution, r.Encoding = t.s.settings.Rate, t.s.settings.ECM, t.s.settings.Resolution, t.s.settings.Encoding
	}
	return r
}

// Phase returns the current T.30 phase.
func (t *Terminal) Phase() Phase { return t.s.phase }

// ---- Line ----

// silentMeanSquare is the mean square of a block below which it counts as
// silence: -55 dBm0, under every receiver's carrier-on threshold.
var silentMeanSquare = func() int64 {
	r := dsp.RMS(-55)
	return int64(r * r)
}()

func isSilent(b []int16) bool {
	var sum int64
	for _, v := range b {
		sum += int64(v) * int64(v)
	}
	return sum <= silentMeanSquare*int64(len(b))
}

type silenceTx struct{ left int }

func (s *silenceTx) Fill(dst []int16) int {
	n := min(s.left, len(dst))
	clear(dst[:n])
	s.left -= n
	return n
}

// cutTx ends another transmitter after a number of samples.
type cutTx struct {
	tx   modem.Transmitter
	left int
}

func (c *cutTx) Fill(dst []int16) int {
	n := c.tx.Fill(dst[:min(c.left, len(dst))])
	c.left -= n
	return n
}

func (t *Terminal) startTx(tx modem.Transmitter, active bool) {
	t.cur, t.txActive = tx, active
	if active {
		// Our own signal ends whatever we were hearing.
		t.fastUp = false
	}
}

// SendSilence implements Line.
func (t *Terminal) SendSilence(n int) {
	t.sil.left = n
	t.startTx(&t.sil, false)
}

// SendTone implements Line.
func (t *Terminal) SendTone(tn Tone, n int) {
	g := t.cng
	if tn == ToneCED {
		g = t.ced
		g.SetDuration(n)
	}
	g.Restart()
	t.cut = cutTx{tx: g, left: n}
	// Keep listening while a tone plays: the answerer's DIS may begin
	// during a CNG burst, and V.21 is well away from 1100 and 2100 Hz.
	t.startTx(&t.cut, false)
}

// SendFrames implements Line.
func (t *Terminal) SendFrames(frames [][]byte) {
	t.v21enc.Reset()
	for _, f := range frames {
		t.v21enc.Queue(f)
	}
	t.v21enc.End()
	t.v21tx.SetSource(t.v21enc)
	t.v21tx.Restart()
	t.startTx(t.v21tx, true)
}

// SendImage implements Line.
func (t *Terminal) SendImage(r Rate, short bool, src modem.BitSource) {
	var tx modem.Transmitter
	var err error
	switch r.Modulation {
	case V17:
		cfg := v17.TxConfig{Rate: r.BitRate, ShortTrain: short}
		if t.v17tx == nil {
			t.v17tx, err = v17.NewTransmitter(cfg, src)
		} else {
			t.v17tx.SetBitSource(src)
			err = t.v17tx.Restart(cfg)
		}
		tx = t.v17tx
	case V29:
		tx, err = v29.NewTransmitter(v29.Config{Rate: r.BitRate}, src)
	case V27ter:
		tx, err = v27ter.NewTransmitter(v27ter.Config{Rate: r.BitRate}, src)
	default:
		err = fmt.Errorf("no %v modem", r.Modulation)
	}
	if err != nil {
		// Cannot happen for rates the session allows; end the call rather
		// than hang.
		t.s.fail(ErrInternal, false)
		return
	}
	t.startTx(tx, true)
}

// SendImageFrames implements Line.
func (t *Terminal) SendImageFrames(r Rate, short bool, frames [][]byte) {
	// 200 ms of flags before the first frame, as T.30 asks for ECM.
	if t.fastEncRate != r.BitRate {
		t.fastEnc = hdlc.NewEncoder(hdlc.EncoderConfig{PreambleFlags: r.BitRate / 40})
		t.fastEncRate = r.BitRate
	} else {
		t.fastEnc.Reset()
	}
	for _, f := range frames {
		t.fastEnc.Queue(f)
	}
	t.fastEnc.End()
	t.SendImage(r, short, t.fastEnc)
}

// Listen implements Line.
func (t *Terminal) Listen(r Rate, short, ecm bool) {
	t.fastUp, t.fastCarrier = false, false
	if !r.Valid() {
		t.fast = nil
		return
	}
	var sink modem.BitSink = &t.bits
	if ecm {
		t.fastDec.Reset()
		sink = t.fastDec
	}
	var err error
	switch r.Modulation {
	case V17:
		cfg := v17.RxConfig{Rate: r.BitRate, ShortTrain: short}
		if t.v17rx == nil {
			t.v17rx, err = v17.NewReceiver(cfg, sink)
		} else {
			t.v17rx.SetBitSink(sink)
			err = t.v17rx.Restart(cfg)
		}
		t.fast = t.v17rx
	case V29:
		// V.29 has no short train to carry over: start afresh.
		t.v29rx, err = v29.NewReceiver(v29.Config{Rate: r.BitRate}, sink)
		t.fast = t.v29rx
	case V27ter:
		var rx *v27ter.Receiver
		rx, err = v27ter.NewReceiver(v27ter.Config{Rate: r.BitRate}, sink)
		t.fast = rx
	default:
		err = fmt.Errorf("no %v modem", r.Modulation)
	}
	if err != nil {
		t.fast = nil
	}
	t.fastRate = r
}

// ---- receive callbacks ----

func (t *Terminal) onV21Frame(b []byte, ok bool) {
	if !ok && !t.v21dec.FramingOK() {
		return // noise between stray flags
	}
	t.s.rxFrame(b, ok)
}

func (t *Terminal) onV21Status(st modem.Status) {
	if st == modem.CarrierDown {
		t.s.rxCarrierDown()
	}
}

func (t *Terminal) onFastFrame(b []byte, ok bool) { t.s.imageFrame(b, ok) }

func (t *Terminal) onFastStatus(st modem.Status) {
	switch st {
	case modem.CarrierUp, modem.TrainingInProgress:
		t.fastCarrier = true
	case modem.TrainingSucceeded:
		t.fastUp, t.fastCarrier = true, true
	case modem.CarrierDown, modem.TrainingFailed:
		t.fastUp, t.fastCarrier = false, false
	case modem.FramingOK:
		return
	}
	t.s.imageStatus(st)
}

type bitForwarder struct{ t *Terminal }

func (b *bitForwarder) PutBit(bit int)        { b.t.s.imageBit(bit) }
func (b *bitForwarder) Status(s modem.Status) { b.t.onFastStatus(s) }
