// Package t30 implements the ITU-T T.30 facsimile procedure for Group 3
// terminals on audio lines: the binary-coded control frames (FCF table, the
// DIS/DTC/DCS capability fields, idents), the session state machine for the
// calling and answering station in both directions, error correction mode
// (T.30 Annex A), and typed result codes.
//
// The terminal is driven by sample count only: a caller feeds received line
// audio to Rx and takes transmitted audio from Tx, and every T.30 timer runs
// on the number of samples processed. The physical layer (V.21 HDLC, the fast
// image modems and the call tones) sits behind the small Line interface, so
// the protocol logic is testable over a frame-level link and the same engine
// drives real modems over audio.
//
// A sending terminal fits each page to the remote's DIS before it picks the
// DCS (refit.go, with package page doing the pixels): a resolution the
// remote lacks goes down to the best one it has (rows ORed, so thin rules
// survive), a page wider than its paper is scaled to its widest width, and
// a page longer than its longest page is split. The report gives the
// resolution actually sent; only a remote with no usable modem in common
// ends with ErrIncompatible.
package t30
