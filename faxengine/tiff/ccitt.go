package tiff

import (
	"io"

	"golang.org/x/image/ccitt"
)

// newCCITT returns the decoder of one CCITT-coded strip or tile. Rows come
// out packed most significant bit first, 1 for a black pel.
func newCCITT(src *io.SectionReader, p *Page, width, rows int) (rowReader, error) {
	order := ccitt.MSB
	if p.FillOrder == 2 {
		order = ccitt.LSB
	}
	sf := ccitt.Group3
	opts := &ccitt.Options{Invert: true}
	switch p.Compression {
	case CompressionCCITTRLE:
		opts.Align = true
	case CompressionT4:
		if p.T4Options&T4TwoD != 0 {
			return nil, unsupported("T.4 2-D coding (waiting for faxengine/t4)")
		}
	case CompressionT6:
		sf = ccitt.Group4
	}
	return &readerRows{r: ccitt.NewReader(src, order, sf, width, rows, opts)}, nil
}

type readerRows struct{ r io.Reader }

func (rr *readerRows) readRow(dst []byte) error {
	if _, err := io.ReadFull(rr.r, dst); err != nil {
		return err
	}
	return nil
}
