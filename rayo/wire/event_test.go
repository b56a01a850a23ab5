package wire

import (
	"fmt"
	"testing"
)

func TestEvents(t *testing.T) {
	for _, tc := range []struct {
		el   *Element
		want string
	}{
		{Offer("tel:+18003211212", "tel:+13058881212", []Header{{"x-skill", "agent"}}),
			`<offer xmlns="urn:xmpp:rayo:1" to="tel:+18003211212" from="tel:+13058881212"><header name="x-skill" value="agent"></header></offer>`},
		{End(EndHangupCommand, "", nil), `<end xmlns="urn:xmpp:rayo:1"><hangup-command></hangup-command></end>`},
		{End(EndHungup, "16", nil), `<end xmlns="urn:xmpp:rayo:1"><hungup platform-code="16"></hungup></end>`},
		{Ref("xmpp:9f00061@call.shakespeare.lit/eh3u82"), `<ref xmlns="urn:xmpp:rayo:1" uri="xmpp:9f00061@call.shakespeare.lit/eh3u82"></ref>`},
		{Complete(CompleteStop, nil, nil), `<complete xmlns="urn:xmpp:rayo:ext:1"><stop xmlns="urn:xmpp:rayo:ext:complete:1"></stop></complete>`},
		{Complete(CompleteError("document fetch: 404"), nil, nil),
			`<complete xmlns="urn:xmpp:rayo:ext:1"><error xmlns="urn:xmpp:rayo:ext:complete:1">document fetch: 404</error></complete>`},
		{Complete(CompleteFinish, &Fax{URL: "http://x/f.tif?a=1&b=2", Width: 1728, Height: 2200, Pages: 3, Size: 12345},
			[]Metadata{{"fax-transfer-rate", "14400"}}),
			`<complete xmlns="urn:xmpp:rayo:ext:1"><finish xmlns="urn:xmpp:rayo:fax:complete:1"></finish>` +
				`<fax xmlns="urn:xmpp:rayo:fax:complete:1" url="http://x/f.tif?a=1&amp;b=2" resolution="1728x2200" pages="3" size="12345"></fax>` +
				`<metadata xmlns="urn:xmpp:rayo:fax:complete:1" name="fax-transfer-rate" value="14400"></metadata></complete>`},
		{CompleteSignal(Signal(SignalFaxCNG, 500, "")),
			`<complete xmlns="urn:xmpp:rayo:ext:1"><signal xmlns="urn:xmpp:rayo:cpa:1" type="urn:xmpp:rayo:cpa:fax-cng:1" duration="500"></signal></complete>`},
		{(&Error{Type: Cancel, Condition: ItemNotFound, Text: "no call 42"}).Element(),
			`<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></item-not-found><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">no call 42</text></error>`},
	} {
		if got := tc.el.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		// Everything written must read back to the same tree.
		back, err := Parse([]byte(tc.el.String()))
		if err != nil || back.String() != tc.el.String() {
			t.Errorf("re-read of %s gave %v, %v", tc.el, back, err)
		}
	}
}

func ExampleParseCommand() {
	el, _ := Parse([]byte(`<sendfax xmlns='urn:xmpp:rayo:fax:1'>
	  <document url='https://docs.example.com/invoice.tif' pages='1-2,4'/>
	</sendfax>`))
	cmd, err := ParseCommand(el)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	for _, d := range cmd.(*SendFax).Documents {
		fmt.Println(d.URL, d.Pages)
	}
	_, err = ParseCommand(&Element{Name: el.Name, Attr: nil})
	fmt.Println("refused:", err)
	// Output:
	// https://docs.example.com/invoice.tif 1-2,4
	// refused: bad-request: <sendfax/> needs at least one <document url='...'/>
}
