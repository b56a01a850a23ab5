//go:build !race

package v29

const raceEnabled = false
