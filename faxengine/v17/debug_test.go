package v17

import "testing"

func traceTo(t *testing.T) {
	debugf = func(f string, a ...any) { t.Logf(f, a...) }
	t.Cleanup(func() { debugf = nil })
}
