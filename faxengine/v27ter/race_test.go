//go:build race

package v27ter

const raceEnabled = true
