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
// The row coders (AppendChanges, FillRow, BitWriter.Code1D/Code2D,
// BitReader.Decode1D/Decode2D) are exported for package t6, which builds the
// T.6 (MMR) codec on them.
package t4

//go:generate go run gen.go
