package v17

import (
	"fmt"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/test/linesim"
)

// receive runs signal through a receiver in blocks of varying size.
func receive(t testing.TB, r *Receiver, sig []int16) {
	sizes := []int{1, 7, 160, 33, 320, 80}
	for i, k := 0, 0; i < len(sig); k++ {
		n := sizes[k%len(sizes)]
		if i+n > len(sig) {
			n = len(sig) - i
		}
		r.Process(sig[i : i+n])
		i += n
	}
}

func TestRoundTripClean(t *testing.T) {
	for _, rate := range []int{14400, 12000, 9600, 7200} {
		for _, short := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/short=%v", rate, short), func(t *testing.T) {
				data := randomBits(rate, 0x1234)
				sig := append(silence(400), transmit(t, TxConfig{Rate: rate, ShortTrain: short}, -10, data)...)
				sig = append(sig, silence(2000)...)
				rec := &recorder{}
				rx, err := NewReceiver(RxConfig{Rate: rate}, rec)
				if err != nil {
					t.Fatal(err)
				}
				receive(t, rx, sig)
				errs, at := align(rec.bits, data)
				t.Logf("status %v, %d bits, data at %d, %d errors, SNR %.1f dB, level %.1f", rec.status, len(rec.bits), at, errs, rx.SNR(), rx.SignalLevel())
				if errs != 0 {
					t.Errorf("%d bit errors (at %d)", errs, at)
				}
			})
		}
	}
}

// impaired sends data through a line and a fresh receiver and returns the
// recorder and receiver.
func impaired(t *testing.T, cfg TxConfig, level float64, line linesim.Config, data []int) (*recorder, *Receiver) {
	sig := append(silence(400), transmit(t, cfg, level, data)...)
	sig = append(sig, silence(4000)...)
	l := linesim.New(line)
	out := l.Process(nil, sig)
	out = l.Flush(out)
	rec := &recorder{}
	rx, err := NewReceiver(RxConfig{Rate: cfg.Rate}, rec)
	if err != nil {
		t.Fatal(err)
	}
	receive(t, rx, out)
	return rec, rx
}

func TestRoundTripImpaired(t *testing.T) {
	type tc struct {
		name  string
		level float64
		line  linesim.Config
		gap   bool // errors allowed within the gap and the decoder's span
	}
	clean := linesim.Config{NoiseDBm0: linesim.NoNoise}
	with := func(f func(*linesim.Config)) linesim.Config { c := clean; f(&c); return c }
	cases := []tc{
		{"-1dBm0", -1, clean, false},
		{"0dBm0", 0, clean, false},
		{"-43dBm0", -43, clean, false},
		{"+10Hz", -10, with(func(c *linesim.Config) { c.FreqOffsetHz = 10 }), false},
		{"-10Hz", -10, with(func(c *linesim.Config) { c.FreqOffsetHz = -10 }), false},
		{"+100ppm", -10, with(func(c *linesim.Config) { c.ClockPPM = 100 }), false},
		{"-100ppm", -10, with(func(c *linesim.Config) { c.ClockPPM = -100 }), false},
		{"-43dBm0+10Hz-100ppm", -43, with(func(c *linesim.Config) { c.FreqOffsetHz = 10; c.ClockPPM = -100 }), false},
		{"noise30dB", -10, with(func(c *linesim.Config) { c.NoiseDBm0 = -40 }), false},
		{"gap20ms", -10, with(func(c *linesim.Config) { c.Gaps = []linesim.Gap{{At: 16000, Len: 160}} }), true},
	}
	rates := []int{14400, 12000, 9600, 7200}
	if testing.Short() || raceEnabled {
		rates = []int{14400, 7200}
	}
	for _, rate := range rates {
		for _, short := range []bool{false, true} {
			for _, c := range cases {
				t.Run(fmt.Sprintf("%d/short=%v/%s", rate, short, c.name), func(t *testing.T) {
					data := randomBits(rate*2, 0x4321)
					c.line.Seed = 5
					rec, rx := impaired(t, TxConfig{Rate: rate, ShortTrain: short}, c.level, c.line, data)
					errs, at := align(rec.bits, data)
					maxErrs := 0
					if c.gap {
						// The 20 ms (48 symbol) gap loses what it covers;
						// the receiver rides through it, and the errors
						// must lie within the gap plus the decoder's and
						// descrambler's spans.
						bits, _ := bitsPerSymbol(rate)
						if span := errorSpan(rec.bits, data, at); span > rate/50+40*bits {
							t.Errorf("errors over %d bits around the gap", span)
						}
						maxErrs = len(data)
					}
					if c.level == 0 && rate >= 12000 {
						// At 0 dBm0 the peaks of the 128- and 64-point
						// signals pass full scale and are clipped (some 2%
						// of samples at 14400): no receiver gets every bit.
						maxErrs = len(data) / 100
					}
					if errs < 0 || errs > maxErrs || !rec.has(modem.TrainingSucceeded) {
						traceTo(t)
						impaired(t, TxConfig{Rate: rate, ShortTrain: short}, c.level, c.line, data)
						t.Errorf("status %v, data at %d, %d errors (SNR %.1f dB)", rec.status, at, errs, rx.SNR())
					}
				})
			}
		}
	}
}

// errorSpan returns the distance from the first to the last bit error of
// data received at offset at in got.
func errorSpan(got, data []int, at int) int {
	first, last := -1, -1
	for i := range data {
		if at+i >= len(got) || got[at+i] != data[i] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return last - first
}

// TestShortTrainAfterLong is the T.30 pattern: a long train before the first
// page, then pages with short trains on the same receiver.
func TestShortTrainAfterLong(t *testing.T) {
	for _, rate := range []int{14400, 12000, 9600, 7200} {
		for _, c := range []struct {
			name  string
			level float64
			freq  float64
			ppm   float64
			noise float64
		}{
			{"clean", -10, 0, 0, linesim.NoNoise},
			{"-43dBm0", -43, 0, 0, linesim.NoNoise},
			{"+10Hz+100ppm", -20, 10, 100, -55},
			{"-10Hz-100ppm", -30, -10, -100, linesim.NoNoise},
		} {
			t.Run(fmt.Sprintf("%d/%s", rate, c.name), func(t *testing.T) {
				page1 := randomBits(rate, 1)
				page2 := randomBits(rate, 2)
				page3 := randomBits(rate, 3)
				sig := silence(400)
				sig = append(sig, transmit(t, TxConfig{Rate: rate}, c.level, page1)...)
				gap1 := len(sig) + 1000
				sig = append(sig, silence(1600)...)
				sig = append(sig, transmit(t, TxConfig{Rate: rate, ShortTrain: true}, c.level, page2)...)
				gap2 := len(sig) + 1000
				sig = append(sig, silence(1600)...)
				sig = append(sig, transmit(t, TxConfig{Rate: rate, ShortTrain: true}, c.level, page3)...)
				sig = append(sig, silence(1600)...)
				l := linesim.New(linesim.Config{NoiseDBm0: c.noise, FreqOffsetHz: c.freq, ClockPPM: c.ppm, Seed: 9})
				out := l.Flush(l.Process(nil, sig))

				recs := []*recorder{{}, {}, {}}
				rx, err := NewReceiver(RxConfig{Rate: rate}, recs[0])
				if err != nil {
					t.Fatal(err)
				}
				// The T.30 engine restarts the receiver for the short train
				// between pages (at the end of the first page's carrier).
				receive(t, rx, out[:gap1])
				rx.SetBitSink(recs[1])
				if err := rx.Restart(RxConfig{Rate: rate, ShortTrain: true}); err != nil {
					t.Fatal(err)
				}
				receive(t, rx, out[gap1:gap2])
				rx.SetBitSink(recs[2])
				if err := rx.Restart(RxConfig{Rate: rate, ShortTrain: true}); err != nil {
					t.Fatal(err)
				}
				receive(t, rx, out[gap2:])
				for i, page := range [][]int{page1, page2, page3} {
					if errs, at := align(recs[i].bits, page); errs != 0 {
						t.Errorf("page %d: %d errors at %d, status %v", i+1, errs, at, recs[i].status)
					}
				}
			})
		}
	}
}

func TestReceiverAllocs(t *testing.T) {
	data := randomBits(14400, 5)
	sig := transmit(t, TxConfig{Rate: 14400}, -10, data)
	rx, _ := NewReceiver(RxConfig{Rate: 14400}, &nullSink{})
	// Through carrier detection, training and into data.
	k := 0
	allocs := testing.AllocsPerRun(len(sig)/160-1, func() {
		rx.Process(sig[k : k+160])
		k += 160
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Process", allocs)
	}
}

type nullSink struct{ bits int }

func (s *nullSink) PutBit(int)          { s.bits++ }
func (s *nullSink) Status(modem.Status) {}

func TestReceiverErrors(t *testing.T) {
	if _, err := NewReceiver(RxConfig{Rate: 2400}, &nullSink{}); err == nil {
		t.Error("no error for 2400 bit/s")
	}
	rx, _ := NewReceiver(RxConfig{Rate: 9600}, &nullSink{})
	if err := rx.Restart(RxConfig{Rate: 4800}); err == nil {
		t.Error("no error restarting at 4800 bit/s")
	}
}

// TestNoiseOnly: noise alone may raise carrier, but never trains.
func TestNoiseOnly(t *testing.T) {
	l := linesim.New(linesim.Config{NoiseDBm0: -20, Seed: 3})
	out := l.Process(nil, silence(80000))
	rec := &recorder{}
	rx, _ := NewReceiver(RxConfig{Rate: 14400}, rec)
	receive(t, rx, out)
	if rec.has(modem.TrainingSucceeded) || len(rec.bits) != 0 {
		t.Errorf("trained on noise: %v, %d bits", rec.status, len(rec.bits))
	}
}

// FuzzReceiver feeds arbitrary samples: the receiver must not panic.
func FuzzReceiver(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 3})
	sig := transmit(f, TxConfig{Rate: 9600, ShortTrain: true}, -10, randomBits(200, 1))
	b := make([]byte, 2*len(sig))
	for i, v := range sig {
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		rx, _ := NewReceiver(RxConfig{Rate: 14400}, &nullSink{})
		s := make([]int16, len(data)/2)
		for i := range s {
			s[i] = int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		}
		rx.Process(s)
	})
}

// TestTrainsInNoise: training must succeed, long and short, down to the
// SNR where each rate stops being usable, whatever the noise does to single
// symbols of segment 1.
func TestTrainsInNoise(t *testing.T) {
	for _, c := range []struct {
		rate int
		snr  float64
	}{{14400, 20}, {12000, 17}, {9600, 14}, {7200, 11}} {
		for seed := uint64(1); seed <= 4; seed++ {
			for _, short := range []bool{false, true} {
				data := randomBits(c.rate/2, 9)
				rec, _ := impaired(t, TxConfig{Rate: c.rate, ShortTrain: short}, -10, linesim.Config{NoiseDBm0: -10 - c.snr, Seed: seed}, data)
				if !rec.has(modem.TrainingSucceeded) {
					t.Errorf("%d bit/s, SNR %v dB, seed %d, short %v: %v", c.rate, c.snr, seed, short, rec.status)
				}
			}
		}
	}
}

// TestTEP: the talker echo protection tone and its silence before the
// training must not upset the receiver.
func TestTEP(t *testing.T) {
	for _, rate := range []int{14400, 7200} {
		data := randomBits(rate, 4)
		rec, _ := impaired(t, TxConfig{Rate: rate, TEP: true}, -20, linesim.Config{NoiseDBm0: -60, FreqOffsetHz: 5, Seed: 2}, data)
		if errs, at := align(rec.bits, data); errs != 0 {
			t.Errorf("%d bit/s with TEP: %d errors at %d, status %v", rate, errs, at, rec.status)
		}
	}
}

// TestLongPage: a page of 40 s at ±100 ppm clock offset and a carrier
// offset: the timing loop must follow 13 symbols of drift without the
// equaliser walking off.
func TestLongPage(t *testing.T) {
	secs := 40
	if testing.Short() || raceEnabled {
		secs = 8
	}
	for _, ppm := range []float64{100, -100} {
		data := randomBits(14400*secs, 77)
		rec, rx := impaired(t, TxConfig{Rate: 14400}, -20, linesim.Config{NoiseDBm0: -52, ClockPPM: ppm, FreqOffsetHz: -7, Seed: 4}, data)
		if errs, at := align(rec.bits, data); errs != 0 {
			t.Errorf("%v ppm: %d errors at %d, status %v, SNR %.1f", ppm, errs, at, rec.status, rx.SNR())
		}
	}
}

// TestBlockSizeIndependence: the output does not depend on how the input
// is cut into blocks.
func TestBlockSizeIndependence(t *testing.T) {
	data := randomBits(9600, 8)
	sig := append(silence(100), transmit(t, TxConfig{Rate: 9600}, -15, data)...)
	sig = append(sig, silence(1000)...)
	var ref *recorder
	for _, block := range []int{1, 3, 160, 1000, len(sig)} {
		rec := &recorder{}
		rx, _ := NewReceiver(RxConfig{Rate: 9600}, rec)
		for i := 0; i < len(sig); i += block {
			rx.Process(sig[i:min(i+block, len(sig))])
		}
		if ref == nil {
			ref = rec
			continue
		}
		if fmt.Sprint(rec.status) != fmt.Sprint(ref.status) || fmt.Sprint(rec.bits) != fmt.Sprint(ref.bits) {
			t.Errorf("block %d: output differs from block 1", block)
		}
	}
}
