package hdlc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// referenceGoodFrames is a slow, obvious deframer over a string of '0'/'1':
// every "01111110" is a flag (neighbouring flags may share a zero), the bits
// between two flags are a frame unless they hold an abort (seven ones), and
// a frame is good when, with each 0 after five 1s removed, it is a whole
// number of octets, MinFrameLen to max+2 long, and its FCS checks.
func referenceGoodFrames(bits []byte, max int) [][]byte {
	var sb strings.Builder
	for _, b := range bits {
		sb.WriteByte('0' + b)
	}
	s := sb.String()
	var flags []int
	for i := 0; i+8 <= len(s); i++ {
		if s[i:i+8] == "01111110" {
			flags = append(flags, i)
		}
	}
	var out [][]byte
	for k := 0; k+1 < len(flags); k++ {
		from, to := flags[k]+8, flags[k+1]
		if to <= from {
			continue
		}
		content := s[from:to]
		if strings.Contains(content, "1111111") {
			continue
		}
		// An abort may also straddle the frame's start with the flag's
		// final 0 before it: that cannot happen, the flag ends in 0.
		var d []byte
		ones := 0
		for i := 0; i < len(content); i++ {
			c := content[i]
			if c == '0' && ones == 5 {
				ones = 0
				continue
			}
			if c == '1' {
				ones++
			} else {
				ones = 0
			}
			d = append(d, c-'0')
		}
		if len(d)%8 != 0 || len(d)/8 < MinFrameLen || len(d)/8 > max+2 {
			continue
		}
		frame := make([]byte, len(d)/8)
		for i, b := range d {
			frame[i/8] |= b << (i % 8)
		}
		if CheckFCS(frame) {
			out = append(out, frame[:len(frame)-2])
		}
	}
	return out
}

func decodeGood(bits []byte, max int) [][]byte {
	var good [][]byte
	d := NewDecoder(DecoderConfig{MaxFrameLen: max, OnFrame: func(f []byte, ok bool) {
		if ok {
			good = append(good, bytes.Clone(f))
		}
	}})
	for _, b := range bits {
		d.PutBit(int(b))
	}
	return good
}

func encodeBits(frames [][]byte, preamble int) []byte {
	e := NewEncoder(EncoderConfig{PreambleFlags: preamble})
	for _, f := range frames {
		e.Queue(f)
	}
	e.End()
	var bits []byte
	for b := e.GetBit(); b != modem.EndOfData; b = e.GetBit() {
		bits = append(bits, byte(b))
	}
	return bits
}

func checkAgainstReference(t *testing.T, bits []byte, max int) {
	want := referenceGoodFrames(bits, max)
	got := decodeGood(bits, max)
	if len(got) != len(want) {
		t.Fatalf("decoder found %d good frames, reference %d\ngot %x\nwant %x", len(got), len(want), got, want)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d: decoder %x, reference %x", i, got[i], want[i])
		}
		if !CheckFCS(AppendFCS(bytes.Clone(got[i]))) {
			t.Fatal("unreachable")
		}
	}
}

func TestDecoderMatchesReference(t *testing.T) {
	frames := [][]byte{{0xFF, 0x03, 0x40}, bytes.Repeat([]byte{0xFF}, 40), {0x7E, 0x7E, 0x7D}, {0xFF, 0x13, 0x83, 0, 0}}
	bits := encodeBits(frames, 3)
	checkAgainstReference(t, bits, DefaultMaxFrameLen)
	if n := len(referenceGoodFrames(bits, DefaultMaxFrameLen)); n != len(frames) {
		t.Fatalf("reference found %d frames, want %d", n, len(frames))
	}
	// Shared-zero flags between frames.
	shared := []byte{0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0}
	body := encodeBits([][]byte{{1, 2, 3, 4}}, 1)
	checkAgainstReference(t, append(append(shared, body...), shared...), DefaultMaxFrameLen)
}

// FuzzDecoder feeds arbitrary bits (and valid frames mixed with garbage) to
// the decoder: it must not panic, and must report exactly the frames a slow
// reference deframer finds valid.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0x7E, 0xFF, 0x03, 0x7E}, []byte{})
	f.Add([]byte{}, []byte{0xFF, 0x13, 0x80, 0x00, 0xCE})
	f.Add([]byte{0x7E, 0x7E, 0xFF}, []byte{0xFF, 0x03, 0x42, 0x7E})
	f.Fuzz(func(t *testing.T, noise, frame []byte) {
		var bits []byte
		for _, b := range noise {
			for i := range 8 {
				bits = append(bits, b>>i&1)
			}
		}
		if len(frame) > 0 && len(frame) <= 64 {
			enc := encodeBits([][]byte{frame}, 1)
			// Splice a valid frame into the noise at a data-dependent place.
			at := 0
			if len(bits) > 0 {
				at = int(frame[0]) % (len(bits) + 1)
			}
			bits = append(bits[:at:at], append(enc, bits[at:]...)...)
		}
		checkAgainstReference(t, bits, 64)
	})
}

func TestDecoderLengthLimit(t *testing.T) {
	for n := 60; n <= 70; n++ {
		f := bytes.Repeat([]byte{0x5A}, n)
		bits := encodeBits([][]byte{f}, 1)
		// The encoder refuses nothing up to its own default; the decoder
		// is limited to 64 octets.
		checkAgainstReference(t, bits, 64)
	}
}
