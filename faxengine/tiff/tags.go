package tiff

import "fmt"

// TIFF tag numbers used by the reader and writer (TIFF 6.0 and RFC 2306).
const (
	tagNewSubfileType         = 254
	tagImageWidth             = 256
	tagImageLength            = 257
	tagBitsPerSample          = 258
	tagCompression            = 259
	tagPhotometric            = 262
	tagFillOrder              = 266
	tagImageDescription       = 270
	tagStripOffsets           = 273
	tagOrientation            = 274
	tagSamplesPerPixel        = 277
	tagRowsPerStrip           = 278
	tagStripByteCounts        = 279
	tagXResolution            = 282
	tagYResolution            = 283
	tagPlanarConfiguration    = 284
	tagT4Options              = 292
	tagT6Options              = 293
	tagResolutionUnit         = 296
	tagPageNumber             = 297
	tagSoftware               = 305
	tagDateTime               = 306
	tagPredictor              = 317
	tagColorMap               = 320
	tagTileWidth              = 322
	tagTileLength             = 323
	tagTileOffsets            = 324
	tagTileByteCounts         = 325
	tagBadFaxLines            = 326
	tagCleanFaxData           = 327
	tagConsecutiveBadFaxLines = 328
	tagInkSet                 = 332
	tagExtraSamples           = 338
	tagSampleFormat           = 339
)

// Field types.
const (
	typeByte      = 1
	typeASCII     = 2
	typeShort     = 3
	typeLong      = 4
	typeRational  = 5
	typeSByte     = 6
	typeUndefined = 7
	typeSShort    = 8
	typeSLong     = 9
	typeSRational = 10
	typeFloat     = 11
	typeDouble    = 12
	typeIFD       = 13
)

var typeSize = [...]int64{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4}

// Compression is the TIFF Compression tag value.
type Compression uint16

// Compression schemes.
const (
	CompressionNone     Compression = 1
	CompressionCCITTRLE Compression = 2 // modified Huffman, rows byte aligned, no EOL
	CompressionT4       Compression = 3 // CCITT T.4 (MH or MR, per T4Options)
	CompressionT6       Compression = 4 // CCITT T.6 (MMR)
	CompressionLZW      Compression = 5
	CompressionOldJPEG  Compression = 6
	CompressionJPEG     Compression = 7
	CompressionDeflate  Compression = 8
	CompressionPackBits Compression = 32773
	CompressionDeflateP Compression = 32946 // the old private code of Deflate
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionCCITTRLE:
		return "CCITT modified Huffman RLE"
	case CompressionT4:
		return "CCITT T.4 (G3)"
	case CompressionT6:
		return "CCITT T.6 (G4)"
	case CompressionLZW:
		return "LZW"
	case CompressionOldJPEG:
		return "old JPEG"
	case CompressionJPEG:
		return "JPEG"
	case CompressionDeflate, CompressionDeflateP:
		return "Deflate"
	case CompressionPackBits:
		return "PackBits"
	}
	return fmt.Sprintf("unknown (%d)", uint16(c))
}

// Photometric is the TIFF PhotometricInterpretation tag value.
type Photometric uint16

// Photometric interpretations the reader understands.
const (
	WhiteIsZero Photometric = 0
	BlackIsZero Photometric = 1
	RGB         Photometric = 2
	Palette     Photometric = 3
	CMYK        Photometric = 5 // "separated", with InkSet 1
)

func (p Photometric) String() string {
	switch p {
	case WhiteIsZero:
		return "WhiteIsZero"
	case BlackIsZero:
		return "BlackIsZero"
	case RGB:
		return "RGB"
	case Palette:
		return "palette"
	case 4:
		return "transparency mask"
	case CMYK:
		return "CMYK"
	case 6:
		return "YCbCr"
	case 8:
		return "CIELab"
	}
	return fmt.Sprintf("unknown (%d)", uint16(p))
}

// T4Options bits.
const (
	T4TwoD     = 1 // some rows are 2-D (MR) coded
	T4Uncomp   = 2 // uncompressed mode used
	T4FillBits = 4 // fill bits before each EOL so it ends on a byte boundary
	T6Uncomp   = 2 // T6Options: uncompressed mode used
)
