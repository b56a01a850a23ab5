package v17

import (
	"math"
	"testing"

	"github.com/rayofax/rayofax/faxengine/dsp"
	"github.com/rayofax/rayofax/faxengine/modem"
)

func TestTransmitLevel(t *testing.T) {
	for _, rate := range []int{14400, 7200} {
		for _, level := range []float64{0, -10, -43} {
			sig := transmit(t, TxConfig{Rate: rate}, level, randomBits(rate*2, 7))
			// The data lie after the long training (about 1.4 s).
			part := sig[14000 : 14000+8000]
			ms := 0.0
			for _, v := range part {
				ms += float64(v) * float64(v)
			}
			got := dsp.PowerDBm0(ms / float64(len(part)))
			if math.Abs(got-level) > 0.3 {
				t.Errorf("rate %d: level %.2f dBm0, want %v", rate, got, level)
			}
		}
	}
}

// TestTransmitLength checks the length of each training sequence against
// V.17 table 2: the symbols of the segments plus the data, the tail of ones
// and the filter tail.
func TestTransmitLength(t *testing.T) {
	for _, tc := range []struct {
		cfg  TxConfig
		syms int
	}{
		{TxConfig{Rate: 14400}, seg1Symbols + seg2LongSymbols + seg3Symbols + seg4Symbols},
		{TxConfig{Rate: 14400, ShortTrain: true}, seg1Symbols + seg2ShortSymbols + seg4Symbols},
		{TxConfig{Rate: 9600, TEP: true}, tepToneSymbols + tepSilenceSymbols + seg1Symbols + seg2LongSymbols + seg3Symbols + seg4Symbols},
	} {
		bits, _ := bitsPerSymbol(tc.cfg.Rate)
		data := randomBits(bits*100, 3)
		sig := transmit(t, tc.cfg, -10, data)
		want := tc.syms + 100 + tailOnesSymbols + txSpan/2 + 1
		if got := (len(sig)*3 + 9) / 10; got < want || got > want+1 {
			t.Errorf("%+v: %d symbols, want %d", tc.cfg, got, want)
		}
	}
}

func TestTransmitterErrors(t *testing.T) {
	if _, err := NewTransmitter(TxConfig{Rate: 4800}, modem.BitFunc(func() int { return 1 })); err == nil {
		t.Error("no error for 4800 bit/s")
	}
}

func TestTransmitAllocs(t *testing.T) {
	tx, _ := NewTransmitter(TxConfig{Rate: 14400}, modem.BitFunc(func() int { return 1 }))
	buf := make([]int16, 160)
	if a := testing.AllocsPerRun(100, func() { tx.Fill(buf) }); a != 0 {
		t.Errorf("%v allocations per Fill", a)
	}
}

func TestSat16(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want int16
	}{{0, 0}, {0.4, 0}, {0.5, 0}, {1.5, 2}, {-0.5, 0}, {-1.5, -2}, {-0.4, 0}, {1.6, 2}, {-1.6, -2}, {-7.2, -7}, {32766.6, 32767}, {40000, 32767}, {-32767.7, -32768}, {-1e9, -32768}, {2e9, 32767}} {
		if got := sat16(c.in); got != c.want {
			t.Errorf("sat16(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestFillMatchesSlow holds the transmitter's table-driven modulator to the
// obvious one: the symbols (from a twin transmitter) shaped by the
// root-raised-cosine pulse computed afresh and put on a carrier from
// math.Cos and math.Sin at each sample's time.
func TestFillMatchesSlow(t *testing.T) {
	for _, cfg := range []TxConfig{{Rate: 14400, ShortTrain: true}, {Rate: 7200, TEP: true}} {
		data := randomBits(600, 3)
		got := transmit(t, cfg, -10, data)
		k := 0
		twin, err := NewTransmitter(cfg, modem.BitFunc(func() int {
			if k >= len(data) {
				return modem.EndOfData
			}
			k++
			return data[k-1]
		}))
		if err != nil {
			t.Fatal(err)
		}
		twin.SetLevel(-10)
		var syms []complex128
		for twin.state != txDone {
			syms = append(syms, twin.symbol())
		}
		// Sample m lies 3(m+1)/10 symbols into the transmission: symbol
		// newest is the last one begun, p tenths of a symbol ago. Each
		// symbol's pulse peaks 4 symbols after it begins and is cut off 4
		// symbols either side of that.
		for m := range got {
			newest, p := 3*(m+1)/10-1, 3*(m+1)%10
			if newest >= len(syms) {
				t.Fatalf("%+v: %d samples, more than %d symbols make", cfg, len(got), len(syms))
			}
			sn, cs := math.Sincos(2 * math.Pi * CarrierHz * float64(m) / 8000)
			v := 0.0
			for j := 0; newest-j >= 0; j++ {
				tau := float64(j) + float64(p)/10 - 4
				if tau >= 4 {
					break
				}
				if tau <= -4 {
					continue
				}
				s := syms[newest-j]
				v += rrc(tau, txBeta) * (real(s)*cs - imag(s)*sn)
			}
			if want := v * twin.gain; math.Abs(float64(got[m])-want) > 0.51 {
				t.Fatalf("%+v: sample %d is %d, want %.2f", cfg, m, got[m], want)
			}
		}
		// The transmission ends when the sample after the last would need
		// another symbol.
		if n := len(got); 3*(n+1)/10-1 != len(syms) {
			t.Errorf("%+v: %d samples for %d symbols", cfg, n, len(syms))
		}
	}
}

// TestFillAfterEnd: once Fill has returned short, it returns nothing more
// until Restart.
func TestFillAfterEnd(t *testing.T) {
	tx, err := NewTransmitter(TxConfig{Rate: 9600, ShortTrain: true}, modem.BitFunc(func() int { return modem.EndOfData }))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 160)
	for tx.Fill(buf) == len(buf) {
	}
	for range 5 {
		if n := tx.Fill(buf); n != 0 {
			t.Fatalf("Fill after the end gave %d samples", n)
		}
	}
	if err := tx.Restart(TxConfig{Rate: 9600}); err != nil {
		t.Fatal(err)
	}
	if n := tx.Fill(buf); n != len(buf) {
		t.Fatalf("Fill after Restart gave %d samples", n)
	}
}
