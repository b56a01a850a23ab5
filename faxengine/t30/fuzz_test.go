package t30

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
)

// nullLine accepts every transmission and hears nothing.
type nullLine struct{}

func (nullLine) SendSilence(int)                       {}
func (nullLine) SendTone(Tone, int)                    {}
func (nullLine) SendFrames([][]byte)                   {}
func (nullLine) SendImage(Rate, bool, modem.BitSource) {}
func (nullLine) SendImageFrames(Rate, bool, [][]byte)  {}
func (nullLine) Listen(Rate, bool, bool)               {}

// FuzzSession drives sending and receiving sessions with arbitrary line
// events (frames, image bits and frames, carrier reports, time) and checks
// that nothing panics and that every session ends.
func FuzzSession(f *testing.F) {
	dis := Frame{FCF: FCFDIS, Final: true, FIF: (Capabilities{CanReceive: true, ReadyToTransmit: true,
		Modems: ModemSet{V27ter: true, V29: true, V17: true}, ECM: true, MR: true, MMR: true}).Encode()}.Bytes()
	dcs := Frame{FCF: FCFDCS, Final: true, FIF: (Settings{Rate: Rate{V29, 9600}, ECM: true, Encoding: MMR}).Encode()}.Bytes()
	pps := Frame{FCF: FCFPPS, Final: true, FIF: []byte{FCFEOP, 0, 0, 3}}.Bytes()
	seed := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, 0, byte(len(p)))
			out = append(out, p...)
		}
		return out
	}
	f.Add(seed(dis, dcs, pps))
	f.Add(append(seed(dcs), 3, 4, 4, 0, 4, 0, 3, 2, 5, 5, 0xFF, 0x03, 0x06, 0x00, 0xAA, 0, byte(len(pps))))
	f.Add([]byte{6, 200, 6, 200, 7, 7, 2, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		for role := 0; role < 4; role++ {
			cfg := Config{Caller: role&1 != 0, Codec: testCodec{}, ECM: true, AllowV17: true}
			if role&2 != 0 {
				cfg.Document = docOf(1, ResFine)
			} else {
				cfg.Sink = &testSink{}
			}
			s, err := newSession(cfg, nullLine{})
			if err != nil {
				t.Fatal(err)
			}
			s.start()
			for i := 0; i+1 < len(in); {
				op, n := in[i], int(in[i+1])
				i += 2
				chunk := in[i:min(i+n, len(in))]
				switch op % 8 {
				case 0:
					i += len(chunk)
					s.rxFrame(chunk, true)
				case 1:
					i += len(chunk)
					s.rxFrame(chunk, false)
				case 2:
					s.rxCarrierDown()
				case 3:
					s.imageStatus(modem.Status(n % 8))
				case 4:
					s.imageBit(n & 1)
				case 5:
					i += len(chunk)
					s.imageFrame(chunk, n&1 == 0)
				case 6:
					s.advance(n * 400)
				case 7:
					s.txDone()
				}
			}
			// Whatever happened, time alone must end the session.
			for k := 0; k < 100 && !s.done; k++ {
				s.txDone()
				s.advance(T1)
			}
			if !s.done {
				t.Fatalf("role %d: session never ended (state %d)", role, s.state)
			}
		}
	})
}
