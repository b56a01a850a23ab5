// Package fsk implements the V.21 channel 2 frequency-shift-keyed modem that
// T.30 uses for its control messages (ITU-T Recommendation V.21, 300 bit/s).
//
// Channel 2 signals a binary 1 (mark, F_Z) as 1650 Hz and a binary 0
// (space, F_A) as 1850 Hz. The Transmitter is phase continuous; the Receiver
// is a non-coherent sliding correlator (one bit long, the matched filter)
// with carrier detection and a bit-timing loop. It works from -43 to
// 0 dBm0, with carrier offsets of ±10 Hz, sample clock offsets of ±100 ppm,
// drop-outs of 20 ms and in noise (BER 1e-5 at about 3.5 dB SNR over the
// 0-4 kHz band).
//
// Carrier detection has hysteresis in level (on above -45 dBm0, off below
// -48 dBm0 by default) and in time (up after 5 ms, down after 30 ms), and
// also asks that most of the power be in the channel's band, so line noise,
// call tones or V.21 channel 1 do not hold it up. Under loud noise the
// carrier drops some 100 ms after the signal ends; on a quiet line 30 ms.
// T.30 should still take HDLC framing (hdlc.Decoder's FramingOK and frames)
// as the proof of a V.21 signal.
//
// Both sides work on 8000 Hz linear samples in blocks of any length, are
// driven only by the sample count and allocate nothing while running.
package fsk

// Channel 2 tone frequencies, in Hz.
const (
	MarkHz  = 1650 // binary 1
	SpaceHz = 1850 // binary 0
	// BitRate is the signalling rate in bit/s.
	BitRate = 300
)

// DefaultLevel is the transmit level, in dBm0, of a new Transmitter.
const DefaultLevel = -10.0

// Both tones are exact multiples of 8000/160 Hz, so one 160-sample table
// cycle holds a whole number of periods of each: mark advances 33 table steps
// per sample and space 37. Phase continuity is then exact and there is no
// phase accumulator rounding.
const (
	tableLen  = 160
	markStep  = MarkHz * tableLen / 8000  // 33
	spaceStep = SpaceHz * tableLen / 8000 // 37
)

// Bit timing: one bit is 80/3 samples. Timing is counted in units of 1/3
// sample scaled by 256, so a bit is exactly bitUnits long.
const (
	sampleUnits = 3 << 8
	bitUnits    = 80 << 8
)
