//go:build spandsp

package interop

/*
#cgo pkg-config: spandsp
#include <stdlib.h>
#include <spandsp.h>

// Tone reports from spandsp's detector, with the sample count at which the
// block that produced them ended.
typedef struct {
	int code[64], level[64];
	long at[64];
	int n;
	long pos;
} rf_tones_t;

static void rf_tone(void *user, int code, int level, int delay) {
	rf_tones_t *t = user;
	if (t->n < 64) {
		t->code[t->n] = code;
		t->level[t->n] = level;
		t->at[t->n] = t->pos;
		t->n++;
	}
}

static modem_connect_tones_rx_state_t *rf_tones_rx_new(int type, rf_tones_t *t) {
	return modem_connect_tones_rx_init(NULL, type, rf_tone, t);
}
*/
import "C"

import "unsafe"

// spandsp modem connect tone types.
const (
	SpanToneNone = int(C.MODEM_CONNECT_TONES_NONE)
	SpanToneCNG  = int(C.MODEM_CONNECT_TONES_FAX_CNG)
	SpanToneCED  = int(C.MODEM_CONNECT_TONES_FAX_CED)
	// SpanToneANSPR is ANS with phase reversals (V.25), SpanToneANSAM the
	// amplitude-modulated ANSam of V.8 and SpanToneANSAMPR both.
	SpanToneANSPR   = int(C.MODEM_CONNECT_TONES_ANS_PR)
	SpanToneANSAM   = int(C.MODEM_CONNECT_TONES_ANSAM)
	SpanToneANSAMPR = int(C.MODEM_CONNECT_TONES_ANSAM_PR)
	// SpanToneCEDOrPreamble asks the detector for CED or a V.21 HDLC
	// preamble (receive only), as spandsp's fax does.
	SpanToneCEDOrPreamble = int(C.MODEM_CONNECT_TONES_FAX_CED_OR_PREAMBLE)
	SpanTonePreamble      = int(C.MODEM_CONNECT_TONES_FAX_PREAMBLE)
)

// SpanToneTx is spandsp's modem connect tone generator. It implements
// modem.Transmitter. Close it when done.
type SpanToneTx struct {
	s *C.modem_connect_tones_tx_state_t
}

// NewSpanToneTx returns spandsp's generator for the tone type (SpanToneCNG or
// SpanToneCED).
func NewSpanToneTx(tone int) *SpanToneTx {
	return &SpanToneTx{s: C.modem_connect_tones_tx_init(nil, C.int(tone))}
}

// Fill implements modem.Transmitter.
func (t *SpanToneTx) Fill(dst []int16) int {
	if len(dst) == 0 {
		return 0
	}
	return int(C.modem_connect_tones_tx(t.s, samplesPtr(dst), C.int(len(dst))))
}

// Close frees the generator.
func (t *SpanToneTx) Close() { C.modem_connect_tones_tx_free(t.s) }

// SpanToneReport is one detection reported by spandsp's tone detector.
type SpanToneReport struct {
	Tone  int // spandsp tone type (SpanToneCNG, ...; SpanToneNone when a tone ends)
	Level int // as spandsp reports it
	At    int // samples processed up to the end of the block that produced it
}

// SpanToneRx is spandsp's modem connect tone detector. It implements
// modem.Receiver; reports collect in Reports. Close it when done.
type SpanToneRx struct {
	s       *C.modem_connect_tones_rx_state_t
	t       *C.rf_tones_t
	Reports []SpanToneReport
}

// NewSpanToneRx returns spandsp's detector for the tone type.
func NewSpanToneRx(tone int) *SpanToneRx {
	t := (*C.rf_tones_t)(C.calloc(1, C.sizeof_rf_tones_t))
	return &SpanToneRx{s: C.rf_tones_rx_new(C.int(tone), t), t: t}
}

// Process implements modem.Receiver.
func (r *SpanToneRx) Process(src []int16) {
	if len(src) == 0 {
		return
	}
	r.t.pos += C.long(len(src))
	C.modem_connect_tones_rx(r.s, samplesPtr(src), C.int(len(src)))
	for i := range int(r.t.n) {
		r.Reports = append(r.Reports, SpanToneReport{Tone: int(r.t.code[i]), Level: int(r.t.level[i]), At: int(r.t.at[i])})
	}
	r.t.n = 0
}

// Detected returns the tone spandsp's detector currently reports.
func (r *SpanToneRx) Detected() int { return int(C.modem_connect_tones_rx_get(r.s)) }

// Close frees the detector.
func (r *SpanToneRx) Close() {
	C.modem_connect_tones_rx_free(r.s)
	C.free(unsafe.Pointer(r.t))
}
