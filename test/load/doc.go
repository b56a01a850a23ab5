// Package load is rayofax's load test: many concurrent fax calls through the
// whole stack — the FreeSWITCH simulator (test/fsim) with its real event
// socket and unicast UDP audio on loopback, eslbridge, the Rayo server as a
// component of a real Prosody, local storage — driven by a Rayo client, with
// our own fax terminals as the far ends.
//
// Half the calls receive a fax (an inbound call, answered, <receivefax/>; the
// far end is a calling terminal sending a document), half send one (a Rayo
// <dial/>, then <sendfax/> of a document served over HTTP; the far end
// answers and receives). Every fax uses V.17 with ECM and has three pages.
//
// TestConcurrentFaxes runs 100 concurrent calls in every `go test ./...`
// (and so under make check) and holds them to every fax ok and no frame
// deadline missed. TestLoadRamp, run by `make loadtest`
// (RAYOFAX_LOADTEST=1), ramps the number of concurrent calls until a fax
// fails or a frame deadline is missed, and reports the largest clean step
// with CPU and memory per call, frame processing times and Rayo command
// latencies; RAYOFAX_LOADTEST_PROFILE=FILE writes CPU and heap profiles of
// each step. With RAYOFAX_LOADTEST_DAEMON=1 (the make target's default) the
// daemon under test is the rayofaxd binary, whose own CPU time and RSS are
// reported; otherwise eslbridge and rayo run in the test process, as in
// TestConcurrentFaxes, and the profiles cover them.
package load
