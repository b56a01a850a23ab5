// Package wire reads and writes the XML payloads of Rayo (XEP-0327), Rayo CPA
// (XEP-0341) and Rayo Fax (XEP-0342): commands arrive as the payload of an
// <iq type='set'/>, events leave as the payload of a directed <presence/>.
//
// Parsing is strict, because a Rayo server must not silently ignore an
// instruction: an unknown element is feature-not-implemented, an attribute or
// child the specification does not define is bad-request, and a defined
// option rayofax does not support is feature-not-implemented (modify). Every
// refusal is an *Error carrying the stanza error type, condition and a text
// that names what was wrong.
package wire

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on a parsed payload: commands are small, so anything larger is
// refused before it costs memory.
const (
	MaxDepth    = 8
	MaxElements = 256
	MaxText     = 64 << 10
)

// Element is a small XML tree: what a Rayo payload needs, no more.
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr // namespace declarations are dropped
	Children []*Element
	Text     string // character data directly inside the element
}

// Attribute returns the value of the un-namespaced attribute name and whether
// it is present.
func (e *Element) Attribute(name string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// ReadElement reads the element that start opens from r, up to and including
// its end tag.
func ReadElement(r xml.TokenReader, start xml.StartElement) (*Element, error) {
	n := 0
	return readElement(r, start, 1, &n)
}

func readElement(r xml.TokenReader, start xml.StartElement, depth int, count *int) (*Element, error) {
	*count++
	if *count > MaxElements {
		return nil, fmt.Errorf("wire: more than %d elements", MaxElements)
	}
	if depth > MaxDepth {
		return nil, fmt.Errorf("wire: elements nested deeper than %d", MaxDepth)
	}
	el := &Element{Name: start.Name}
	for _, a := range start.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		el.Attr = append(el.Attr, a)
	}
	var text strings.Builder
	for {
		tok, err := r.Token()
		if err == io.EOF {
			return nil, fmt.Errorf("wire: <%s> not closed", start.Name.Local)
		}
		if err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			child, err := readElement(r, t, depth+1, count)
			if err != nil {
				return nil, err
			}
			el.Children = append(el.Children, child)
		case xml.CharData:
			if text.Len()+len(t) > MaxText {
				return nil, fmt.Errorf("wire: text in <%s> longer than %d bytes", start.Name.Local, MaxText)
			}
			text.Write(t)
		case xml.EndElement:
			el.Text = text.String()
			return el, nil
		}
	}
}

// Parse reads one element from b (which may have leading white space).
func Parse(b []byte) (*Element, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("wire: no element")
			}
			return nil, fmt.Errorf("wire: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return ReadElement(d, t)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("wire: text before the element")
			}
		}
	}
}

// Encode writes e to enc. A child's namespace is declared only where it
// differs from its parent's.
func (e *Element) Encode(enc *xml.Encoder) error {
	return e.encode(enc, "")
}

func (e *Element) encode(enc *xml.Encoder, parentNS string) error {
	start := xml.StartElement{Name: xml.Name{Local: e.Name.Local}}
	if e.Name.Space != parentNS {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: e.Name.Space})
	}
	start.Attr = append(start.Attr, e.Attr...)
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	if e.Text != "" {
		if err := enc.EncodeToken(xml.CharData(e.Text)); err != nil {
			return err
		}
	}
	for _, c := range e.Children {
		if err := c.encode(enc, e.Name.Space); err != nil {
			return err
		}
	}
	return enc.EncodeToken(xml.EndElement{Name: start.Name})
}

// String returns e as XML text.
func (e *Element) String() string {
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	if err := e.Encode(enc); err != nil {
		return "<!-- " + err.Error() + " -->"
	}
	if err := enc.Flush(); err != nil {
		return "<!-- " + err.Error() + " -->"
	}
	return b.String()
}

// TokenReader returns e as a stream of tokens, e.g. to send as a stanza. Each
// start element carries its namespace in Name.Space and no xmlns attribute,
// which is what an xml.Encoder downstream expects.
func (e *Element) TokenReader() xml.TokenReader {
	var toks []xml.Token
	e.appendTokens(&toks)
	return &tokenSlice{toks: toks}
}

func (e *Element) appendTokens(toks *[]xml.Token) {
	start := xml.StartElement{Name: e.Name, Attr: append([]xml.Attr(nil), e.Attr...)}
	*toks = append(*toks, start)
	if e.Text != "" {
		*toks = append(*toks, xml.CharData(e.Text))
	}
	for _, c := range e.Children {
		c.appendTokens(toks)
	}
	*toks = append(*toks, start.End())
}

type tokenSlice struct{ toks []xml.Token }

func (r *tokenSlice) Token() (xml.Token, error) {
	if len(r.toks) == 0 {
		return nil, io.EOF
	}
	t := r.toks[0]
	r.toks = r.toks[1:]
	return t, nil
}

func newElement(space, local string, attrs ...string) *Element {
	el := &Element{Name: xml.Name{Space: space, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		el.Attr = append(el.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	return el
}

// New returns an element with the given namespace, name and attributes
// (name, value pairs).
func New(space, local string, attrs ...string) *Element {
	return newElement(space, local, attrs...)
}

// Append adds children to e and returns e.
func (e *Element) Append(children ...*Element) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// SetAttr sets the un-namespaced attribute name to value and returns e.
func (e *Element) SetAttr(name, value string) *Element {
	for i, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			e.Attr[i].Value = value
			return e
		}
	}
	e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: name}, Value: value})
	return e
}
