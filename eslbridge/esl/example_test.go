package esl_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rayofax/rayofax/eslbridge/esl"
	"github.com/rayofax/rayofax/test/fsim"
)

func Example() {
	sim, err := fsim.Start(fsim.Config{})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	parked := make(chan string, 1)
	c, err := esl.Dial(ctx, sim.Addr(), esl.Options{
		Password: "ClueCon",
		OnEvent: func(ev *esl.Event) {
			if ev.Name() == "CHANNEL_PARK" {
				parked <- ev.UUID()
			}
		},
		Logger: quiet(),
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if err := c.Subscribe(ctx, "plain", "CHANNEL_PARK", "BACKGROUND_JOB"); err != nil {
		panic(err)
	}
	uuid := esl.NewUUID()
	res, err := c.BgAPI(ctx, "originate {origination_uuid="+uuid+"}loopback/fax &park()")
	if err != nil {
		panic(err)
	}
	fmt.Print(res == "+OK "+uuid+"\n", " ")
	fmt.Println(<-parked == uuid)
	if _, err := c.API(ctx, "uuid_kill "+uuid); err != nil {
		panic(err)
	}
	_, err = c.API(ctx, "uuid_kill "+uuid)
	fmt.Println(err)
	// Output:
	// true true
	// esl: uuid_kill: -ERR No such channel!
}
