// Package modem holds the small set of types shared by the fax modems
// (V.21, V.27ter, V.29, V.17) and their users (HDLC, T.30).
//
// Every modem works on 8000 Hz signed 16-bit linear samples in blocks of any
// length. Transmitters pull bits from a BitSource and fill sample blocks;
// receivers consume sample blocks and push bits and status changes into a
// BitSink. Nothing here reads a clock: time is the count of samples processed.
package modem

// SampleRate is the only sample rate the fax engine uses.
const SampleRate = 8000

// EndOfData is returned by BitSource.GetBit when there are no more bits.
const EndOfData = -1

// BitSource supplies bits to a transmitter, one at a time, as 0 or 1, or
// EndOfData when the data has ended. A transmitter may call GetBit after
// EndOfData; it must keep returning EndOfData (or new data).
type BitSource interface {
	GetBit() int
}

// Status is a change in a receiver's state, reported through BitSink.Status.
type Status int

const (
	// CarrierUp: energy in the modem's band has been detected.
	CarrierUp Status = iota + 1
	// CarrierDown: the signal has ended.
	CarrierDown
	// TrainingInProgress: a training sequence is being received.
	TrainingInProgress
	// TrainingSucceeded: the receiver has trained; data bits follow.
	TrainingSucceeded
	// TrainingFailed: a training sequence was heard but the receiver could
	// not train on it.
	TrainingFailed
	// FramingOK: a bit-level framer (HDLC) has seen valid framing, used by V.21
	// HDLC receivers to report the preamble.
	FramingOK
)

var statusNames = [...]string{
	CarrierUp:          "carrier up",
	CarrierDown:        "carrier down",
	TrainingInProgress: "training in progress",
	TrainingSucceeded:  "training succeeded",
	TrainingFailed:     "training failed",
	FramingOK:          "framing ok",
}

func (s Status) String() string {
	if s > 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown status"
}

// BitSink receives the output of a receiver: data bits (0 or 1) through PutBit
// and state changes through Status.
type BitSink interface {
	PutBit(bit int)
	Status(s Status)
}

// Transmitter fills blocks of samples. Fill writes up to len(dst) samples and
// returns how many it wrote; it returns fewer than len(dst) only when the
// transmission has ended (the rest of dst is left untouched).
type Transmitter interface {
	Fill(dst []int16) int
}

// Receiver consumes blocks of samples.
type Receiver interface {
	Process(src []int16)
}

// BitFunc adapts a function to BitSource.
type BitFunc func() int

// GetBit calls f.
func (f BitFunc) GetBit() int { return f() }

// BitsSource is an optional interface of a BitSource that hands out several
// bits in one call. A transmitter that sends several bits a symbol uses it
// when its source has it, and GetBit otherwise; the bits must be exactly
// those that as many GetBit calls would return.
type BitsSource interface {
	BitSource
	// GetBits returns the next n bits (1 ≤ n ≤ 32), the first in bit 0, and
	// how many there are: n, or fewer when the data ends after them. Once
	// the data has ended it returns 0 bits (or new data), as GetBit keeps
	// returning EndOfData.
	GetBits(n int) (bits uint32, count int)
}

// BitsSink is an optional interface of a BitSink that takes several bits in
// one call. A receiver that decides several bits at a time uses it when its
// sink has it, and PutBit otherwise.
type BitsSink interface {
	BitSink
	// PutBits takes n bits (0 ≤ n ≤ 64), the first in bit 0: the same as
	// PutBit for each in turn.
	PutBits(bits uint64, n int)
}
