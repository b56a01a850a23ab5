package eslbridge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/eslbridge/audio"
	"github.com/rayofax/rayofax/test/fsim"
)

// The Rayo layer's view of a call: an offer arrives, is answered, streams
// its audio to a media handler and is hung up. A FreeSWITCH simulator
// stands in for the switch.
func Example() {
	sim, err := fsim.Start(fsim.Config{})
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	offers := make(chan *eslbridge.Call, 1)
	base := 42000 + 2*rand.IntN(5000)
	b, err := eslbridge.New(eslbridge.Config{
		Addr: sim.Addr(), Password: "ClueCon",
		MarkVariable: "rayofax", // the dialplan sets rayofax=true on fax calls
		MediaIP:      "127.0.0.1", PortMin: base, PortMax: base + 99,
		OnOffer: func(c *eslbridge.Call) { offers <- c },
		Logger:  quiet(),
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go b.Run(ctx)
	if err := b.WaitConnected(ctx); err != nil {
		panic(err)
	}

	// A SIP call reaches the switch; the dialplan parks it.
	sim.NewInboundCall(fsim.CallOptions{CallerNumber: "15550001", Dest: "4000",
		Vars: []fsim.Var{{Name: "rayofax", Value: "true"}, {Name: "sip_h_X-Fax-Id", Value: "42"}}})

	c := <-offers
	fmt.Println("offer:", c.Direction, "from", c.From, "to", c.To, "X-Fax-Id", c.Headers["X-Fax-Id"])
	if err := c.Answer(ctx); err != nil {
		panic(err)
	}
	// A fax terminal would go here: it hears in and says out, 20 ms a time.
	frames := make(chan struct{}, 1000)
	m, err := c.StartMedia(ctx, audio.HandlerFunc(func(in, out []int16) {
		clear(out)
		frames <- struct{}{}
	}))
	if err != nil {
		panic(err)
	}
	for range 10 {
		<-frames
	}
	fmt.Println("media flowing")
	if err := m.Stop(ctx); err != nil {
		panic(err)
	}
	if err := c.Hangup(ctx, "NORMAL_CLEARING"); err != nil {
		panic(err)
	}
	<-c.Done()
	fmt.Println("end:", c.End().Reason, c.End().Cause)
	// Output:
	// offer: inbound from 15550001 to 4000 X-Fax-Id 42
	// media flowing
	// end: hangup-command NORMAL_CLEARING
}
