package wire

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/faxengine/page"
)

func parseCmd(t *testing.T, s string) (Command, error) {
	t.Helper()
	el, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return ParseCommand(el)
}

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Command
	}{
		{`<accept xmlns='urn:xmpp:rayo:1'/>`, &Accept{}},
		{`<answer xmlns='urn:xmpp:rayo:1'><header name='x-a' value='1'/><header name='x-a' value='2'/></answer>`,
			&Answer{Headers: []Header{{"x-a", "1"}, {"x-a", "2"}}}},
		{`<hangup xmlns='urn:xmpp:rayo:1'><header name="x-call-result" value="4" /></hangup>`,
			&Hangup{Headers: []Header{{"x-call-result", "4"}}}},
		{`<redirect xmlns='urn:xmpp:rayo:1' to='sip:other@there.com'><header name="x-skill" value="agent" /></redirect>`,
			&Redirect{To: "sip:other@there.com", Headers: []Header{{"x-skill", "agent"}}}},
		{`<reject xmlns='urn:xmpp:rayo:1'><busy/><header name="x-reject-description" value="Sorry" /></reject>`,
			&Reject{Reason: RejectBusy, Headers: []Header{{"x-reject-description", "Sorry"}}}},
		{`<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825' from='tel:+14152226789'><header name="x-skill" value="agent" /></dial>`,
			&Dial{To: "tel:+13055195825", From: "tel:+14152226789", TimeoutMS: -1, Headers: []Header{{"x-skill", "agent"}}}},
		{`<dial xmlns='urn:xmpp:rayo:1' to='sip:a@b' timeout='30000'/>`, &Dial{To: "sip:a@b", TimeoutMS: 30000}},
		{`<stop xmlns='urn:xmpp:rayo:ext:1'/>`, &Stop{}},
		{`<receivefax xmlns='urn:xmpp:rayo:fax:1'/>`, &ReceiveFax{}},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document xmlns='urn:xmpp:rayo:fax:1' url='http://shakespere.lit/my_fax.tiff'/></sendfax>`,
			&SendFax{Documents: []Document{{URL: "http://shakespere.lit/my_fax.tiff"}}}},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'>
		    <document url='http://a/1.tif' identity='+15551234567' header='ACME' pages='1-4,5,7-9'/>
		    <document url='https://b/2.tif'/>
		  </sendfax>`,
			&SendFax{Documents: []Document{
				{URL: "http://a/1.tif", Identity: "+15551234567", Header: "ACME", PagesRaw: "1-4,5,7-9",
					Pages: page.Ranges{{First: 1, Last: 4}, {First: 5, Last: 5}, {First: 7, Last: 9}}},
				{URL: "https://b/2.tif"},
			}}},
		{`<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'><grammar url='urn:xmpp:rayo:cpa:fax-cng:1'/><grammar url='urn:xmpp:rayo:cpa:fax-ced:1?terminate=false'/></input>`,
			&Input{Grammars: []CPAGrammar{{SignalFaxCNG, true}, {SignalFaxCED, false}}}},
	} {
		got, err := parseCmd(t, tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tc.in, got, tc.want)
		}
	}
}

func TestParseCommandRefusals(t *testing.T) {
	for _, tc := range []struct {
		in, typ, cond, text string
	}{
		{`<output xmlns='urn:xmpp:rayo:output:1'/>`, Cancel, FeatureNotImplemented, "output"},
		{`<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:x@y'/>`, Cancel, FeatureNotImplemented, "join"},
		{`<frobnicate xmlns='urn:example'/>`, Cancel, FeatureNotImplemented, "frobnicate"},
		{`<answer xmlns='urn:xmpp:rayo:1' when='now'/>`, Modify, BadRequest, `"when"`},
		{`<answer xmlns='urn:xmpp:rayo:1'><output/></answer>`, Modify, BadRequest, "output"},
		{`<answer xmlns='urn:xmpp:rayo:1'><header name='x'/></answer>`, Modify, BadRequest, "value"},
		{`<redirect xmlns='urn:xmpp:rayo:1'/>`, Modify, BadRequest, "to"},
		{`<redirect xmlns='urn:xmpp:rayo:1' to='not a uri'/>`, Modify, BadRequest, "URI"},
		{`<reject xmlns='urn:xmpp:rayo:1'/>`, Modify, BadRequest, "reason"},
		{`<reject xmlns='urn:xmpp:rayo:1'><busy/><decline/></reject>`, Modify, BadRequest, "more than one"},
		{`<reject xmlns='urn:xmpp:rayo:1'><sulk/></reject>`, Modify, BadRequest, "sulk"},
		{`<dial xmlns='urn:xmpp:rayo:1' to='tel:1' timeout='soon'/>`, Modify, BadRequest, "timeout"},
		{`<dial xmlns='urn:xmpp:rayo:1' to='tel:1'><join call-uri='xmpp:a@b'/></dial>`, Modify, FeatureNotImplemented, "join"},
		{`<stop xmlns='urn:xmpp:rayo:ext:1' now='1'/>`, Modify, BadRequest, "now"},
		{`<receivefax xmlns='urn:xmpp:rayo:fax:1' format='pdf'/>`, Modify, BadRequest, "format"},
		{`<receivefax xmlns='urn:xmpp:rayo:fax:1'><document url='http://x'/></receivefax>`, Modify, BadRequest, "empty"},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'/>`, Modify, BadRequest, "at least one"},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document/></sendfax>`, Modify, BadRequest, "url"},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://x/a.tif' pages='1-4,x'/></sendfax>`, Modify, BadRequest, `"x"`},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://x/a.tif' pages='5-2'/></sendfax>`, Modify, BadRequest, "5-2"},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://x/a.tif' pages='0'/></sendfax>`, Modify, BadRequest, "0"},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://x/a.tif' identity='call me'/></sendfax>`, Modify, BadRequest, "E.164"},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://x/a.tif' quality='high'/></sendfax>`, Modify, BadRequest, "quality"},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://x/a.tif'/><page/></sendfax>`, Modify, BadRequest, "page"},
		{`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='nourl'/></sendfax>`, Modify, BadRequest, "not a URL"},
		{`<input xmlns='urn:xmpp:rayo:input:1'><grammar url='urn:xmpp:rayo:cpa:fax-cng:1'/></input>`, Modify, FeatureNotImplemented, "dtmf"},
		{`<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'/>`, Modify, BadRequest, "grammar"},
		{`<input xmlns='urn:xmpp:rayo:input:1' mode='cpa' initial-timeout='5000'><grammar url='urn:xmpp:rayo:cpa:fax-cng:1'/></input>`, Modify, FeatureNotImplemented, "initial-timeout"},
		{`<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'><grammar url='urn:xmpp:rayo:cpa:speech:1'/></input>`, Modify, FeatureNotImplemented, "speech"},
		{`<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'><grammar url='urn:xmpp:rayo:cpa:fax-cng:1?maxTime=4000'/></input>`, Modify, FeatureNotImplemented, "maxTime"},
		{`<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'><grammar url='urn:xmpp:rayo:cpa:fax-cng:1?terminate=maybe'/></input>`, Modify, BadRequest, "terminate"},
		{`<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'><grammar url='urn:xmpp:rayo:cpa:nope:1'/></input>`, Modify, BadRequest, "unknown"},
	} {
		_, err := parseCmd(t, tc.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want a refusal", tc.in, err)
			continue
		}
		if e.Type != tc.typ || e.Condition != tc.cond || !strings.Contains(e.Text, tc.text) {
			t.Errorf("%s: got %s/%s %q, want %s/%s mentioning %q", tc.in, e.Type, e.Condition, e.Text, tc.typ, tc.cond, tc.text)
		}
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1)
	if _, err := Parse([]byte(deep)); err == nil {
		t.Error("too-deep payload accepted")
	}
	wide := "<a>" + strings.Repeat("<b/>", MaxElements) + "</a>"
	if _, err := Parse([]byte(wide)); err == nil {
		t.Error("too-wide payload accepted")
	}
	for _, bad := range []string{"", "text<a/>", "<a>", "<a></b>"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		`<accept xmlns='urn:xmpp:rayo:1'/>`,
		`<sendfax xmlns='urn:xmpp:rayo:fax:1'><document url='http://a/1.tif' pages='1-4,5'/></sendfax>`,
		`<input xmlns='urn:xmpp:rayo:input:1' mode='cpa'><grammar url='urn:xmpp:rayo:cpa:fax-cng:1?terminate=false'/></input>`,
		`<reject xmlns='urn:xmpp:rayo:1'><busy/></reject>`,
		`<dial xmlns='urn:xmpp:rayo:1' to='tel:1' timeout='5'><header name='a' value='b'/></dial>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := Parse(b)
		if err != nil {
			return
		}
		cmd, err := ParseCommand(el)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Type == "" || e.Condition == "" || e.Text == "" {
				t.Fatalf("refusal without type, condition and text: %#v", err)
			}
			return
		}
		if cmd.Name() != el.Name.Local {
			t.Fatalf("command %q from <%s/>", cmd.Name(), el.Name.Local)
		}
		// What was accepted must survive a write and a re-read unchanged.
		again, err := Parse([]byte(el.String()))
		if err != nil {
			t.Fatalf("re-reading %s: %v", el, err)
		}
		cmd2, err := ParseCommand(again)
		if err != nil || !reflect.DeepEqual(cmd, cmd2) {
			t.Fatalf("round trip changed %#v into %#v (%v)", cmd, cmd2, err)
		}
	})
}
