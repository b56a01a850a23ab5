//go:build spandsp

package interop

import (
	"testing"

	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/v27ter"
)

var v27terModem = qamModem{
	name:  "V.27ter",
	rates: []int{4800, 2400},
	trainSamples: func(rate int) int {
		n := 32 + 50 + 1074 + 8
		if rate == 4800 {
			return n * 5
		}
		return n * 20 / 3
	},
	ourTx: func(t testing.TB, rate int, level float64, tep bool, data []byte) modem.Transmitter {
		if level == 0 {
			level = v27ter.ZeroDBm0
		}
		tx, err := v27ter.NewTransmitter(v27ter.Config{Rate: rate, Level: level, TEP: tep}, &KnownBits{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return tx
	},
	ourRx: func(t testing.TB, rate int, sink modem.BitSink) modem.Receiver {
		rx, err := v27ter.NewReceiver(v27ter.Config{Rate: rate}, sink)
		if err != nil {
			t.Fatal(err)
		}
		return rx
	},
	spanTx: func(t testing.TB, rate int, level float64, tep bool, data []byte) modem.Transmitter {
		tx, err := NewSpanV27terTxTEP(rate, data, tep)
		if err != nil {
			t.Fatal(err)
		}
		tx.SetLevel(level)
		t.Cleanup(tx.Close)
		return tx
	},
	spanRx: func(t testing.TB, rate int, sink modem.BitSink, cutoff float64) modem.Receiver {
		rx, err := NewSpanV27terRx(rate, sink)
		if err != nil {
			t.Fatal(err)
		}
		if cutoff != 0 {
			rx.SetCutoff(cutoff)
		}
		t.Cleanup(rx.Close)
		return rx
	},
}

func TestV27terInterop(t *testing.T) { testQAMInterop(t, v27terModem) }
