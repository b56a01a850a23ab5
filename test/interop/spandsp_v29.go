//go:build spandsp

package interop

/*
#cgo pkg-config: spandsp
#include <stdint.h>
#include <spandsp.h>

// Same layouts as the bit source and sink in spandsp_fsk.go.
typedef struct { uint8_t *bits; int n, pos, loop; } v29_bits_t;
typedef struct { uint8_t *buf; int n, cap; } v29_sink_t;

static int v29_get_bit(void *user) {
	v29_bits_t *s = user;
	if (s->pos >= s->n) {
		if (!s->loop || s->n == 0)
			return SIG_STATUS_END_OF_DATA;
		s->pos = 0;
	}
	return s->bits[s->pos++];
}

static void v29_put_bit(void *user, int bit) {
	v29_sink_t *s = user;
	if (s->n >= s->cap)
		return;
	s->buf[s->n++] = bit < 0 ? (uint8_t)(0x80 | -bit) : (uint8_t)(bit & 1);
}

static v29_tx_state_t *v29_rf_tx_new(int rate, int tep, void *src) {
	return v29_tx_init(NULL, rate, tep, v29_get_bit, src);
}

static v29_rx_state_t *v29_rf_rx_new(int rate, void *sink) {
	v29_rx_state_t *s = v29_rx_init(NULL, rate, v29_put_bit, sink);
	if (s)
		v29_rx_set_modem_status_handler(s, v29_put_bit, sink);
	return s;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// SpanV29Tx is spandsp's V29 transmitter. It implements modem.Transmitter.
// Close it when done.
type SpanV29Tx struct {
	s    *C.v29_tx_state_t
	bits spanBits
}

// NewSpanV29Tx returns spandsp's V29 transmitter at rate (9600 or 7200) sending
// its training, then bits (one per byte), then its shutdown sequence.
func NewSpanV29Tx(rate int, bits []byte) (*SpanV29Tx, error) {
	return NewSpanV29TxTEP(rate, bits, false)
}

// NewSpanV29TxTEP is NewSpanV29Tx with spandsp's talker echo protection tone
// before the training when tep is set.
func NewSpanV29TxTEP(rate int, bits []byte, tep bool) (*SpanV29Tx, error) {
	b := newSpanBits(bits, false)
	t := 0
	if tep {
		t = 1
	}
	s := C.v29_rf_tx_new(C.int(rate), C.int(t), unsafe.Pointer(b.c))
	if s == nil {
		b.free()
		return nil, fmt.Errorf("spandsp: v29_tx_init(%d) failed", rate)
	}
	return &SpanV29Tx{s: s, bits: b}, nil
}

// SetLevel sets the transmit level in dBm0.
func (t *SpanV29Tx) SetLevel(dbm0 float64) { C.v29_tx_power(t.s, C.float(dbm0)) }

// Fill implements modem.Transmitter.
func (t *SpanV29Tx) Fill(dst []int16) int {
	if len(dst) == 0 {
		return 0
	}
	return int(C.v29_tx(t.s, samplesPtr(dst), C.int(len(dst))))
}

// Close frees the transmitter.
func (t *SpanV29Tx) Close() {
	C.v29_tx_free(t.s)
	t.bits.free()
}

// SpanV29Rx is spandsp's V29 receiver. It implements modem.Receiver.
// Close it when done.
type SpanV29Rx struct {
	s    *C.v29_rx_state_t
	sink spanSink
	out  modem.BitSink
}

// NewSpanV29Rx returns spandsp's V29 receiver expecting rate (9600 or 7200)
// and delivering bits and status into out.
func NewSpanV29Rx(rate int, out modem.BitSink) (*SpanV29Rx, error) {
	sink := newSpanSink()
	s := C.v29_rf_rx_new(C.int(rate), unsafe.Pointer(sink.c))
	if s == nil {
		sink.free()
		return nil, fmt.Errorf("spandsp: v29_rx_init(%d) failed", rate)
	}
	return &SpanV29Rx{s: s, sink: sink, out: out}, nil
}

// SetCutoff sets the carrier detect level in dBm0.
func (r *SpanV29Rx) SetCutoff(dbm0 float64) { C.v29_rx_signal_cutoff(r.s, C.float(dbm0)) }

// SignalPower returns spandsp's estimate of the received level in dBm0.
func (r *SpanV29Rx) SignalPower() float64 { return float64(C.v29_rx_signal_power(r.s)) }

// Process implements modem.Receiver.
func (r *SpanV29Rx) Process(src []int16) {
	if len(src) == 0 {
		return
	}
	C.v29_rx(r.s, samplesPtr(src), C.int(len(src)))
	r.sink.drain(r.out)
}

// Close frees the receiver.
func (r *SpanV29Rx) Close() {
	C.v29_rx_free(r.s)
	r.sink.free()
}
