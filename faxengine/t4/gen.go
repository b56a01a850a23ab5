// Copyright rayofax authors.

//go:build ignore

// This program generates tables.go from the code words of ITU-T T.4
// (tables 1/T.4, 2/T.4, 3/T.4 and 4/T.4), written out below as text so that
// they can be proofread against the recommendation. It builds both the
// encoding tables (run length to code word) and flat decoding tables indexed
// by the next 12 (white), 13 (black) or 7 (2D mode) bits of the stream.
//
// Run it with `go generate ./faxengine/t4`.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"strconv"
	"strings"
)

// Terminating and make-up codes: "run code" pairs.
const whiteCodes = `
0 00110101
1 000111
2 0111
3 1000
4 1011
5 1100
6 1110
7 1111
8 10011
9 10100
10 00111
11 01000
12 001000
13 000011
14 110100
15 110101
16 101010
17 101011
18 0100111
19 0001100
20 0001000
21 0010111
22 0000011
23 0000100
24 0101000
25 0101011
26 0010011
27 0100100
28 0011000
29 00000010
30 00000011
31 00011010
32 00011011
33 00010010
34 00010011
35 00010100
36 00010101
37 00010110
38 00010111
39 00101000
40 00101001
41 00101010
42 00101011
43 00101100
44 00101101
45 00000100
46 00000101
47 00001010
48 00001011
49 01010010
50 01010011
51 01010100
52 01010101
53 00100100
54 00100101
55 01011000
56 01011001
57 01011010
58 01011011
59 01001010
60 01001011
61 00110010
62 00110011
63 00110100
64 11011
128 10010
192 010111
256 0110111
320 00110110
384 00110111
448 01100100
512 01100101
576 01101000
640 01100111
704 011001100
768 011001101
832 011010010
896 011010011
960 011010100
1024 011010101
1088 011010110
1152 011010111
1216 011011000
1280 011011001
1344 011011010
1408 011011011
1472 010011000
1536 010011001
1600 010011010
1664 011000
1728 010011011
`

const blackCodes = `
0 0000110111
1 010
2 11
3 10
4 011
5 0011
6 0010
7 00011
8 000101
9 000100
10 0000100
11 0000101
12 0000111
13 00000100
14 00000111
15 000011000
16 0000010111
17 0000011000
18 0000001000
19 00001100111
20 00001101000
21 00001101100
22 00000110111
23 00000101000
24 00000010111
25 00000011000
26 000011001010
27 000011001011
28 000011001100
29 000011001101
30 000001101000
31 000001101001
32 000001101010
33 000001101011
34 000011010010
35 000011010011
36 000011010100
37 000011010101
38 000011010110
39 000011010111
40 000001101100
41 000001101101
42 000011011010
43 000011011011
44 000001010100
45 000001010101
46 000001010110
47 000001010111
48 000001100100
49 000001100101
50 000001010010
51 000001010011
52 000000100100
53 000000110111
54 000000111000
55 000000100111
56 000000101000
57 000001011000
58 000001011001
59 000000101011
60 000000101100
61 000001011010
62 000001100110
63 000001100111
64 0000001111
128 000011001000
192 000011001001
256 000001011011
320 000000110011
384 000000110100
448 000000110101
512 0000001101100
576 0000001101101
640 0000001001010
704 0000001001011
768 0000001001100
832 0000001001101
896 0000001110010
960 0000001110011
1024 0000001110100
1088 0000001110101
1152 0000001110110
1216 0000001110111
1280 0000001010010
1344 0000001010011
1408 0000001010100
1472 0000001010101
1536 0000001011010
1600 0000001011011
1664 0000001100100
1728 0000001100101
`

// Extended make-up codes, shared by both colours (table 3/T.4).
const extendedCodes = `
1792 00000001000
1856 00000001100
1920 00000001101
1984 000000010010
2048 000000010011
2112 000000010100
2176 000000010101
2240 000000010110
2304 000000010111
2368 000000011100
2432 000000011101
2496 000000011110
2560 000000011111
`

// Two-dimensional mode codes (table 4/T.4). The names match the mode
// constants in row.go.
const modeCodes = `
modePass 0001
modeHoriz 001
modeV0 1
modeVR1 011
modeVR2 000011
modeVR3 0000011
modeVL1 010
modeVL2 000010
modeVL3 0000010
modeExt 0000001
`

const (
	eolCode  = "000000000001"
	whiteIdx = 12 // bits indexing the white decoding table
	blackIdx = 13 // bits indexing the black decoding table
	modeIdx  = 7
	// Decoding entries are run<<4 | length; length 0 marks invalid input,
	// and eolEntry marks 11 or more zeros (an EOL, possibly after fill).
	eolEntry = 0xfff0
)

type code struct {
	run  int
	bits string
}

func parse(s string) []code {
	var out []code
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			log.Fatalf("bad line %q", line)
		}
		run, err := strconv.Atoi(f[0])
		if err != nil {
			run = -1 // a mode name
		}
		out = append(out, code{run, f[1]})
	}
	return out
}

// fill sets every table slot whose leading bits are c to value, failing on
// a collision, which would mean the code words are not prefix-free (a typo).
func fill(tab []uint16, idxBits int, bits string, value uint16, what string) {
	if len(bits) > idxBits {
		log.Fatalf("%s: code %s longer than the index", what, bits)
	}
	v, err := strconv.ParseUint(bits, 2, 32)
	if err != nil {
		log.Fatal(err)
	}
	free := idxBits - len(bits)
	base := int(v) << free
	for i := 0; i < 1<<free; i++ {
		if tab[base+i] != 0 {
			log.Fatalf("%s: code %s collides with another code", what, bits)
		}
		tab[base+i] = value
	}
}

func runTable(colour []code, idxBits int, what string) []uint16 {
	tab := make([]uint16, 1<<idxBits)
	for _, c := range append(colour, parse(extendedCodes)...) {
		fill(tab, idxBits, c.bits, uint16(c.run<<4|len(c.bits)), what)
	}
	// Eleven zeros can only start an EOL (T.4 §4.1.2): mark every index
	// beginning with them so the row decoder stops there.
	fill(tab, idxBits, "00000000000", eolEntry, what)
	return tab
}

func main() {
	white, black := parse(whiteCodes), parse(blackCodes)
	if len(white) != 64+27 || len(black) != 64+27 {
		log.Fatalf("want 91 codes per colour, have %d and %d", len(white), len(black))
	}
	for i, c := range white {
		if want := i; i >= 64 && c.run != (i-63)*64 || i < 64 && c.run != want {
			log.Fatalf("white code %d has run %d", i, c.run)
		}
	}
	for i, c := range black {
		if want := i; i >= 64 && c.run != (i-63)*64 || i < 64 && c.run != want {
			log.Fatalf("black code %d has run %d", i, c.run)
		}
	}
	ext := parse(extendedCodes)

	var b bytes.Buffer
	b.WriteString("// Code generated by gen.go; DO NOT EDIT.\n\npackage t4\n\n")

	// Encoding tables: code word in the low bits, length in bits 16-23.
	enc := func(name, doc string, codes []code) {
		fmt.Fprintf(&b, "// %s\nvar %s = [...]uint32{\n", doc, name)
		for _, c := range codes {
			v, _ := strconv.ParseUint(c.bits, 2, 32)
			fmt.Fprintf(&b, "\t%#x, // %d: %s\n", uint32(len(c.bits))<<16|uint32(v), c.run, c.bits)
		}
		b.WriteString("}\n\n")
	}
	enc("whiteTerm", "whiteTerm[r] codes a white run r < 64 (length<<16 | code).", white[:64])
	enc("blackTerm", "blackTerm[r] codes a black run r < 64 (length<<16 | code).", black[:64])
	enc("whiteMakeup", "whiteMakeup[i] codes a white make-up run of (i+1)*64, up to 2560.", append(append([]code{}, white[64:]...), ext...))
	enc("blackMakeup", "blackMakeup[i] codes a black make-up run of (i+1)*64, up to 2560.", append(append([]code{}, black[64:]...), ext...))

	dec := func(name, doc string, tab []uint16) {
		fmt.Fprintf(&b, "// %s\nvar %s = [...]uint16{", doc, name)
		for i, v := range tab {
			if i%12 == 0 {
				b.WriteString("\n\t")
			} else {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%#04x,", v)
		}
		b.WriteString("\n}\n\n")
	}
	dec("whiteDecode", "whiteDecode is indexed by the next 12 bits: run<<4 | code length (0: invalid, eolEntry: EOL).",
		runTable(white, whiteIdx, "white"))
	dec("blackDecode", "blackDecode is indexed by the next 13 bits: run<<4 | code length (0: invalid, eolEntry: EOL).",
		runTable(black, blackIdx, "black"))

	// Mode table: mode<<4 | length, indexed by the next 7 bits. Index 0
	// (seven zeros) stays 0 and is resolved by the decoder (EOL or error).
	modes := parse(modeCodes)
	mtab := make([]uint16, 1<<modeIdx)
	b.WriteString("const (\n")
	for i, m := range modes {
		name := strings.Fields(strings.Split(strings.TrimSpace(modeCodes), "\n")[i])[0]
		fmt.Fprintf(&b, "\t%s = %d // %s\n", name, i+1, m.bits)
		fill(mtab, modeIdx, m.bits, uint16((i+1)<<4|len(m.bits)), "mode")
	}
	fmt.Fprintf(&b, ")\n\n// eolEntry marks 11 zeros (an EOL, perhaps after fill) in a run table.\nconst eolEntry = %#x\n\n", eolEntry)
	fmt.Fprintf(&b, "// eolBits is the EOL code word, %s.\nconst eolBits, eolLen = 1, %d\n\n", eolCode, len(eolCode))
	dec("modeDecode", "modeDecode is indexed by the next 7 bits: mode<<4 | code length (0: seven zeros).", mtab)

	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("tables.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
