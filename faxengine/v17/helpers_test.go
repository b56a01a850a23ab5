package v17

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// prbs is a deterministic pseudo-random bit source (x^15 + x^14 + 1) that
// ends after n bits.
type prbs struct {
	reg  uint16
	n    int
	sent []int
}

func newPRBS(seed uint16, n int) *prbs { return &prbs{reg: seed | 1, n: n} }

func (p *prbs) GetBit() int {
	if len(p.sent) >= p.n {
		return modem.EndOfData
	}
	b := int(p.reg>>14^p.reg>>13) & 1
	p.reg = p.reg<<1 | uint16(b)
	p.sent = append(p.sent, b)
	return b
}

// recorder is a BitSink that keeps everything.
type recorder struct {
	bits   []int
	status []modem.Status
}

func (r *recorder) PutBit(b int)          { r.bits = append(r.bits, b) }
func (r *recorder) Status(s modem.Status) { r.status = append(r.status, s) }

func (r *recorder) has(s modem.Status) bool {
	for _, x := range r.status {
		if x == s {
			return true
		}
	}
	return false
}

// transmit returns the signal of one V.17 transmission of data at level.
func transmit(t testing.TB, cfg TxConfig, level float64, data []int) []int16 {
	k := 0
	src := modem.BitFunc(func() int {
		if k >= len(data) {
			return modem.EndOfData
		}
		k++
		return data[k-1]
	})
	tx, err := NewTransmitter(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	tx.SetLevel(level)
	var out []int16
	buf := make([]int16, 160)
	for {
		n := tx.Fill(buf)
		out = append(out, buf[:n]...)
		if n < len(buf) {
			return out
		}
	}
}

func randomBits(n int, seed uint16) []int {
	p := newPRBS(seed, n)
	for p.GetBit() != modem.EndOfData {
	}
	return p.sent
}

// align finds data in got (it follows the ones of segment 4) and returns
// the number of bit errors over the whole of data, or -1 if it is not found.
func align(got, data []int) (errs, at int) {
	const key = 48
	for off := 0; off+len(data) <= len(got); off++ {
		ok := true
		for i := 0; i < key; i++ {
			if got[off+i] != data[i] {
				ok = false
				break
			}
		}
		if ok {
			for i := range data {
				if got[off+i] != data[i] {
					errs++
				}
			}
			return errs, off
		}
	}
	return -1, -1
}

// silence returns n zero samples.
func silence(n int) []int16 { return make([]int16, n) }
