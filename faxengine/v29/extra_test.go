package v29

import (
	"math"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/test/linesim"
)

func TestNoAllocations(t *testing.T) {
	for _, rate := range []int{9600, 7200} {
		sig := transmit(t, Config{Rate: rate}, 8000)
		rx, _ := NewReceiver(Config{Rate: rate}, nopSink{})
		pos := 0
		if a := testing.AllocsPerRun(200, func() {
			if pos+160 > len(sig) {
				pos = 0
			}
			rx.Process(sig[pos : pos+160])
			pos += 160
		}); a != 0 {
			t.Errorf("%d receiver: %v allocations per block", rate, a)
		}
		tx, _ := NewTransmitter(Config{Rate: rate}, modem.BitFunc(func() int { return 1 }))
		buf := make([]int16, 160)
		if a := testing.AllocsPerRun(200, func() { tx.Fill(buf) }); a != 0 {
			t.Errorf("%d transmitter: %v allocations per block", rate, a)
		}
	}
}

func TestLevelAndSNR(t *testing.T) {
	for _, lvl := range []float64{-3, -10, -25, -43} {
		var s sink
		rx, _ := NewReceiver(Config{Rate: 9600}, &s)
		rx.Process(append(transmit(t, Config{Rate: 9600, Level: lvl}, 8000), make([]int16, 400)...))
		if got := rx.SignalLevel(); math.Abs(got-lvl) > 1 {
			t.Errorf("level %v dBm0 measured as %.1f", lvl, got)
		}
		if rx.SNR() < 25 {
			t.Errorf("clean line SNR estimate %.1f dB", rx.SNR())
		}
	}
	// With noise 25 dB down the estimate should be near 25 dB (the noise
	// in the signal's band is a little less than over 0-4 kHz).
	var s sink
	rx, _ := NewReceiver(Config{Rate: 9600}, &s)
	sig := linesim.New(linesim.Config{NoiseDBm0: -35, Seed: 2}).Process(nil, transmit(t, Config{Rate: 9600}, 20000))
	rx.Process(sig)
	if snr := rx.SNR(); snr < 23 || snr > 32 {
		t.Errorf("SNR estimate %.1f dB for a 25 dB line", snr)
	}
}

func TestTransmitLevel(t *testing.T) {
	for _, lvl := range []float64{-10, -30} {
		sig := transmit(t, Config{Rate: 9600, Level: lvl}, 40000)
		var ss float64
		data := sig[2100 : len(sig)-200] // the data part
		for _, v := range data {
			ss += float64(v) * float64(v)
		}
		const dsp0 = 3.14
		got := 10*math.Log10(ss/float64(len(data))/(32767.0*32767/2)) + dsp0
		if math.Abs(got-lvl) > 0.3 {
			t.Errorf("transmitted %.2f dBm0, want %v", got, lvl)
		}
	}
}

func TestGapDropsCarrierCleanly(t *testing.T) {
	const nbits = 20000
	sig := append(make([]int16, 400), transmit(t, Config{Rate: 9600}, nbits)...)
	gapAt := 400 + 2027 + 4000 // half a second into the data
	rxs := linesim.New(linesim.Config{NoiseDBm0: linesim.NoNoise, Gaps: []linesim.Gap{{At: gapAt, Len: 160}}}).Process(nil, sig)
	var s sink
	rx, _ := NewReceiver(Config{Rate: 9600}, &s)
	rx.Process(rxs)
	start, _, _ := align(t, s.bits, nbits)
	if start < 0 {
		t.Fatal("no data")
	}
	ref := newPRBS(nbits)
	got := s.bits[start:]
	for i, b := range got {
		if int(b) != ref.next() {
			t.Fatalf("bit %d of %d delivered is wrong: garbage around the gap", i, len(got))
		}
	}
	if want := 4800; len(got) < want-200 || len(got) > want {
		t.Errorf("%d data bits delivered, want just under %d", len(got), want)
	}
	down := false
	for _, st := range s.status {
		down = down || st == modem.CarrierDown
	}
	if !down {
		t.Errorf("no carrier drop in %v", s.status)
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{Rate: 4800}, {Rate: 9600, Level: 10}, {Rate: 7200, Level: math.NaN()}} {
		if _, err := NewTransmitter(c, nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := NewReceiver(c, nopSink{}); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func FuzzReceiver(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		rate := 9600
		if mode&1 == 1 {
			rate = 7200
		}
		rx, _ := NewReceiver(Config{Rate: rate}, nopSink{})
		sig := make([]int16, len(data)/2)
		for i := range sig {
			sig[i] = int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		}
		if mode&4 != 0 { // reach the data path first
			rx.Process(transmit(t, Config{Rate: rate}, 1000)[:3000])
		}
		rx.Process(sig)
	})
}

func TestEchoProtectionTone(t *testing.T) {
	for _, rate := range []int{9600, 7200} {
		var s sink
		rx, _ := NewReceiver(Config{Rate: rate}, &s)
		rx.Process(append(make([]int16, 400), transmit(t, Config{Rate: rate, TEP: true}, 6000)...))
		if _, errs, _ := align(t, s.bits, 6000); errs != 0 {
			t.Errorf("%d with TEP: %d errors, status %v", rate, errs, s.status)
		}
		for _, st := range s.status {
			if st == modem.TrainingFailed {
				t.Errorf("%d: the echo protection tone was taken for a failed training: %v", rate, s.status)
			}
		}
	}
}

// The receiver is driven by sample count alone: how the samples are cut
// into blocks must not change a single bit or status.
func TestBlockSizeIndependence(t *testing.T) {
	sig := linesim.New(linesim.Config{NoiseDBm0: -35, FreqOffsetHz: 3, Seed: 9}).Process(nil,
		append(append(make([]int16, 300), transmit(t, Config{Rate: 9600}, 6000)...), make([]int16, 500)...))
	var ref sink
	rx, _ := NewReceiver(Config{Rate: 9600}, &ref)
	rx.Process(sig)
	for _, block := range []int{1, 7, 160, 999} {
		var s sink
		rx, _ := NewReceiver(Config{Rate: 9600}, &s)
		for i := 0; i < len(sig); i += block {
			rx.Process(sig[i:min(i+block, len(sig))])
		}
		if string(s.bits) != string(ref.bits) || len(s.status) != len(ref.status) {
			t.Errorf("block %d: %d bits %v, in one block %d bits %v", block, len(s.bits), s.status, len(ref.bits), ref.status)
		}
	}
}

// A long page (a minute at 9600 bit/s) on an imperfect line: nothing may
// drift away over time.
func TestLongTransmission(t *testing.T) {
	nbits := 9600 * 60
	if testing.Short() || raceEnabled {
		nbits = 9600 * 10
	}
	sig := transmit(t, Config{Rate: 9600, Level: -20}, nbits)
	sig = linesim.New(linesim.Config{NoiseDBm0: -50, FreqOffsetHz: -7, ClockPPM: 100, Seed: 4}).Process(nil, append(append(make([]int16, 300), sig...), make([]int16, 800)...))
	var s sink
	rx, _ := NewReceiver(Config{Rate: 9600}, &s)
	rx.Process(sig)
	if _, errs, n := align(t, s.bits, nbits); errs != 0 {
		t.Errorf("%d errors in %d bits (status %v)", errs, n, s.status)
	}
}

// Training over combinations of level, carrier offset, clock offset and
// where the signal starts, at 28 dB SNR: every one must be received exactly.
func TestTrainingSweep(t *testing.T) {
	for _, rate := range []int{9600, 7200} {
		for _, g := range []float64{-33, -10, 7} {
			for _, f := range []float64{-10, 10} {
				for _, lead := range []int{0, 1234} {
					for _, ppm := range []float64{-100, 100} {
						sig := append(make([]int16, lead), transmit(t, Config{Rate: rate}, 3000)...)
						line := linesim.Config{GainDB: g, NoiseDBm0: -10 + g - 28, FreqOffsetHz: f, ClockPPM: ppm, Seed: uint64(lead + 1)}
						rxs := linesim.New(line).Process(nil, append(sig, make([]int16, 800)...))
						var s sink
						rx, _ := NewReceiver(Config{Rate: rate}, &s)
						rx.Process(rxs)
						if _, errs, _ := align(t, s.bits, 3000); errs != 0 {
							t.Errorf("%d %+v lead %d: %d errors, status %v", rate, line, lead, errs, s.status)
						}
					}
				}
			}
		}
	}
}
