package wire

import "fmt"

// Namespaces used by Rayo and its extensions.
const (
	NSRayo          = "urn:xmpp:rayo:1"
	NSExt           = "urn:xmpp:rayo:ext:1"
	NSExtComplete   = "urn:xmpp:rayo:ext:complete:1"
	NSFax           = "urn:xmpp:rayo:fax:1"
	NSFaxComplete   = "urn:xmpp:rayo:fax:complete:1"
	NSCPA           = "urn:xmpp:rayo:cpa:1"
	NSInput         = "urn:xmpp:rayo:input:1"
	NSInputComplete = "urn:xmpp:rayo:input:complete:1"
	NSOutput        = "urn:xmpp:rayo:output:1"
	NSRecord        = "urn:xmpp:rayo:record:1"
	NSPrompt        = "urn:xmpp:rayo:prompt:1"
	NSCaps          = "http://jabber.org/protocol/caps"
	NSStanzas       = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// Stanza error types (RFC 6120, 8.3.2).
const (
	Cancel   = "cancel"
	Modify   = "modify"
	Wait     = "wait"
	Auth     = "auth"
	Continue = "continue"
)

// Stanza error conditions used by Rayo (RFC 6120, 8.3.3).
const (
	BadRequest            = "bad-request"
	Conflict              = "conflict"
	FeatureNotImplemented = "feature-not-implemented"
	Forbidden             = "forbidden"
	InternalServerError   = "internal-server-error"
	ItemNotFound          = "item-not-found"
	NotAllowed            = "not-allowed"
	ResourceConstraint    = "resource-constraint"
	ServiceUnavailable    = "service-unavailable"
	UnexpectedRequest     = "unexpected-request"
)

// Error is a refusal of a command, to be returned as an <iq type='error'/>.
type Error struct {
	Type      string // Cancel, Modify, Wait or Auth
	Condition string // e.g. BadRequest
	Text      string // names what was wrong, for people
}

func (e *Error) Error() string {
	if e.Text == "" {
		return e.Condition
	}
	return e.Condition + ": " + e.Text
}

// Element returns the <error/> element of an error stanza.
func (e *Error) Element() *Element {
	el := newElement("", "error", "type", e.Type)
	el.Children = append(el.Children, newElement(NSStanzas, e.Condition))
	if e.Text != "" {
		t := newElement(NSStanzas, "text")
		t.Text = e.Text
		el.Children = append(el.Children, t)
	}
	return el
}

func badRequest(format string, args ...any) *Error {
	return &Error{Type: Modify, Condition: BadRequest, Text: fmt.Sprintf(format, args...)}
}

func notImplemented(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Condition: FeatureNotImplemented, Text: fmt.Sprintf(format, args...)}
}
