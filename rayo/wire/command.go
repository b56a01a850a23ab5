package wire

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/rayofax/rayofax/faxengine/page"
)

// Header is a Rayo <header name value/>; repeated names form an ordered list.
type Header struct {
	Name, Value string
}

// Command is a parsed Rayo command: one of *Accept, *Answer, *Redirect,
// *Reject, *Hangup, *Dial, *Stop, *ReceiveFax, *SendFax or *Input.
type Command interface {
	// Name is the command's element name, e.g. "receivefax".
	Name() string
}

// Accept takes control of an offered call.
type Accept struct{ Headers []Header }

// Answer answers an inbound call.
type Answer struct{ Headers []Header }

// Redirect sends the caller elsewhere.
type Redirect struct {
	To      string
	Headers []Header
}

// RejectReason is why a call is rejected.
type RejectReason string

// Reject reasons (XEP-0327 def-reject-reason).
const (
	RejectDecline RejectReason = "decline"
	RejectBusy    RejectReason = "busy"
	RejectError   RejectReason = "error"
)

// Reject refuses an offered call.
type Reject struct {
	Reason  RejectReason
	Headers []Header
}

// Hangup ends a call.
type Hangup struct{ Headers []Header }

// Dial creates an outbound call.
type Dial struct {
	To, From  string
	URI       string // requested call URI, or ""
	TimeoutMS int    // -1: no timeout
	Headers   []Header
}

// Stop ends a component.
type Stop struct{}

// ReceiveFax starts receiving a fax on the call.
type ReceiveFax struct{}

// Document is one document of a sendfax command.
type Document struct {
	URL      string
	Identity string      // E.164 number the fax appears to come from, or ""
	Header   string      // header line text, or ""
	Pages    page.Ranges // nil for all pages
	PagesRaw string      // the pages attribute as given
}

// SendFax sends one or more documents as one fax.
type SendFax struct{ Documents []Document }

// Input is an input component in CPA mode (XEP-0341); other modes are refused.
type Input struct {
	Grammars []CPAGrammar
}

// CPAGrammar is one signal type to detect.
type CPAGrammar struct {
	Signal    string // e.g. SignalFaxCNG
	Terminate bool   // complete on the first match (the default)
}

// CPA signal types rayofax detects.
const (
	SignalFaxCNG = "urn:xmpp:rayo:cpa:fax-cng:1"
	SignalFaxCED = "urn:xmpp:rayo:cpa:fax-ced:1"
)

func (*Accept) Name() string     { return "accept" }
func (*Answer) Name() string     { return "answer" }
func (*Redirect) Name() string   { return "redirect" }
func (*Reject) Name() string     { return "reject" }
func (*Hangup) Name() string     { return "hangup" }
func (*Dial) Name() string       { return "dial" }
func (*Stop) Name() string       { return "stop" }
func (*ReceiveFax) Name() string { return "receivefax" }
func (*SendFax) Name() string    { return "sendfax" }
func (*Input) Name() string      { return "input" }

// ParseCommand validates the payload of an <iq type='set'/> and returns the
// command, or an *Error saying why it is refused.
func ParseCommand(el *Element) (Command, error) {
	switch el.Name.Space {
	case NSRayo:
		switch el.Name.Local {
		case "accept":
			h, err := headersOnly(el)
			return &Accept{Headers: h}, err
		case "answer":
			h, err := headersOnly(el)
			return &Answer{Headers: h}, err
		case "hangup":
			h, err := headersOnly(el)
			return &Hangup{Headers: h}, err
		case "redirect":
			return parseRedirect(el)
		case "reject":
			return parseReject(el)
		case "dial":
			return parseDial(el)
		case "join", "unjoin":
			return nil, notImplemented(Cancel, "<%s/>: joining calls is not supported by rayofax", el.Name.Local)
		}
	case NSExt:
		if el.Name.Local == "stop" {
			if err := noAttrs(el); err != nil {
				return nil, err
			}
			if err := noChildren(el); err != nil {
				return nil, err
			}
			return &Stop{}, nil
		}
	case NSFax:
		switch el.Name.Local {
		case "receivefax":
			if err := noAttrs(el); err != nil {
				return nil, err
			}
			if err := noChildren(el); err != nil {
				return nil, err
			}
			return &ReceiveFax{}, nil
		case "sendfax":
			return parseSendFax(el)
		}
	case NSInput:
		if el.Name.Local == "input" {
			return parseInput(el)
		}
	case NSOutput, NSRecord, NSPrompt:
		return nil, notImplemented(Cancel, "<%s xmlns='%s'/>: rayofax implements only the fax and CPA components", el.Name.Local, el.Name.Space)
	}
	return nil, notImplemented(Cancel, "<%s xmlns='%s'/> is not a command rayofax implements", el.Name.Local, el.Name.Space)
}

// checkAttrs refuses any attribute not in allowed.
func checkAttrs(el *Element, allowed ...string) *Error {
	for _, a := range el.Attr {
		if a.Name.Space == "http://www.w3.org/XML/1998/namespace" {
			continue // xml:lang and friends are not instructions
		}
		ok := a.Name.Space == ""
		if ok {
			ok = false
			for _, n := range allowed {
				if a.Name.Local == n {
					ok = true
					break
				}
			}
		}
		if !ok {
			return badRequest("<%s/> has no attribute %q", el.Name.Local, a.Name.Local)
		}
	}
	return nil
}

func noAttrs(el *Element) error {
	if err := checkAttrs(el); err != nil {
		return err
	}
	return nil
}

func noChildren(el *Element) error {
	if len(el.Children) > 0 {
		return badRequest("<%s/> must be empty, found <%s/>", el.Name.Local, el.Children[0].Name.Local)
	}
	if strings.TrimSpace(el.Text) != "" {
		return badRequest("<%s/> must be empty, found text", el.Name.Local)
	}
	return nil
}

func required(el *Element, name string) (string, error) {
	v, ok := el.Attribute(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", badRequest("<%s/> needs a %s attribute", el.Name.Local, name)
	}
	return v, nil
}

func parseHeader(el *Element) (Header, error) {
	if err := checkAttrs(el, "name", "value"); err != nil {
		return Header{}, err
	}
	if err := noChildren(el); err != nil {
		return Header{}, err
	}
	name, err := required(el, "name")
	if err != nil {
		return Header{}, err
	}
	value, ok := el.Attribute("value")
	if !ok {
		return Header{}, badRequest("<header name=%q/> needs a value attribute", name)
	}
	return Header{Name: name, Value: value}, nil
}

// headersOnly parses a command with no attributes whose children may only be
// headers.
func headersOnly(el *Element) ([]Header, error) {
	if err := checkAttrs(el); err != nil {
		return nil, err
	}
	return headers(el, nil)
}

// headers parses el's <header/> children; other children are handed to other
// (which may refuse them), or refused when other is nil.
func headers(el *Element, other func(*Element) error) ([]Header, error) {
	var hs []Header
	if strings.TrimSpace(el.Text) != "" {
		return nil, badRequest("<%s/> may not contain text", el.Name.Local)
	}
	for _, c := range el.Children {
		if c.Name.Local == "header" && (c.Name.Space == NSRayo || c.Name.Space == el.Name.Space) {
			h, err := parseHeader(c)
			if err != nil {
				return nil, err
			}
			hs = append(hs, h)
			continue
		}
		if other == nil {
			return nil, badRequest("<%s/> may not contain <%s/>", el.Name.Local, c.Name.Local)
		}
		if err := other(c); err != nil {
			return nil, err
		}
	}
	return hs, nil
}

func parseRedirect(el *Element) (Command, error) {
	if err := checkAttrs(el, "to"); err != nil {
		return nil, err
	}
	to, err := required(el, "to")
	if err != nil {
		return nil, err
	}
	if err := checkURI("redirect", "to", to); err != nil {
		return nil, err
	}
	h, err := headers(el, nil)
	if err != nil {
		return nil, err
	}
	return &Redirect{To: to, Headers: h}, nil
}

func parseReject(el *Element) (Command, error) {
	if err := checkAttrs(el); err != nil {
		return nil, err
	}
	r := &Reject{}
	h, err := headers(el, func(c *Element) error {
		if c.Name.Space != NSRayo {
			return badRequest("<reject/> may not contain <%s xmlns='%s'/>", c.Name.Local, c.Name.Space)
		}
		switch RejectReason(c.Name.Local) {
		case RejectDecline, RejectBusy, RejectError:
		default:
			return badRequest("<reject/>: %q is not a reject reason (decline, busy, error)", c.Name.Local)
		}
		if r.Reason != "" {
			return badRequest("<reject/> has more than one reason")
		}
		if err := noAttrs(c); err != nil {
			return err
		}
		if err := noChildren(c); err != nil {
			return err
		}
		r.Reason = RejectReason(c.Name.Local)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.Reason == "" {
		return nil, badRequest("<reject/> needs a reason: <decline/>, <busy/> or <error/>")
	}
	r.Headers = h
	return r, nil
}

func parseDial(el *Element) (Command, error) {
	if err := checkAttrs(el, "to", "from", "uri", "timeout"); err != nil {
		return nil, err
	}
	d := &Dial{TimeoutMS: -1}
	var err error
	if d.To, err = required(el, "to"); err != nil {
		return nil, err
	}
	if err := checkURI("dial", "to", d.To); err != nil {
		return nil, err
	}
	if v, ok := el.Attribute("from"); ok {
		if err := checkURI("dial", "from", v); err != nil {
			return nil, err
		}
		d.From = v
	}
	if v, ok := el.Attribute("uri"); ok {
		if err := checkURI("dial", "uri", v); err != nil {
			return nil, err
		}
		d.URI = v
	}
	if v, ok := el.Attribute("timeout"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < -1 {
			return nil, badRequest("<dial/>: timeout %q is not a number of milliseconds (or -1)", v)
		}
		d.TimeoutMS = n
	}
	d.Headers, err = headers(el, func(c *Element) error {
		if c.Name.Local == "join" {
			return notImplemented(Modify, "<dial/>: a nested <join/> is not supported by rayofax")
		}
		return badRequest("<dial/> may not contain <%s/>", c.Name.Local)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// checkURI refuses values that are not URIs with a scheme (tel:, sip:, ...).
func checkURI(elem, attr, v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || strings.ContainsAny(v, " \t\r\n") {
		return badRequest("<%s/>: %s %q is not a URI", elem, attr, v)
	}
	return nil
}

func parseSendFax(el *Element) (Command, error) {
	if err := checkAttrs(el); err != nil {
		return nil, err
	}
	if strings.TrimSpace(el.Text) != "" {
		return nil, badRequest("<sendfax/> may not contain text")
	}
	s := &SendFax{}
	for _, c := range el.Children {
		if c.Name.Space != NSFax || c.Name.Local != "document" {
			return nil, badRequest("<sendfax/> may contain only <document/>, found <%s/>", c.Name.Local)
		}
		d, err := parseDocument(c, len(s.Documents)+1)
		if err != nil {
			return nil, err
		}
		s.Documents = append(s.Documents, d)
	}
	if len(s.Documents) == 0 {
		return nil, badRequest("<sendfax/> needs at least one <document url='...'/>")
	}
	return s, nil
}

// Limits on document attributes: T.30 carries 20 characters of ident, and a
// header longer than a page is wide cannot be printed.
const (
	MaxIdentity = 20
	MaxHeader   = 100
)

func parseDocument(el *Element, n int) (Document, error) {
	if err := checkAttrs(el, "url", "identity", "header", "pages"); err != nil {
		return Document{}, err
	}
	if err := noChildren(el); err != nil {
		return Document{}, err
	}
	var d Document
	var err error
	if d.URL, err = required(el, "url"); err != nil {
		return d, fmt.Errorf("document %d: %w", n, err)
	}
	u, perr := url.Parse(d.URL)
	if perr != nil || u.Scheme == "" {
		return d, badRequest("document %d: url %q is not a URL", n, d.URL)
	}
	if v, ok := el.Attribute("identity"); ok {
		if !validIdentity(v) {
			return d, badRequest("document %d: identity %q is not an E.164 number (+ and up to %d digits)", n, v, MaxIdentity-1)
		}
		d.Identity = v
	}
	if v, ok := el.Attribute("header"); ok {
		if len([]rune(v)) > MaxHeader {
			return d, badRequest("document %d: header is longer than %d characters", n, MaxHeader)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return d, badRequest("document %d: header contains a control character", n)
			}
		}
		d.Header = v
	}
	if v, ok := el.Attribute("pages"); ok {
		pr, err := page.ParseRanges(v)
		if err != nil {
			return d, badRequest("document %d: %v", n, err)
		}
		d.Pages, d.PagesRaw = pr, v
	}
	return d, nil
}

func validIdentity(v string) bool {
	s := strings.TrimPrefix(v, "+")
	if s == "" || len(v) > MaxIdentity {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// inputDefaults are the input attributes of XEP-0327 with their defaults: a
// CPA input accepts them only at their default value, since none of them
// changes tone detection.
var inputDefaults = map[string]string{
	"terminator":          "",
	"recognizer":          "",
	"language":            "en-US",
	"initial-timeout":     "-1",
	"inter-digit-timeout": "-1",
	"recognition-timeout": "-1",
	"sensitivity":         "0.5",
	"min-confidence":      "0",
	"max-silence":         "-1",
	"match-content-type":  "application/nlsml+xml",
}

func parseInput(el *Element) (Command, error) {
	allowed := []string{"mode"}
	for k := range inputDefaults {
		allowed = append(allowed, k)
	}
	if err := checkAttrs(el, allowed...); err != nil {
		return nil, err
	}
	mode, _ := el.Attribute("mode")
	if mode != "cpa" {
		if mode == "" {
			mode = "dtmf"
		}
		return nil, notImplemented(Modify, "<input mode='%s'/>: rayofax supports only mode='cpa' (fax tone detection)", mode)
	}
	for _, a := range el.Attr {
		if def, ok := inputDefaults[a.Name.Local]; ok && a.Value != def {
			return nil, notImplemented(Modify, "<input mode='cpa'/>: attribute %s=%q is not supported", a.Name.Local, a.Value)
		}
	}
	if strings.TrimSpace(el.Text) != "" {
		return nil, badRequest("<input/> may not contain text")
	}
	in := &Input{}
	for _, c := range el.Children {
		if c.Name.Space != NSInput || c.Name.Local != "grammar" {
			return nil, badRequest("<input/> may contain only <grammar/>, found <%s/>", c.Name.Local)
		}
		g, err := parseGrammar(c)
		if err != nil {
			return nil, err
		}
		in.Grammars = append(in.Grammars, g)
	}
	if len(in.Grammars) == 0 {
		return nil, badRequest("<input mode='cpa'/> needs at least one <grammar url='urn:xmpp:rayo:cpa:...'/>")
	}
	return in, nil
}

func parseGrammar(el *Element) (CPAGrammar, error) {
	if err := checkAttrs(el, "url", "content-type"); err != nil {
		return CPAGrammar{}, err
	}
	if ct, ok := el.Attribute("content-type"); ok {
		return CPAGrammar{}, notImplemented(Modify, "<grammar content-type=%q/>: CPA grammars are given by url only", ct)
	}
	if err := noChildren(el); err != nil {
		return CPAGrammar{}, err
	}
	u, err := required(el, "url")
	if err != nil {
		return CPAGrammar{}, err
	}
	signal, query, _ := strings.Cut(u, "?")
	if !strings.HasPrefix(signal, "urn:xmpp:rayo:cpa:") {
		return CPAGrammar{}, badRequest("<grammar url=%q/> is not a CPA signal type (urn:xmpp:rayo:cpa:...)", u)
	}
	switch signal {
	case SignalFaxCNG, SignalFaxCED:
	case "urn:xmpp:rayo:cpa:beep:1", "urn:xmpp:rayo:cpa:dtmf:1", "urn:xmpp:rayo:cpa:vad:1",
		"urn:xmpp:rayo:cpa:speech:1", "urn:xmpp:rayo:cpa:ring:1", "urn:xmpp:rayo:cpa:busy:1",
		"urn:xmpp:rayo:cpa:congestion:1", "urn:xmpp:rayo:cpa:sit:1", "urn:xmpp:rayo:cpa:modem:1",
		"urn:xmpp:rayo:cpa:offhook:1":
		return CPAGrammar{}, notImplemented(Modify, "CPA signal %s is not supported: rayofax detects %s and %s", signal, SignalFaxCNG, SignalFaxCED)
	default:
		return CPAGrammar{}, badRequest("<grammar url=%q/>: unknown CPA signal type", u)
	}
	g := CPAGrammar{Signal: signal, Terminate: true}
	if query == "" {
		return g, nil
	}
	for _, p := range strings.Split(query, ";") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "terminate":
			switch v {
			case "true":
				g.Terminate = true
			case "false":
				g.Terminate = false
			default:
				return g, badRequest("<grammar/>: terminate=%q must be true or false", v)
			}
		default:
			return g, notImplemented(Modify, "<grammar/>: CPA parameter %q is not supported (only terminate)", k)
		}
	}
	return g, nil
}
