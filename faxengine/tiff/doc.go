// Package tiff reads the TIFF files users hand to a fax server and writes
// TIFF Class F (RFC 2306), the file format of received faxes.
//
// # Reading
//
// A Reader parses a whole classic TIFF (TIFF 6.0, either byte order; BigTIFF
// is refused) and decodes any of its pages on demand. Supported:
//
//   - bilevel images: uncompressed, PackBits, CCITT modified Huffman
//     (Compression 2), CCITT T.4 (Compression 3, T4Options 1-D or 2-D, with or
//     without byte-aligned EOLs), CCITT T.6 (Compression 4), LZW and Deflate
//     (Compression 8 and 32946);
//   - grayscale (1, 2, 4, 8, 16 bits, WhiteIsZero or BlackIsZero), palette (1
//     to 8 bits), RGB and CMYK (8 or 16 bits; extra samples such as alpha
//     composed over white) with any of the general-purpose compressions;
//   - FillOrder 1 and 2, strips or tiles, contiguous or separate sample
//     planes, Predictor 2 (horizontal differencing) on 8- and 16-bit
//     samples, several pages (the IFD chain, in file order;
//     reduced-resolution images and transparency masks are skipped).
//
// Not read: JPEG, JBIG and other non-baseline compressions, YCbCr and Lab,
// floating-point samples (each refused with an *UnsupportedError), and the
// Orientation tag (pages are taken as stored, top row first, as fax
// software writes them).
//
// CCITT data is decoded with faxengine/t4 and faxengine/t6. Damaged rows
// are an error, except in a page that declares it was received with errors
// (BadFaxLines or CleanFaxData set, as fax servers that store the received
// data unchanged write them): its damaged rows are regenerated from the row
// above, as a fax machine prints them.
//
// Decode returns bilevel pages as a *raster.Bitmap, exactly as stored. Other
// pages are returned as an *image.Gray (RGB, CMYK and palette colours
// reduced to luma, Y = 0.299 R + 0.587 G + 0.114 B); turning those into bilevel pages is
// the page package's job, because it is best done after scaling.
//
// Decoding is streaming, row by row, so memory is bounded by the size of the
// decoded page, and the page size is bounded by Limits: a file that claims
// absurd dimensions is refused with a *LimitError, and compressed data that
// would expand beyond the page (a "zip bomb") is never decompressed past the
// page's last row. Tag arrays are read only as far as the page needs them.
// No input makes the reader panic.
//
// # Writing
//
// A Writer writes TIFF Class F page by page: bilevel, one strip and one IFD
// per page, MH, MR or MMR coded (or uncompressed), with the resolution,
// PageNumber, T4Options/T6Options, FillOrder, Software and DateTime tags and,
// for pages received with errors, BadFaxLines, CleanFaxData and
// ConsecutiveBadFaxLines. After each WritePage returns, the file on disk is a
// complete, valid TIFF holding every page written so far, so a call that ends
// in the middle of a document leaves a readable file.
package tiff
