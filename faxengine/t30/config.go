package t30

import "fmt"

// Phase is a T.30 phase.
type Phase int

const (
	PhaseA Phase = iota + 1 // call set-up: tones
	PhaseB                  // pre-message procedure: identification, negotiation, training
	PhaseC                  // message (page) transmission
	PhaseD                  // post-message procedure
	PhaseE                  // call release
)

func (p Phase) String() string {
	if p >= PhaseA && p <= PhaseE {
		return "phase " + string(rune('A'+int(p-PhaseA)))
	}
	return "no phase"
}

// Config sets up a session.
type Config struct {
	Caller   bool     // the calling station (sends CNG) rather than the answering one (CED)
	Document Document // pages to send; nil to receive
	Sink     PageSink // where received pages go (required to receive)
	Codec    Codec    // required

	Ident string // our CSI/TSI/CIG (E.164 digits, '+')

	ECM         bool // offer and use error correction mode
	ECMFrame64  bool // send 64-octet ECM frames instead of 256
	MaxRate     int  // highest bit rate to use (0: 14400)
	AllowV17    bool
	Resolutions []Resolution // receive resolutions besides standard (nil: fine and superfine)
	NoMR, NoMMR bool         // do not offer or use these codings
	// Paper, when set, limits the pages a receiver offers to take (DIS
	// width and length); nil offers A3 width and unlimited length.
	Paper *Paper

	// OnEvent, if set, is called for phase changes, frames and pages.
	OnEvent func(Event)
}

func (c *Config) check() error {
	if c.Codec == nil {
		return fmt.Errorf("t30: config: no codec")
	}
	if c.Document == nil && c.Sink == nil {
		return fmt.Errorf("t30: config: neither a document to send nor a page sink")
	}
	if c.Document != nil && c.Document.Pages() == 0 {
		return fmt.Errorf("t30: config: document has no pages")
	}
	if p := c.Paper; p != nil && (p.Width < WidthA4 || p.Width > WidthA3 || p.Length < LengthA4 || p.Length > LengthUnlimited) {
		return fmt.Errorf("t30: config: paper %d/%d is not a fax paper size", p.Width, p.Length)
	}
	switch c.MaxRate {
	case 0, 2400, 4800, 7200, 9600, 12000, 14400:
	default:
		return fmt.Errorf("t30: config: max rate %d is not a fax rate", c.MaxRate)
	}
	return nil
}

func (c *Config) maxRate() int {
	if c.MaxRate == 0 {
		return 14400
	}
	return c.MaxRate
}

// allow reports whether the local configuration permits rate r.
func (c *Config) allow(r Rate) bool {
	return r.BitRate <= c.maxRate() && (r.Modulation != V17 || c.AllowV17)
}

// Paper is a page size: a recording width and length.
type Paper struct {
	Width  Width
	Length Length
}

// EventKind says what an Event reports.
type EventKind int

const (
	EventPhase   EventKind = iota + 1 // Phase changed
	EventFrameRx                      // Frame was received
	EventFrameTx                      // Frame was sent
	EventRate                         // a rate was negotiated (Rate)
	EventPage                         // a page was transferred (Page)
	EventDone                         // the session ended (Report)
)

// Event is a notification from a session.
type Event struct {
	Kind   EventKind
	Phase  Phase
	Frame  Frame
	Rate   Rate
	Page   PageInfo
	Report *Report
	At     int // sample time
}

// Report is the outcome of a session.
type Report struct {
	Result      Result
	Pages       int // pages confirmed (sent) or stored (received)
	PagesTotal  int // pages of the document (sending)
	Rate        Rate
	ECM         bool
	Resolution  Resolution
	Width       int // pixels of the last page
	Height      int
	Encoding    Encoding
	RemoteIdent string
	Bytes       int // coded image octets transferred
	BadRows     int
	Retransmits int // ECM frames sent again
	Samples     int // duration in samples
	Partial     bool
}
