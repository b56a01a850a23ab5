// Package linesim imposes telephone-line impairments on a stream of 8 kHz
// samples for tests: gain, carrier frequency offset, sample-clock offset,
// gaps of silence and additive white Gaussian noise. It is deterministic: the
// same Config (including Seed) and the same input blocks give the same output,
// whatever the block sizes.
//
// The stages run in this order: gain, frequency offset, clock offset, gaps,
// noise, then rounding and clipping to int16. Stages that are off add no delay;
// the frequency shifter delays the signal by HilbertDelay samples, and the
// resampler holds back its last ResampleDelay output samples until more input
// (or Flush) arrives.
package linesim

import (
	"math"
	"math/rand/v2"
)

// NoNoise turns the noise stage off. Note that the zero Config adds noise at
// 0 dBm0: set NoiseDBm0 to NoNoise for a clean line.
const NoNoise = -1000.0

// Delays, in samples, of the stages that have them.
const (
	HilbertDelay  = hilbertTaps / 2
	ResampleDelay = sincHalf
)

// Gap replaces Len output samples starting at output sample At with silence
// (noise still runs through a gap, as on a real line).
type Gap struct {
	At, Len int
}

// Config describes a line.
type Config struct {
	GainDB       float64 // gain applied to the signal (negative attenuates)
	NoiseDBm0    float64 // AWGN level over the whole 0-4 kHz band, or NoNoise
	FreqOffsetHz float64 // shift of every frequency component, in Hz
	// ClockPPM is the offset of the receiving sample clock: output sample n is
	// the input signal at time n*(1+ClockPPM/1e6) input samples, so a positive
	// value makes the output shorter (the far end's clock runs fast).
	ClockPPM float64
	Gaps     []Gap
	Seed     uint64
}

// Line is a running line simulation.
type Line struct {
	cfg  Config
	gain float64

	// frequency shift
	hist  [hilbertTaps]float64 // circular history for the Hilbert filter
	hpos  int
	phase float64 // radians
	dphi  float64

	// resampling
	ratio float64
	buf   []float64 // input samples not yet consumed
	base  float64   // input time of buf[0]
	t     float64   // input time of the next output sample

	out      int // output samples produced so far
	noiseRMS float64
	rng      *rand.Rand
}

// New returns a line with the given configuration.
func New(cfg Config) *Line {
	l := &Line{
		cfg:   cfg,
		gain:  math.Pow(10, cfg.GainDB/20),
		dphi:  2 * math.Pi * cfg.FreqOffsetHz / 8000,
		ratio: 1 + cfg.ClockPPM/1e6,
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
	if cfg.NoiseDBm0 > NoNoise {
		// The mean square of a signal at L dBm0 is (32767²/2)·10^((L-3.14)/10).
		l.noiseRMS = 32767 / math.Sqrt2 * math.Pow(10, (cfg.NoiseDBm0-3.14)/20)
	}
	if cfg.ClockPPM != 0 {
		// Prime the resampler so that output sample 0 is centred on input 0.
		l.buf = make([]float64, sincHalf)
		l.base = -sincHalf
	}
	return l
}

// Process runs src through the line and appends the result to dst.
func (l *Line) Process(dst, src []int16) []int16 {
	for _, s := range src {
		x := float64(s) * l.gain
		if l.cfg.FreqOffsetHz != 0 {
			x = l.shift(x)
		}
		if l.cfg.ClockPPM == 0 {
			dst = l.emit(dst, x)
			continue
		}
		l.buf = append(l.buf, x)
		for l.t+sincHalf < l.base+float64(len(l.buf)) {
			dst = l.emit(dst, l.interpolate(l.t))
			l.t += l.ratio
		}
		if drop := int(l.t-l.base) - sincHalf - 1; drop > 256 {
			n := copy(l.buf, l.buf[drop:])
			l.buf = l.buf[:n]
			l.base += float64(drop)
		}
	}
	return dst
}

// Flush pushes enough silence through the line to bring out the samples held
// in its delay stages, and appends them to dst.
func (l *Line) Flush(dst []int16) []int16 {
	var zeros [hilbertTaps + 2*sincHalf + 2]int16
	return l.Process(dst, zeros[:])
}

func (l *Line) emit(dst []int16, x float64) []int16 {
	for _, g := range l.cfg.Gaps {
		if l.out >= g.At && l.out < g.At+g.Len {
			x = 0
			break
		}
	}
	l.out++
	if l.noiseRMS > 0 {
		x += l.rng.NormFloat64() * l.noiseRMS
	}
	x = math.Round(x)
	switch {
	case x > math.MaxInt16:
		x = math.MaxInt16
	case x < math.MinInt16:
		x = math.MinInt16
	}
	return append(dst, int16(x))
}

// shift moves every frequency by FreqOffsetHz: the analytic signal x + jH(x),
// turned by the running phase, keeps only its real part.
func (l *Line) shift(x float64) float64 {
	l.hist[l.hpos] = x
	l.hpos = (l.hpos + 1) % hilbertTaps
	var h float64
	// hist[(hpos + k) % N] is the sample k steps after the oldest.
	for k := 0; k < hilbertTaps; k += 2 { // odd distances from the centre only
		h += hilbertCoef[k] * l.hist[(l.hpos+hilbertTaps-1-k)%hilbertTaps]
	}
	re := l.hist[(l.hpos+hilbertTaps-1-HilbertDelay)%hilbertTaps]
	y := re*math.Cos(l.phase) - h*math.Sin(l.phase)
	l.phase = math.Mod(l.phase+l.dphi, 2*math.Pi)
	return y
}

// interpolate returns the band-limited value of the buffered input at time t.
func (l *Line) interpolate(t float64) float64 {
	pos := t - l.base
	i0 := int(math.Floor(pos))
	frac := pos - float64(i0)
	p := frac * sincPhases
	ph := int(p)
	w := p - float64(ph)
	var y float64
	for k := -sincHalf + 1; k <= sincHalf; k++ {
		j := i0 + k
		if j < 0 || j >= len(l.buf) {
			continue
		}
		// the kernel at distance (k - frac), read between two table phases
		a := sincTable[ph][k+sincHalf-1]
		b := sincTable[ph+1][k+sincHalf-1]
		y += l.buf[j] * (a + (b-a)*w)
	}
	return y
}

const (
	hilbertTaps = 127
	sincHalf    = 16
	sincPhases  = 512
)

var (
	hilbertCoef [hilbertTaps]float64
	// sincTable[p][i] is the windowed sinc at distance (i - sincHalf + 1) - p/sincPhases.
	sincTable [sincPhases + 1][2 * sincHalf]float64
)

func init() {
	// Hilbert transformer: h[n] = 2/(πm) for odd m = n - centre, Blackman window.
	c := hilbertTaps / 2
	for n := 0; n < hilbertTaps; n++ {
		m := n - c
		if m%2 == 0 {
			continue
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(n)/float64(hilbertTaps-1)) +
			0.08*math.Cos(4*math.Pi*float64(n)/float64(hilbertTaps-1))
		hilbertCoef[n] = 2 / (math.Pi * float64(m)) * w
	}
	for p := 0; p <= sincPhases; p++ {
		frac := float64(p) / sincPhases
		for i := 0; i < 2*sincHalf; i++ {
			d := float64(i-sincHalf+1) - frac
			sinc := 1.0
			if d != 0 {
				sinc = math.Sin(math.Pi*d) / (math.Pi * d)
			}
			// Kaiser-like taper: a raised cosine over the kernel span.
			win := 0.5 + 0.5*math.Cos(math.Pi*d/float64(sincHalf))
			if math.Abs(d) >= sincHalf {
				win = 0
			}
			sincTable[p][i] = sinc * win
		}
	}
}
