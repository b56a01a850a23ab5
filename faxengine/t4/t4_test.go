package t4

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine/raster"
)

// codeString renders a generated table entry as bits.
func codeString(e uint32) string {
	n := int(e >> 16)
	return fmt.Sprintf("%0*b", n, e&0xffff)
}

// refRun codes a run the way T.4 §4.1.1 describes it, step by step.
func refRun(run int, white bool) string {
	term, makeup := blackTerm[:], blackMakeup[:]
	if white {
		term, makeup = whiteTerm[:], whiteMakeup[:]
	}
	var s strings.Builder
	if run >= 2624 {
		s.WriteString(codeString(makeup[2560/64-1]))
		run -= 2560
		for run >= 2560 {
			s.WriteString(codeString(makeup[2560/64-1]))
			run -= 2560
		}
	}
	if run >= 64 {
		s.WriteString(codeString(makeup[run/64-1]))
		run %= 64
	}
	s.WriteString(codeString(term[run]))
	return s.String()
}

// refEncodeRow is a slow, obvious coder working on pixels, as T.4 §4.2
// describes it. ref is nil for a 1D row.
func refEncodeRow(b *raster.Bitmap, y int, ref *int) string {
	w := b.Width
	pix := func(row, x int) bool { // the imaginary pixel left of a row is white
		return row >= 0 && x >= 0 && x < w && b.Black(x, row)
	}
	changing := func(row, x int) bool { return x < w && pix(row, x) != pix(row, x-1) }
	var s strings.Builder
	if ref == nil {
		x, black := 0, false
		for x < w {
			n := 0
			for x+n < w && pix(y, x+n) == black {
				n++
			}
			s.WriteString(refRun(n, !black))
			x += n
			black = !black
		}
		return s.String()
	}
	r := *ref                         // -1: imaginary white reference row
	next := func(row, from int) int { // first changing element > from
		x := from + 1
		for x < w && !changing(row, x) {
			x++
		}
		return x
	}
	a0, black := -1, false
	for a0 < w {
		a1 := next(y, a0)
		b1 := next(r, a0)
		// b1 must have the colour opposite to a0's: skip the others.
		for b1 < w && pix(r, b1) == black {
			b1 = next(r, b1)
		}
		b2 := next(r, b1)
		if b1 >= w {
			b2 = w
		}
		switch {
		case b2 < a1:
			s.WriteString("0001")
			a0 = b2
		case a1-b1 >= -3 && a1-b1 <= 3:
			s.WriteString([]string{"0000010", "000010", "010", "1", "011", "000011", "0000011"}[a1-b1+3])
			a0, black = a1, !black
		default:
			a2 := next(y, a1)
			if a1 >= w {
				a2 = w
			}
			s.WriteString("001")
			s.WriteString(refRun(a1-max(a0, 0), !black))
			s.WriteString(refRun(a2-a1, black))
			a0 = a2
		}
	}
	return s.String()
}

// TestEncoderMatchesReference compares the encoder with the slow coder,
// bit for bit, EOLs and tag bits included.
func TestEncoderMatchesReference(t *testing.T) {
	for _, w := range []int{1728, 100, 9, 4864} {
		for _, p := range testPages {
			b := p.make(w, 12)
			for _, k := range []int{0, 2, 4} {
				enc, name := MR, fmt.Sprintf("%s/%d/MR-K%d", p.name, w, k)
				if k == 0 {
					enc, name = MH, fmt.Sprintf("%s/%d/MH", p.name, w)
				}
				var want strings.Builder
				for y := 0; y < b.Height; y++ {
					want.WriteString("000000000001")
					var ref *int
					if k != 0 {
						if y%k == 0 {
							want.WriteString("1")
						} else {
							want.WriteString("0")
							r := y - 1
							ref = &r
						}
					}
					want.WriteString(refEncodeRow(b, y, ref))
				}
				data, err := Encode(b, Options{Encoding: enc, K: k, NoRTC: true, MSBFirst: true})
				if err != nil {
					t.Fatal(err)
				}
				got := bitString(data)
				if !strings.HasPrefix(got, want.String()) || strings.Contains(got[want.Len():], "1") || len(got)-want.Len() >= 8 {
					t.Errorf("%s: coded bits differ from the reference coder", name)
				}
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	h := 24
	if testing.Short() {
		h = 10
	}
	opts := []Options{
		{Encoding: MH},
		{Encoding: MR, K: 2},
		{Encoding: MR, K: 4},
		{Encoding: RLE},
		{Encoding: MH, AlignEOL: true, MSBFirst: true, NoRTC: true},
		{Encoding: MR, K: 4, MinRowBits: MinRowBits(9600, 40), AlignEOL: true},
	}
	for _, w := range testWidths {
		for _, p := range testPages {
			b := p.make(w, h)
			for _, o := range opts {
				name := fmt.Sprintf("%s/%d/%v-K%d-align%v-msb%v-min%d", p.name, w, o.Encoding, o.K, o.AlignEOL, o.MSBFirst, o.MinRowBits)
				data, err := Encode(b, o)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				d, err := NewDecoder(w, DecoderOptions{Encoding: o.Encoding, MSBFirst: o.MSBFirst})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := d.Write(data); err != nil {
					t.Errorf("%s: Write: %v", name, err)
				}
				if o.Encoding != RLE && !o.NoRTC && !d.Done() {
					t.Errorf("%s: RTC not detected", name)
				}
				if err := d.Close(); err != nil {
					t.Errorf("%s: Close: %v", name, err)
				}
				if st := d.Stats(); st.BadRows != 0 || st.Rows != h {
					t.Errorf("%s: stats %+v", name, st)
				}
				if !raster.Equal(d.Bitmap(), b) {
					t.Errorf("%s: decoded page differs", name)
				}
			}
		}
	}
}

// eolPositions returns the bit positions where EOLs start (after fill).
func eolPositions(bits string) []int {
	var at []int
	for i := 0; ; {
		j := strings.Index(bits[i:], "000000000001")
		if j < 0 {
			return at
		}
		at = append(at, i+j)
		i += j + 12
		for i < len(bits) && bits[i] == '0' {
			i++
		}
	}
}

func TestFillAndAlignment(t *testing.T) {
	b := randomRuns(1728, 30)
	white := raster.New(1728, 5)
	for _, min := range []int{0, MinRowBits(2400, 5), MinRowBits(4800, 10), MinRowBits(9600, 20), MinRowBits(14400, 40)} {
		for _, align := range []bool{false, true} {
			for _, page := range []*raster.Bitmap{b, white} {
				data, err := Encode(page, Options{Encoding: MR, K: 4, MinRowBits: min, AlignEOL: align, MSBFirst: true})
				if err != nil {
					t.Fatal(err)
				}
				bits := bitString(data)
				at := eolPositions(bits)
				if len(at) != page.Height+6 {
					t.Fatalf("min %d align %v: %d EOLs, want %d", min, align, len(at), page.Height+6)
				}
				for i := 1; i <= page.Height; i++ { // rows and the first RTC EOL
					if d := at[i] - at[i-1]; d < min {
						t.Errorf("min %d: row %d takes %d bits", min, i-1, d)
					}
				}
				for i := page.Height + 1; i < len(at); i++ { // RTC: no fill between its EOLs
					if d := at[i] - at[i-1]; d != 13 && !align {
						t.Errorf("min %d: RTC EOL %d is %d bits after the previous one", min, i-page.Height, d)
					}
				}
				if align {
					for _, p := range at {
						if (p+12)%8 != 0 {
							t.Errorf("min %d: EOL at %d does not end on a byte boundary", min, p)
						}
					}
				}
			}
		}
	}
}

func TestMinRowBits(t *testing.T) {
	for _, c := range []struct{ rate, ms, want int }{
		{9600, 0, 0}, {9600, 5, 48}, {9600, 10, 96}, {9600, 20, 192}, {9600, 40, 384},
		{14400, 20, 288}, {2400, 10, 24}, {4800, 40, 192}, {7200, 5, 36}, {12000, 5, 60}, {0, 20, 0},
	} {
		if got := MinRowBits(c.rate, c.ms); got != c.want {
			t.Errorf("MinRowBits(%d, %d) = %d, want %d", c.rate, c.ms, got, c.want)
		}
	}
}

// TestStreaming feeds the same page bit by bit and in odd-sized chunks.
func TestStreaming(t *testing.T) {
	b := randomRuns(1728, 20)
	for _, enc := range []Encoding{MH, MR, RLE} {
		data, err := Encode(b, Options{Encoding: enc, K: 4, MinRowBits: 100})
		if err != nil {
			t.Fatal(err)
		}
		// Bit by bit, LSB first as a modem delivers them.
		var rows int
		d, _ := NewDecoder(1728, DecoderOptions{Encoding: enc, OnRow: func(row []byte, bad bool) {
			if bad || !bytes.Equal(row, b.Row(rows)) {
				t.Errorf("%v: bit by bit: row %d wrong (bad=%v)", enc, rows, bad)
			}
			rows++
		}})
		for _, c := range data {
			for i := 0; i < 8; i++ {
				d.PutBit(int(c>>uint(i)) & 1)
			}
		}
		if enc != RLE && !d.Done() {
			t.Errorf("%v: bit by bit: RTC not seen", enc)
		}
		d.Close()
		if rows != b.Height || d.Stats().Rows != b.Height {
			t.Errorf("%v: bit by bit: %d rows, want %d", enc, rows, b.Height)
		}
		// Random chunks, with some bits first.
		rng := rand.New(rand.NewSource(3))
		d2, _ := NewDecoder(1728, DecoderOptions{Encoding: enc})
		for i := 0; i < 3; i++ {
			d2.PutBit(int(data[0]>>uint(i)) & 1)
		}
		for i := 3; i < 8; i++ {
			d2.PutBit(int(data[0]>>uint(i)) & 1)
		}
		for p := data[1:]; len(p) > 0; {
			n := min(len(p), 1+rng.Intn(40))
			d2.Write(p[:n])
			p = p[n:]
		}
		d2.Close()
		if !raster.Equal(d2.Bitmap(), b) {
			t.Errorf("%v: chunks: page differs", enc)
		}
	}
}

// TestRTCEndsPage checks that data after RTC is not decoded and that a
// page without RTC ends at Close.
func TestRTCEndsPage(t *testing.T) {
	b := randomRuns(1728, 8)
	for _, enc := range []Encoding{MH, MR} {
		data, _ := Encode(b, Options{Encoding: enc})
		more, _ := Encode(randomRuns(1728, 3), Options{Encoding: enc})
		d, _ := NewDecoder(1728, DecoderOptions{Encoding: enc})
		d.Write(append(append([]byte{}, data...), more...))
		if !d.Done() || d.Stats().Rows != 8 {
			t.Errorf("%v: done=%v rows=%d, want RTC after 8 rows", enc, d.Done(), d.Stats().Rows)
		}
		noRTC, _ := Encode(b, Options{Encoding: enc, NoRTC: true})
		d, _ = NewDecoder(1728, DecoderOptions{Encoding: enc})
		d.Write(noRTC)
		if d.Done() || d.Stats().Rows != 7 {
			t.Errorf("%v without RTC: done=%v rows=%d before Close, want 7 rows", enc, d.Done(), d.Stats().Rows)
		}
		d.Close()
		if !raster.Equal(d.Bitmap(), b) {
			t.Errorf("%v without RTC: page differs after Close", enc)
		}
	}
}

func TestMaxRows(t *testing.T) {
	b := randomRuns(1728, 10)
	data, _ := Encode(b, Options{})
	d, _ := NewDecoder(1728, DecoderOptions{MaxRows: 4})
	d.Write(data)
	if !d.Done() || d.Bitmap().Height != 4 {
		t.Errorf("done=%v height=%d, want 4 rows", d.Done(), d.Bitmap().Height)
	}
}

// TestErrorInjection flips bits in coded pages and checks that damaged
// rows are replaced and counted, that decoding resynchronises, and that
// the rows reported good are the original rows.
func TestErrorInjection(t *testing.T) {
	b := randomRuns(1728, 200)
	for _, o := range []Options{{Encoding: MH}, {Encoding: MR, K: 2}, {Encoding: MR, K: 4}} {
		data, _ := Encode(b, o)
		rng := rand.New(rand.NewSource(11))
		for trial := 0; trial < 20; trial++ {
			bad := append([]byte{}, data...)
			flips := 1 + trial%4
			for i := 0; i < flips; i++ {
				p := 10 + rng.Intn(len(bad)-40) // keep RTC intact
				bad[p] ^= 1 << uint(rng.Intn(8))
			}
			var y, nbad, run, maxRun int
			var prev []byte
			d, _ := NewDecoder(1728, DecoderOptions{Encoding: o.Encoding, OnRow: func(row []byte, isBad bool) {
				if isBad {
					nbad++
					run++
					maxRun = max(maxRun, run)
					if prev != nil && !bytes.Equal(row, prev) {
						t.Errorf("bad row %d is not the previous row", y)
					}
				} else {
					run = 0
				}
				prev = append(prev[:0], row...)
				y++
			}})
			d.Write(bad)
			d.Close()
			st := d.Stats()
			if st.BadRows != nbad || st.ConsecutiveBadRows != maxRun || st.Rows != y {
				t.Errorf("%v: stats %+v, callback saw %d rows %d bad %d run", o.Encoding, st, y, nbad, maxRun)
			}
			if st.BadRows == 0 {
				// A flip can turn a code into another valid one of the
				// same length: the row is then wrong but undetectable.
				continue
			}
			// Damage is local: most rows survive, and the page has
			// about the right length (a flip in an EOL merges rows).
			if st.Rows < b.Height-2*flips || st.Rows > b.Height+flips {
				t.Errorf("%v: %d rows after %d flips, want about %d", o.Encoding, st.Rows, flips, b.Height)
			}
			if st.BadRows > flips*(o.K+2)+2 {
				t.Errorf("%v: %d bad rows after %d flips", o.Encoding, st.BadRows, flips)
			}
		}
	}
}

// TestErrorInjectionGoodRowsIntact damages one row and checks every other
// row exactly.
func TestErrorInjectionGoodRowsIntact(t *testing.T) {
	b := randomRuns(1728, 40)
	for _, o := range []Options{{Encoding: MH}, {Encoding: MR, K: 4}} {
		o.MSBFirst = true
		data, _ := Encode(b, o)
		at := eolPositions(bitString(data))
		// Damage row 10: replace its data (after EOL and tag) by an
		// invalid pattern of ones then zeros.
		start, end := at[10]+12+1, at[11]
		if o.Encoding == MH {
			start--
		}
		bits := []byte(bitString(data))
		for i := start; i < end && i < start+20; i++ {
			bits[i] = "11111111100000000001"[i-start]
		}
		damaged := make([]byte, len(data))
		for i := range bits {
			if bits[i] == '1' {
				damaged[i/8] |= 0x80 >> uint(i%8)
			}
		}
		d, _ := NewDecoder(1728, DecoderOptions{Encoding: o.Encoding, MSBFirst: true})
		d.Write(damaged)
		d.Close()
		got, st := d.Bitmap(), d.Stats()
		if st.Rows != 40 || st.BadRows == 0 {
			t.Fatalf("%v: stats %+v", o.Encoding, st)
		}
		lastBad := 10
		if o.Encoding == MR {
			lastBad = 11 // rows 10 and 11 are 2D; row 12 is 1D
		}
		if st.BadRows != lastBad-10+1 || st.ConsecutiveBadRows != st.BadRows {
			t.Errorf("%v: stats %+v, want rows 10..%d bad", o.Encoding, st, lastBad)
		}
		for y := 0; y < 40; y++ {
			want := b.Row(y)
			if y >= 10 && y <= lastBad {
				want = b.Row(9)
			}
			if !bytes.Equal(got.Row(y), want) {
				t.Errorf("%v: row %d wrong", o.Encoding, y)
			}
		}
	}
}

func TestRowDecodeErrors(t *testing.T) {
	// Hand-made rows (width 16): bits MSB first.
	for _, c := range []struct {
		name, bits string
		twoD       bool
		want       error
	}{
		{"white 16", "101010", false, nil},
		{"white 8 black 8", "10011" + "000101", false, nil},
		{"too long", "101010" + "11", false, nil},                // the extra code is the next row's business
		{"run past width", "110101" + "11", false, ErrRowLength}, // 15 + 2 black
		{"short", "10011", false, ErrShort},
		{"eol", "10011" + "000000000001", false, ErrEOL},
		{"invalid white", "000000001111", false, ErrInvalidCode},
		{"2D V0 V0 V0", "1" + "1" + "1", true, nil},
		{"2D uncompressed", "0000001111", true, ErrUncompressed},
		{"2D eol", "000000000001", true, ErrEOL},
		{"2D VL3 left of a0", "0000010", true, ErrRowLength}, // b1 = 1 (reference below)
		{"2D pass then V0", "0001" + "1" + "1", true, nil},
	} {
		var data []byte
		for i, ch := range c.bits {
			if i%8 == 0 {
				data = append(data, 0)
			}
			if ch == '1' {
				data[i/8] |= 0x80 >> uint(i%8)
			}
		}
		r := BitReader{Data: data, End: len(c.bits)}
		ref := terminate([]int32{1, 5}, 16)
		var err error
		if c.twoD {
			_, err = r.Decode2D(nil, ref, 16)
		} else {
			_, err = r.Decode1D(nil, 16)
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := NewEncoder(nil, 0, Options{}); err == nil {
		t.Error("width 0 accepted")
	}
	if _, err := NewEncoder(nil, MaxWidth+1, Options{}); err == nil {
		t.Error("width past MaxWidth accepted")
	}
	if _, err := NewEncoder(nil, 1728, Options{Encoding: 7}); err == nil {
		t.Error("unknown encoding accepted")
	}
	if _, err := NewDecoder(-1, DecoderOptions{}); err == nil {
		t.Error("negative width accepted")
	}
	e, _ := NewEncoder(&sliceWriter{}, 1728, Options{})
	if err := e.WriteRow(make([]byte, 10)); err == nil {
		t.Error("short row accepted")
	}
	e.Close()
	if err := e.WriteRow(make([]byte, 216)); !errors.Is(err, ErrClosed) {
		t.Errorf("row after Close: %v", err)
	}
}

func TestFirstEOLOptional(t *testing.T) {
	b := randomRuns(1728, 10)
	for _, enc := range []Encoding{MH, MR} {
		data, _ := Encode(b, Options{Encoding: enc, K: 2, NoRTC: true, AlignEOL: true, MSBFirst: true})
		if data[0] != 0 || data[1] != 1 {
			t.Fatalf("%v: page does not start with an aligned EOL: % x", enc, data[:2])
		}
		noEOL := data[2:]
		if enc == MR { // drop the tag bit too
			noEOL = append([]byte{}, data[2:]...)
			for i := range noEOL {
				noEOL[i] <<= 1
				if i+1 < len(noEOL) {
					noEOL[i] |= noEOL[i+1] >> 7
				}
			}
		}
		for _, input := range [][]byte{data, noEOL} {
			d, _ := NewDecoder(1728, DecoderOptions{Encoding: enc, MSBFirst: true, FirstEOLOptional: true})
			d.Write(input)
			d.Close()
			if !raster.Equal(d.Bitmap(), b) || d.Stats().BadRows != 0 {
				t.Errorf("%v: first EOL optional: stats %+v, page equal %v", enc, d.Stats(), raster.Equal(d.Bitmap(), b))
			}
		}
		d, _ := NewDecoder(1728, DecoderOptions{Encoding: enc, MSBFirst: true})
		d.Write(noEOL)
		d.Close()
		if d.Stats().Rows != 9 {
			t.Errorf("%v: without the option the row before the first EOL should be skipped, got %d rows", enc, d.Stats().Rows)
		}
	}
}

// bitsToBytes packs "0101..." MSB first.
func bitsToBytes(s string) []byte {
	p := make([]byte, (len(s)+7)/8)
	for i := range s {
		if s[i] == '1' {
			p[i/8] |= 0x80 >> uint(i%8)
		}
	}
	return p
}

// TestEndlessRow feeds rows that never end (zero-length runs forever) and
// checks that the decoder gives up on them and keeps its buffer bounded.
func TestEndlessRow(t *testing.T) {
	for _, c := range []struct {
		enc  Encoding
		unit string
	}{
		{MH, "00110101" + "0000110111"},         // white 0, black 0
		{MR, "001" + "00110101" + "0000110111"}, // H, white 0, black 0
	} {
		head := "000000000001"
		if c.enc == MR {
			head += "0" // 2D
		}
		chunk := bitsToBytes(strings.Repeat(c.unit, 8*50)) // a whole number of bytes
		d, _ := NewDecoder(1728, DecoderOptions{Encoding: c.enc, MSBFirst: true})
		d.Write(bitsToBytes(head + strings.Repeat("0", (8-len(head)%8)%8) + head))
		for i := 0; i < 400; i++ {
			d.Write(chunk)
		}
		if st := d.Stats(); st.BadRows == 0 {
			t.Errorf("%v: endless row not counted as bad: %+v", c.enc, st)
		}
		if len(d.buf) > 2*MaxRowBits(1728)/8+len(chunk)+8192 {
			t.Errorf("%v: buffer grew to %d bytes", c.enc, len(d.buf))
		}
	}
}

// TestNoiseBounded feeds bits with no EOL in them bit by bit: the decoder
// must not keep them all.
func TestNoiseBounded(t *testing.T) {
	d, _ := NewDecoder(1728, DecoderOptions{Encoding: MH})
	for i := 0; i < 1<<20; i++ {
		d.PutBit(1) // a stream of ones, as before the first EOL
	}
	if len(d.buf) > 1<<14 {
		t.Errorf("buffer holds %d bytes of noise", len(d.buf))
	}
	b := randomRuns(1728, 3)
	data, _ := Encode(b, Options{})
	for _, c := range data {
		for i := 0; i < 8; i++ {
			d.PutBit(int(c>>uint(i)) & 1)
		}
	}
	if !d.Done() || !raster.Equal(d.Bitmap(), b) || d.Stats().BadRows != 0 {
		t.Errorf("page after noise: done %v, stats %+v", d.Done(), d.Stats())
	}
}

func TestRLEErrors(t *testing.T) {
	b := randomRuns(1728, 10)
	data, _ := Encode(b, Options{Encoding: RLE, MSBFirst: true})
	bad := append(append([]byte{}, data[:len(data)/2]...), 0x00, 0x00, 0xff)
	d, _ := NewDecoder(1728, DecoderOptions{Encoding: RLE, MSBFirst: true})
	_, err := d.Write(bad)
	if err == nil || !errors.Is(err, ErrInvalidCode) && !errors.Is(err, ErrEOL) {
		t.Fatalf("damaged RLE: Write error %v", err)
	}
	if _, err2 := d.Write([]byte{1}); err2 != err {
		t.Errorf("Write after the error: %v, want %v", err2, err)
	}
	if d.Close() != err || d.Err() != err {
		t.Error("Close and Err do not report the error")
	}
	if h := d.Bitmap().Height; h == 0 || h >= 10 {
		t.Errorf("%d rows kept", h)
	}
	for y := 0; y < d.Bitmap().Height; y++ {
		if !bytes.Equal(d.Bitmap().Row(y), b.Row(y)) {
			t.Errorf("row %d differs", y)
		}
	}
	// Truncated in the middle of a row.
	d, _ = NewDecoder(1728, DecoderOptions{Encoding: RLE, MSBFirst: true})
	d.Write(data[:len(data)-3])
	if err := d.Close(); !errors.Is(err, ErrShort) {
		t.Errorf("truncated RLE: %v", err)
	}
}
