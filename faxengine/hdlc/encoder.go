package hdlc

import (
	"errors"
	"fmt"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// ErrFrameTooLong is returned by Encoder.Queue for a frame longer than the
// encoder's MaxFrameLen.
var ErrFrameTooLong = errors.New("frame too long")

// ErrEnded is returned by Encoder.Queue after End.
var ErrEnded = errors.New("transmission already ending")

// EncoderConfig configures an Encoder. The zero value is the T.30 V.21 setup.
type EncoderConfig struct {
	// PreambleFlags is the number of flags sent before the first frame; 0
	// means DefaultPreambleFlags. Over a fast modem (ECM), a few suffice.
	PreambleFlags int
	// ClosingFlags is the number of flags sent after the last frame before
	// the transmission ends; 0 means 2. The first closes the frame.
	ClosingFlags int
	// MaxFrameLen is the longest frame (without FCS) Queue accepts; 0 means
	// DefaultMaxFrameLen.
	MaxFrameLen int
	// OnIdle, if set, is called from GetBit each time the last queued frame
	// has been sent (its closing flag is next), so more may be queued
	// without a gap; after End it is called instead once the closing flags
	// are out.
	OnIdle func()
}

// Encoder turns queued frames into a bit stream: a preamble of flags, each
// frame with its FCS and zero-bit insertion, one flag between frames, and,
// after End, closing flags and then modem.EndOfData. While no frame is
// queued and End has not been called it keeps sending flags, so frames may be
// queued while the transmission runs. It implements modem.BitSource.
//
// Encoder is not safe for concurrent use; call Queue and End between modem
// Fill calls, or from OnIdle.
type Encoder struct {
	cfg EncoderConfig

	queue [][]byte // frames waiting, FCS appended; queue[0] is being sent
	spare [][]byte // reusable buffers

	preamble int  // flags still to send before anything else
	closing  int  // closing flags still to send, once ending
	ending   bool // End called
	done     bool // EndOfData reached
	sent     int  // frames completely sent

	// Current octet being shifted out, LSB first.
	cur     uint16 // bits left to send, LSB first (frame octets already stuffed)
	curBits int    // how many
	inFrame bool   // cur holds frame data
	pos     int    // next octet of queue[0]
	ones    int    // consecutive ones at the end of the frame octets loaded
	abort   bool   // abort requested for the current frame
}

// NewEncoder returns an encoder configured by cfg.
func NewEncoder(cfg EncoderConfig) *Encoder {
	if cfg.PreambleFlags <= 0 {
		cfg.PreambleFlags = DefaultPreambleFlags
	}
	if cfg.ClosingFlags <= 0 {
		cfg.ClosingFlags = 2
	}
	if cfg.MaxFrameLen <= 0 {
		cfg.MaxFrameLen = DefaultMaxFrameLen
	}
	e := &Encoder{cfg: cfg}
	e.Reset()
	return e
}

// Reset discards queued frames and prepares a new transmission, starting
// with the preamble.
func (e *Encoder) Reset() {
	for _, f := range e.queue {
		e.spare = append(e.spare, f[:0])
	}
	e.queue = e.queue[:0]
	e.preamble = e.cfg.PreambleFlags
	e.closing = e.cfg.ClosingFlags
	e.ending, e.done, e.abort = false, false, false
	e.sent = 0
	e.cur, e.curBits, e.inFrame, e.pos, e.ones = 0, 0, false, 0, 0
}

// Queue adds a frame (address, control and information octets, without FCS)
// to be sent after those already queued. The frame is copied.
func (e *Encoder) Queue(frame []byte) error {
	if e.ending {
		return fmt.Errorf("hdlc: queue frame: %w", ErrEnded)
	}
	if len(frame) > e.cfg.MaxFrameLen {
		return fmt.Errorf("hdlc: queue %d-octet frame (max %d): %w", len(frame), e.cfg.MaxFrameLen, ErrFrameTooLong)
	}
	var buf []byte
	if n := len(e.spare); n > 0 {
		buf, e.spare = e.spare[n-1], e.spare[:n-1]
	}
	buf = AppendFCS(append(buf, frame...))
	e.queue = append(e.queue, buf)
	return nil
}

// End asks for the transmission to finish after the queued frames: closing
// flags follow the last frame and then GetBit returns modem.EndOfData.
func (e *Encoder) End() { e.ending = true }

// Abort abandons the frame being sent (sending an abort sequence of ones in
// its place); the next queued frame follows after a flag.
func (e *Encoder) Abort() {
	if e.inFrame {
		e.abort = true
	}
}

// Pending returns the number of queued frames not yet completely sent.
func (e *Encoder) Pending() int { return len(e.queue) }

// Sent returns the number of frames completely sent since the last Reset.
func (e *Encoder) Sent() int { return e.sent }

// Done reports whether the transmission has ended (GetBit returned
// modem.EndOfData).
func (e *Encoder) Done() bool { return e.done }

// GetBit returns the next bit to transmit.
func (e *Encoder) GetBit() int {
	if e.curBits == 0 && !e.next() {
		return modem.EndOfData
	}
	bit := int(e.cur & 1)
	e.cur >>= 1
	e.curBits--
	return bit
}

// GetBits returns the next n bits (1 ≤ n ≤ 32), the first in bit 0, and how
// many there are (fewer than n only at the end of the transmission): the
// same bits as n calls of GetBit. It implements modem.BitsSource.
func (e *Encoder) GetBits(n int) (uint32, int) {
	n = min(max(n, 0), 32)
	var out uint32
	got := 0
	for got < n {
		if e.curBits == 0 && !e.next() {
			break
		}
		k := min(n-got, e.curBits)
		out |= (uint32(e.cur) & (1<<k - 1)) << got
		e.cur >>= k
		e.curBits -= k
		got += k
	}
	return out, got
}

// stuffed is a frame octet after zero-bit insertion.
type stuffed struct {
	bits uint16 // to send, LSB first
	n    uint8  // how many (8 to 10)
	ones uint8  // consecutive ones at its end
}

// stuffTable[ones][octet] is octet with zero-bit insertion (a 0 after every
// five consecutive ones, so that data never looks like a flag), when ones
// ones (0 to 4) were sent just before it.
var stuffTable = func() (t [5][256]stuffed) {
	for ones := range 5 {
		for o := range 256 {
			var b uint16
			n, k := 0, ones
			for i := range 8 {
				bit := o >> i & 1
				b |= uint16(bit) << n
				n++
				if k = (k + 1) * bit; k == 5 {
					n++ // the inserted 0
					k = 0
				}
			}
			t[ones][o] = stuffed{bits: b, n: uint8(n), ones: uint8(k)}
		}
	}
	return t
}()

// next loads the next octet (or flag) into cur. It returns false at the end
// of the transmission.
func (e *Encoder) next() bool {
	if e.done {
		return false
	}
	if e.preamble > 0 {
		e.preamble--
		e.loadFlag()
		return true
	}
	if len(e.queue) > 0 {
		f := e.queue[0]
		if e.abort {
			// Seven or more ones abort the frame; a flag follows before
			// anything else.
			e.abort = false
			e.cur, e.curBits, e.inFrame = 0x7F|Flag<<8, 16, false
			e.finishFrame(false)
			return true
		}
		if e.pos < len(f) {
			st := &stuffTable[e.ones][f[e.pos]]
			e.cur, e.curBits, e.ones, e.inFrame = st.bits, int(st.n), int(st.ones), true
			e.pos++
			return true
		}
		// Frame complete: its closing flag.
		e.finishFrame(true)
		if len(e.queue) == 0 && e.ending {
			e.closing--
		}
		e.loadFlag()
		return true
	}
	if e.ending {
		if e.closing <= 0 {
			e.done = true
			if e.cfg.OnIdle != nil {
				e.cfg.OnIdle()
			}
			return false
		}
		e.closing--
	}
	e.loadFlag()
	return true
}

func (e *Encoder) loadFlag() {
	e.cur, e.curBits, e.inFrame, e.ones = Flag, 8, false, 0
}

func (e *Encoder) finishFrame(sent bool) {
	f := e.queue[0]
	copy(e.queue, e.queue[1:])
	e.queue = e.queue[:len(e.queue)-1]
	e.spare = append(e.spare, f[:0])
	e.pos = 0
	e.inFrame = false
	e.ones = 0
	if sent {
		e.sent++
	}
	if len(e.queue) == 0 && e.cfg.OnIdle != nil && !e.ending {
		e.cfg.OnIdle()
	}
}
