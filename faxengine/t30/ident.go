package t30

import "strings"

// identLen is the length of the CSI/TSI/CIG information field.
const identLen = 20

// EncodeIdent returns the 20-octet FIF of CSI, TSI or CIG for id: T.30 sends
// the last character first, padded with spaces. Only digits, '+' and space
// are allowed by the standard; other characters become spaces and ids
// longer than 20 characters keep their first 20.
func EncodeIdent(id string) []byte {
	fif := make([]byte, identLen)
	for i := range fif {
		fif[i] = ' '
	}
	if len(id) > identLen {
		id = id[:identLen]
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c == '+' || c == ' ') {
			c = ' '
		}
		fif[identLen-1-i] = c
	}
	return fif
}

// DecodeIdent reads an ident FIF (reversed on the wire), dropping padding and
// anything that is not printable ASCII.
func DecodeIdent(fif []byte) string {
	var sb strings.Builder
	for i := len(fif) - 1; i >= 0; i-- {
		c := fif[i]
		if c < 0x20 || c > 0x7E {
			continue
		}
		sb.WriteByte(c)
	}
	return strings.TrimSpace(sb.String())
}
