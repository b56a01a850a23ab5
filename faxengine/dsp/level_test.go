package dsp

import (
	"math"
	"testing"
)

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		dbm0 float64
		peak float64
	}{
		{FullScaleDBm0, 32767},
		{0, 22826},
		{-10, 7218},
	} {
		got := SineAmplitude(tc.dbm0)
		if math.Abs(got-tc.peak) > 1 {
			t.Errorf("SineAmplitude(%v) = %v, want %v", tc.dbm0, got, tc.peak)
		}
		// A sine's mean square is peak²/2; PowerDBm0 must invert SineAmplitude.
		if back := PowerDBm0(got * got / 2); math.Abs(back-tc.dbm0) > 1e-9 {
			t.Errorf("PowerDBm0 round trip of %v = %v", tc.dbm0, back)
		}
	}
	if PowerDBm0(0) != -100 {
		t.Errorf("PowerDBm0(0) = %v, want -100", PowerDBm0(0))
	}
}
