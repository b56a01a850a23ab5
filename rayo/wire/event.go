package wire

import (
	"encoding/xml"
	"strconv"
)

type xmlAttr = xml.Attr

// CallCapsNode is the entity-capabilities node an offer carries, marking the
// sender as a call (XEP-0327 section 6.2.2).
const CallCapsNode = "urn:xmpp:rayo:call:1"

func withHeaders(el *Element, hs []Header) *Element {
	for _, h := range hs {
		el.Children = append(el.Children, newElement(el.Name.Space, "header", "name", h.Name, "value", h.Value))
	}
	return el
}

// Caps returns the <c/> element of entity capabilities that goes beside an
// offer; ver is the verification string of the call's features.
func Caps(ver string) *Element {
	return newElement(NSCaps, "c", "hash", "sha-1", "node", CallCapsNode, "ver", ver)
}

// Offer is the payload of the presence that offers a new call.
func Offer(to, from string, hs []Header) *Element {
	attrs := []string{"to", to}
	if from != "" {
		attrs = append(attrs, "from", from)
	}
	return withHeaders(newElement(NSRayo, "offer", attrs...), hs)
}

// Ringing says an outbound call is ringing.
func Ringing(hs []Header) *Element { return withHeaders(newElement(NSRayo, "ringing"), hs) }

// Answered says an outbound call was answered.
func Answered(hs []Header) *Element { return withHeaders(newElement(NSRayo, "answered"), hs) }

// EndReason is why a call ended (XEP-0327 def-end-reason; the element names
// follow the schema, which the prose examples sometimes misspell).
type EndReason string

// End reasons.
const (
	EndHungup        EndReason = "hungup"         // the remote party hung up
	EndHangupCommand EndReason = "hangup-command" // a client's hangup command
	EndTimeout       EndReason = "timeout"        // no answer in time
	EndBusy          EndReason = "busy"
	EndRejected      EndReason = "rejected"
	EndError         EndReason = "error"
)

// End is the payload of the unavailable presence that ends a call.
// platformCode (e.g. a Q.850 cause) is omitted when empty.
func End(reason EndReason, platformCode string, hs []Header) *Element {
	r := newElement(NSRayo, string(reason))
	if platformCode != "" {
		r.Attr = append(r.Attr, attr("platform-code", platformCode))
	}
	end := newElement(NSRayo, "end")
	end.Children = append(end.Children, r)
	return withHeaders(end, hs)
}

// Ref is the payload of the result of a command that created a call or a
// component.
func Ref(uri string) *Element { return newElement(NSRayo, "ref", "uri", uri) }

// CompleteReason is the first child of a <complete/>.
type CompleteReason struct {
	Space, Local string
	Text         string // for the core error reason: what went wrong
}

// Core and fax completion reasons.
var (
	CompleteStop   = CompleteReason{Space: NSExtComplete, Local: "stop"}
	CompleteHangup = CompleteReason{Space: NSExtComplete, Local: "hangup"}
	CompleteFinish = CompleteReason{Space: NSFaxComplete, Local: "finish"}
)

// CompleteError is the core error reason with a text.
func CompleteError(text string) CompleteReason {
	return CompleteReason{Space: NSExtComplete, Local: "error", Text: text}
}

// Fax describes a received fax (XEP-0342 def-fax).
type Fax struct {
	URL    string
	Width  int // pixels
	Height int // pixels (of the first page)
	Pages  int
	Size   int64 // bytes of the stored file
}

// Metadata is a name/value detail of a fax completion.
type Metadata struct{ Name, Value string }

// Complete is the payload of the unavailable presence that ends a component:
// the reason, then (for fax components) the fax and its metadata.
func Complete(reason CompleteReason, fax *Fax, md []Metadata) *Element {
	c := newElement(NSExt, "complete")
	r := newElement(reason.Space, reason.Local)
	r.Text = reason.Text
	c.Children = append(c.Children, r)
	if fax != nil {
		c.Children = append(c.Children, newElement(NSFaxComplete, "fax",
			"url", fax.URL,
			"resolution", strconv.Itoa(fax.Width)+"x"+strconv.Itoa(fax.Height),
			"pages", strconv.Itoa(fax.Pages),
			"size", strconv.FormatInt(fax.Size, 10)))
	}
	for _, m := range md {
		c.Children = append(c.Children, newElement(NSFaxComplete, "metadata", "name", m.Name, "value", m.Value))
	}
	return c
}

// Signal is a CPA detection (XEP-0341 def-signal): sent alone as an event, or
// as the reason of a <complete/> when the grammar terminates.
func Signal(signalType string, durationMS int, value string) *Element {
	s := newElement(NSCPA, "signal", "type", signalType)
	if durationMS >= 0 {
		s.Attr = append(s.Attr, attr("duration", strconv.Itoa(durationMS)))
	}
	if value != "" {
		s.Attr = append(s.Attr, attr("value", value))
	}
	return s
}

// CompleteSignal is the <complete/> of a CPA input that matched a signal.
func CompleteSignal(signal *Element) *Element {
	c := newElement(NSExt, "complete")
	c.Children = append(c.Children, signal)
	return c
}

// Features lists the disco#info features of the rayofax service.
var Features = []string{NSRayo, NSFax, NSCPA}

func attr(name, value string) (a xmlAttr) {
	a.Name.Local, a.Value = name, value
	return a
}
