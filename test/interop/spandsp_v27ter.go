//go:build spandsp

package interop

/*
#cgo pkg-config: spandsp
#include <stdint.h>
#include <spandsp.h>

// Same layouts as the bit source and sink in spandsp_fsk.go.
typedef struct { uint8_t *bits; int n, pos, loop; } v27ter_bits_t;
typedef struct { uint8_t *buf; int n, cap; } v27ter_sink_t;

static int v27ter_get_bit(void *user) {
	v27ter_bits_t *s = user;
	if (s->pos >= s->n) {
		if (!s->loop || s->n == 0)
			return SIG_STATUS_END_OF_DATA;
		s->pos = 0;
	}
	return s->bits[s->pos++];
}

static void v27ter_put_bit(void *user, int bit) {
	v27ter_sink_t *s = user;
	if (s->n >= s->cap)
		return;
	s->buf[s->n++] = bit < 0 ? (uint8_t)(0x80 | -bit) : (uint8_t)(bit & 1);
}

static v27ter_tx_state_t *v27ter_rf_tx_new(int rate, int tep, void *src) {
	return v27ter_tx_init(NULL, rate, tep, v27ter_get_bit, src);
}

static v27ter_rx_state_t *v27ter_rf_rx_new(int rate, void *sink) {
	v27ter_rx_state_t *s = v27ter_rx_init(NULL, rate, v27ter_put_bit, sink);
	if (s)
		v27ter_rx_set_modem_status_handler(s, v27ter_put_bit, sink);
	return s;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// SpanV27terTx is spandsp's V27ter transmitter. It implements modem.Transmitter.
// Close it when done.
type SpanV27terTx struct {
	s    *C.v27ter_tx_state_t
	bits spanBits
}

// NewSpanV27terTx returns spandsp's V27ter transmitter at rate (4800 or 2400) sending
// its training, then bits (one per byte), then its shutdown sequence.
func NewSpanV27terTx(rate int, bits []byte) (*SpanV27terTx, error) {
	return NewSpanV27terTxTEP(rate, bits, false)
}

// NewSpanV27terTxTEP is NewSpanV27terTx with spandsp's talker echo protection tone
// before the training when tep is set.
func NewSpanV27terTxTEP(rate int, bits []byte, tep bool) (*SpanV27terTx, error) {
	b := newSpanBits(bits, false)
	t := 0
	if tep {
		t = 1
	}
	s := C.v27ter_rf_tx_new(C.int(rate), C.int(t), unsafe.Pointer(b.c))
	if s == nil {
		b.free()
		return nil, fmt.Errorf("spandsp: v27ter_tx_init(%d) failed", rate)
	}
	return &SpanV27terTx{s: s, bits: b}, nil
}

// SetLevel sets the transmit level in dBm0.
func (t *SpanV27terTx) SetLevel(dbm0 float64) { C.v27ter_tx_power(t.s, C.float(dbm0)) }

// Fill implements modem.Transmitter.
func (t *SpanV27terTx) Fill(dst []int16) int {
	if len(dst) == 0 {
		return 0
	}
	return int(C.v27ter_tx(t.s, samplesPtr(dst), C.int(len(dst))))
}

// Close frees the transmitter.
func (t *SpanV27terTx) Close() {
	C.v27ter_tx_free(t.s)
	t.bits.free()
}

// SpanV27terRx is spandsp's V27ter receiver. It implements modem.Receiver.
// Close it when done.
type SpanV27terRx struct {
	s    *C.v27ter_rx_state_t
	sink spanSink
	out  modem.BitSink
}

// NewSpanV27terRx returns spandsp's V27ter receiver expecting rate (4800 or 2400)
// and delivering bits and status into out.
func NewSpanV27terRx(rate int, out modem.BitSink) (*SpanV27terRx, error) {
	sink := newSpanSink()
	s := C.v27ter_rf_rx_new(C.int(rate), unsafe.Pointer(sink.c))
	if s == nil {
		sink.free()
		return nil, fmt.Errorf("spandsp: v27ter_rx_init(%d) failed", rate)
	}
	return &SpanV27terRx{s: s, sink: sink, out: out}, nil
}

// SetCutoff sets the carrier detect level in dBm0.
func (r *SpanV27terRx) SetCutoff(dbm0 float64) { C.v27ter_rx_signal_cutoff(r.s, C.float(dbm0)) }

// SignalPower returns spandsp's estimate of the received level in dBm0.
func (r *SpanV27terRx) SignalPower() float64 { return float64(C.v27ter_rx_signal_power(r.s)) }

// Process implements modem.Receiver.
func (r *SpanV27terRx) Process(src []int16) {
	if len(src) == 0 {
		return
	}
	C.v27ter_rx(r.s, samplesPtr(src), C.int(len(src)))
	r.sink.drain(r.out)
}

// Close frees the receiver.
func (r *SpanV27terRx) Close() {
	C.v27ter_rx_free(r.s)
	r.sink.free()
}
