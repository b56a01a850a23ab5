//go:build !race

package v17

const raceEnabled = false
