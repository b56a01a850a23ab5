// Package hdlc implements the HDLC framing T.30 uses over its modems (ITU-T
// T.30 clause 5.3, after ISO/IEC 13239): flag-delimited frames, zero-bit
// insertion, the 16-bit frame check sequence and aborts.
//
// It works on bits, so it runs over any modem: V.21 channel 2 for T.30
// control frames and the fast modems for error-correction-mode (T.30
// Annex A) frames. The Encoder is a modem.BitSource that sends a preamble of
// flags, the queued frames and closing flags; the Decoder is a modem.BitSink
// that delivers each frame with whether its FCS was good.
package hdlc

// Flag is the octet that opens and closes every frame (01111110).
const Flag = 0x7E

// DefaultPreambleFlags is the number of flags an Encoder sends before its
// first frame unless told otherwise: T.30 asks for 1 s ± 15 % of flags
// before V.21 control frames, which at 300 bit/s is 37.5 flags.
const DefaultPreambleFlags = 38

// DefaultMaxFrameLen is the longest frame, without FCS, a Decoder accepts:
// room for a T.30 Annex A frame carrying a 256-octet block with headroom.
const DefaultMaxFrameLen = 512

// MinFrameLen is the shortest frame, FCS included, that counts as a frame
// (address, control, FCS). Anything shorter between flags is ignored.
const MinFrameLen = 4

// fcsTable drives the bitwise-reflected CRC-CCITT (polynomial
// x^16 + x^12 + x^5 + 1) a byte at a time.
var fcsTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// fcsGood is the remainder the FCS register holds after a frame with a
// correct FCS has been run through it, FCS included.
const fcsGood = 0xF0B8

func fcsUpdate(fcs uint16, b byte) uint16 {
	return fcs>>8 ^ fcsTable[byte(fcs)^b]
}

// FCS returns the 16-bit frame check sequence of data as HDLC sends it: the
// ones complement of the CRC, to be transmitted low octet first.
func FCS(data []byte) uint16 {
	fcs := uint16(0xFFFF)
	for _, b := range data {
		fcs = fcsUpdate(fcs, b)
	}
	return ^fcs
}

// AppendFCS appends the FCS of data (low octet first) to data.
func AppendFCS(data []byte) []byte {
	f := FCS(data)
	return append(data, byte(f), byte(f>>8))
}

// CheckFCS reports whether frame ends in a correct FCS over the octets
// before it.
func CheckFCS(frame []byte) bool {
	if len(frame) < 2 {
		return false
	}
	fcs := uint16(0xFFFF)
	for _, b := range frame {
		fcs = fcsUpdate(fcs, b)
	}
	return fcs == fcsGood
}
