package interop

import (
	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/test/linesim"
)

// PRBS generates the ITU-T O.150 2^23-1 pseudo-random bit sequence
// (x^23 + x^18 + 1). The zero value is not usable: call NewPRBS.
type PRBS struct{ state uint32 }

// NewPRBS returns a generator started from seed (any value). The seed is
// mixed and the first bits skipped, so that small seeds do not start with
// the long runs of zeros a sparse register state produces.
func NewPRBS(seed uint32) *PRBS {
	s := (seed*2654435761 ^ 0x5A5A5A) & (1<<23 - 1)
	if s == 0 {
		s = 0x5A5A5A
	}
	p := &PRBS{state: s}
	for range 64 {
		p.Next()
	}
	return p
}

// Next returns the next bit, 0 or 1.
func (p *PRBS) Next() int {
	b := (p.state>>22 ^ p.state>>17) & 1
	p.state = (p.state<<1 | b) & (1<<23 - 1)
	return int(b)
}

// PRBSBits returns n bits of the sequence from seed, one bit per byte.
func PRBSBits(n int, seed uint32) []byte {
	p := NewPRBS(seed)
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(p.Next())
	}
	return out
}

// KnownBits is a modem.BitSource that sends Lead fill bits, then Data, then
// Tail fill bits, then modem.EndOfData. Fill bits are FillBit (0 or 1; ones
// are the natural idle of FSK and of the scrambled modems). The lead gives a
// receiver time to detect carrier and train; the tail flushes its delay.
type KnownBits struct {
	Lead, Tail int
	FillBit    int
	Data       []byte
	pos        int
}

// GetBit implements modem.BitSource.
func (k *KnownBits) GetBit() int {
	i := k.pos
	k.pos++
	switch {
	case i < k.Lead:
		return k.FillBit
	case i < k.Lead+len(k.Data):
		return int(k.Data[i-k.Lead])
	case i < k.Lead+len(k.Data)+k.Tail:
		return k.FillBit
	}
	k.pos = i // stay at the end
	return modem.EndOfData
}

// Sent returns how many bits (not counting EndOfData) have been handed out.
func (k *KnownBits) Sent() int { return min(k.pos, k.Lead+len(k.Data)+k.Tail) }

// StatusAt is a status report and the bit count at which it arrived.
type StatusAt struct {
	Status modem.Status
	Bit    int
}

// BitRecorder is a modem.BitSink that keeps every bit and status.
type BitRecorder struct {
	Bits     []byte
	Statuses []StatusAt
}

// PutBit implements modem.BitSink.
func (r *BitRecorder) PutBit(b int) { r.Bits = append(r.Bits, byte(b&1)) }

// Status implements modem.BitSink.
func (r *BitRecorder) Status(s modem.Status) {
	r.Statuses = append(r.Statuses, StatusAt{s, len(r.Bits)})
}

// Has reports whether status s was reported.
func (r *BitRecorder) Has(s modem.Status) bool {
	for _, st := range r.Statuses {
		if st.Status == s {
			return true
		}
	}
	return false
}

// Modulate runs tx until it ends (or max samples) in blocks of block samples
// and returns what it produced.
func Modulate(tx modem.Transmitter, block, max int) []int16 {
	out := make([]int16, 0, 8000)
	buf := make([]int16, block)
	for len(out) < max {
		n := tx.Fill(buf[:min(block, max-len(out))])
		out = append(out, buf[:n]...)
		if n < block {
			break
		}
	}
	return out
}

// Demodulate feeds sig to rx in blocks of block samples.
func Demodulate(rx modem.Receiver, sig []int16, block int) {
	for i := 0; i < len(sig); i += block {
		rx.Process(sig[i:min(i+block, len(sig))])
	}
}

// Pad returns sig with before and after samples of silence around it.
func Pad(sig []int16, before, after int) []int16 {
	out := make([]int16, before, before+len(sig)+after)
	out = append(out, sig...)
	return append(out, make([]int16, after)...)
}

// Impair runs sig through a line configured by cfg (see test/linesim),
// flushing its delay stages, and returns the received signal.
func Impair(cfg linesim.Config, sig []int16) []int16 {
	l := linesim.New(cfg)
	out := l.Process(make([]int16, 0, len(sig)+len(sig)/1000+512), sig)
	return l.Flush(out)
}

// Clean is a linesim configuration for a perfect line.
var Clean = linesim.Config{NoiseDBm0: linesim.NoNoise}

// Match is the result of comparing received bits with the bits sent.
type Match struct {
	Offset   int // index in got of want[0]; -1 if no alignment was found
	Errors   int // bit errors over the compared span
	Compared int
	Missing  int // bits of want beyond the end of got
}

// BER returns the bit error rate of the match, counting missing bits as
// errors. A failed alignment has BER 0.5.
func (m Match) BER() float64 {
	if m.Offset < 0 || m.Compared+m.Missing == 0 {
		return 0.5
	}
	return float64(m.Errors+m.Missing) / float64(m.Compared+m.Missing)
}

// Exact reports whether every bit of want was received without error.
func (m Match) Exact() bool { return m.Offset >= 0 && m.Errors == 0 && m.Missing == 0 }

// Align finds want inside got: it tries every offset from 0 to maxDelay (the
// receiver's delay plus whatever it delivered before the data) using the
// first probe bits of want (all of want if fewer), keeps the offset with the
// fewest errors, and then counts errors over the whole of want at that
// offset. Use a probe of a few hundred bits: long enough that a wrong offset
// cannot match a pseudo-random sequence by chance, short enough to align even
// when the rest of the data is noisy.
func Align(want, got []byte, maxDelay, probe int) Match {
	if probe <= 0 || probe > len(want) {
		probe = len(want)
	}
	best, bestErr := -1, probe+1
	for d := 0; d <= maxDelay && d < len(got); d++ {
		n := min(probe, len(got)-d)
		if n < probe/2 {
			break
		}
		e := probe - n // bits beyond the end count as errors
		for i := range n {
			if got[d+i] != want[i] {
				if e++; e >= bestErr {
					break
				}
			}
		}
		if e < bestErr {
			best, bestErr = d, e
		}
	}
	if best < 0 || bestErr > probe/4 {
		return Match{Offset: -1, Missing: len(want)}
	}
	m := Match{Offset: best}
	for i, b := range want {
		if best+i >= len(got) {
			m.Missing = len(want) - i
			break
		}
		m.Compared++
		if got[best+i] != b {
			m.Errors++
		}
	}
	return m
}

// AlignAround compares want with got when a stretch of the line, covering
// want bits [from, to), was lost (a gap): it aligns the bits before the gap
// and after it separately, since a receiver may drop or insert bits while the
// signal is missing, and returns the two matches. margin bits on either side
// of the gap are left out of both.
func AlignAround(want, got []byte, from, to, margin, maxDelay, probe int) (before, after Match) {
	from = max(from-margin, 0)
	to = min(to+margin, len(want))
	before = Align(want[:from], got, maxDelay, probe)
	if to >= len(want) {
		return before, Match{}
	}
	// Search for the rest from the expected place, allowing the same slack.
	start := 0
	if before.Offset >= 0 {
		start = max(before.Offset+to-maxDelay, 0)
	}
	start = min(start, len(got))
	after = Align(want[to:], got[start:], 2*maxDelay, probe)
	if after.Offset >= 0 {
		after.Offset += start
	}
	return before, after
}
