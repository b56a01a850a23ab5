package t30

import (
	"errors"
	"fmt"
	"strings"
)

// Control field values of a T.30 HDLC frame: every frame of a sequence but
// the last is non-final.
const (
	addressOctet = 0xFF
	controlMore  = 0x03
	controlFinal = 0x13
)

// Frame is a T.30 control frame: the HDLC address and control octets are
// implied; the FCS is the HDLC layer's business.
type Frame struct {
	FCF   byte // with the X bit removed (see NormalizeFCF)
	X     bool // the X bit as received or to be sent
	Final bool // the last frame of a sequence
	FIF   []byte
}

// ErrFrame is wrapped by every frame parsing error.
var ErrFrame = errors.New("t30: bad frame")

// minFIF is the shortest valid facsimile information field for an FCF.
func minFIF(fcf byte) int {
	switch fcf {
	case FCFDIS, FCFDTC, FCFDCS:
		return 3
	case FCFCSI, FCFTSI, FCFCIG:
		return 1 // idents are 20 octets, but short ones are tolerated
	case FCFPPS:
		return 4
	case FCFPPR:
		return 32
	case FCFCTC:
		return 2
	case FCFEOR:
		return 1
	}
	return 0
}

// ParseFrame decodes a received frame (without FCS). The returned FIF aliases
// b. It never panics; malformed input gives an error wrapping ErrFrame.
func ParseFrame(b []byte) (Frame, error) {
	if len(b) < 3 {
		return Frame{}, fmt.Errorf("%w: %d octets, need at least 3", ErrFrame, len(b))
	}
	if b[0] != addressOctet {
		return Frame{}, fmt.Errorf("%w: address 0x%02X, want 0xFF", ErrFrame, b[0])
	}
	var f Frame
	switch b[1] {
	case controlMore:
	case controlFinal:
		f.Final = true
	default:
		return Frame{}, fmt.Errorf("%w: control 0x%02X", ErrFrame, b[1])
	}
	f.FCF = NormalizeFCF(b[2])
	f.X = !fixedFCF(b[2]) && b[2]&xBit != 0
	f.FIF = b[3:]
	if n := minFIF(f.FCF); len(f.FIF) < n {
		return Frame{}, fmt.Errorf("%w: %s with %d octets of FIF, need %d", ErrFrame, FCFName(f.FCF), len(f.FIF), n)
	}
	return f, nil
}

// Append appends the frame's wire octets (address to FIF) to dst.
func (f Frame) Append(dst []byte) []byte {
	c := byte(controlMore)
	if f.Final {
		c = controlFinal
	}
	dst = append(dst, addressOctet, c, withX(f.FCF, f.X))
	return append(dst, f.FIF...)
}

// Bytes returns the frame's wire octets.
func (f Frame) Bytes() []byte { return f.Append(nil) }

// String describes the frame for logs, decoding the fields T.30 defines.
func (f Frame) String() string {
	var sb strings.Builder
	sb.WriteString(FCFName(f.FCF))
	switch f.FCF {
	case FCFDIS, FCFDTC:
		c, err := ParseCapabilities(f.FIF)
		if err == nil {
			fmt.Fprintf(&sb, " %v", c)
		}
	case FCFDCS:
		p, err := ParseSettings(f.FIF)
		if err == nil {
			fmt.Fprintf(&sb, " %v", p)
		}
	case FCFCSI, FCFTSI, FCFCIG:
		fmt.Fprintf(&sb, " %q", DecodeIdent(f.FIF))
	case FCFPPS:
		fmt.Fprintf(&sb, "-%s page %d block %d frames %d", FCFName(NormalizeFCF(f.FIF[0])), f.FIF[1], f.FIF[2], int(f.FIF[3])+1)
	case FCFEOR:
		fmt.Fprintf(&sb, "-%s", FCFName(NormalizeFCF(f.FIF[0])))
	case FCFPPR:
		n := 0
		for _, o := range f.FIF[:32] {
			for ; o != 0; o &= o - 1 {
				n++
			}
		}
		fmt.Fprintf(&sb, " %d frames", n)
	default:
		if len(f.FIF) > 0 {
			fmt.Fprintf(&sb, " % X", f.FIF)
		}
	}
	return sb.String()
}

// ECM image frames (T.4 Annex A): FCD carries one frame of a block, RCP ends
// the block.

// ParseFCD decodes an ECM image frame: it returns the frame number and data
// for FCD, ok=false and rcp=true for RCP, and an error otherwise.
func ParseFCD(b []byte) (num int, data []byte, rcp bool, err error) {
	if len(b) < 3 || b[0] != addressOctet || b[1] != controlMore {
		return 0, nil, false, fmt.Errorf("%w: not an ECM image frame", ErrFrame)
	}
	switch b[2] {
	case FCFRCP:
		return 0, nil, true, nil
	case FCFFCD:
		if len(b) < 5 {
			return 0, nil, false, fmt.Errorf("%w: FCD of %d octets", ErrFrame, len(b))
		}
		return int(b[3]), b[4:], false, nil
	}
	return 0, nil, false, fmt.Errorf("%w: ECM image frame FCF 0x%02X", ErrFrame, b[2])
}

// appendFCD appends an FCD frame's octets.
func appendFCD(dst []byte, num int, data []byte) []byte {
	dst = append(dst, addressOctet, controlMore, FCFFCD, byte(num))
	return append(dst, data...)
}

// rcpFrame is the RCP frame.
var rcpFrame = []byte{addressOctet, controlMore, FCFRCP}
