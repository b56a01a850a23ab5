package t30

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestParseFrame(t *testing.T) {
	tests := []struct {
		in    []byte
		fcf   byte
		x     bool
		final bool
		fif   int
	}{
		{[]byte{0xFF, 0x13, 0x80, 0x00, 0xCE, 0xF4}, FCFDIS, false, true, 3},
		{[]byte{0xFF, 0x13, 0x81, 0x00, 0xCE, 0xF4}, FCFDTC, false, true, 3},
		{[]byte{0xFF, 0x03, 0x43, ' ', ' ', '1'}, FCFTSI, true, false, 3},
		{[]byte{0xFF, 0x03, 0x41, '1'}, FCFCIG, false, false, 1},
		{[]byte{0xFF, 0x13, 0x8D}, FCFMCF, true, true, 0},
		{[]byte{0xFF, 0x13, 0xFB}, FCFDCN, true, true, 0},
		{[]byte{0xFF, 0x13, 0xBF, 0x4F, 0, 0, 0xFF}, FCFPPS, true, true, 4},
	}
	for _, tt := range tests {
		f, err := ParseFrame(tt.in)
		if err != nil {
			t.Errorf("ParseFrame(% X): %v", tt.in, err)
			continue
		}
		if f.FCF != tt.fcf || f.X != tt.x || f.Final != tt.final || len(f.FIF) != tt.fif {
			t.Errorf("ParseFrame(% X) = %s x=%v final=%v fif=%d", tt.in, FCFName(f.FCF), f.X, f.Final, len(f.FIF))
		}
		if got := f.Bytes(); !bytes.Equal(got, tt.in) {
			t.Errorf("round trip % X -> % X", tt.in, got)
		}
	}
}

func TestParseFrameErrors(t *testing.T) {
	for _, in := range [][]byte{
		nil, {0xFF}, {0xFF, 0x13}, {0xFE, 0x13, 0x80, 0, 0, 0}, {0xFF, 0x23, 0x8C},
		{0xFF, 0x13, 0x80, 0x00}, // DIS too short
		{0xFF, 0x13, 0xBE, 0x4E}, // PPS too short
		{0xFF, 0x13, 0xBC, 0x00}, // PPR too short
	} {
		if _, err := ParseFrame(in); !errors.Is(err, ErrFrame) {
			t.Errorf("ParseFrame(% X) error = %v, want ErrFrame", in, err)
		}
	}
}

func TestFCFName(t *testing.T) {
	for f, want := range map[byte]string{0x80: "DIS", 0x81: "DTC", 0x83: "DCS", 0x82: "DCS", 0x4F: "MPS", 0xBD: "PPR", 0x77: "FCF(0x77)"} {
		if got := FCFName(f); got != want {
			t.Errorf("FCFName(%02X) = %s, want %s", f, got, want)
		}
	}
}

func TestIdent(t *testing.T) {
	fif := EncodeIdent("+15551234567")
	if len(fif) != 20 || string(fif) != "        76543215551+" {
		t.Fatalf("EncodeIdent = %q", fif)
	}
	if got := DecodeIdent(fif); got != "+15551234567" {
		t.Errorf("DecodeIdent = %q", got)
	}
	if got := DecodeIdent(EncodeIdent("123456789012345678901234")); got != "12345678901234567890" {
		t.Errorf("long ident = %q", got)
	}
	if got := DecodeIdent([]byte{0, 0xFF, '1', ' '}); got != "1" {
		t.Errorf("DecodeIdent(junk) = %q", got)
	}
}

func TestCapabilitiesRoundTrip(t *testing.T) {
	tests := []Capabilities{
		{CanReceive: true, Modems: ModemSet{V27ter: true, V29: true, V17: true}, Resolutions: []Resolution{ResStandard, ResFine, ResSuperfine},
			MR: true, MMR: true, MaxWidth: WidthA3, MaxLength: LengthUnlimited, ECM: true},
		{ReadyToTransmit: true, Modems: ModemSet{V27ter: true, V29: true}, Resolutions: []Resolution{ResStandard},
			MaxWidth: WidthB4, MaxLength: LengthB4, MinScanTime: ScanTime{Ms: 20, HalfAtFine: true}},
		{CanReceive: true, Modems: ModemSet{V27terFallback: true}, Resolutions: []Resolution{ResStandard, ResFine, Res200, Res300, ResR16, Res400},
			MinScanTime: ScanTime{Ms: 40}},
		{CanReceive: true, Modems: ModemSet{V29: true}, Resolutions: []Resolution{ResStandard}, MinScanTime: ScanTime{Ms: 5}},
	}
	for _, c := range tests {
		b := c.Encode()
		got, err := ParseCapabilities(b)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		// Resolution order follows the parse order; compare as sets.
		if !sameResolutions(got.Resolutions, c.Resolutions) {
			t.Errorf("resolutions %v, want %v", got.Resolutions, c.Resolutions)
		}
		got.Resolutions, c.Resolutions = nil, nil
		if !reflect.DeepEqual(got, c) {
			t.Errorf("round trip (% X):\n got %v\nwant %v", b, got, c)
		}
	}
}

func sameResolutions(a, b []Resolution) bool {
	m := map[Resolution]bool{ResStandard: true}
	for _, r := range a {
		m[r] = true
	}
	n := map[Resolution]bool{ResStandard: true}
	for _, r := range b {
		n[r] = true
	}
	return reflect.DeepEqual(m, n)
}

// TestDISBits pins bit positions to Table 2 of T.30, using a DIS as spandsp
// and many fax machines send it: V.27ter+V.29, fine, MR, B4 length,
// 0 ms scan time.
func TestDISBits(t *testing.T) {
	c, err := ParseCapabilities([]byte{0x00, 0xCE, 0xF4, 0x80, 0x80, 0x01})
	if err != nil {
		t.Fatal(err)
	}
	if !c.CanReceive || c.ReadyToTransmit || !c.Modems.V27ter || !c.Modems.V29 || c.Modems.V17 ||
		!c.HasResolution(ResFine) || !c.MR || c.MaxLength != LengthB4 || c.MinScanTime.Ms != 0 ||
		!c.HasResolution(ResSuperfine) || c.ECM {
		t.Errorf("decoded %v", c)
	}
	// Bit 41 is only valid when the extend bits before it are set.
	c, _ = ParseCapabilities([]byte{0x00, 0xCE, 0x74, 0x80, 0x80, 0x01})
	if c.HasResolution(ResSuperfine) {
		t.Errorf("bit 41 read past a clear extend bit")
	}
	// V.17 with ECM and T.6.
	c, _ = ParseCapabilities([]byte{0x00, 0x2E, 0xF0, 0x44})
	if !c.Modems.V17 || !c.ECM || !c.MMR || c.HasResolution(ResFine) {
		t.Errorf("decoded %v", c)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	for _, r := range allRates {
		for _, res := range []Resolution{ResStandard, ResFine, ResSuperfine, ResR16, Res200, Res300, Res400} {
			for _, enc := range []Encoding{MH, MR, MMR} {
				s := Settings{Rate: r, Resolution: res, Encoding: enc, Width: WidthB4, Length: LengthUnlimited,
					MinScanMs: 10, ECM: enc == MMR || res == ResFine, ReceiveMode: true}
				s.ECMFrame64 = s.ECM && r.BitRate == 2400
				got, err := ParseSettings(s.Encode())
				if err != nil {
					t.Fatalf("%v: %v", s, err)
				}
				if got != s {
					t.Fatalf("round trip:\n got %v\nwant %v", got, s)
				}
			}
		}
	}
}

func TestDCSRateBits(t *testing.T) {
	// Octet 2 of the FIF for each rate (bit 10 "receive" is 0x02).
	want := map[Rate]byte{
		{V17, 14400}: 0x22, {V17, 12000}: 0x2A, {V17, 9600}: 0x26, {V17, 7200}: 0x2E,
		{V29, 9600}: 0x06, {V29, 7200}: 0x0E, {V27ter, 4800}: 0x0A, {V27ter, 2400}: 0x02,
	}
	for r, o := range want {
		if got := (Settings{Rate: r}).Encode()[1]; got != o {
			t.Errorf("%v: octet 2 = %02X, want %02X", r, got, o)
		}
	}
	if _, err := ParseSettings([]byte{0, 0x12, 0}); err == nil {
		t.Errorf("V.33 rate code accepted")
	}
}

func TestFallback(t *testing.T) {
	all := ModemSet{V27ter: true, V29: true, V17: true}
	yes := func(Rate) bool { return true }
	var got []int
	for r, ok := (Rate{V17, 14400}), true; ok; r, ok = nextRate(r, all, yes) {
		got = append(got, r.BitRate)
	}
	if !reflect.DeepEqual(got, []int{14400, 12000, 9600, 7200, 4800, 2400}) {
		t.Errorf("fallback %v", got)
	}
	noV17 := ModemSet{V27ter: true, V29: true}
	r, _ := nextRate(Rate{V29, 9600}, noV17, yes)
	if r != (Rate{V29, 7200}) {
		t.Errorf("after V.29 9600: %v", r)
	}
}

func TestResultText(t *testing.T) {
	for r := OK; r < resultCount; r++ {
		if r.String() == "" || r.Name() == "" || r.String() == "unknown result" {
			t.Errorf("result %d has no text", r)
		}
	}
	var err error = ErrTrainingFailed
	if err.Error() != "t30: training failed at all rates" {
		t.Errorf("Error() = %q", err.Error())
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add([]byte{0xFF, 0x13, 0x80, 0x00, 0xCE, 0xF4})
	f.Add([]byte{0xFF, 0x13, 0x83, 0x00, 0x22, 0x70, 0x44, 0x80, 0x01})
	f.Add([]byte{0xFF, 0x13, 0xBF, 0x4F, 0, 0, 0xFF})
	f.Add(append([]byte{0xFF, 0x13, 0xBD}, make([]byte, 32)...))
	f.Add([]byte{0xFF, 0x03, 0x06, 0x01, 0xAA})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		if err == nil {
			_ = fr.String()
			if !bytes.Equal(fr.Bytes(), b) && !fixedFCF(b[2]) {
				// Only the X bit normalisation may change octets, and Bytes
				// writes it back.
				t.Fatalf("round trip % X -> % X", b, fr.Bytes())
			}
			ParseCapabilities(fr.FIF)
			if s, err := ParseSettings(fr.FIF); err == nil {
				if _, err := ParseSettings(s.Encode()); err != nil {
					t.Fatalf("re-encoded DCS %v fails: %v", s, err)
				}
			}
		}
		ParseFCD(b)
	})
}
