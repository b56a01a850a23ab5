package hdlc

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

func TestFCSCheckValue(t *testing.T) {
	// The standard check value of this CRC (CRC-16/X-25) over "123456789".
	if got := FCS([]byte("123456789")); got != 0x906E {
		t.Fatalf("FCS = %#04x, want 0x906e", got)
	}
	f := AppendFCS([]byte("123456789"))
	if !CheckFCS(f) {
		t.Fatal("CheckFCS rejects a frame with its own FCS")
	}
	f[3] ^= 0x10
	if CheckFCS(f) {
		t.Fatal("CheckFCS accepts a corrupted frame")
	}
}

// slowFCS is the bit-serial definition, as a reference for the table.
func slowFCS(data []byte) uint16 {
	reg := uint16(0xFFFF)
	for _, b := range data {
		for i := range 8 {
			in := uint16(b>>i) & 1
			fb := (reg ^ in) & 1
			reg >>= 1
			if fb != 0 {
				reg ^= 0x8408
			}
		}
	}
	return ^reg
}

func TestFCSMatchesBitSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if FCS(b) != slowFCS(b) {
			t.Fatalf("FCS(%x) = %#x, bit-serial %#x", b, FCS(b), slowFCS(b))
		}
	}
}

type frame struct {
	data []byte
	ok   bool
}

func collect(cfg DecoderConfig) (*Decoder, *[]frame, *[]modem.Status) {
	var frames []frame
	var st []modem.Status
	cfg.OnFrame = func(f []byte, ok bool) { frames = append(frames, frame{bytes.Clone(f), ok}) }
	cfg.OnStatus = func(s modem.Status) { st = append(st, s) }
	return NewDecoder(cfg), &frames, &st
}

func run(e *Encoder, d *Decoder) []byte {
	var bits []byte
	for range 1 << 20 {
		b := e.GetBit()
		if b == modem.EndOfData {
			break
		}
		bits = append(bits, byte(b))
		d.PutBit(b)
	}
	return bits
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var want [][]byte
	e := NewEncoder(EncoderConfig{})
	for i := range 50 {
		f := make([]byte, 3+r.IntN(260))
		for j := range f {
			f[j] = byte(r.Uint32())
		}
		if i%5 == 0 {
			for j := range f {
				f[j] = 0xFF // worst case for stuffing
			}
		}
		want = append(want, f)
		if err := e.Queue(f); err != nil {
			t.Fatal(err)
		}
	}
	e.End()
	d, got, st := collect(DecoderConfig{})
	bits := run(e, d)
	if !e.Done() || e.Sent() != len(want) || e.Pending() != 0 {
		t.Fatalf("encoder done %v sent %d pending %d", e.Done(), e.Sent(), e.Pending())
	}
	if len(*got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(*got), len(want))
	}
	for i, f := range *got {
		if !f.ok || !bytes.Equal(f.data, want[i]) {
			t.Fatalf("frame %d: ok %v, %x, want %x", i, f.ok, f.data, want[i])
		}
	}
	if len(*st) != 1 || (*st)[0] != modem.FramingOK {
		t.Fatalf("status %v, want framing ok", *st)
	}
	// The preamble is DefaultPreambleFlags flags.
	for i := range DefaultPreambleFlags * 8 {
		if bits[i] != Flag>>(i%8)&1 {
			t.Fatalf("preamble bit %d is %d", i, bits[i])
		}
	}
	// No run of more than five ones inside the frames.
	run := 0
	for _, b := range bits {
		if b == 1 {
			if run++; run > 6 {
				t.Fatal("seven ones in a row on the line")
			}
		} else {
			run = 0
		}
	}
	if s := d.Stats(); s.GoodFrames != len(want) || s.BadFrames != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestBitErrorGivesBadFrame(t *testing.T) {
	e := NewEncoder(EncoderConfig{PreambleFlags: 3})
	e.Queue([]byte{0xFF, 0x13, 0x80, 0x00, 0xCE, 0xF4})
	e.Queue([]byte{0xFF, 0x13, 0x83})
	e.End()
	var bits []int
	for b := e.GetBit(); b != modem.EndOfData; b = e.GetBit() {
		bits = append(bits, b)
	}
	bits[3*8+20] ^= 1 // inside the first frame
	d, got, _ := collect(DecoderConfig{})
	for _, b := range bits {
		d.PutBit(b)
	}
	if len(*got) != 2 || (*got)[0].ok || !(*got)[1].ok {
		t.Fatalf("got %+v, want a bad frame then a good one", *got)
	}
}

func TestAbort(t *testing.T) {
	e := NewEncoder(EncoderConfig{PreambleFlags: 2})
	e.Queue(bytes.Repeat([]byte{0x55}, 20))
	e.Queue([]byte{0xFF, 0x03, 0x42})
	e.End()
	d, got, _ := collect(DecoderConfig{})
	for i := 0; ; i++ {
		if i == 2*8+40 {
			e.Abort()
		}
		b := e.GetBit()
		if b == modem.EndOfData {
			break
		}
		d.PutBit(b)
	}
	if len(*got) != 1 || !(*got)[0].ok || !bytes.Equal((*got)[0].data, []byte{0xFF, 0x03, 0x42}) {
		t.Fatalf("got %+v, want only the second frame", *got)
	}
	if s := d.Stats(); s.Aborts != 1 {
		t.Fatalf("stats %+v, want one abort", s)
	}
	if e.Sent() != 1 {
		t.Fatalf("Sent = %d, want 1", e.Sent())
	}
}

func TestQueueErrors(t *testing.T) {
	e := NewEncoder(EncoderConfig{MaxFrameLen: 10})
	if err := e.Queue(make([]byte, 11)); !errors.Is(err, ErrFrameTooLong) {
		t.Fatalf("long frame: %v", err)
	}
	e.End()
	if err := e.Queue([]byte{1, 2, 3}); !errors.Is(err, ErrEnded) {
		t.Fatalf("after End: %v", err)
	}
}

func TestOnIdleAndProgressiveQueue(t *testing.T) {
	var e *Encoder
	idle := 0
	e = NewEncoder(EncoderConfig{PreambleFlags: 4, OnIdle: func() {
		idle++
		if idle == 1 {
			e.Queue([]byte{0xFF, 0x13, 0x01})
			e.End()
		}
	}})
	e.Queue([]byte{0xFF, 0x03, 0x01})
	d, got, _ := collect(DecoderConfig{})
	run(e, d)
	if len(*got) != 2 || idle != 2 || !e.Done() {
		t.Fatalf("frames %+v idle %d done %v", *got, idle, e.Done())
	}
}

func TestCarrierDownDropsPartialFrame(t *testing.T) {
	e := NewEncoder(EncoderConfig{PreambleFlags: 2})
	e.Queue([]byte{0xFF, 0x03, 1, 2, 3, 4})
	d, got, _ := collect(DecoderConfig{})
	for range 2*8 + 20 {
		d.PutBit(e.GetBit())
	}
	d.Status(modem.CarrierDown)
	// The rest of the frame and its closing flag arrive without a fresh
	// opening flag: nothing must come out.
	for range 60 {
		d.PutBit(e.GetBit())
	}
	if len(*got) != 0 {
		t.Fatalf("got %+v after carrier loss", *got)
	}
}

func TestDecoderNoAllocs(t *testing.T) {
	e := NewEncoder(EncoderConfig{PreambleFlags: 1})
	d := NewDecoder(DecoderConfig{OnFrame: func([]byte, bool) {}})
	var bits []int
	e.Queue(bytes.Repeat([]byte{0x7E, 0xFF}, 100))
	e.End()
	for b := e.GetBit(); b != modem.EndOfData; b = e.GetBit() {
		bits = append(bits, b)
	}
	allocs := testing.AllocsPerRun(20, func() {
		for _, b := range bits {
			d.PutBit(b)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per frame", allocs)
	}
}

func TestEncoderNoAllocs(t *testing.T) {
	e := NewEncoder(EncoderConfig{PreambleFlags: 1})
	frame := bytes.Repeat([]byte{0xFF, 0x7E}, 60)
	run := func() {
		e.Reset()
		e.Queue(frame)
		e.Queue(frame)
		e.End()
		for e.GetBit() != modem.EndOfData {
		}
	}
	run() // the first frames allocate their buffers
	if a := testing.AllocsPerRun(20, run); a != 0 {
		t.Fatalf("%v allocations per transmission", a)
	}
}
