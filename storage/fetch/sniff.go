package fetch

import (
	"bytes"
	"errors"
	"fmt"
)

// SniffTIFF checks that head, the first bytes of a document (at least 4,
// 16 give better messages), starts a classic TIFF file, and otherwise says
// what the content looks like.
func SniffTIFF(head []byte) error {
	if len(head) == 0 {
		return errors.New("document is empty")
	}
	if len(head) >= 4 {
		switch string(head[:4]) {
		case "II*\x00", "MM\x00*":
			return nil
		case "II+\x00", "MM\x00+":
			return errors.New("BigTIFF is not supported; save as classic TIFF")
		}
	}
	if what := looksLike(head); what != "" {
		return fmt.Errorf("content looks like %s, not TIFF", what)
	}
	if len(head) < 4 {
		return fmt.Errorf("only %d bytes, too short for a TIFF", len(head))
	}
	return fmt.Errorf("content starts with % x, not a TIFF header (49 49 2a 00 or 4d 4d 00 2a)", head[:min(len(head), 8)])
}

var signatures = []struct {
	prefix string
	what   string
}{
	{"%PDF", "PDF"},
	{"%!PS", "PostScript"},
	{"\x89PNG", "PNG"},
	{"\xff\xd8\xff", "JPEG"},
	{"GIF8", "GIF"},
	{"BM", "BMP"},
	{"PK\x03\x04", "a ZIP archive (or an office document)"},
	{"\x1f\x8b", "gzip data"},
	{"{\\rtf", "RTF"},
	{"\xd0\xcf\x11\xe0", "a legacy office document"},
	{"RIFF", "RIFF (WAV/WebP)"},
}

func looksLike(head []byte) string {
	for _, s := range signatures {
		if bytes.HasPrefix(head, []byte(s.prefix)) {
			return s.what
		}
	}
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	t = bytes.TrimPrefix(t, []byte("\xef\xbb\xbf"))
	if len(t) > 0 && t[0] == '<' {
		return "HTML or XML (an error page?)"
	}
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return "JSON"
	}
	return ""
}
