package hdlc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

var (
	_ modem.BitsSource = (*Encoder)(nil)
	_ modem.BitsSink   = (*Decoder)(nil)
)

// randomFrames returns frames rich in runs of ones (to exercise zero-bit
// insertion) and flag-like octets.
func randomFrames(rng *rand.Rand, n int) [][]byte {
	var frames [][]byte
	for range n {
		f := make([]byte, 1+rng.IntN(80))
		for i := range f {
			switch rng.IntN(4) {
			case 0:
				f[i] = 0xFF
			case 1:
				f[i] = Flag
			default:
				f[i] = byte(rng.Uint32())
			}
		}
		frames = append(frames, f)
	}
	return frames
}

// encoderLog runs an encoder to the end of its transmission, taking bits
// with take, and returns the bits and the number of OnIdle calls. The
// first frame is queued at the start and each OnIdle queues the next, so
// the stream shows where OnIdle was called; abortAt aborts the frame being
// sent once that many bits are out (at the first call after that point,
// which it returns).
func encoderLog(frames [][]byte, abortAt int, take func(e *Encoder) (uint32, int)) (bits []byte, idle, abortedAt int) {
	var e *Encoder
	e = NewEncoder(EncoderConfig{PreambleFlags: 2, OnIdle: func() {
		if idle++; idle < len(frames) {
			if err := e.Queue(frames[idle]); err != nil {
				panic(err)
			}
			if idle == len(frames)-1 {
				e.End()
			}
		}
	}})
	if err := e.Queue(frames[0]); err != nil {
		panic(err)
	}
	if len(frames) == 1 {
		e.End()
	}
	aborted := false
	for len(bits) < 1<<20 {
		if !aborted && len(bits) >= abortAt {
			e.Abort()
			aborted = true
			abortedAt = len(bits)
		}
		v, n := take(e)
		for i := range n {
			bits = append(bits, byte(v>>i&1))
		}
		if n == 0 {
			// The end repeats.
			if v, n := take(e); n != 0 || v != 0 {
				panic("bits after the end")
			}
			return bits, idle, abortedAt
		}
	}
	panic("no end")
}

func oneBit(e *Encoder) (uint32, int) {
	if b := e.GetBit(); b != modem.EndOfData {
		return uint32(b), 1
	}
	return 0, 0
}

func checkGetBits(t *testing.T, frames [][]byte, abortAt int, sizes []int) {
	t.Helper()
	k := 0
	got, gotIdle, at := encoderLog(frames, abortAt, func(e *Encoder) (uint32, int) {
		n := sizes[k%len(sizes)]
		k++
		v, c := e.GetBits(n)
		if c < 0 || c > n || c < 32 && v>>c != 0 {
			t.Fatalf("GetBits(%d) = %#x, %d", n, v, c)
		}
		return v, c
	})
	if abortAt > len(got) {
		at = abortAt
	}
	want, wantIdle, _ := encoderLog(frames, at, oneBit)
	if !bytes.Equal(got, want) {
		t.Fatalf("GetBits with sizes %v: %d bits differ from GetBit's %d", sizes, len(got), len(want))
	}
	if gotIdle != wantIdle {
		t.Fatalf("OnIdle called %d times, with GetBit %d", gotIdle, wantIdle)
	}
}

// TestGetBitsMatchesGetBit holds GetBits to GetBit: the same bits, with
// OnIdle called as often and at the same points (it queues the next frame,
// so a difference would show in the bits), whatever the sizes asked for.
func TestGetBitsMatchesGetBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		frames := randomFrames(rng, 1+rng.IntN(4))
		sizes := make([]int, 1+rng.IntN(5))
		for i := range sizes {
			sizes[i] = 1 + rng.IntN(32)
		}
		abortAt := 1 << 30
		if trial%3 == 0 {
			abortAt = rng.IntN(600)
		}
		checkGetBits(t, frames, abortAt, sizes)
	}
}

// FuzzGetBits: GetBits and GetBit agree on any frame and sizes.
func FuzzGetBits(f *testing.F) {
	f.Add([]byte{0xFF, 0xFF, 0x7E, 0x01}, []byte{6, 1, 32}, 1000)
	f.Add([]byte{0x00}, []byte{5}, 3)
	f.Fuzz(func(t *testing.T, frame, sizes []byte, abortAt int) {
		if len(frame) == 0 || len(frame) > DefaultMaxFrameLen || len(sizes) == 0 {
			return
		}
		s := make([]int, len(sizes))
		for i, b := range sizes {
			s[i] = 1 + int(b)%32
		}
		checkGetBits(t, [][]byte{frame, frame[:len(frame)/2+1]}, abortAt, s)
	})
}

type frameLog struct {
	frames []string
}

func (l *frameLog) decoder() *Decoder {
	return NewDecoder(DecoderConfig{MaxFrameLen: 64, OnFrame: func(f []byte, ok bool) {
		l.frames = append(l.frames, fmt.Sprintf("%x %v", f, ok))
	}})
}

func checkPutBits(t *testing.T, bits []byte, sizes []int) {
	t.Helper()
	var a, b frameLog
	da, db := a.decoder(), b.decoder()
	for _, v := range bits {
		da.PutBit(int(v))
	}
	k := 0
	for i := 0; i < len(bits); {
		n := min(sizes[k%len(sizes)], len(bits)-i)
		k++
		var v uint64
		for j := range n {
			v |= uint64(bits[i+j]) << j
		}
		db.PutBits(v, n)
		i += n
	}
	if fmt.Sprint(a.frames) != fmt.Sprint(b.frames) || da.Stats() != db.Stats() || da.FramingOK() != db.FramingOK() {
		t.Fatalf("sizes %v: PutBits gave %v %+v, PutBit %v %+v", sizes, b.frames, db.Stats(), a.frames, da.Stats())
	}
}

// TestPutBitsMatchesPutBit holds PutBits to PutBit: the same frames,
// verdicts and counts, on frames (some too long), noise and aborts.
func TestPutBitsMatchesPutBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		var bits []byte
		for range 1 + rng.IntN(4) {
			switch rng.IntN(3) {
			case 0:
				for range rng.IntN(200) {
					bits = append(bits, byte(rng.IntN(2)))
				}
			case 1:
				bits = append(bits, 1, 1, 1, 1, 1, 1, 1, 1)
			}
			bits = append(bits, encodeBits(randomFrames(rng, 1+rng.IntN(3)), 1+rng.IntN(3))...)
		}
		sizes := make([]int, 1+rng.IntN(5))
		for i := range sizes {
			sizes[i] = rng.IntN(65)
		}
		sizes[0] = max(sizes[0], 1)
		checkPutBits(t, bits, sizes)
	}
}

// FuzzPutBits: PutBits and PutBit agree on any bits and sizes.
func FuzzPutBits(f *testing.F) {
	f.Add([]byte{0x7E, 0xFF, 0x03, 0x7E}, []byte{7, 64})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		if len(sizes) == 0 {
			return
		}
		var bits []byte
		for _, b := range data {
			for i := range 8 {
				bits = append(bits, b>>i&1)
			}
		}
		bits = append(bits, encodeBits([][]byte{data}, 1)...)
		s := make([]int, len(sizes))
		for i, b := range sizes {
			s[i] = 1 + int(b)%64
		}
		checkPutBits(t, bits, s)
	})
}

// referenceEncode is the obvious encoder: preamble flags, then each frame
// and its FCS bit by bit with a 0 inserted after every five 1s, a flag
// after each frame, and closing flags (the first of them closing the last
// frame).
func referenceEncode(frames [][]byte, preamble, closing int) []byte {
	flag := []byte{0, 1, 1, 1, 1, 1, 1, 0}
	var out []byte
	for range preamble {
		out = append(out, flag...)
	}
	for _, f := range frames {
		ones := 0
		for _, o := range AppendFCS(bytes.Clone(f)) {
			for i := range 8 {
				b := o >> i & 1
				out = append(out, b)
				if b == 0 {
					ones = 0
				} else if ones++; ones == 5 {
					out = append(out, 0)
					ones = 0
				}
			}
		}
		out = append(out, flag...)
	}
	for range closing - 1 {
		out = append(out, flag...)
	}
	return out
}

// TestEncoderMatchesReference holds the table-driven zero-bit insertion to
// the obvious one, through GetBit and GetBits.
func TestEncoderMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		frames := randomFrames(rng, 1+rng.IntN(3))
		want := referenceEncode(frames, 3, 2)
		if got := encodeBits(frames, 3); !bytes.Equal(got, want) {
			t.Fatalf("frames %x: GetBit gives %v, want %v", frames, got, want)
		}
		e := NewEncoder(EncoderConfig{PreambleFlags: 3})
		for _, f := range frames {
			e.Queue(f)
		}
		e.End()
		var got []byte
		size := 1 + rng.IntN(32)
		for {
			v, n := e.GetBits(size)
			for i := range n {
				got = append(got, byte(v>>i&1))
			}
			if n < size {
				break
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frames %x: GetBits(%d) gives %v, want %v", frames, size, got, want)
		}
	}
}
