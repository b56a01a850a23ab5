package client

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

const nsBind = "urn:ietf:params:xml:ns:xmpp-bind"

// bindResource is resource binding (RFC 6120, 7) that asks for the given
// resource. mellium's own client feature (v0.22.0) sends an empty
// <resource/>, so the server always picks a random one; a Rayo client needs
// a stable full JID, since the service addresses its events to it, also
// after a reconnect.
func bindResource(resource string) xmpp.StreamFeature {
	return xmpp.StreamFeature{
		Name:       xml.Name{Space: nsBind, Local: "bind"},
		Necessary:  xmpp.Authn,
		Prohibited: xmpp.Ready,
		Parse: func(ctx context.Context, d *xml.Decoder, start *xml.StartElement) (bool, any, error) {
			return true, nil, d.Skip()
		},
		Negotiate: func(ctx context.Context, s *xmpp.Session, _ any) (xmpp.SessionState, io.ReadWriter, error) {
			w := s.TokenWriter()
			defer w.Close()
			r := s.TokenReader()
			defer r.Close()
			const id = "bind-1"
			res := xmlstream.Wrap(xmlstream.Token(xml.CharData(resource)), xml.StartElement{Name: xml.Name{Local: "resource"}})
			req := xmlstream.Wrap(
				xmlstream.Wrap(res, xml.StartElement{Name: xml.Name{Space: nsBind, Local: "bind"}}),
				xml.StartElement{Name: xml.Name{Space: "jabber:client", Local: "iq"}, Attr: []xml.Attr{
					{Name: xml.Name{Local: "type"}, Value: "set"}, {Name: xml.Name{Local: "id"}, Value: id}}},
			)
			if _, err := xmlstream.Copy(w, req); err != nil {
				return 0, nil, err
			}
			if err := w.Flush(); err != nil {
				return 0, nil, err
			}
			var resp struct {
				XMLName xml.Name `xml:"iq"`
				Type    string   `xml:"type,attr"`
				ID      string   `xml:"id,attr"`
				JID     string   `xml:"urn:ietf:params:xml:ns:xmpp-bind bind>jid"`
				Error   *struct {
					Inner []byte `xml:",innerxml"`
				} `xml:"error"`
			}
			if err := xml.NewTokenDecoder(r).Decode(&resp); err != nil {
				return 0, nil, fmt.Errorf("bind: %w", err)
			}
			switch {
			case resp.ID != id:
				return 0, nil, errors.New("bind: answer to another request")
			case resp.Type != "result":
				return 0, nil, fmt.Errorf("bind: resource %q refused", resource)
			}
			j, err := jid.Parse(resp.JID)
			if err != nil {
				return 0, nil, fmt.Errorf("bind: server gave %q: %w", resp.JID, err)
			}
			s.UpdateAddr(j)
			return xmpp.Ready, nil, nil
		},
	}
}
