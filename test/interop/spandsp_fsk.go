//go:build spandsp

package interop

/*
#cgo pkg-config: spandsp
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

// A bit source for spandsp transmitters: a buffer of bits, optionally
// repeated forever.
typedef struct {
	uint8_t *bits;
	int n, pos, loop;
} rf_bits_t;

static int rf_get_bit(void *user) {
	rf_bits_t *s = user;
	if (s->pos >= s->n) {
		if (!s->loop || s->n == 0)
			return SIG_STATUS_END_OF_DATA;
		s->pos = 0;
	}
	return s->bits[s->pos++];
}

// A bit sink for spandsp receivers: bits as 0/1, status codes as
// 0x80 | -code, in arrival order. Go drains it after every call.
typedef struct {
	uint8_t *buf;
	int n, cap;
} rf_sink_t;

static void rf_put_bit(void *user, int bit) {
	rf_sink_t *s = user;
	if (s->n >= s->cap)
		return;
	s->buf[s->n++] = bit < 0 ? (uint8_t)(0x80 | -bit) : (uint8_t)(bit & 1);
}

static void rf_status(void *user, int status) {
	rf_put_bit(user, status);
}

static fsk_tx_state_t *rf_fsk_tx_new(int spec, rf_bits_t *src) {
	return fsk_tx_init(NULL, &preset_fsk_specs[spec], rf_get_bit, src);
}

static fsk_rx_state_t *rf_fsk_rx_new(int spec, rf_sink_t *sink) {
	fsk_rx_state_t *s = fsk_rx_init(NULL, &preset_fsk_specs[spec], FSK_FRAME_MODE_SYNC, rf_put_bit, sink);
	if (s)
		fsk_rx_set_modem_status_handler(s, rf_status, sink);
	return s;
}

static fsk_tx_state_t *rf_fsk_tx_hdlc_new(int spec, hdlc_tx_state_t *h) {
	return fsk_tx_init(NULL, &preset_fsk_specs[spec], (get_bit_func_t) hdlc_tx_get_bit, h);
}

static fsk_rx_state_t *rf_fsk_rx_hdlc_new(int spec, hdlc_rx_state_t *h) {
	return fsk_rx_init(NULL, &preset_fsk_specs[spec], FSK_FRAME_MODE_SYNC, (put_bit_func_t) hdlc_rx_put_bit, h);
}
*/
import "C"

import (
	"unsafe"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// spanBits is a C-side bit buffer feeding a spandsp transmitter.
type spanBits struct{ c *C.rf_bits_t }

func newSpanBits(bits []byte, loop bool) spanBits {
	c := (*C.rf_bits_t)(C.calloc(1, C.sizeof_rf_bits_t))
	if len(bits) > 0 {
		c.bits = (*C.uint8_t)(C.CBytes(bits))
	}
	c.n = C.int(len(bits))
	if loop {
		c.loop = 1
	}
	return spanBits{c}
}

func (b spanBits) free() {
	if b.c != nil {
		C.free(unsafe.Pointer(b.c.bits))
		C.free(unsafe.Pointer(b.c))
	}
}

// spanSink is a C-side buffer collecting a spandsp receiver's bits and
// status reports until drained into a modem.BitSink.
type spanSink struct{ c *C.rf_sink_t }

const spanSinkCap = 1 << 16

func newSpanSink() spanSink {
	c := (*C.rf_sink_t)(C.calloc(1, C.sizeof_rf_sink_t))
	c.buf = (*C.uint8_t)(C.malloc(spanSinkCap))
	c.cap = spanSinkCap
	return spanSink{c}
}

func (s spanSink) free() {
	C.free(unsafe.Pointer(s.c.buf))
	C.free(unsafe.Pointer(s.c))
}

// drain delivers the collected bits and statuses to out (if not nil).
func (s spanSink) drain(out modem.BitSink) {
	n := int(s.c.n)
	s.c.n = 0
	if out == nil || n == 0 {
		return
	}
	for _, v := range unsafe.Slice((*byte)(unsafe.Pointer(s.c.buf)), n) {
		if v&0x80 != 0 {
			if st := spanStatus(-int(v &^ 0x80)); st != 0 {
				out.Status(st)
			}
			continue
		}
		out.PutBit(int(v))
	}
}

func samplesPtr(s []int16) *C.int16_t { return (*C.int16_t)(unsafe.Pointer(unsafe.SliceData(s))) }

// SpanFSKTx is spandsp's FSK transmitter (fsk_tx) set up as V.21 channel 2.
// It implements modem.Transmitter. Close it when done.
type SpanFSKTx struct {
	s    *C.fsk_tx_state_t
	bits spanBits
	hdlc *SpanHDLCTx
}

// NewSpanV21Tx returns spandsp's V.21 channel 2 transmitter sending bits
// (one per byte), then ending; with loop it repeats them forever.
func NewSpanV21Tx(bits []byte, loop bool) *SpanFSKTx {
	b := newSpanBits(bits, loop)
	return &SpanFSKTx{s: C.rf_fsk_tx_new(C.FSK_V21CH2, b.c), bits: b}
}

// NewSpanV21HDLCTx returns spandsp's V.21 channel 2 transmitter fed directly
// (inside C) by spandsp's HDLC transmitter h, as spandsp's T.30 does.
func NewSpanV21HDLCTx(h *SpanHDLCTx) *SpanFSKTx {
	return &SpanFSKTx{s: C.rf_fsk_tx_hdlc_new(C.FSK_V21CH2, h.s), hdlc: h}
}

// SetLevel sets the transmit level in dBm0.
func (t *SpanFSKTx) SetLevel(dbm0 float64) { C.fsk_tx_power(t.s, C.float(dbm0)) }

// Fill implements modem.Transmitter.
func (t *SpanFSKTx) Fill(dst []int16) int {
	if len(dst) == 0 {
		return 0
	}
	return int(C.fsk_tx(t.s, samplesPtr(dst), C.int(len(dst))))
}

// Close frees the transmitter.
func (t *SpanFSKTx) Close() {
	C.fsk_tx_free(t.s)
	t.bits.free()
}

// SpanFSKRx is spandsp's FSK receiver (fsk_rx, synchronous framing) set up
// as V.21 channel 2. It implements modem.Receiver. Close it when done.
type SpanFSKRx struct {
	s    *C.fsk_rx_state_t
	sink spanSink
	out  modem.BitSink
	hdlc *SpanHDLCRx
}

// NewSpanV21Rx returns spandsp's V.21 channel 2 receiver delivering bits and
// carrier status into out.
func NewSpanV21Rx(out modem.BitSink) *SpanFSKRx {
	sink := newSpanSink()
	return &SpanFSKRx{s: C.rf_fsk_rx_new(C.FSK_V21CH2, sink.c), sink: sink, out: out}
}

// NewSpanV21HDLCRx returns spandsp's V.21 channel 2 receiver delivering bits
// directly (inside C) into spandsp's HDLC receiver h, as spandsp's T.30 does.
func NewSpanV21HDLCRx(h *SpanHDLCRx) *SpanFSKRx {
	return &SpanFSKRx{s: C.rf_fsk_rx_hdlc_new(C.FSK_V21CH2, h.s), hdlc: h}
}

// SetCutoff sets the carrier detect level in dBm0.
func (r *SpanFSKRx) SetCutoff(dbm0 float64) { C.fsk_rx_signal_cutoff(r.s, C.float(dbm0)) }

// SignalPower returns spandsp's estimate of the received level in dBm0.
func (r *SpanFSKRx) SignalPower() float64 { return float64(C.fsk_rx_signal_power(r.s)) }

// Process implements modem.Receiver.
func (r *SpanFSKRx) Process(src []int16) {
	if len(src) == 0 {
		return
	}
	C.fsk_rx(r.s, samplesPtr(src), C.int(len(src)))
	if r.hdlc != nil {
		r.hdlc.drain()
		return
	}
	r.sink.drain(r.out)
}

// Close frees the receiver.
func (r *SpanFSKRx) Close() {
	C.fsk_rx_free(r.s)
	if r.hdlc == nil {
		r.sink.free()
	}
}
