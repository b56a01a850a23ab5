package tiff

import (
	"fmt"
	"io"

	"github.com/rayofax/rayofax/faxengine/t4"
	"github.com/rayofax/rayofax/faxengine/t6"
)

// ccittDecoder is what t4.Decoder and t6.Decoder have in common.
type ccittDecoder interface {
	Write(p []byte) (int, error)
	Done() bool
	Close() error
}

// decodeCCITT decodes one CCITT-coded strip or tile of rows rows with
// faxengine/t4 (Compression 2 and 3) or faxengine/t6 (Compression 4),
// handing each row to put as it completes. Rows are packed most
// significant bit first, 1 for a black pel (white runs are 0 bits, as in
// libtiff). Damaged rows are an error, unless the page says it was received
// with errors (BadFaxLines or CleanFaxData, as fax servers that store the
// received data as it came write them): then the decoder's regenerated rows
// stand, and rows missing at the end are white.
func decodeCCITT(src *io.SectionReader, p *Page, width, rows int, buf []byte, put func(row []byte, y int)) error {
	var dec ccittDecoder
	var t4dec *t4.Decoder
	var name string
	y := 0
	if p.Compression == CompressionT6 {
		d, err := t6.NewDecoder(width, t6.DecoderOptions{MSBFirst: p.FillOrder == 1, MaxRows: rows,
			OnRow: func(row []byte) { put(row, y); y++ }})
		if err != nil {
			return fmt.Errorf("T.6: %w", err)
		}
		dec, name = d, "T.6"
	} else {
		opts := t4.DecoderOptions{Encoding: t4.MH, MSBFirst: p.FillOrder == 1, MaxRows: rows,
			OnRow: func(row []byte, bad bool) { put(row, y); y++ }}
		switch {
		case p.Compression == CompressionCCITTRLE:
			opts.Encoding = t4.RLE
		case p.T4Options&T4TwoD != 0:
			opts.Encoding = t4.MR
		}
		d, err := t4.NewDecoder(width, opts)
		if err != nil {
			return fmt.Errorf("T.4: %w", err)
		}
		dec, t4dec, name = d, d, "T.4 "+opts.Encoding.String()
	}
	for !dec.Done() {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dec.Write(buf[:n]); err != nil {
				return fmt.Errorf("%s: row %d: %w", name, y, err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := dec.Close(); err != nil {
		return fmt.Errorf("%s: row %d: %w", name, y, err)
	}
	damagedOK := p.BadFaxLines > 0 || p.CleanFaxData > 0
	if t4dec != nil {
		if st := t4dec.Stats(); st.BadRows > 0 && !damagedOK {
			return fmt.Errorf("%s: %d damaged rows (longest run %d)", name, st.BadRows, st.ConsecutiveBadRows)
		}
	}
	if y < rows {
		if !damagedOK {
			return fmt.Errorf("%s: %w after %d of %d rows", name, errTruncated, y, rows)
		}
		white := make([]byte, (width+7)/8)
		for y < rows {
			put(white, y)
			y++
		}
	}
	return nil
}
