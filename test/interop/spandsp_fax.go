//go:build spandsp

package interop

/*
#cgo pkg-config: spandsp
#include <stdlib.h>
#include <spandsp.h>

// rf_fax pairs spandsp's audio fax terminal with the outcome its phase E
// handler reports, kept in C so no C-to-Go callback is needed.
typedef struct {
	fax_state_t *fax;
	int done;
	int code;
} rf_fax;

static void rf_phase_e(t30_state_t *t, void *user, int code) {
	rf_fax *f = (rf_fax *) user;
	f->done = 1;
	f->code = code;
}

static rf_fax *rf_new(int caller) {
	rf_fax *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->fax = fax_init(NULL, caller);
	if (f->fax == NULL) {
		free(f);
		return NULL;
	}
	t30_set_phase_e_handler(fax_get_t30_state(f->fax), rf_phase_e, f);
	return f;
}

static void rf_free(rf_fax *f) {
	fax_free(f->fax);
	free(f);
}

static t30_state_t *rf_t30(rf_fax *f) { return fax_get_t30_state(f->fax); }

static void rf_log(rf_fax *f, const char *tag) {
	int level = SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_SHOW_TAG | SPAN_LOG_FLOW;
	span_log_set_level(t30_get_logging_state(rf_t30(f)), level);
	span_log_set_tag(t30_get_logging_state(rf_t30(f)), tag);
	span_log_set_level(fax_get_logging_state(f->fax), level);
	span_log_set_tag(fax_get_logging_state(f->fax), tag);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"
)

// Fax modem sets for SpanFax.SetModems (spandsp's T30_SUPPORT_* bits).
const (
	FaxV27ter = C.T30_SUPPORT_V27TER // 2400/4800 bit/s
	FaxV29    = C.T30_SUPPORT_V29    // 7200/9600 bit/s
	FaxV17    = C.T30_SUPPORT_V17    // up to 14400 bit/s
)

// ModemsUpTo returns the modem set whose fastest rate is maxRate bit/s
// (4800, 9600 or 14400; anything else is treated as the next lower one).
func ModemsUpTo(maxRate int) int {
	switch {
	case maxRate >= 14400:
		return FaxV27ter | FaxV29 | FaxV17
	case maxRate >= 7200:
		return FaxV27ter | FaxV29
	}
	return FaxV27ter
}

// SpanFax is spandsp's complete audio fax terminal (fax_state_t: T.30,
// the V.21/V.27ter/V.29/V.17 modems, ECM, T.4/T.6 and TIFF-F file I/O),
// driven 8 kHz sample block by block. It is the interoperability peer of
// rayofax's own terminal: feed it the audio it hears with Rx, take the
// audio it says with Tx, and read the outcome with Result once Done.
//
// Configure it (files, ECM, modems, ident) before the first Rx/Tx. Its
// methods are safe for concurrent use (a mutex serialises the C calls),
// so a test may poll Done from another goroutine.
type SpanFax struct {
	mu     sync.Mutex
	f      *C.rf_fax
	caller bool
	sender bool
}

// NewSpanFax returns a terminal for the calling (caller) or answering
// side. It sends comfort silence when idle and starts with ECM off and all
// modems allowed, as spandsp does. Close releases it.
func NewSpanFax(caller bool) (*SpanFax, error) {
	c := C.int(0)
	if caller {
		c = 1
	}
	f := C.rf_new(c)
	if f == nil {
		return nil, errors.New("interop: fax_init failed")
	}
	C.fax_set_transmit_on_idle(f.fax, 1)
	return &SpanFax{f: f, caller: caller}, nil
}

// Close frees the terminal. It is safe to call twice.
func (s *SpanFax) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		C.rf_free(s.f)
		s.f = nil
	}
}

// SetTxFile makes the terminal send the TIFF at path (all pages).
func (s *SpanFax) SetTxFile(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	C.t30_set_tx_file(C.rf_t30(s.f), cs, -1, -1)
	s.sender = true
}

// SetRxFile makes the terminal receive into a TIFF-F file at path.
func (s *SpanFax) SetRxFile(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	C.t30_set_rx_file(C.rf_t30(s.f), cs, -1)
}

// SetECM allows or forbids error correction mode (T.30 Annex A).
func (s *SpanFax) SetECM(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := C.int(0)
	if on {
		v = 1
	}
	C.t30_set_ecm_capability(C.rf_t30(s.f), v)
	if on {
		// ECM allows the 2-D and T.6 codings too.
		C.t30_set_supported_compressions(C.rf_t30(s.f),
			C.T30_SUPPORT_T4_1D_COMPRESSION|C.T30_SUPPORT_T4_2D_COMPRESSION|C.T30_SUPPORT_T6_COMPRESSION)
	}
}

// SetModems limits the image modems (FaxV27ter|FaxV29|FaxV17, or
// ModemsUpTo(rate)).
func (s *SpanFax) SetModems(set int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := C.t30_set_supported_modems(C.rf_t30(s.f), C.int(set)); r != 0 {
		return fmt.Errorf("interop: t30_set_supported_modems(%#x) = %d", set, int(r))
	}
	return nil
}

// SetLocalIdent sets the terminal's identification (TSI/CSI, at most 20
// characters of digits, '+' and space).
func (s *SpanFax) SetLocalIdent(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := C.CString(id)
	defer C.free(unsafe.Pointer(cs))
	if r := C.t30_set_tx_ident(C.rf_t30(s.f), cs); r != 0 {
		return fmt.Errorf("interop: t30_set_tx_ident(%q) = %d", id, int(r))
	}
	return nil
}

// LogToStderr turns on spandsp's T.30 and modem flow logging for this
// terminal, each line tagged with tag (spandsp writes it to stderr).
func (s *SpanFax) LogToStderr(tag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := C.CString(tag)
	defer C.free(unsafe.Pointer(cs)) // spandsp copies the tag
	C.rf_log(s.f, cs)
}

// Rx gives the terminal the samples it hears.
func (s *SpanFax) Rx(in []int16) {
	if len(in) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return
	}
	C.fax_rx(s.f.fax, (*C.int16_t)(unsafe.Pointer(&in[0])), C.int(len(in)))
}

// Tx fills out with the samples the terminal says (silence when idle).
func (s *SpanFax) Tx(out []int16) {
	if len(out) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		clear(out)
		return
	}
	n := int(C.fax_tx(s.f.fax, (*C.int16_t)(unsafe.Pointer(&out[0])), C.int(len(out))))
	clear(out[max(n, 0):])
}

// Frame is Rx then Tx: the terminal as an eslbridge media handler or a
// simulator peer (Process).
func (s *SpanFax) Frame(in, out []int16) {
	s.Rx(in)
	s.Tx(out)
}

// Process is Frame, for fsim.Peer.
func (s *SpanFax) Process(in, out []int16) { s.Frame(in, out) }

// Done reports whether the call reached phase E (finished, well or not).
func (s *SpanFax) Done() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f != nil && s.f.done != 0
}

// FaxResult is a terminal's outcome.
type FaxResult struct {
	Code        int    // T30_ERR_* completion code; 0 is success
	Text        string // spandsp's text for Code
	Done        bool   // phase E was reached
	Pages       int    // pages transferred (sent by a sender, received by a receiver)
	BitRate     int    // image modem rate of the last page, bit/s
	ECM         bool   // error correction was used
	RemoteIdent string // the far end's TSI/CSI
	BadRows     int    // rows the receiver could not decode on the last page
}

// OK reports a successful call.
func (r FaxResult) OK() bool { return r.Done && r.Code == 0 }

func (r FaxResult) String() string {
	return fmt.Sprintf("code %d (%s), %d pages at %d bit/s, ECM %v, remote %q, bad rows %d",
		r.Code, r.Text, r.Pages, r.BitRate, r.ECM, r.RemoteIdent, r.BadRows)
}

// Result returns the outcome so far (final once Done).
func (s *SpanFax) Result() FaxResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return FaxResult{}
	}
	var st C.t30_stats_t
	t := C.rf_t30(s.f)
	C.t30_get_transfer_statistics(t, &st)
	r := FaxResult{
		Code:    int(s.f.code),
		Done:    s.f.done != 0,
		BitRate: int(st.bit_rate),
		ECM:     st.error_correcting_mode != 0,
		BadRows: int(st.bad_rows),
	}
	r.Text = C.GoString(C.t30_completion_code_to_str(C.int(r.Code)))
	if s.sender {
		r.Pages = int(st.pages_tx)
	} else {
		r.Pages = int(st.pages_rx)
	}
	if id := C.t30_get_rx_ident(t); id != nil {
		r.RemoteIdent = strings.TrimSpace(C.GoString(id))
	}
	return r
}

// spandsp's T30_SUPPORT_* resolution and image size bits, for
// SetResolutions and SetImageSizes.
const (
	FaxResStandard  = C.T30_SUPPORT_STANDARD_RESOLUTION
	FaxResFine      = C.T30_SUPPORT_FINE_RESOLUTION
	FaxResSuperfine = C.T30_SUPPORT_SUPERFINE_RESOLUTION
	FaxResR8        = C.T30_SUPPORT_R8_RESOLUTION
	FaxResR16       = C.T30_SUPPORT_R16_RESOLUTION

	FaxWidthA4       = C.T30_SUPPORT_215MM_WIDTH
	FaxWidthB4       = C.T30_SUPPORT_255MM_WIDTH
	FaxWidthA3       = C.T30_SUPPORT_303MM_WIDTH
	FaxLengthA4      = C.T30_SUPPORT_A4_LENGTH
	FaxLengthB4      = C.T30_SUPPORT_B4_LENGTH
	FaxLengthUnlimit = C.T30_SUPPORT_UNLIMITED_LENGTH
)

// SetResolutions limits the resolutions the terminal offers and accepts
// (FaxRes* bits).
func (s *SpanFax) SetResolutions(set int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := C.t30_set_supported_resolutions(C.rf_t30(s.f), C.int(set)); r != 0 {
		return fmt.Errorf("interop: t30_set_supported_resolutions(%#x) = %d", set, int(r))
	}
	return nil
}

// SetImageSizes limits the page widths and lengths the terminal offers
// and accepts (FaxWidth* and FaxLength* bits).
func (s *SpanFax) SetImageSizes(set int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := C.t30_set_supported_image_sizes(C.rf_t30(s.f), C.int(set)); r != 0 {
		return fmt.Errorf("interop: t30_set_supported_image_sizes(%#x) = %d", set, int(r))
	}
	return nil
}
