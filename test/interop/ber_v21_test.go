//go:build spandsp

package interop

import (
	"sync"
	"testing"

	"github.com/rayofax/rayofax/faxengine/fsk"
	"github.com/rayofax/rayofax/test/linesim"
)

// v21BERTable measures spandsp's V.21 receiver and ours on identical noisy
// signals (spandsp's transmitter at -10 dBm0, AWGN over the 0-4 kHz band).
func v21BERTable(nbits int, snrs []float64) *BERTable {
	data, all := v21Bits(nbits, 77)
	tx := NewSpanV21Tx(all, false)
	tx.SetLevel(-10)
	clean := Pad(Modulate(tx, 160, 1<<30), 800, 1600)
	tx.Close()
	tab := &BERTable{Title: "V.21 ch2 BER vs SNR (spandsp transmitter, -10 dBm0, AWGN 0-4 kHz)", Columns: []string{"spandsp rx", "rayofax rx"}}
	for i, snr := range snrs {
		sig := Impair(linesim.Config{NoiseDBm0: -10 - snr, Seed: uint64(1000 + i)}, clean)
		span := &BitRecorder{Bits: make([]byte, 0, len(all)+100)}
		srx := newSpanV21Rx(span)
		Demodulate(srx, sig, 160)
		srx.Close()
		ours := &BitRecorder{Bits: make([]byte, 0, len(all)+100)}
		Demodulate(fsk.NewReceiver(ours), sig, 160)
		tab.Add(snr,
			Align(data, span.Bits, v21Lead+200, 300),
			Align(data, ours.Bits, v21Lead+200, 300))
	}
	return tab
}

func berSNRs(from, to, step float64) []float64 {
	var s []float64
	for x := from; x <= to+1e-9; x += step {
		s = append(s, x)
	}
	return s
}

// TestV21BERvsSNR: ours reaches BER ≤ 1e-5 within 1 dB of the SNR where
// spandsp's receiver does (the goal is at or below it).
func TestV21BERvsSNR(t *testing.T) {
	nbits := 200000 // BER 1e-5 is two errors
	step := 0.5
	if testing.Short() {
		nbits, step = 100000, 1
	}
	tab := v21BERTable(nbits, berSNRs(-2, 8, step))
	tab.Log(t)
	span, ours := tab.Threshold(0, 1e-5), tab.Threshold(1, 1e-5)
	if ours > span+1 {
		t.Errorf("ours reaches BER 1e-5 at %.1f dB SNR, spandsp at %.1f dB", ours, span)
	}
	if ours > 8 {
		t.Errorf("ours needs %.1f dB SNR for BER 1e-5", ours)
	}
}

var v21TableOnce sync.Once

// BenchmarkV21BERTable prints the BER-versus-SNR table in make bench.
func BenchmarkV21BERTable(b *testing.B) {
	v21TableOnce.Do(func() {
		tab := v21BERTable(200000, berSNRs(-2, 8, 0.5))
		b.Log("\n" + tab.String())
	})
	for range b.N {
	}
}
