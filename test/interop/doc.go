// Package interop holds rayofax's fax modems to the reference
// implementation: spandsp 0.0.6 (Debian's libspandsp-dev), linked through
// cgo, drives its transmitters and receivers sample for sample against ours.
//
// The suites and the cgo wrappers build only with the spandsp tag:
//
//	go test -tags spandsp ./test/interop/...            (make interop)
//	go test -tags spandsp -run '^$' -bench . ./test/interop/...  (make bench)
//
// cgo cannot live in _test.go files, so the wrappers are ordinary files named
// spandsp_*.go, each with //go:build spandsp and #cgo pkg-config: spandsp.
// The shared pure-Go helpers, in harness*.go, build without the tag.
//
// # spandsp wrappers
//
// spandsp_common.go: spanStatus maps spandsp's SIG_STATUS_* codes to
// modem.Status.
//
// spandsp_fsk.go: SpanFSKTx and SpanFSKRx, spandsp's fsk_tx/fsk_rx with the
// V.21 channel 2 preset (NewSpanV21Tx sends a bit buffer, once or looped;
// NewSpanV21Rx delivers into a modem.BitSink; NewSpanV21HDLCTx and
// NewSpanV21HDLCRx wire spandsp's HDLC directly to the modem inside C, as
// spandsp's own T.30 does). Bits and status reports of spandsp receivers are
// collected in C and handed to Go after each Process call, so no C-to-Go
// callback runs per bit; newSpanBits and newSpanSink are the C-side buffers,
// reusable by other spandsp_*.go files.
//
// spandsp_hdlc.go: SpanHDLCTx (a modem.BitSource: Queue, End) and SpanHDLCRx
// (a modem.BitSink with OnFrame/OnStatus callbacks), spandsp's hdlc_tx and
// hdlc_rx with FCS-16. Being bit-level they run over any modem, ours or
// spandsp's, for ECM frames too.
//
// spandsp_tone.go: SpanToneTx and SpanToneRx, spandsp's
// modem_connect_tones_tx/rx for CNG and CED/ANS.
//
// spandsp_v27ter.go, spandsp_v29.go, spandsp_v17.go: spandsp's transmitters
// and receivers of the image modems (SpanV17Tx/SpanV17Rx with Restart for
// short trains).
//
// spandsp_fax.go: SpanFax, a whole spandsp fax terminal (fax_state_t, audio
// mode) with its result (FaxResult); it is also an fsim.Peer, so it can be
// the far end of a simulated call (fsim_test.go, rayofaxd_test.go).
//
// # Harness helpers (for every modem's suite)
//
// harness.go:
//   - PRBS, NewPRBS, PRBSBits: the O.150 2^23-1 pseudo-random sequence.
//   - KnownBits: a modem.BitSource sending Lead fill bits, Data, Tail fill
//     bits, then EndOfData (fill = FillBit; use 1 for FSK and the scrambled
//     modems).
//   - BitRecorder: a modem.BitSink keeping bits and statuses (with the bit
//     count at each status; Has tells whether one was seen).
//   - Modulate, Demodulate: run a transmitter to its end / feed a receiver in
//     blocks. Pad: silence around a signal. Impair: run a signal through a
//     test/linesim line (noise, gain, frequency and clock offset, gaps) and
//     flush it; Clean is the perfect line.
//   - Align: bit-exact comparison with a delay search (Match: Offset,
//     Errors, Compared, Missing; BER, Exact). AlignAround: the same around a
//     gap, aligning before and after it separately and skipping a margin.
//
// harness_ber.go: BERTable (Columns such as "spandsp" and "rayofax", Add a
// row of Matches per SNR, Threshold finds the SNR from which a column's BER
// stays at or below a target, String and Log print it).
//
// harness_bench.go: BenchRatio runs our function and spandsp's in one
// benchmark and reports ns/sample, ref-ns/sample, ours/ref, channels/core
// and ref-channels/core; BenchSamples does the same for ours alone; Loop
// repeats a signal to feed a receiver in a benchmark.
//
// # Suites
//
// V.21, HDLC and tones (each file name says which): fsk_interop_test.go
// (known data both ways across the v21Cases lines), hdlc_interop_test.go
// (frames both ways over V.21, and the two HDLC layers crossed at bit level),
// tone_interop_test.go (CNG and CED both ways), ber_v21_test.go (the V.21
// BER-versus-SNR table, also printed by BenchmarkV21BERTable in make bench),
// bench_fsk_test.go and bench_tone_test.go (BenchRatio against spandsp).
// The other modems' suites live beside them in files named for the modem.
//
// # Conventions
//
// Signal-to-noise ratios are signal power over noise power across the whole
// 0-4 kHz band, with the noise from linesim (NoiseDBm0 = level - SNR). Where
// spandsp's receiver itself fails a case, the test records spandsp's limit
// (logs it and checks it stays as measured) and still holds ours to the full
// range.
package interop
