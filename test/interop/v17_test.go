//go:build spandsp

package interop

import (
	"fmt"
	"math"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/v17"
	"github.com/rayofax/rayofax/test/linesim"
)

// V.17 interop: spandsp's transmitter against our receiver and ours against
// spandsp's receiver, bit-exact, at every rate, on a two-page call as T.30
// makes it (a long train before page 1, a short train before page 2, the
// receiver keeping what it learnt), across line impairments.

var v17Rates = []int{14400, 12000, 9600, 7200}

const (
	v17Lead     = 800
	v17Between  = 2400 // silence between the pages
	v17MaxDelay = 2000
	v17Probe    = 300
	// Samples of long training before the first data bit.
	v17LongTrain = (256 + 2976 + 64 + 48) * 10 / 3
)

// v17Signal is a transmitter factory: one burst, long or short train.
type v17Signal func(t testing.TB, rate int, short bool, level float64, data []byte) []int16

func spanV17Signal(t testing.TB, rate int, short bool, level float64, data []byte) []int16 {
	tx, err := NewSpanV17Tx(rate, short, false, data, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	tx.SetLevel(level)
	return Modulate(tx, 160, 1<<24)
}

// v17Wraps reports whether spandsp's transmitter overflows at level: it does
// not saturate, so a peak beyond full scale wraps around to the other sign,
// a jump no band-limited signal makes between two samples.
func v17Wraps(t testing.TB, rate int, level float64) bool {
	sig := spanV17Signal(t, rate, false, level, PRBSBits(20000, 5))
	for i := 1; i < len(sig); i++ {
		if d := int(sig[i]) - int(sig[i-1]); d > 40000 || d < -40000 {
			return true
		}
	}
	return false
}

func ourV17Signal(t testing.TB, rate int, short bool, level float64, data []byte) []int16 {
	tx, err := v17.NewTransmitter(v17.TxConfig{Rate: rate, ShortTrain: short}, &KnownBits{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	tx.SetLevel(level)
	return Modulate(tx, 160, 1<<24)
}

// v17Rx is a receiver that T.30 can restart for a short train.
type v17Rx interface {
	modem.Receiver
	SetBitSink(modem.BitSink)
	restart(rate int, short bool)
}

type ourV17Rx struct{ *v17.Receiver }

func (r ourV17Rx) restart(rate int, short bool) {
	_ = r.Restart(v17.RxConfig{Rate: rate, ShortTrain: short})
}

type spanV17Rx struct{ *SpanV17Rx }

func (r spanV17Rx) restart(rate int, short bool) { _ = r.Restart(rate, short) }

func newOurV17Rx(t testing.TB, rate int) v17Rx {
	rx, err := v17.NewReceiver(v17.RxConfig{Rate: rate}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ourV17Rx{rx}
}

func newSpanV17Rx(t testing.TB, rate int) v17Rx {
	rx, err := NewSpanV17Rx(rate, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	return spanV17Rx{rx}
}

// v17Call is a two-page transmission on a line: page 1 after a long train,
// page 2 after a short train, and where page 2 begins in the received
// signal.
type v17Call struct {
	sig   []int16
	split int
}

func makeV17Call(t testing.TB, tx v17Signal, rate int, level float64, line linesim.Config, p1, p2 []byte) v17Call {
	s1 := tx(t, rate, false, level, p1)
	s2 := tx(t, rate, true, level, p2)
	sig := Pad(s1, v17Lead, v17Between)
	split := len(sig) - v17Between/2
	sig = append(sig, Pad(s2, 0, v17Lead)...)
	out := Impair(line, sig)
	// Where the middle of the silence went after clock offset.
	split = int(float64(split) / (1 + line.ClockPPM/1e6))
	return v17Call{out, split}
}

// receive runs a call through rx, restarting it for the short train as the
// T.30 engine does, and returns what each page delivered.
func (c v17Call) receive(rx v17Rx, rate int) (page1, page2 *BitRecorder) {
	page1, page2 = &BitRecorder{}, &BitRecorder{}
	rx.SetBitSink(page1)
	Demodulate(rx, c.sig[:c.split], 160)
	rx.SetBitSink(page2)
	rx.restart(rate, true)
	Demodulate(rx, c.sig[c.split:], 160)
	return page1, page2
}

type v17Impairment struct {
	name  string
	level float64
	line  linesim.Config
	gap   bool // a 20 ms gap 0.3 s into page 1's data
}

func v17Impairments() []v17Impairment {
	nn := linesim.NoNoise
	return []v17Impairment{
		{name: "clean", level: -10, line: linesim.Config{NoiseDBm0: nn}},
		{name: "level -43 dBm0", level: -43, line: linesim.Config{NoiseDBm0: nn}},
		{name: "level -35 dBm0", level: -35, line: linesim.Config{NoiseDBm0: nn}},
		{name: "level -1 dBm0", level: -1, line: linesim.Config{NoiseDBm0: nn}},
		{name: "level 0 dBm0", level: 0, line: linesim.Config{NoiseDBm0: nn}},
		{name: "AWGN -40 dBm0 (SNR 30 dB)", level: -10, line: linesim.Config{NoiseDBm0: -40, Seed: 7}},
		{name: "carrier +10 Hz", level: -10, line: linesim.Config{NoiseDBm0: nn, FreqOffsetHz: 10}},
		{name: "carrier -10 Hz", level: -10, line: linesim.Config{NoiseDBm0: nn, FreqOffsetHz: -10}},
		{name: "carrier +1 Hz", level: -10, line: linesim.Config{NoiseDBm0: nn, FreqOffsetHz: 1}},
		{name: "clock +100 ppm", level: -10, line: linesim.Config{NoiseDBm0: nn, ClockPPM: 100}},
		{name: "clock -100 ppm", level: -10, line: linesim.Config{NoiseDBm0: nn, ClockPPM: -100}},
		{name: "all: -40 dBm0, AWGN -75, -10 Hz, +100 ppm", level: -40, line: linesim.Config{NoiseDBm0: -75, FreqOffsetHz: -10, ClockPPM: 100, Seed: 3}},
		{name: "20 ms gap", level: -10, line: linesim.Config{NoiseDBm0: nn}, gap: true},
	}
}

// v17Clipped reports whether a signal at level dBm0 and rate is clipped at
// full scale: at 0 dBm0 the peaks of the 128- and 64-point signals pass
// 32767 (about 2% of samples at 14400), and no receiver gets every bit back.
// spandsp's transmitter does not saturate at all: its samples wrap around.
func v17Clipped(level float64, rate int) bool { return level > -0.5 && rate >= 12000 }

// v17Check compares a page with what a receiver delivered. With a gap it
// holds the data before and after the gap to be exact, allowing errors only
// over the gap and the trellis decoder's and descrambler's spans.
func v17Check(data []byte, rec *BitRecorder, rate int, gapBit int) (ok bool, what string) {
	if gapBit == 0 {
		m := Align(data, rec.Bits, v17MaxDelay, v17Probe)
		return m.Exact(), fmt.Sprintf("%+v", m)
	}
	bits := rate / 2400
	before, after := AlignAround(data, rec.Bits, gapBit, gapBit+rate/50, 40*bits, v17MaxDelay, v17Probe)
	return before.Exact() && after.Exact(), fmt.Sprintf("before gap %+v, after %+v", before, after)
}

func TestV17Interop(t *testing.T) {
	nbits := 30000
	if testing.Short() || v17RaceEnabled {
		nbits = 12000
	}
	for _, rate := range v17Rates {
		p1 := PRBSBits(nbits, uint32(rate))
		p2 := PRBSBits(nbits, uint32(rate)+1)
		for _, imp := range v17Impairments() {
			t.Run(fmt.Sprintf("%d/%s", rate, imp.name), func(t *testing.T) {
				line := imp.line
				gapBit := 0
				if imp.gap {
					at := v17Lead + v17LongTrain + int(0.3*8000)
					line.Gaps = []linesim.Gap{{At: at, Len: 160}}
					gapBit = int(0.3 * float64(rate))
				}
				type result struct {
					ok1, ok2 bool
					w1, w2   string
					st1, st2 []StatusAt
				}
				run := func(tx v17Signal, rx v17Rx) result {
					c := makeV17Call(t, tx, rate, imp.level, line, p1, p2)
					r1, r2 := c.receive(rx, rate)
					var r result
					r.ok1, r.w1 = v17Check(p1, r1, rate, gapBit)
					r.ok2, r.w2 = v17Check(p2, r2, rate, 0)
					r.st1, r.st2 = r1.Statuses, r2.Statuses
					return r
				}
				spanSpan := run(spanV17Signal, newSpanV17Rx(t, rate))
				spanOurs := run(spanV17Signal, newOurV17Rx(t, rate))
				oursOurs := run(ourV17Signal, newOurV17Rx(t, rate))
				oursSpan := run(ourV17Signal, newSpanV17Rx(t, rate))
				t.Logf("spandsp→spandsp: page 1 %v, page 2 %v", spanSpan.ok1, spanSpan.ok2)
				t.Logf("spandsp→ours:    page 1 %v, page 2 %v", spanOurs.ok1, spanOurs.ok2)
				t.Logf("ours→spandsp:    page 1 %v, page 2 %v", oursSpan.ok1, oursSpan.ok2)
				t.Logf("ours→ours:       page 1 %v, page 2 %v", oursOurs.ok1, oursOurs.ok2)

				// Our receiver must get every page, whoever sent it, except
				// where the signal itself is broken at 0 dBm0: spandsp's
				// samples wrap around there, ours clip.
				if !spanOurs.ok1 || !spanOurs.ok2 {
					if v17Wraps(t, rate, imp.level) {
						t.Logf("spandsp limit: its transmitter's samples wrap around at %v dBm0 (spandsp→spandsp page 1 %v, page 2 %v)", imp.level, spanSpan.ok1, spanSpan.ok2)
					} else {
						t.Errorf("spandsp→ours: page 1 %s %v; page 2 %s %v", spanOurs.w1, spanOurs.st1, spanOurs.w2, spanOurs.st2)
					}
				}
				if !oursOurs.ok1 || !oursOurs.ok2 {
					if v17Clipped(imp.level, rate) {
						t.Logf("clipped at full scale: ours→ours page 1 %s, page 2 %s", oursOurs.w1, oursOurs.w2)
					} else {
						t.Errorf("ours→ours: page 1 %s %v; page 2 %s %v", oursOurs.w1, oursOurs.st1, oursOurs.w2, oursOurs.st2)
					}
				}
				// spandsp's receiver must get our pages wherever it gets its
				// own transmitter's; where it fails on both, that is
				// spandsp's limit, recorded here.
				switch {
				case oursSpan.ok1:
				case !spanSpan.ok1 || v17Clipped(imp.level, rate):
					t.Logf("spandsp limit: page 1 fails in spandsp's receiver on its own signal too")
				default:
					t.Errorf("ours→spandsp: page 1 %s; spandsp→spandsp is exact", oursSpan.w1)
				}
				if !oursSpan.ok2 && !v17Clipped(imp.level, rate) {
					// spandsp's short train is erratic: whether it works
					// depends on where the page starts. Judge over several
					// starting points against its own transmitter.
					ours, own := v17ShortTrainTrials(t, rate, imp, p1, p2)
					t.Logf("spandsp limit: its short train works %d/%d times on its own signal, %d/%d on ours", own, v17Trials, ours, v17Trials)
					if ours < own {
						t.Errorf("ours→spandsp: page 2 %s; spandsp's short train works less often on our signal", oursSpan.w2)
					}
				}
			})
		}
	}
}

const v17Trials = 6

// v17ShortTrainTrials counts how often spandsp's receiver gets page 2 after
// a short train, with the page starting at v17Trials different points, on
// our signal and on spandsp's own.
func v17ShortTrainTrials(t *testing.T, rate int, imp v17Impairment, p1, p2 []byte) (ours, own int) {
	var n [2]int
	for k := 1; k <= v17Trials; k++ {
		for i, tx := range []v17Signal{ourV17Signal, spanV17Signal} {
			s1 := tx(t, rate, false, imp.level, p1)
			s2 := tx(t, rate, true, imp.level, p2)
			sig := Pad(s1, v17Lead, v17Between+k*137)
			split := len(sig) - v17Between/2
			sig = append(sig, Pad(s2, 0, v17Lead)...)
			line := imp.line
			line.Seed += uint64(k)
			c := v17Call{Impair(line, sig), int(float64(split) / (1 + line.ClockPPM/1e6))}
			_, r2 := c.receive(newSpanV17Rx(t, rate), rate)
			if ok, _ := v17Check(p2, r2, rate, 0); ok {
				n[i]++
			}
		}
	}
	return n[0], n[1]
}

// TestV17TrainingRange sweeps the received level and the carrier offset on
// a two-page call (the second page after a short train) and shows both
// receivers side by side on the same signals. spandsp 0.0.6 loses short
// trains at low levels and with small carrier offsets; ours must train and
// deliver every page across -43 to 0 dBm0 and ±10 Hz.
func TestV17TrainingRange(t *testing.T) {
	nbits := 4800
	type cond struct {
		level, freq float64
	}
	var conds []cond
	for _, l := range []float64{-43, -40, -36, -32, -28, -24, -20, -14, -8, -3} {
		conds = append(conds, cond{l, 0})
	}
	for _, f := range []float64{-10, -7, -4, -2, -1, 1, 2, 4, 7, 10} {
		conds = append(conds, cond{-13, f})
	}
	rates := v17Rates
	if testing.Short() || v17RaceEnabled {
		rates = []int{14400, 7200}
	}
	for _, rate := range rates {
		p1 := PRBSBits(nbits, 11)
		p2 := PRBSBits(nbits, 12)
		t.Logf("%d bit/s, spandsp transmitter: pages delivered exactly (page 1 long train, page 2 short train)", rate)
		t.Logf("%10s %8s %16s %16s", "level dBm0", "offset", "spandsp rx", "ours rx")
		spanLimit := math.Inf(-1)
		for _, c := range conds {
			line := linesim.Config{NoiseDBm0: linesim.NoNoise, FreqOffsetHz: c.freq}
			call := makeV17Call(t, spanV17Signal, rate, c.level, line, p1, p2)
			s1, s2 := call.receive(newSpanV17Rx(t, rate), rate)
			o1, o2 := call.receive(newOurV17Rx(t, rate), rate)
			sOK1, _ := v17Check(p1, s1, rate, 0)
			sOK2, _ := v17Check(p2, s2, rate, 0)
			oOK1, w1 := v17Check(p1, o1, rate, 0)
			oOK2, w2 := v17Check(p2, o2, rate, 0)
			t.Logf("%10.0f %6.0f Hz %8v %7v %8v %7v", c.level, c.freq, sOK1, sOK2, oOK1, oOK2)
			if !oOK1 || !oOK2 {
				t.Errorf("%d bit/s, %v dBm0, %v Hz: ours page 1 %s %v, page 2 %s %v", rate, c.level, c.freq, w1, o1.Statuses, w2, o2.Statuses)
			}
			if c.freq == 0 && (!sOK1 || !sOK2) {
				spanLimit = math.Max(spanLimit, c.level)
			}
		}
		if !math.IsInf(spanLimit, -1) {
			t.Logf("spandsp limit at %d bit/s: loses pages at %v dBm0 and below", rate, spanLimit)
		}
	}
}

// TestV17TEP: transmitters that send the talker echo protection tone before
// the training, both ways.
func TestV17TEP(t *testing.T) {
	for _, rate := range v17Rates {
		data := PRBSBits(8000, 21)
		stx, err := NewSpanV17Tx(rate, false, true, data, false)
		if err != nil {
			t.Fatal(err)
		}
		stx.SetLevel(-12)
		sig := Pad(Modulate(stx, 160, 1<<24), v17Lead, v17Lead)
		stx.Close()
		rec := &BitRecorder{}
		rx := newOurV17Rx(t, rate)
		rx.SetBitSink(rec)
		Demodulate(rx, sig, 160)
		if m := Align(data, rec.Bits, v17MaxDelay, v17Probe); !m.Exact() {
			t.Errorf("%d: spandsp with TEP → ours: %+v %v", rate, m, rec.Statuses)
		}

		tx, err := v17.NewTransmitter(v17.TxConfig{Rate: rate, TEP: true}, &KnownBits{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		sig = Pad(Modulate(tx, 160, 1<<24), v17Lead, v17Lead)
		rec = &BitRecorder{}
		srx := newSpanV17Rx(t, rate)
		srx.SetBitSink(rec)
		Demodulate(srx, sig, 160)
		if m := Align(data, rec.Bits, v17MaxDelay, v17Probe); !m.Exact() {
			t.Errorf("%d: ours with TEP → spandsp: %+v %v", rate, m, rec.Statuses)
		}
	}
}

// TestV17LongPage: a 30 s page at ±100 ppm (some 10 symbols of timing drift)
// with a carrier offset, spandsp's transmitter to our receiver and ours to
// spandsp's.
func TestV17LongPage(t *testing.T) {
	secs := 30
	if testing.Short() || v17RaceEnabled {
		secs = 6
	}
	data := PRBSBits(14400*secs, 31)
	for _, ppm := range []float64{100, -100} {
		line := linesim.Config{NoiseDBm0: -55, ClockPPM: ppm, FreqOffsetHz: 7, Seed: 5}
		refExact := false
		for _, dir := range []struct {
			name string
			tx   v17Signal
			rx   func(testing.TB, int) v17Rx
			must bool
		}{
			{"spandsp→spandsp", spanV17Signal, newSpanV17Rx, false},
			{"spandsp→ours", spanV17Signal, newOurV17Rx, true},
			// Held to spandsp→spandsp below: spandsp's receiver must get
			// our page wherever it gets its own.
			{"ours→spandsp", ourV17Signal, newSpanV17Rx, false},
		} {
			sig := Impair(line, Pad(dir.tx(t, 14400, false, -15, data), v17Lead, v17Lead))
			rec := &BitRecorder{}
			rx := dir.rx(t, 14400)
			rx.SetBitSink(rec)
			Demodulate(rx, sig, 160)
			m := Align(data, rec.Bits, v17MaxDelay, v17Probe)
			t.Logf("%v ppm, %s: %+v", ppm, dir.name, m)
			if dir.name == "spandsp→spandsp" {
				refExact = m.Exact()
			}
			if (dir.must || dir.name == "ours→spandsp" && refExact) && !m.Exact() {
				t.Errorf("%v ppm, %s: %+v %v", ppm, dir.name, m, rec.Statuses)
			}
		}
	}
}
