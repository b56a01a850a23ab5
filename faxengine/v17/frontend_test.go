package v17

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// slowBaseband is the obvious front end: mix each input sample down with
// the nominal carrier (its phase from the sample's index), then apply the
// interpolating filter of the instant's phase.
func slowBaseband(in []int16, pos float64) complex128 {
	ti := int(math.Floor(pos))
	p := int((pos-float64(ti))*rxPhases + 0.5)
	k := ti - rxHalf + 1
	var sum complex128
	for j := 0; j < rxTaps; j++ {
		n := k + j
		sn, cs := math.Sincos(-2 * math.Pi * CarrierHz * float64(n) / 8000)
		sum += complex(rxFilter[p][j]*float64(in[n]), 0) * complex(cs, sn)
	}
	return sum
}

// TestBasebandMatchesSlow holds the receiver's front end (carrier folded
// into the filter, a ring of real samples) to the obvious one at random
// instants over a long input, so that the ring wraps many times.
func TestBasebandMatchesSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := make([]int16, 20000)
	for i := range in {
		in[i] = int16(rng.IntN(65536) - 32768)
	}
	r, err := NewReceiver(RxConfig{Rate: 14400}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pos := float64(rxHalf)
	fed := 0
	for pos+rxHalf < float64(len(in)) {
		// Feed just enough input for the instant, as Process does.
		for float64(fed) <= pos+rxHalf {
			r.Process(in[fed : fed+1])
			fed++
		}
		got, want := r.baseband(pos), slowBaseband(in, pos)
		if cmplx.Abs(got-want) > 1e-9*32768 {
			t.Fatalf("instant %.4f: %v, want %v", pos, got, want)
		}
		pos += 1 + 2*rng.Float64()
	}
}
