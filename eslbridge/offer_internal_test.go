package eslbridge

import (
	"io"
	"log/slog"
	"testing"

	"github.com/rayofax/rayofax/eslbridge/esl"
)

// A resync reads a parked call (uuid_dump) and offers it after the call has
// ended meanwhile: the ended call is not offered again.
func TestNoOfferForEndedCall(t *testing.T) {
	b, err := New(Config{Addr: "127.0.0.1:1", Password: "x", MediaIP: "127.0.0.1", PortMin: 20000, PortMax: 20099,
		OnOffer: func(*Call) {}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := esl.ParseEventJSON([]byte(`{"Event-Name":"CHANNEL_DATA","Unique-ID":"0f1d2c3b-4a59-6877-8695-a4b3c2d1e0f9",` +
		`"Call-Direction":"inbound","Caller-Caller-ID-Number":"15551230000","Caller-Destination-Number":"15559990000"}`))
	if err != nil {
		t.Fatal(err)
	}
	b.maybeOffer(ev)
	c := b.Call(ev.UUID())
	if c == nil {
		t.Fatal("the parked call was not offered")
	}
	b.finish(c, End{Reason: EndHangup, Cause: "NORMAL_CLEARING"})
	b.maybeOffer(ev) // the stale read
	if b.Call(ev.UUID()) != nil {
		t.Error("an ended call was offered again")
	}
	for i := range recentCap {
		b.gone.add(string(rune(i)))
	}
	if b.gone.has(ev.UUID()) || len(b.gone.set) != recentCap {
		t.Errorf("the ring keeps %d IDs, the oldest too: %v", len(b.gone.set), b.gone.has(ev.UUID()))
	}
}
