//go:build race

package faxengine

// raceEnabled trims the full-call matrix under the race detector, which
// makes the modems about ten times slower.
const raceEnabled = true
