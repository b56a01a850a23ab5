// Package v17 implements the ITU-T V.17 modem used for fax at 14400, 12000,
// 9600 and 7200 bit/s: a 2400 baud QAM signal on an 1800 Hz carrier with
// 8-state trellis coding, with the long and short training sequences T.30
// uses (the long one after DCS, the short one between pages).
//
// The Transmitter fills 8 kHz sample blocks from a modem.BitSource; the
// Receiver consumes sample blocks and delivers bits and status to a
// modem.BitSink. A source or sink that also implements modem.BitsSource or
// modem.BitsSink (as hdlc.Encoder and hdlc.Decoder do) moves a symbol's
// bits, or a decoded batch's, in one call. Both are deterministic (time is
// the count of samples), use no goroutines and allocate nothing per sample.
//
// The receiver mixes the line down with the nominal carrier and
// interpolates half-symbol samples through a polyphase root-raised-cosine
// filter (the mixing folded into its taps) at instants set by a Gardner
// timing loop, and feeds a 17-tap half-symbol spaced LMS equaliser,
// followed by a decision-directed carrier loop and an
// 8-state Viterbi decoder (DefaultDepth). Training finds segment 1 (ABAB) by
// its quarter-turn steps, estimates the carrier offset from it, takes the
// half-turn into segment 2 as the time and phase reference, and trains the
// equaliser on the known segment 2 and 3 symbols; it tells a long from a
// short train by itself. For T.30's short trains between pages, Restart with
// RxConfig.ShortTrain keeps the equaliser and carrier frequency learnt on the
// long train. A short dropout (such as 20 ms) is ridden through: the carrier
// is held for 50 ms of silence and decoding resumes after it.
package v17

//go:generate go run gen.go

import "fmt"

// Carrier and symbol rate of V.17.
const (
	CarrierHz = 1800
	BaudRate  = 2400
)

// DefaultLevel is the transmit level, in dBm0, of a new Transmitter.
const DefaultLevel = -10.0

// bitsPerSymbol returns the number of data bits carried by one symbol at a
// bit rate, or an error for a rate V.17 does not have.
func bitsPerSymbol(rate int) (int, error) {
	switch rate {
	case 14400:
		return 6, nil
	case 12000:
		return 5, nil
	case 9600:
		return 4, nil
	case 7200:
		return 3, nil
	}
	return 0, fmt.Errorf("v17: unsupported bit rate %d (want 14400, 12000, 9600 or 7200)", rate)
}

// constellation returns the signal points for a rate with n data bits per
// symbol, indexed by Q(n)..Q3 Y2 Y1 Y0.
func constellation(bits int) []complex128 {
	switch bits {
	case 6:
		return points14400[:]
	case 5:
		return points12000[:]
	case 4:
		return points9600[:]
	}
	return points7200[:]
}

// Training symbols A, B, C, D (V.17 §5.4.1): B, C and D are A turned by a
// quarter, half and three quarters of a turn counter-clockwise.
var abcd = [4]complex128{complex(-6, -2), complex(2, -6), complex(6, 2), complex(-2, 6)}

// Lengths, in symbols, of the segments of the training sequence (V.17
// §5.4.1, table 2) and of the end of a transmission.
const (
	tepToneSymbols    = 480  // optional talker echo protection tone, 200 ms
	tepSilenceSymbols = 48   // silence after it, 20 ms
	seg1Symbols       = 256  // ABAB...
	seg2LongSymbols   = 2976 // scrambled CDBA..., long train
	seg2ShortSymbols  = 38   // scrambled CDBA..., short train
	seg3Symbols       = 64   // bridge: differentially coded 0x8880
	seg4Symbols       = 48   // scrambled ones through the trellis coder
	tailOnesSymbols   = 32   // scrambled ones after the data
)

// bridgeWord is the 16-bit pattern repeated, two bits a symbol, in segment 3.
const bridgeWord = 0x8880

// scramblerSeed is the state of the scrambler at the start of segment 2.
const scramblerSeed = 0x2ECDD5
