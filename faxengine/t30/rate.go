package t30

import "fmt"

// Modulation is a fax image modem.
type Modulation int

const (
	V27ter Modulation = iota + 1 // 2400, 4800 bit/s
	V29                          // 7200, 9600 bit/s
	V17                          // 7200, 9600, 12000, 14400 bit/s
)

func (m Modulation) String() string {
	switch m {
	case V27ter:
		return "V.27ter"
	case V29:
		return "V.29"
	case V17:
		return "V.17"
	}
	return "no modem"
}

// Rate is an image modem and its bit rate.
type Rate struct {
	Modulation Modulation
	BitRate    int
}

func (r Rate) String() string { return fmt.Sprintf("%s %d", r.Modulation, r.BitRate) }

// Valid reports whether r is one of the rates T.30 defines.
func (r Rate) Valid() bool { return r.dcsCode() >= 0 }

// dcsCode is DCS bits 11-14 (bit 11 least significant) for the rate, or -1.
func (r Rate) dcsCode() int {
	switch r {
	case Rate{V27ter, 2400}:
		return 0x0
	case Rate{V27ter, 4800}:
		return 0x2
	case Rate{V29, 9600}:
		return 0x1
	case Rate{V29, 7200}:
		return 0x3
	case Rate{V17, 14400}:
		return 0x8
	case Rate{V17, 12000}:
		return 0xA
	case Rate{V17, 9600}:
		return 0x9
	case Rate{V17, 7200}:
		return 0xB
	}
	return -1
}

func rateFromDCSCode(c int) (Rate, bool) {
	for _, r := range allRates {
		if r.dcsCode() == c {
			return r, true
		}
	}
	return Rate{}, false
}

// allRates lists every rate, fastest first: the fallback order T.30 uses
// after FTT (14400 → 12000 → 9600 → 7200 → 4800 → 2400), V.17 before V.29
// at 9600 and 7200.
var allRates = []Rate{
	{V17, 14400}, {V17, 12000}, {V17, 9600}, {V29, 9600}, {V17, 7200}, {V29, 7200},
	{V27ter, 4800}, {V27ter, 2400},
}

// ModemSet is the set of image modems a DIS/DTC offers.
type ModemSet struct {
	V27ter         bool // 4800 and 2400
	V27terFallback bool // 2400 only (DIS rate code 0)
	V29            bool
	V17            bool
}

// Has reports whether the set can carry r.
func (s ModemSet) Has(r Rate) bool {
	switch r.Modulation {
	case V27ter:
		return s.V27ter || (s.V27terFallback && r.BitRate == 2400)
	case V29:
		return s.V29
	case V17:
		return s.V17
	}
	return false
}

// disCode returns DIS bits 11-14 for the set.
func (s ModemSet) disCode() int {
	switch {
	case s.V17:
		return 0xB // V.27ter, V.29 and V.17
	case s.V29 && s.V27ter:
		return 0x3
	case s.V29:
		return 0x1
	case s.V27ter:
		return 0x2
	}
	return 0x0
}

func modemSetFromDIS(c int) ModemSet {
	switch c {
	case 0x0:
		return ModemSet{V27terFallback: true}
	case 0x2:
		return ModemSet{V27ter: true}
	case 0x1:
		return ModemSet{V29: true}
	case 0x3, 0x7: // 0x7 adds V.33, which a PSTN terminal ignores
		return ModemSet{V27ter: true, V29: true}
	case 0xB, 0xF: // 0xF adds V.33
		return ModemSet{V27ter: true, V29: true, V17: true}
	}
	// Reserved or invalid codes: fall back to what every G3 terminal has.
	return ModemSet{V27terFallback: true}
}

// fallback returns the next rate below r that both the set and allow
// permit, or false at the end of the list.
func nextRate(r Rate, remote ModemSet, allow func(Rate) bool) (Rate, bool) {
	found := false
	for _, c := range allRates {
		if found && remote.Has(c) && allow(c) && c.BitRate < r.BitRate {
			return c, true
		}
		if c == r {
			found = true
		}
	}
	return Rate{}, false
}
