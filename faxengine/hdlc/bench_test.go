package hdlc

import (
	"bytes"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

func BenchmarkDecoder(b *testing.B) {
	bits := encodeBits([][]byte{bytes.Repeat([]byte{0x5A, 0xFF, 0x00}, 86)}, 4)
	d := NewDecoder(DecoderConfig{OnFrame: func([]byte, bool) {}})
	b.ResetTimer()
	for range b.N {
		for _, bit := range bits {
			d.PutBit(int(bit))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bits)), "ns/bit")
}

func BenchmarkEncoder(b *testing.B) {
	frame := bytes.Repeat([]byte{0x5A, 0xFF, 0x00}, 86)
	e := NewEncoder(EncoderConfig{PreambleFlags: 1})
	n := 0
	b.ReportAllocs()
	for range b.N {
		e.Reset()
		e.Queue(frame)
		e.End()
		for bit := e.GetBit(); bit != modem.EndOfData; bit = e.GetBit() {
			n++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/bit")
}
