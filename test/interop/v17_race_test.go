//go:build spandsp && race

package interop

const v17RaceEnabled = true
