package interop

import (
	"math"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

func TestPRBS(t *testing.T) {
	bits := PRBSBits(1<<16, 1)
	ones := 0
	for i, b := range bits {
		ones += int(b)
		// The recurrence of x^23 + x^18 + 1: b[n] = b[n-23] ^ b[n-18].
		if i >= 23 && b != bits[i-23]^bits[i-18] {
			t.Fatalf("bit %d breaks the recurrence", i)
		}
	}
	if math.Abs(float64(ones)/float64(len(bits))-0.5) > 0.01 {
		t.Fatalf("%d ones in %d bits", ones, len(bits))
	}
	if string(PRBSBits(100, 7)) == string(PRBSBits(100, 8)) {
		t.Fatal("different seeds give the same sequence")
	}
}

func TestKnownBits(t *testing.T) {
	k := &KnownBits{Lead: 3, Tail: 2, FillBit: 1, Data: []byte{0, 1, 0}}
	var got []int
	for b := k.GetBit(); b != modem.EndOfData; b = k.GetBit() {
		got = append(got, b)
	}
	if want := []int{1, 1, 1, 0, 1, 0, 1, 1}; len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if k.GetBit() != modem.EndOfData || k.Sent() != 8 {
		t.Fatalf("after the end: Sent %d", k.Sent())
	}
}

func TestAlign(t *testing.T) {
	want := PRBSBits(2000, 3)
	got := append(PRBSBits(57, 9), want...)
	got[57+1000] ^= 1
	got[57+1500] ^= 1
	m := Align(want, got, 200, 300)
	if m.Offset != 57 || m.Errors != 2 || m.Compared != 2000 || m.Missing != 0 || m.Exact() {
		t.Fatalf("match %+v", m)
	}
	if b := m.BER(); b != 0.001 {
		t.Fatalf("BER %v", b)
	}
	// Truncated reception counts the missing bits.
	m = Align(want, got[:57+1900], 200, 300)
	if m.Missing != 100 || m.Exact() {
		t.Fatalf("truncated: %+v", m)
	}
	// Nothing like the data: no alignment.
	if m := Align(want, PRBSBits(3000, 11), 200, 300); m.Offset >= 0 || m.BER() != 0.5 {
		t.Fatalf("unrelated bits aligned: %+v", m)
	}
}

func TestAlignAround(t *testing.T) {
	want := PRBSBits(3000, 4)
	// The receiver lost 5 bits in a gap covering bits 1500-1505 and put
	// garbage for two in their place.
	got := append([]byte{1, 1, 1}, want[:1500]...)
	got = append(got, 0, 1)
	got = append(got, want[1505:]...)
	before, after := AlignAround(want, got, 1500, 1506, 2, 200, 300)
	if !before.Exact() || !after.Exact() || before.Offset != 3 || after.Offset != 1508 {
		t.Fatalf("before %+v after %+v", before, after)
	}
	if _, after := AlignAround(want, got[:1600], 1500, 1506, 2, 200, 300); after.Exact() {
		t.Fatalf("a cut-off tail matched: %+v", after)
	}
}

func TestBERTable(t *testing.T) {
	tab := &BERTable{Title: "t", Columns: []string{"a", "b"}}
	m := func(errs int) Match { return Match{Offset: 0, Errors: errs, Compared: 100000} }
	tab.Add(0, m(500), m(300))
	tab.Add(2, m(3), m(0))
	tab.Add(1, m(50), m(1))
	tab.Add(3, m(0), m(0))
	if a, b := tab.Threshold(0, 1e-5), tab.Threshold(1, 1e-5); a != 3 || b != 1 {
		t.Fatalf("thresholds %v %v, want 3 1", a, b)
	}
	if !math.IsInf(tab.Threshold(0, 1e-9), 1) && tab.Threshold(0, 1e-9) != 3 {
		t.Fatal("threshold with a target never met")
	}
	s := tab.String()
	if !strings.Contains(s, "5.00e-03 (500/100000)") || !strings.Contains(s, "≤1e-5 at") {
		t.Fatalf("table:\n%s", s)
	}
}

func TestLoop(t *testing.T) {
	if l := Loop([]int16{1, 2, 3}, 8); len(l) < 8 || l[3] != 1 || l[7] != 2 {
		t.Fatalf("Loop: %v", l)
	}
}
