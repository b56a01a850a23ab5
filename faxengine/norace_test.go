//go:build !race

package faxengine

const raceEnabled = false
