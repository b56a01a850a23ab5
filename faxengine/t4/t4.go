package t4

import (
	"errors"
	"fmt"
)

// Encoding selects a coding scheme.
type Encoding int

const (
	// MH is the one-dimensional modified Huffman code (T.4 §4.1), rows
	// preceded by EOL.
	MH Encoding = iota
	// MR is the two-dimensional modified READ code (T.4 §4.2): one 1D
	// row then up to K-1 rows coded against the row above, each row
	// preceded by EOL and a tag bit (1 for 1D, 0 for 2D).
	MR
	// RLE is MH without EOLs, each row starting on a byte boundary: TIFF
	// Compression 2 ("CCITT RLE"). It has no RTC and no resynchronisation.
	RLE
)

func (e Encoding) String() string {
	switch e {
	case MH:
		return "MH"
	case MR:
		return "MR"
	case RLE:
		return "RLE"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// MaxWidth is the widest row the codecs accept (T.4 allows up to 4864
// pels at 600 dpi on A3; this leaves room for any TIFF a user may have).
const MaxWidth = 1 << 15

// Errors reported by the row coders. Decoder counts them as bad rows; T.6
// (MMR) decoding stops at the first one.
var (
	// ErrShort means the data ended inside a code word or row: with a
	// streaming decoder, more data may complete it.
	ErrShort = errors.New("t4: data ends inside a row")
	// ErrEOL means an EOL (or 11 zeros) came before the row was complete.
	ErrEOL = errors.New("t4: EOL inside a row")
	// ErrInvalidCode means bits that are no code word of the scheme.
	ErrInvalidCode = errors.New("t4: invalid code word")
	// ErrRowLength means runs or changing elements past the row width, or
	// a row that does not end where it should.
	ErrRowLength = errors.New("t4: row length differs from the page width")
	// ErrUncompressed means the uncompressed-mode extension, which this
	// codec does not implement (T.30 never negotiates it here).
	ErrUncompressed = errors.New("t4: uncompressed mode not supported")
)

// MinRowBits returns the number of bits a coded scan line must occupy to
// last at least ms milliseconds at bitRate bits per second: the minimum
// scan-line time negotiated in T.30 DIS/DCS (0, 5, 10, 20 or 40 ms; the
// value for 0 ms and for ECM is 0). For example, 20 ms at 9600 bit/s is 192
// bits.
func MinRowBits(bitRate, ms int) int {
	if bitRate <= 0 || ms <= 0 {
		return 0
	}
	return (bitRate*ms + 999) / 1000
}

// MaxRowBits is the most bits a valid coded row of the given width can
// take (without fill), with a wide margin: about 4.5 bits a pel for
// alternating single pels in MH, 6 in 2D. Decoders treat a row still
// unfinished after this many bits as damaged rather than buffer without
// bound.
func MaxRowBits(width int) int { return 16*width + 1024 }

// Stats describes the rows a Decoder delivered.
type Stats struct {
	Rows int // rows delivered, good and replaced
	// BadRows counts rows that could not be decoded and were replaced by
	// the previous good row (or a white row at the top of the page).
	BadRows int
	// ConsecutiveBadRows is the longest run of consecutive bad rows.
	ConsecutiveBadRows int
}
