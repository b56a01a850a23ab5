package dsp

// Scrambler is a self-synchronising scrambler with generating polynomial
// 1 + x^-A + x^-B (V.29 and V.17: A=18, B=23; V.27ter: A=6, B=7, plus the
// repetition guard its package adds). Reg holds past line bits, newest in
// bit 0.
type Scrambler struct {
	Reg  uint32
	A, B uint
}

// Scramble returns the line bit for data bit in.
func (s *Scrambler) Scramble(in int) int {
	out := (in ^ int(s.Reg>>(s.A-1)) ^ int(s.Reg>>(s.B-1))) & 1
	s.Reg = s.Reg<<1 | uint32(out)
	return out
}

// Descramble returns the data bit for line bit in.
func (s *Scrambler) Descramble(in int) int {
	out := (in ^ int(s.Reg>>(s.A-1)) ^ int(s.Reg>>(s.B-1))) & 1
	s.Reg = s.Reg<<1 | uint32(in&1)
	return out
}
