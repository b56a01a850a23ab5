// Package t4 implements the fax coding schemes of ITU-T Recommendation T.4:
// the one-dimensional modified Huffman code (MH) and the two-dimensional
// modified READ code (MR), as a transmitter puts them on the line and as a
// receiver gets them from it, plus the byte-aligned MH variant that TIFF
// calls Compression 2 (CCITT RLE).
//
// Encoder turns bitmap rows into a coded page: an EOL before each row (with
// the 1D/2D tag bit for MR), fill bits up to the minimum scan-line time, and
// RTC at the end. Decoder is streaming and tolerant, as a fax receiver must
// be: bits or bytes go in as they arrive, rows come out, a damaged row is
// replaced by the previous good one and the decoder resynchronises at the
// next EOL, counting bad rows for the T.30 page quality decision.
//
// Bytes on the fax line carry the first bit in their least significant bit
// (T.4 transmission order, TIFF FillOrder 2); TIFF files normally use the
// opposite order (FillOrder 1). Both encoder and decoder take a MSBFirst
// option for the TIFF order.
//
// # Use
//
// A T.30 transmitter without ECM codes a page with
// Options{Encoding: MR, K: 4, MinRowBits: MinRowBits(bitRate, ms)} and sends
// the bytes bit 0 first; with ECM, MinRowBits is 0 and the bytes fill the
// frames. A receiver makes one Decoder per page (or calls Reset), passes
// each bit to PutBit (or each ECM frame's bytes to Write), sees Done after
// RTC, calls Close if the carrier drops first, and answers MCF, RTP or RTN
// from Stats.
//
// A TIFF reader decodes each strip by itself (a Decoder reset per strip):
// Compression 2 with Encoding RLE, Compression 3 with MH or, if T4Options
// bit 0 is set, MR (bit 1, uncompressed mode, is not supported); MSBFirst
// when FillOrder is 1; MaxRows set to the rows in the strip; and
// FirstEOLOptional, since some writers leave out the first EOL. A TIFF
// Class F writer uses Options{NoRTC: true, AlignEOL: true, MSBFirst: true}
// with T4Options 4 (5 for MR) and FillOrder 1, the form libtiff writes.
// Package t6 does the same for Compression 4.
//
// The row coders (AppendChanges, FillRow, BitWriter.Code1D/Code2D,
// BitReader.Decode1D/Decode2D) are exported for package t6, which builds the
// T.6 (MMR) codec on them.
package t4

//go:generate go run gen.go
