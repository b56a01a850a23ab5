//go:build spandsp

package interop

/*
#cgo pkg-config: spandsp
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

// Frames and status reports from spandsp's HDLC receiver, queued as records
// [int16 len (negative: a status code)][uint8 ok][len octets] until Go drains
// them.
typedef struct {
	uint8_t buf[65536];
	int n;
} rf_frames_t;

static void rf_frame(void *user, const uint8_t *pkt, int len, int ok) {
	rf_frames_t *f = user;
	int body = len > 0 ? len : 0;
	if (f->n + 3 + body > (int) sizeof(f->buf))
		return;
	int16_t l = (int16_t) len;
	memcpy(f->buf + f->n, &l, 2);
	f->buf[f->n + 2] = (uint8_t) (ok != 0);
	if (body > 0)
		memcpy(f->buf + f->n + 3, pkt, body);
	f->n += 3 + body;
}

static void rf_hdlc_status(void *user, int status) {
	rf_frame(user, NULL, status, 0);
}

// spandsp's hdlc_tx holds one frame beyond the one being sent; further
// frames wait here and are handed over from its underflow callback, as
// spandsp's own T.30 does.
typedef struct {
	hdlc_tx_state_t *s;
	uint8_t buf[65536];
	int off[256], len[256];
	int head, tail, used, ending;
} rf_hdlc_q_t;

static void rf_hdlc_underflow(void *user) {
	rf_hdlc_q_t *q = user;
	if (q->head < q->tail) {
		if (hdlc_tx_frame(q->s, q->buf + q->off[q->head], q->len[q->head]) == 0)
			q->head++;
		return;
	}
	if (q->ending) {
		// A zero-length frame asks spandsp to end once idle.
		q->ending = 0;
		hdlc_tx_frame(q->s, NULL, 0);
	}
}

static int rf_hdlc_queue(rf_hdlc_q_t *q, const uint8_t *frame, int len) {
	if (q->head == q->tail && hdlc_tx_frame(q->s, frame, len) == 0)
		return 0;
	if (q->tail >= 256 || q->used + len > (int) sizeof(q->buf))
		return -1;
	memcpy(q->buf + q->used, frame, len);
	q->off[q->tail] = q->used;
	q->len[q->tail] = len;
	q->tail++;
	q->used += len;
	return 0;
}

static void rf_hdlc_end(rf_hdlc_q_t *q) {
	if (q->head == q->tail)
		hdlc_tx_frame(q->s, NULL, 0);
	else
		q->ending = 1;
}

static hdlc_tx_state_t *rf_hdlc_tx_new(rf_hdlc_q_t *q) {
	q->s = hdlc_tx_init(NULL, 0, 1, 0, rf_hdlc_underflow, q);
	return q->s;
}

static hdlc_rx_state_t *rf_hdlc_rx_new(rf_frames_t *f, int framing_ok_flags) {
	hdlc_rx_state_t *s = hdlc_rx_init(NULL, 0, 1, framing_ok_flags, rf_frame, f);
	if (s)
		hdlc_rx_set_status_handler(s, rf_hdlc_status, f);
	return s;
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// SpanHDLCTx is spandsp's HDLC transmitter (hdlc_tx, FCS-16). It implements
// modem.BitSource for use over any of our transmitters, or feeds a spandsp
// modem directly (NewSpanV21HDLCTx). Close it when done.
type SpanHDLCTx struct {
	s *C.hdlc_tx_state_t
	q *C.rf_hdlc_q_t
}

// NewSpanHDLCTx returns spandsp's HDLC transmitter that starts with
// preambleFlags flags.
func NewSpanHDLCTx(preambleFlags int) *SpanHDLCTx {
	q := (*C.rf_hdlc_q_t)(C.calloc(1, C.sizeof_rf_hdlc_q_t))
	t := &SpanHDLCTx{s: C.rf_hdlc_tx_new(q), q: q}
	if preambleFlags > 0 {
		C.hdlc_tx_flags(t.s, C.int(preambleFlags))
	}
	return t
}

// Queue hands a frame (without FCS) to spandsp's transmitter; frames beyond
// the one spandsp itself holds wait in a C-side queue.
func (t *SpanHDLCTx) Queue(frame []byte) error {
	if len(frame) == 0 {
		return errors.New("spandsp hdlc_tx: empty frame")
	}
	p := C.CBytes(frame)
	defer C.free(p)
	if C.rf_hdlc_queue(t.q, (*C.uint8_t)(p), C.int(len(frame))) != 0 {
		return fmt.Errorf("spandsp hdlc_tx: %d-octet frame refused (queue full)", len(frame))
	}
	return nil
}

// End asks spandsp to end the transmission once the queued frames are out.
func (t *SpanHDLCTx) End() { C.rf_hdlc_end(t.q) }

// GetBit implements modem.BitSource.
func (t *SpanHDLCTx) GetBit() int {
	b := int(C.hdlc_tx_get_bit(t.s))
	if b < 0 {
		return modem.EndOfData
	}
	return b
}

// Close frees the transmitter.
func (t *SpanHDLCTx) Close() {
	C.hdlc_tx_free(t.s)
	C.free(unsafe.Pointer(t.q))
}

// SpanHDLCRx is spandsp's HDLC receiver (hdlc_rx, FCS-16, bad frames
// reported). It implements modem.BitSink for use behind any of our
// receivers, or is fed by a spandsp modem directly (NewSpanV21HDLCRx).
// Frames and status reports come out through the callbacks. Close it when
// done.
type SpanHDLCRx struct {
	s        *C.hdlc_rx_state_t
	f        *C.rf_frames_t
	OnFrame  func(frame []byte, ok bool) // octets without FCS
	OnStatus func(s modem.Status)
}

// NewSpanHDLCRx returns spandsp's HDLC receiver reporting framing OK after
// framingOKFlags flags.
func NewSpanHDLCRx(framingOKFlags int, onFrame func([]byte, bool)) *SpanHDLCRx {
	f := (*C.rf_frames_t)(C.calloc(1, C.sizeof_rf_frames_t))
	return &SpanHDLCRx{s: C.rf_hdlc_rx_new(f, C.int(framingOKFlags)), f: f, OnFrame: onFrame}
}

// PutBit implements modem.BitSink.
func (r *SpanHDLCRx) PutBit(bit int) {
	C.hdlc_rx_put_bit(r.s, C.int(bit&1))
	r.drain()
}

// Status implements modem.BitSink: carrier changes go to spandsp too.
func (r *SpanHDLCRx) Status(s modem.Status) {
	switch s {
	case modem.CarrierUp:
		C.hdlc_rx_put_bit(r.s, C.SIG_STATUS_CARRIER_UP)
	case modem.CarrierDown:
		C.hdlc_rx_put_bit(r.s, C.SIG_STATUS_CARRIER_DOWN)
	}
	r.drain()
}

func (r *SpanHDLCRx) drain() {
	n := int(r.f.n)
	if n == 0 {
		return
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&r.f.buf[0])), n)
	for len(buf) >= 3 {
		l := int(int16(binary.NativeEndian.Uint16(buf)))
		ok := buf[2] != 0
		buf = buf[3:]
		if l < 0 {
			if st := spanStatus(l); st != 0 && r.OnStatus != nil {
				r.OnStatus(st)
			}
			continue
		}
		if l > len(buf) {
			break
		}
		if r.OnFrame != nil {
			r.OnFrame(buf[:l], ok)
		}
		buf = buf[l:]
	}
	r.f.n = 0
}

// Close frees the receiver.
func (r *SpanHDLCRx) Close() {
	C.hdlc_rx_free(r.s)
	C.free(unsafe.Pointer(r.f))
}
