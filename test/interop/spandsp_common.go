//go:build spandsp

package interop

/*
#cgo pkg-config: spandsp
#include <spandsp.h>
*/
import "C"

import "github.com/rayofax/rayofax/faxengine/modem"

// spanStatus maps a spandsp SIG_STATUS_* code to a modem.Status (0 if none).
func spanStatus(code int) modem.Status {
	switch code {
	case C.SIG_STATUS_CARRIER_UP:
		return modem.CarrierUp
	case C.SIG_STATUS_CARRIER_DOWN:
		return modem.CarrierDown
	case C.SIG_STATUS_TRAINING_IN_PROGRESS:
		return modem.TrainingInProgress
	case C.SIG_STATUS_TRAINING_SUCCEEDED:
		return modem.TrainingSucceeded
	case C.SIG_STATUS_TRAINING_FAILED:
		return modem.TrainingFailed
	case C.SIG_STATUS_FRAMING_OK:
		return modem.FramingOK
	}
	return 0
}
