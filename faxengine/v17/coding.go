package v17

import "math/bits"

// The coding layer: the self-synchronising scrambler, the differential
// encoder and the 8-state convolutional (trellis) encoder of V.17 §2 to §4
// (the same as V.32 bis with trellis coding).

// scrambler is the V.17 scrambler, generating polynomial 1 + x^-18 + x^-23:
// each output bit is the input bit plus the outputs 18 and 23 bits earlier.
type scrambler uint32

func (s *scrambler) scramble(in int) int {
	r := uint32(*s)
	out := (uint32(in) ^ r>>17 ^ r>>22) & 1
	*s = scrambler(r<<1 | out)
	return int(out)
}

// descrambler undoes scrambler; being self-synchronising it recovers from
// any state after 23 correct input bits.
type descrambler uint32

func (d *descrambler) descramble(in int) int {
	r := uint32(*d)
	out := (uint32(in) ^ r>>17 ^ r>>22) & 1
	*d = descrambler(r<<1 | uint32(in)&1)
	return int(out)
}

// batchScrambler is the scrambler with its register reversed (the newest
// output in bit 31), which lets it scramble up to 18 bits at once: each
// output bit depends on outputs 18 and 23 bits before it, which for the
// first 18 bits of a batch are all in the register already.
type batchScrambler uint32

func (s scrambler) batch() batchScrambler { return batchScrambler(bits.Reverse32(uint32(s))) }

// scramble scrambles the n (0 to 18) bits of in, the first in bit 0.
func (s *batchScrambler) scramble(in uint32, n int) uint32 {
	r := uint32(*s)
	// The output 18 bits before bit i of the batch is register bit 14+i,
	// the one 23 bits before it bit 9+i.
	out := (in ^ r>>14 ^ r>>9) & (1<<n - 1)
	*s = batchScrambler(r>>n | out<<(32-n))
	return out
}

// batchDescrambler is the descrambler with its register reversed, like
// batchScrambler.
type batchDescrambler uint32

func (d descrambler) batch() batchDescrambler { return batchDescrambler(bits.Reverse32(uint32(d))) }

// descramble descrambles the n (0 to 18) bits of in, the first in bit 0.
func (d *batchDescrambler) descramble(in uint32, n int) uint32 {
	r := uint32(*d)
	in &= 1<<n - 1
	*d = batchDescrambler(r>>n | in<<(32-n))
	return in ^ (r>>14^r>>9)&(1<<n-1)
}

// diffEncode returns the new Y2Y1 for the data bits Q2Q1 after the previous
// Y2Y1: V.17 table 1 is addition modulo 4.
func diffEncode(prev, q int) int { return (prev + q) & 3 }

// diffDecode inverts diffEncode.
func diffDecode(prev, y int) int { return (y - prev) & 3 }

// convNext[s][y] is the state of the convolutional encoder after state s
// (bits W3 W2 W1 of the three delay elements, W1 least significant ... as
// bits 2, 1, 0) takes the input Y2Y1 = y. The redundant bit Y0 sent with y
// is state bit 0 before the step (convY0).
var convNext [8][4]uint8

func convY0(s int) int { return s & 1 }

// branch is a way into a trellis state: from state pred with input y,
// sending a point of subset sub (Y2 Y1 Y0); from is pred<<2 | y.
type branch struct{ pred, sub, from uint8 }

// convPred lists, for each state, the four branches into it.
var convPred [8][4]branch

func init() {
	var k [8]int
	for s := 0; s < 8; s++ {
		for y := 0; y < 4; y++ {
			t := convStep(s, y)
			convNext[s][y] = uint8(t)
			if k[t] < 4 {
				convPred[t][k[t]] = branch{pred: uint8(s), sub: uint8(y<<1 | convY0(s)), from: uint8(s<<2 | y)}
			}
			k[t]++
		}
	}
}

// convStep is the logic of the V.17 figure 3 encoder: two exclusive-ors and
// two ands feeding three delay elements.
func convStep(s, y int) int {
	y1, y2 := y&1, y>>1&1
	s0, s1, s2 := s&1, s>>1&1, s>>2&1
	n1 := y2 ^ s1 ^ (y1 & s0)
	n2 := y2 ^ y1 ^ s2 ^ ((y2 ^ s1) & s0)
	return s0<<2 | n2<<1 | n1
}

// encoder turns groups of scrambled data bits into symbol numbers
// Q..Q3 Y2 Y1 Y0.
type encoder struct {
	diff int // previous Y2Y1
	conv int // convolutional encoder state
}

// encode codes the data bits q (Q1 in bit 0) of one symbol.
func (e *encoder) encode(q int) int {
	e.diff = diffEncode(e.diff, q&3)
	y0 := convY0(e.conv)
	e.conv = int(convNext[e.conv][e.diff])
	return (q&^3)<<1 | e.diff<<1 | y0
}
