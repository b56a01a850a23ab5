package t30

import "github.com/rayofax/rayofax/faxengine/modem"

// ms converts milliseconds to samples.
func ms(n int) int { return n * modem.SampleRate / 1000 }

// T.30 timers (5.4.3), in samples.
var (
	// T1: time to wait for a valid signal when starting phase B (35 s ± 5 s).
	T1 = ms(35000)
	// T2: time to wait for a command (6 s ± 1 s).
	T2 = ms(6000)
	// T3: procedure interrupt alert (10 s ± 5 s); PRI-Q is answered PIN
	// by an unattended terminal, so T3 only bounds the wait for it.
	T3 = ms(10000)
	// T4: time to wait for a response before repeating a command (3 s ± 15%).
	T4 = ms(3000)
	// T5: how long an ECM sender keeps asking a not-ready receiver (60 s ± 5 s).
	T5 = ms(60000)
)

// Other times of the procedure, in samples.
var (
	tcfSamples     = ms(1500) // training check: 1.5 s of zeros
	tcfMaxSamples  = ms(3200) // the longest training (V.17 long, 1.4 s) and TCF, with margin
	turnaround     = ms(75)   // silence before transmitting after receiving (75 ± 20 ms)
	cedSamples     = ms(3000) // answer tone: 2.6-4 s
	cngOn          = ms(500)  // calling tone cadence: 0.5 s on ...
	cngOff         = ms(3000) // ... 3 s off
	tcfWaitSamples = ms(2500) // after CFR the sender starts the page within this
)
