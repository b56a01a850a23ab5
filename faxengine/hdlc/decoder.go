package hdlc

import (
	"math/bits"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// DefaultFramingOKFlags is the number of consecutive flags after which a
// Decoder reports modem.FramingOK.
const DefaultFramingOKFlags = 5

// DecoderConfig configures a Decoder.
type DecoderConfig struct {
	// OnFrame is called with each frame received between flags: its octets
	// without the FCS and whether the FCS was correct. Frames with a bad FCS,
	// a length that is not a whole number of octets (ok is false, the
	// octets received so far are given) or too long (truncated) are
	// delivered too. The slice is only valid during the call.
	OnFrame func(frame []byte, ok bool)
	// OnStatus, if set, receives the modem's status reports passed through
	// the Decoder, and modem.FramingOK once framing is established.
	OnStatus func(s modem.Status)
	// FramingOKFlags is the number of consecutive flags that establish
	// framing; 0 means DefaultFramingOKFlags. A good frame also does.
	FramingOKFlags int
	// MaxFrameLen is the longest frame, without FCS, accepted; 0 means
	// DefaultMaxFrameLen.
	MaxFrameLen int
}

// Stats counts what a Decoder has seen since it was made or Reset.
type Stats struct {
	GoodFrames   int // frames with a correct FCS
	BadFrames    int // FCS errors and frames of a fractional octet count
	LengthErrors int // frames longer than MaxFrameLen
	Aborts       int // frames ended by an abort sequence
}

// Decoder finds HDLC frames in a bit stream. It implements modem.BitSink: a
// modem receiver delivers into it directly, and carrier loss discards any
// partial frame.
type Decoder struct {
	cfg DecoderConfig

	buf     []byte
	octet   uint32 // bits of the octet being assembled
	nbits   int    // bits in octet
	ones    int    // consecutive ones seen
	inFrame bool   // a flag has been seen and no abort since
	tooLong bool
	flags   int  // consecutive flags
	framing bool // FramingOK reported
	stats   Stats
}

// NewDecoder returns a decoder configured by cfg.
func NewDecoder(cfg DecoderConfig) *Decoder {
	if cfg.FramingOKFlags <= 0 {
		cfg.FramingOKFlags = DefaultFramingOKFlags
	}
	if cfg.MaxFrameLen <= 0 {
		cfg.MaxFrameLen = DefaultMaxFrameLen
	}
	return &Decoder{cfg: cfg, buf: make([]byte, 0, cfg.MaxFrameLen+3)}
}

// Reset discards any partial frame and forgets framing.
func (d *Decoder) Reset() {
	d.resetFrame()
	d.inFrame = false
	d.ones = 0
	d.flags = 0
	d.framing = false
	d.stats = Stats{}
}

// Stats returns the counts so far.
func (d *Decoder) Stats() Stats { return d.stats }

// FramingOK reports whether framing is currently established.
func (d *Decoder) FramingOK() bool { return d.framing }

// Status passes a modem status on to OnStatus. Carrier loss ends framing and
// drops a partial frame.
func (d *Decoder) Status(s modem.Status) {
	if s == modem.CarrierDown || s == modem.CarrierUp {
		d.resetFrame()
		d.inFrame = false
		d.ones = 0
		d.flags = 0
		d.framing = false
	}
	if d.cfg.OnStatus != nil {
		d.cfg.OnStatus(s)
	}
}

func (d *Decoder) resetFrame() {
	d.buf = d.buf[:0]
	d.octet, d.nbits = 0, 0
	d.tooLong = false
}

// PutBit takes the next received bit (0 or 1; any other value counts as 1).
func (d *Decoder) PutBit(bit int) {
	if bit != 0 {
		d.ones++
		if d.ones >= 7 {
			// Abort (or idle ones): whatever was being received is lost.
			if d.ones == 7 && d.inFrame && (len(d.buf) > 0 || d.nbits > 6) {
				d.stats.Aborts++
			}
			d.inFrame = false
			d.flags = 0
			d.resetFrame()
			return
		}
		d.addBit(1)
		return
	}
	ones := d.ones
	d.ones = 0
	switch {
	case ones == 6:
		d.flag()
	case ones == 5:
		// A stuffed zero: drop it.
	default:
		d.addBit(0)
	}
}

// PutBits takes n received bits (0 ≤ n ≤ 64), the first in bit 0: the same
// as PutBit for each in turn. It implements modem.BitsSink.
func (d *Decoder) PutBits(b uint64, n int) {
	n = min(max(n, 0), 64)
	for n > 0 {
		if !d.inFrame || d.ones >= 5 {
			d.PutBit(int(b & 1))
			b >>= 1
			n--
			continue
		}
		// Inside a frame, a chunk without a run of five ones (counting
		// those just received) holds neither a flag, an abort nor a
		// stuffed zero: every bit is data.
		k := min(n, 24)
		chunk := b & (1<<k - 1)
		y := chunk<<d.ones | (1<<d.ones - 1)
		if y&(y>>1)&(y>>2)&(y>>3)&(y>>4) != 0 {
			d.PutBit(int(b & 1))
			b >>= 1
			n--
			continue
		}
		d.ones = bits.LeadingZeros64(^(y << (64 - (k + d.ones))))
		d.octet |= uint32(chunk) << d.nbits
		d.nbits += k
		for d.nbits >= 8 {
			if len(d.buf) < d.cfg.MaxFrameLen+3 {
				d.buf = append(d.buf, byte(d.octet))
			} else {
				d.tooLong = true
			}
			d.octet >>= 8
			d.nbits -= 8
		}
		b >>= k
		n -= k
	}
}

func (d *Decoder) addBit(b uint32) {
	if !d.inFrame {
		return
	}
	d.octet |= b << d.nbits
	if d.nbits++; d.nbits == 8 {
		if len(d.buf) < d.cfg.MaxFrameLen+3 {
			d.buf = append(d.buf, byte(d.octet))
		} else {
			d.tooLong = true
		}
		d.octet, d.nbits = 0, 0
	}
}

// flag handles a received flag. Its first six bits (0111111 less the final
// zero) went through addBit: the last 0 and six 1s, i.e. seven bits, must
// come off the frame being assembled.
func (d *Decoder) flag() {
	if d.inFrame {
		d.endFrame()
	}
	d.inFrame = true
	d.resetFrame()
	if d.flags++; d.flags >= d.cfg.FramingOKFlags {
		d.setFraming()
	}
}

func (d *Decoder) endFrame() {
	// Take back the 0 and six 1s of the flag that went into the frame.
	total := len(d.buf)*8 + d.nbits - 7
	if total <= 0 {
		return // back-to-back flags
	}
	d.flags = 0
	n := total / 8
	if n < MinFrameLen {
		return // too short to be a frame: noise between flags
	}
	if d.tooLong || n > d.cfg.MaxFrameLen+2 {
		d.stats.LengthErrors++
		d.deliver(d.buf[:d.cfg.MaxFrameLen], false)
		return
	}
	frame := d.buf[:n]
	if total%8 != 0 {
		d.stats.BadFrames++
		d.deliver(frame, false)
		return
	}
	if CheckFCS(frame) {
		d.stats.GoodFrames++
		d.setFraming()
		d.deliver(frame[:n-2], true)
		return
	}
	d.stats.BadFrames++
	d.deliver(frame[:n-2], false)
}

func (d *Decoder) deliver(frame []byte, ok bool) {
	if d.cfg.OnFrame != nil {
		d.cfg.OnFrame(frame, ok)
	}
}

func (d *Decoder) setFraming() {
	if !d.framing {
		d.framing = true
		if d.cfg.OnStatus != nil {
			d.cfg.OnStatus(modem.FramingOK)
		}
	}
}
