package t30

import (
	"github.com/rayofax/rayofax/faxengine/modem"
	"github.com/rayofax/rayofax/faxengine/raster"
)

// Tone is a call tone of phase A.
type Tone int

const (
	ToneCNG Tone = iota + 1 // 1100 Hz calling tone
	ToneCED                 // 2100 Hz answer tone
)

// Line is the physical layer a session drives: it transmits one thing at a
// time and tells the session (through the session's event methods) what it
// hears. The audio implementation puts real modems behind it; tests use a
// frame-level link.
//
// Send methods start a transmission at once; the session only calls one when
// the previous one has been reported done (txDone).
type Line interface {
	SendSilence(samples int)
	SendTone(t Tone, samples int)
	// SendFrames sends V.21 HDLC frames (without FCS) after the preamble
	// T.30 requires.
	SendFrames(frames [][]byte)
	// SendImage sends the image modem's training then the bits of src.
	SendImage(r Rate, shortTrain bool, src modem.BitSource)
	// SendImageFrames sends HDLC frames (ECM) with the image modem. The
	// session reuses the frames' memory for its next transmission.
	SendImageFrames(r Rate, shortTrain bool, frames [][]byte)
	// Listen sets what the receiver expects: V.21 HDLC always, plus the
	// image modem at r (bits, or HDLC frames when ecm) when r is valid.
	Listen(r Rate, shortTrain, ecm bool)
}

// Quality describes how well a received page decoded.
type Quality struct {
	Rows           int
	BadRows        int
	MaxConsecutive int // longest run of consecutive bad rows
}

// Codec converts page images to and from the coded bit streams of phase C.
// Octets hold bits in transmission order, least significant bit first.
type Codec interface {
	// Encode codes a page: for MH and MR every row is padded with fill to
	// at least minRowBits bits and the page ends with RTC; MMR ends with
	// EOFB.
	Encode(img *raster.Bitmap, enc Encoding, minRowBits int) ([]byte, error)
	// Decode decodes a received page of the given width, tolerating noise
	// before the first EOL and damaged rows (which it reports in Quality).
	Decode(data []byte, enc Encoding, width int) (*raster.Bitmap, Quality, error)
}

// PageDecoder is a Codec that can decode into the memory of an earlier
// page (StdCodec is one): a receiver then reuses one page's memory for the
// whole call.
type PageDecoder interface {
	DecodeInto(dst *raster.Bitmap, data []byte, enc Encoding, width int) (*raster.Bitmap, Quality, error)
}

// Document is what a sending terminal transmits.
type Document interface {
	Pages() int
	// Page returns page i (0-based) at a fax width and resolution.
	Page(i int) (*raster.Bitmap, error)
}

// PageSink stores what a receiving terminal receives, page by page.
type PageSink interface {
	// WritePage stores a complete page; it is called as each page is
	// confirmed, so a call that ends early keeps the pages before. img
	// is valid only during the call (its memory holds the next page
	// later): a sink that keeps the pixels must copy them.
	WritePage(img *raster.Bitmap, info PageInfo) error
}

// PageInfo describes a transferred page.
type PageInfo struct {
	Number     int // 1-based
	Rate       Rate
	ECM        bool
	Encoding   Encoding
	Resolution Resolution
	Width      int
	Height     int
	Bytes      int // coded octets
	Quality    Quality
}
