package hdlc

import (
	"bytes"
	"fmt"
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

// benchFrame is a 256-octet frame of pseudo-random data, like compressed
// image data in an ECM frame.
func benchFrame() []byte {
	f := make([]byte, 256)
	x := uint32(1)
	for i := range f {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		f[i] = byte(x)
	}
	return f
}

// BenchmarkDecoderPutBits delivers 48 bits a call, as the V.17 receiver
// does at 14400 bit/s, beside PutBit on the same frames.
func BenchmarkDecoderPutBits(b *testing.B) {
	bits := encodeBits([][]byte{benchFrame(), benchFrame()}, 4)
	var words []uint64
	for i := 0; i+48 <= len(bits); i += 48 {
		var v uint64
		for j := range 48 {
			v |= uint64(bits[i+j]) << j
		}
		words = append(words, v)
	}
	n := len(words) * 48
	b.Run("PutBit", func(b *testing.B) {
		d := NewDecoder(DecoderConfig{OnFrame: func([]byte, bool) {}})
		for range b.N {
			for _, bit := range bits[:n] {
				d.PutBit(int(bit))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/bit")
	})
	b.Run("PutBits", func(b *testing.B) {
		d := NewDecoder(DecoderConfig{OnFrame: func([]byte, bool) {}})
		for range b.N {
			for _, v := range words {
				d.PutBits(v, 48)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/bit")
	})
}

// BenchmarkEncoderGetBits takes six bits a call, as the V.17 transmitter
// does at 14400 bit/s, beside GetBit on the same frames.
func BenchmarkEncoderGetBits(b *testing.B) {
	frame := benchFrame()
	for _, size := range []int{1, 6} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			e := NewEncoder(EncoderConfig{PreambleFlags: 1})
			n := 0
			b.ReportAllocs()
			for range b.N {
				e.Reset()
				e.Queue(frame)
				e.End()
				if size == 1 {
					for bit := e.GetBit(); bit != modem.EndOfData; bit = e.GetBit() {
						n++
					}
					continue
				}
				for {
					_, c := e.GetBits(size)
					if c == 0 {
						break
					}
					n += c
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/bit")
		})
	}
}
