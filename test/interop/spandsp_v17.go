//go:build spandsp

package interop

/*
#cgo pkg-config: spandsp
#include <stdint.h>
#include <spandsp.h>

// Same layouts as the bit source and sink in spandsp_fsk.go.
typedef struct { uint8_t *bits; int n, pos, loop; } v17_bits_t;
typedef struct { uint8_t *buf; int n, cap; } v17_sink_t;

static int v17_get_bit(void *user) {
	v17_bits_t *s = user;
	if (s->pos >= s->n) {
		if (!s->loop || s->n == 0)
			return SIG_STATUS_END_OF_DATA;
		s->pos = 0;
	}
	return s->bits[s->pos++];
}

static void v17_put_bit(void *user, int bit) {
	v17_sink_t *s = user;
	if (s->n >= s->cap)
		return;
	s->buf[s->n++] = bit < 0 ? (uint8_t)(0x80 | -bit) : (uint8_t)(bit & 1);
}

static v17_tx_state_t *v17_rf_tx_new(int rate, int tep, int short_train, void *src) {
	v17_tx_state_t *s = v17_tx_init(NULL, rate, tep, v17_get_bit, src);
	if (s && short_train)
		v17_tx_restart(s, rate, tep, short_train);
	return s;
}

static v17_rx_state_t *v17_rf_rx_new(int rate, void *sink) {
	v17_rx_state_t *s = v17_rx_init(NULL, rate, v17_put_bit, sink);
	if (s)
		v17_rx_set_modem_status_handler(s, v17_put_bit, sink);
	return s;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// SpanV17Tx is spandsp's V.17 transmitter. It implements modem.Transmitter.
// Close it when done.
type SpanV17Tx struct {
	s    *C.v17_tx_state_t
	bits spanBits
}

// NewSpanV17Tx returns spandsp's V.17 transmitter at rate (14400, 12000, 9600
// or 7200) sending its long (or short) training, then bits (one per byte;
// repeated forever if loop), then its shutdown sequence.
func NewSpanV17Tx(rate int, shortTrain, tep bool, bits []byte, loop bool) (*SpanV17Tx, error) {
	b := newSpanBits(bits, loop)
	s := C.v17_rf_tx_new(C.int(rate), cbool(tep), cbool(shortTrain), unsafe.Pointer(b.c))
	if s == nil {
		b.free()
		return nil, fmt.Errorf("spandsp: v17_tx_init(%d) failed", rate)
	}
	return &SpanV17Tx{s: s, bits: b}, nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// SetLevel sets the transmit level in dBm0.
func (t *SpanV17Tx) SetLevel(dbm0 float64) { C.v17_tx_power(t.s, C.float(dbm0)) }

// Fill implements modem.Transmitter.
func (t *SpanV17Tx) Fill(dst []int16) int {
	if len(dst) == 0 {
		return 0
	}
	return int(C.v17_tx(t.s, samplesPtr(dst), C.int(len(dst))))
}

// Close frees the transmitter.
func (t *SpanV17Tx) Close() {
	C.v17_tx_free(t.s)
	t.bits.free()
}

// SpanV17Rx is spandsp's V.17 receiver. It implements modem.Receiver.
// Close it when done.
type SpanV17Rx struct {
	s    *C.v17_rx_state_t
	sink spanSink
	out  modem.BitSink
}

// NewSpanV17Rx returns spandsp's V.17 receiver expecting rate and a long
// training, delivering bits and status into out.
func NewSpanV17Rx(rate int, out modem.BitSink) (*SpanV17Rx, error) {
	sink := newSpanSink()
	s := C.v17_rf_rx_new(C.int(rate), unsafe.Pointer(sink.c))
	if s == nil {
		sink.free()
		return nil, fmt.Errorf("spandsp: v17_rx_init(%d) failed", rate)
	}
	return &SpanV17Rx{s: s, sink: sink, out: out}, nil
}

// Restart makes the receiver expect a new signal; with shortTrain, a short
// training after the long one it has already received.
func (r *SpanV17Rx) Restart(rate int, shortTrain bool) error {
	if C.v17_rx_restart(r.s, C.int(rate), cbool(shortTrain)) != 0 {
		return fmt.Errorf("spandsp: v17_rx_restart(%d) failed", rate)
	}
	return nil
}

// SetBitSink changes where bits and status go.
func (r *SpanV17Rx) SetBitSink(out modem.BitSink) { r.out = out }

// SetCutoff sets the carrier detect level in dBm0.
func (r *SpanV17Rx) SetCutoff(dbm0 float64) { C.v17_rx_signal_cutoff(r.s, C.float(dbm0)) }

// SignalPower returns spandsp's estimate of the received level in dBm0.
func (r *SpanV17Rx) SignalPower() float64 { return float64(C.v17_rx_signal_power(r.s)) }

// Process implements modem.Receiver.
func (r *SpanV17Rx) Process(src []int16) {
	if len(src) == 0 {
		return
	}
	C.v17_rx(r.s, samplesPtr(src), C.int(len(src)))
	r.sink.drain(r.out)
}

// Close frees the receiver.
func (r *SpanV17Rx) Close() {
	C.v17_rx_free(r.s)
	r.sink.free()
}
