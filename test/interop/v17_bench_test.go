//go:build spandsp

package interop

import (
	"fmt"
	"sync"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/v17"
	"github.com/rayofax/rayofax/test/linesim"
)

// v17SNRs are the SNR steps of the BER table at each rate, around where
// each constellation starts to fail.
var v17SNRs = map[int][]float64{
	14400: {30, 26, 24, 23, 22, 21, 20, 19, 18},
	12000: {28, 24, 22, 21, 20, 19, 18, 17, 16},
	9600:  {26, 22, 20, 19, 18, 17, 16, 15, 14},
	7200:  {24, 20, 18, 16, 15, 14, 13, 12, 11, 10},
}

// v17BERTable runs spandsp's receiver and ours on identical signals:
// spandsp's transmitter at -10 dBm0 (long train) plus white noise.
func v17BERTable(t testing.TB, rate, nbits int) *BERTable {
	data := PRBSBits(nbits, 3)
	sig := Pad(spanV17Signal(t, rate, false, -10, data), v17Lead, v17Lead)
	tab := &BERTable{
		Title:   fmt.Sprintf("V.17 %d bit/s: BER vs SNR (spandsp tx at -10 dBm0 + AWGN)", rate),
		Columns: []string{"spandsp rx", "rayofax rx"},
	}
	for i, snr := range v17SNRs[rate] {
		line := linesim.Config{NoiseDBm0: -10 - snr, Seed: uint64(i + 1)}
		rx := Impair(line, sig)
		a, o := &BitRecorder{}, &BitRecorder{}
		s := newSpanV17Rx(t, rate).(spanV17Rx)
		// spandsp trains on whatever raises its carrier detector and then
		// waits for the carrier to drop, which line noise above its
		// threshold never does: put its threshold between the noise and
		// the signal. Ours needs no such help.
		s.SetCutoff(-10 - snr/2)
		s.SetBitSink(a)
		Demodulate(s, rx, 160)
		ours := newOurV17Rx(t, rate)
		ours.SetBitSink(o)
		Demodulate(ours, rx, 160)
		tab.Add(snr, Align(data, a.Bits, v17MaxDelay, v17Probe), Align(data, o.Bits, v17MaxDelay, v17Probe))
	}
	return tab
}

// TestV17BER holds ours to BER ≤ 1e-5 within 1 dB of the SNR where
// spandsp's receiver gets there (the goal is at or below it).
func TestV17BER(t *testing.T) {
	nbits := 200000 // BER 1e-5 is two errors
	if testing.Short() || v17RaceEnabled {
		nbits = 40000
	}
	for _, rate := range v17Rates {
		tab := v17BERTable(t, rate, nbits)
		tab.Log(t)
		ref, ours := tab.Threshold(0, 1e-5), tab.Threshold(1, 1e-5)
		if ours > ref+1 {
			t.Errorf("V.17 %d: ours reaches BER 1e-5 at %.1f dB SNR, spandsp at %.1f dB", rate, ours, ref)
		}
	}
}

var v17TableOnce sync.Once

// BenchmarkV17BERTable prints the BER-versus-SNR tables in make bench.
func BenchmarkV17BERTable(b *testing.B) {
	v17TableOnce.Do(func() {
		for _, rate := range v17Rates {
			b.Log("\n" + v17BERTable(b, rate, 200000).String())
		}
	})
	for range b.N {
	}
}

// v17Ones is an endless source of ones: one plain call per bit, as
// spandsp's get_bit is.
type v17Ones struct{}

func (v17Ones) GetBit() int { return 1 }

type v17Discard struct{}

func (v17Discard) PutBit(int)          {}
func (v17Discard) Status(modem.Status) {}

// BenchmarkV17 measures our V.17 receiver and transmitter at 14400 bit/s
// beside spandsp's, on the same signal (spandsp's transmitter sending
// pseudo-random data after a long train, looped).
func BenchmarkV17(b *testing.B) {
	const block = 160
	for _, rate := range []int{14400} {
		data := PRBSBits(rate*4, 1)
		sig := Pad(spanV17Signal(b, rate, false, -10, data), 400, 400)
		stream := Loop(sig, len(sig)+block)
		b.Run(fmt.Sprintf("rx/%d", rate), func(b *testing.B) {
			ours, err := v17.NewReceiver(v17.RxConfig{Rate: rate}, v17Discard{})
			if err != nil {
				b.Fatal(err)
			}
			ref, err := NewSpanV17Rx(rate, v17Discard{})
			if err != nil {
				b.Fatal(err)
			}
			defer ref.Close()
			po, pr := 0, 0
			BenchRatio(b, block, func() {
				ours.Process(stream[po : po+block])
				if po += block; po+block > len(sig) {
					po = 0
				}
			}, func() {
				ref.Process(stream[pr : pr+block])
				if pr += block; pr+block > len(sig) {
					pr = 0
				}
			})
		})
		b.Run(fmt.Sprintf("tx/%d", rate), func(b *testing.B) {
			buf := make([]int16, block)
			ours, err := v17.NewTransmitter(v17.TxConfig{Rate: rate}, v17Ones{})
			if err != nil {
				b.Fatal(err)
			}
			ref, err := NewSpanV17Tx(rate, false, false, data, true)
			if err != nil {
				b.Fatal(err)
			}
			defer ref.Close()
			BenchRatio(b, block, func() { ours.Fill(buf) }, func() { ref.Fill(buf) })
		})
	}
}
