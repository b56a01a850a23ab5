package t30

import (
	"fmt"
	"strings"
)

// Resolution is a fax image resolution (T.4 2.2 and T.30 Table 2).
type Resolution int

const (
	ResStandard  Resolution = iota // R8 × 3.85 lines/mm (204 × 98 dpi)
	ResFine                        // R8 × 7.7 lines/mm (204 × 196 dpi)
	ResSuperfine                   // R8 × 15.4 lines/mm (204 × 391 dpi)
	ResR16                         // R16 × 15.4 lines/mm (408 × 391 dpi)
	Res200                         // 200 × 200 pels/25.4 mm
	Res300                         // 300 × 300 pels/25.4 mm
	Res400                         // 400 × 400 pels/25.4 mm
)

var resolutionNames = [...]string{"standard", "fine", "superfine", "R16x15.4", "200x200", "300x300", "400x400"}

func (r Resolution) String() string {
	if r >= 0 && int(r) < len(resolutionNames) {
		return resolutionNames[r]
	}
	return "unknown resolution"
}

// DPI returns the resolution in pixels per inch, with the nominal values
// TIFF-F files carry (204 for 8 pels/mm; 98, 196 and 391 for 3.85, 7.7 and
// 15.4 lines/mm).
func (r Resolution) DPI() (x, y float64) {
	switch r {
	case ResStandard:
		return 204, 98
	case ResFine:
		return 204, 196
	case ResSuperfine:
		return 204, 391
	case ResR16:
		return 408, 391
	case Res200:
		return 200, 200
	case Res300:
		return 300, 300
	case Res400:
		return 400, 400
	}
	return 0, 0
}

// ResolutionFromDPI picks the fax resolution of a page's resolution, or
// false when none is within 1.5% (T.4's tolerance is 1%; files round).
func ResolutionFromDPI(x, y float64) (Resolution, bool) {
	near := func(a, b float64) bool { return a > b*0.985 && a < b*1.015 }
	for r := ResStandard; r <= Res400; r++ {
		rx, ry := r.DPI()
		if near(x, rx) && near(y, ry) {
			return r, true
		}
	}
	return 0, false
}

// widthScale is the pixel count of a line at r relative to R8.
func (r Resolution) widthScale() (num, den int) {
	switch r {
	case ResR16, Res400:
		return 2, 1
	case Res300:
		return 3, 2
	}
	return 1, 1
}

// Width is a recording width (scan line length).
type Width int

const (
	WidthA4 Width = iota // 215 mm: 1728 pixels at R8
	WidthB4              // 255 mm: 2048 pixels at R8
	WidthA3              // 303 mm: 2432 pixels at R8
)

func (w Width) String() string {
	switch w {
	case WidthA4:
		return "A4"
	case WidthB4:
		return "B4"
	case WidthA3:
		return "A3"
	}
	return "unknown width"
}

// Pixels returns the line length in pixels at resolution r.
func (w Width) Pixels(r Resolution) int {
	base := [...]int{1728, 2048, 2432}[w&3%3]
	n, d := r.widthScale()
	return base * n / d
}

// WidthFromPixels returns the recording width of a line of n pixels at r.
func WidthFromPixels(n int, r Resolution) (Width, bool) {
	for w := WidthA4; w <= WidthA3; w++ {
		if w.Pixels(r) == n {
			return w, true
		}
	}
	return 0, false
}

// Length is a recording length.
type Length int

const (
	LengthA4        Length = iota // 297 mm
	LengthB4                      // 364 mm
	LengthUnlimited               // no limit
)

func (l Length) String() string {
	switch l {
	case LengthA4:
		return "A4"
	case LengthB4:
		return "B4"
	case LengthUnlimited:
		return "unlimited"
	}
	return "unknown length"
}

// Encoding is the image coding scheme of phase C.
type Encoding int

const (
	MH  Encoding = iota // T.4 one-dimensional
	MR                  // T.4 two-dimensional
	MMR                 // T.6
)

func (e Encoding) String() string {
	switch e {
	case MH:
		return "MH"
	case MR:
		return "MR"
	case MMR:
		return "MMR"
	}
	return "unknown encoding"
}

// ScanTime is a minimum scan-line time. In a DIS, HalfAtFine says that the
// time at 7.7 lines/mm and above is half of Ms.
type ScanTime struct {
	Ms         int // 0, 5, 10, 20 or 40
	HalfAtFine bool
}

// At returns the minimum time of one line at resolution r, in ms.
func (s ScanTime) At(r Resolution) int {
	if s.HalfAtFine && r != ResStandard {
		return s.Ms / 2
	}
	return s.Ms
}

// bits 21-23 (bit 21 in mask 0x10 of the third octet).
func scanTimeCode(s ScanTime) byte {
	switch {
	case s.Ms == 0:
		return 0x70
	case s.Ms <= 5:
		return 0x10
	case s.Ms <= 10 && s.HalfAtFine:
		return 0x60
	case s.Ms <= 10:
		return 0x20
	case s.Ms <= 20 && s.HalfAtFine:
		return 0x30
	case s.Ms <= 20:
		return 0x00
	case s.HalfAtFine:
		return 0x50
	}
	return 0x40
}

func scanTimeFromCode(c byte) ScanTime {
	switch c & 0x70 {
	case 0x00:
		return ScanTime{Ms: 20}
	case 0x40:
		return ScanTime{Ms: 40}
	case 0x20:
		return ScanTime{Ms: 10}
	case 0x10:
		return ScanTime{Ms: 5}
	case 0x60:
		return ScanTime{Ms: 10, HalfAtFine: true}
	case 0x30:
		return ScanTime{Ms: 20, HalfAtFine: true}
	case 0x50:
		return ScanTime{Ms: 40, HalfAtFine: true}
	}
	return ScanTime{}
}

// fif is a DIS/DTC/DCS information field addressed by T.30 bit numbers
// (bit 1 is the first bit sent, the least significant of octet 1).
type fif []byte

func (f fif) bit(n int) bool {
	i := (n - 1) / 8
	return i < len(f) && f[i]&(1<<uint((n-1)%8)) != 0
}

func (f fif) set(n int, v bool) {
	if v {
		f[(n-1)/8] |= 1 << uint((n-1)%8)
	}
}

// trim shortens f to the last octet with a bit set (at least 3 octets) and
// sets the extend bits (24, 32, ...) of every octet before the last.
func (f fif) trim() []byte {
	n := len(f)
	for n > 3 && f[n-1] == 0 {
		n--
	}
	for i := 2; i < n-1; i++ {
		f[i] |= 0x80
	}
	return f[:n]
}

// valid returns f cut at the first octet (from the third) whose extend bit is
// clear, so bits a sender did not mean to send read as zero.
func (f fif) valid() fif {
	for i := 2; i < len(f); i++ {
		if f[i]&0x80 == 0 {
			return f[:i+1]
		}
	}
	return f
}

// Capabilities is the content of a DIS or DTC: what a terminal can do.
type Capabilities struct {
	ReadyToTransmit bool // bit 9: has a document to send (polling)
	CanReceive      bool // bit 10
	Modems          ModemSet
	Resolutions     []Resolution // always includes ResStandard
	MR, MMR         bool
	MaxWidth        Width
	MaxLength       Length
	MinScanTime     ScanTime
	ECM             bool
}

// HasResolution reports whether r is among c's resolutions.
func (c Capabilities) HasResolution(r Resolution) bool {
	if r == ResStandard {
		return true
	}
	for _, x := range c.Resolutions {
		if x == r {
			return true
		}
	}
	return false
}

// Encode returns the FIF of a DIS/DTC.
func (c Capabilities) Encode() []byte {
	f := make(fif, 6)
	f.set(9, c.ReadyToTransmit)
	f.set(10, c.CanReceive)
	f[1] |= byte(c.Modems.disCode()) << 2
	inch := false
	for _, r := range c.Resolutions {
		switch r {
		case ResFine:
			f.set(15, true)
		case Res200:
			f.set(15, true)
			inch = true
		case ResSuperfine:
			f.set(41, true)
		case ResR16:
			f.set(43, true)
		case Res300:
			f.set(42, true)
			inch = true
		case Res400:
			f.set(43, true)
			inch = true
		}
	}
	if inch {
		f.set(44, true)
		f.set(45, true) // metric as well: we take either
	}
	f.set(16, c.MR)
	switch c.MaxWidth {
	case WidthB4:
		f.set(17, true)
	case WidthA3:
		f.set(18, true)
	}
	switch c.MaxLength {
	case LengthB4:
		f.set(19, true)
	case LengthUnlimited:
		f.set(20, true)
	}
	f[2] |= scanTimeCode(c.MinScanTime)
	f.set(27, c.ECM)
	f.set(31, c.MMR && c.ECM) // T.6 needs ECM
	return f.trim()
}

// ParseCapabilities decodes the FIF of a DIS or DTC.
func ParseCapabilities(b []byte) (Capabilities, error) {
	if len(b) < 3 {
		return Capabilities{}, fmt.Errorf("t30: DIS: %d octets of FIF, need 3", len(b))
	}
	f := fif(b).valid()
	c := Capabilities{
		ReadyToTransmit: f.bit(9),
		CanReceive:      f.bit(10),
		Modems:          modemSetFromDIS(int(f[1]>>2) & 0xF),
		MR:              f.bit(16),
		MinScanTime:     scanTimeFromCode(f[2]),
		ECM:             f.bit(27),
	}
	c.MMR = f.bit(31) && c.ECM
	inch, metric := f.bit(44), f.bit(45)
	if !inch {
		metric = true // terminals that set neither bit are metric
	}
	c.Resolutions = []Resolution{ResStandard}
	if f.bit(15) {
		if metric {
			c.Resolutions = append(c.Resolutions, ResFine)
		}
		if inch {
			c.Resolutions = append(c.Resolutions, Res200)
		}
	}
	if f.bit(41) {
		c.Resolutions = append(c.Resolutions, ResSuperfine)
	}
	if f.bit(42) && inch {
		c.Resolutions = append(c.Resolutions, Res300)
	}
	if f.bit(43) {
		if metric {
			c.Resolutions = append(c.Resolutions, ResR16)
		}
		if inch {
			c.Resolutions = append(c.Resolutions, Res400)
		}
	}
	switch {
	case f.bit(17) && f.bit(18):
		c.MaxWidth = WidthA4 // invalid: assume the minimum
	case f.bit(18):
		c.MaxWidth = WidthA3
	case f.bit(17):
		c.MaxWidth = WidthB4
	}
	switch {
	case f.bit(19) && f.bit(20):
		c.MaxLength = LengthA4
	case f.bit(20):
		c.MaxLength = LengthUnlimited
	case f.bit(19):
		c.MaxLength = LengthB4
	}
	return c, nil
}

func (c Capabilities) String() string {
	var m []string
	if c.Modems.V27ter || c.Modems.V27terFallback {
		m = append(m, "V.27ter")
	}
	if c.Modems.V29 {
		m = append(m, "V.29")
	}
	if c.Modems.V17 {
		m = append(m, "V.17")
	}
	var res []string
	for _, r := range c.Resolutions {
		res = append(res, r.String())
	}
	enc := "MH"
	if c.MR {
		enc += ",MR"
	}
	if c.MMR {
		enc += ",MMR"
	}
	return fmt.Sprintf("[%s; %s; %s; width %v; length %v; scan %dms%s; ecm %v; rx %v tx %v]",
		strings.Join(m, ","), strings.Join(res, ","), enc, c.MaxWidth, c.MaxLength,
		c.MinScanTime.Ms, map[bool]string{true: "/half", false: ""}[c.MinScanTime.HalfAtFine],
		c.ECM, c.CanReceive, c.ReadyToTransmit)
}

// Settings is the content of a DCS: the session parameters the sender chose.
type Settings struct {
	Rate        Rate
	Resolution  Resolution
	Encoding    Encoding
	Width       Width
	Length      Length
	MinScanMs   int // 0, 5, 10, 20 or 40
	ECM         bool
	ECMFrame64  bool // 64-octet ECM frames instead of 256
	ReceiveMode bool // bit 10, always set in a DCS
}

// FrameSize returns the ECM frame size in octets.
func (s Settings) FrameSize() int {
	if s.ECMFrame64 {
		return 64
	}
	return 256
}

// Encode returns the FIF of a DCS.
func (s Settings) Encode() []byte {
	f := make(fif, 6)
	f.set(10, true)
	c := s.Rate.dcsCode()
	if c < 0 {
		c = 0
	}
	f[1] |= byte(c) << 2
	switch s.Resolution {
	case ResFine:
		f.set(15, true)
	case Res200:
		f.set(15, true)
		f.set(44, true)
	case ResSuperfine:
		f.set(41, true)
	case ResR16:
		f.set(43, true)
	case Res300:
		f.set(42, true)
		f.set(44, true)
	case Res400:
		f.set(43, true)
		f.set(44, true)
	}
	f.set(16, s.Encoding == MR)
	f.set(31, s.Encoding == MMR)
	switch s.Width {
	case WidthB4:
		f.set(17, true)
	case WidthA3:
		f.set(18, true)
	}
	switch s.Length {
	case LengthB4:
		f.set(19, true)
	case LengthUnlimited:
		f.set(20, true)
	}
	f[2] |= scanTimeCode(ScanTime{Ms: s.MinScanMs})
	f.set(27, s.ECM)
	f.set(28, s.ECM && s.ECMFrame64)
	return f.trim()
}

// ParseSettings decodes the FIF of a DCS.
func ParseSettings(b []byte) (Settings, error) {
	if len(b) < 3 {
		return Settings{}, fmt.Errorf("t30: DCS: %d octets of FIF, need 3", len(b))
	}
	f := fif(b).valid()
	code := int(f[1]>>2) & 0xF
	r, ok := rateFromDCSCode(code)
	if !ok {
		return Settings{}, fmt.Errorf("t30: DCS: invalid data signalling rate code %04b", code)
	}
	s := Settings{
		Rate:        r,
		MinScanMs:   scanTimeFromCode(f[2]).Ms,
		ECM:         f.bit(27),
		ReceiveMode: f.bit(10),
	}
	s.ECMFrame64 = s.ECM && f.bit(28)
	switch {
	case f.bit(31):
		s.Encoding = MMR
		if !s.ECM {
			return Settings{}, fmt.Errorf("t30: DCS: T.6 coding without ECM")
		}
	case f.bit(16):
		s.Encoding = MR
	}
	inch := f.bit(44)
	switch {
	case f.bit(43) && inch:
		s.Resolution = Res400
	case f.bit(43):
		s.Resolution = ResR16
	case f.bit(42):
		s.Resolution = Res300
	case f.bit(41):
		s.Resolution = ResSuperfine
	case f.bit(15) && inch:
		s.Resolution = Res200
	case f.bit(15):
		s.Resolution = ResFine
	}
	switch {
	case f.bit(17) && f.bit(18):
		return Settings{}, fmt.Errorf("t30: DCS: invalid recording width")
	case f.bit(18):
		s.Width = WidthA3
	case f.bit(17):
		s.Width = WidthB4
	}
	switch {
	case f.bit(19) && f.bit(20):
		return Settings{}, fmt.Errorf("t30: DCS: invalid recording length")
	case f.bit(20):
		s.Length = LengthUnlimited
	case f.bit(19):
		s.Length = LengthB4
	}
	return s, nil
}

func (s Settings) String() string {
	ecm := "no ECM"
	if s.ECM {
		ecm = fmt.Sprintf("ECM %d", s.FrameSize())
	}
	return fmt.Sprintf("[%v; %v; %v; width %v; length %v; scan %dms; %s]",
		s.Rate, s.Resolution, s.Encoding, s.Width, s.Length, s.MinScanMs, ecm)
}
