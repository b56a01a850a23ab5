package esl

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/rayofax/rayofax/test/testenv"
)

type sample struct {
	label string
	frame []byte
}

// loadSamples extracts the frames of ../shared/freeswitch/events.txt. The
// capture file lost the final blank line of some events (the A-leg ones:
// one byte short of their Content-Length) and had values shortened in the
// fax samples; those frames get the missing newline back or their
// Content-Length recomputed. The others (B leg, BACKGROUND_JOB) are fed
// byte for byte.
func loadSamples(t testing.TB) (exact, fixed []sample) {
	data, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "freeswitch", "events.txt"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)\n######## ([^\n]*)\n(.*?)######## END\n`)
	clRe := regexp.MustCompile(`^Content-Length: (\d+)\n`)
	for _, m := range re.FindAllSubmatch(data, -1) {
		label, frame := string(m[1]), m[2]
		hdrEnd := bytes.Index(frame, []byte("\n\n")) + 2
		cl := clRe.FindSubmatch(frame)
		if cl == nil {
			t.Fatalf("%s: no leading Content-Length", label)
		}
		n, _ := strconv.Atoi(string(cl[1]))
		body := frame[hdrEnd:]
		switch {
		case len(body) == n:
			exact = append(exact, sample{label, frame})
		case len(body) == n-1:
			fixed = append(fixed, sample{label, append(append([]byte(nil), frame...), '\n')})
		default:
			f := append([]byte("Content-Length: "+strconv.Itoa(len(body))+"\n"), frame[len(cl[0]):]...)
			fixed = append(fixed, sample{label, f})
		}
	}
	if len(exact) < 8 || len(exact)+len(fixed) != 18 {
		t.Fatalf("events.txt: %d exact and %d fixed samples, want 18 with at least 8 exact", len(exact), len(fixed))
	}
	return exact, fixed
}

func TestSamplesFromEventsTxt(t *testing.T) {
	exact, fixed := loadSamples(t)
	var all []byte
	var names []string
	for _, s := range append(exact, fixed...) {
		all = append(all, s.frame...)
		m, err := NewReader(bytes.NewReader(s.frame)).ReadMessage()
		if err != nil {
			t.Fatalf("%s: %v", s.label, err)
		}
		if m.ContentType() != TypeEventPlain || m.Event == nil {
			t.Fatalf("%s: type %q", s.label, m.ContentType())
		}
		ev := m.Event
		names = append(names, ev.Name())
		if ev.Get("FreeSWITCH-IPv6") != "fd00::2" {
			t.Errorf("%s: FreeSWITCH-IPv6 = %q, want URL-decoded fd00::2", s.label, ev.Get("FreeSWITCH-IPv6"))
		}
		if ev.Name() != "BACKGROUND_JOB" && ev.UUID() == "" {
			t.Errorf("%s: no Unique-ID", s.label)
		}
	}
	// All frames back to back on one stream, as on the wire.
	rd := NewReader(bytes.NewReader(all))
	for i, want := range names {
		m, err := rd.ReadMessage()
		if err != nil {
			t.Fatalf("stream frame %d: %v", i, err)
		}
		if m.Event.Name() != want {
			t.Fatalf("stream frame %d: %s, want %s", i, m.Event.Name(), want)
		}
	}
}

func TestSampleValues(t *testing.T) {
	exact, fixed := loadSamples(t)
	byLabel := map[string]*Event{}
	for _, s := range append(exact, fixed...) {
		m, err := NewReader(bytes.NewReader(s.frame)).ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		byLabel[s.label] = m.Event
	}
	job := byLabel["BACKGROUND_JOB (reply to bgapi originate, T1)"]
	if job == nil {
		t.Fatal("no BACKGROUND_JOB sample")
	}
	for _, c := range []struct{ got, want string }{
		{job.Get("Job-UUID"), "72f22dda-e1cd-4d9e-bf97-48bf257b7733"},
		{job.Get("Job-Command"), "originate"},
		{job.Get("Job-Command-Arg"), "{origination_uuid=5d296709-c507-4e32-9b96-19ffd8d9ff08}loopback/tone/default &park()"},
		{string(job.Body), "+OK 5d296709-c507-4e32-9b96-19ffd8d9ff08\n"},
		{job.Get("Event-Date-GMT"), "Tue, 24 Nov 2026 00:49:06 GMT"},
	} {
		if c.got != c.want {
			t.Errorf("BACKGROUND_JOB: got %q, want %q", c.got, c.want)
		}
	}
	park := byLabel["CHANNEL_PARK (B-leg, inbound, loopback/park-b)"]
	if park == nil {
		t.Fatal("no B-leg CHANNEL_PARK sample")
	}
	if park.Get("Call-Direction") != "inbound" || park.Var("DP_MATCH") != "ARRAY::park|:park" ||
		park.UUID() != "f001e6ca-31f3-4eed-b9be-fe80df679c24" || park.Get("Caller-Callee-ID-Name") != "Outbound Call" {
		t.Errorf("CHANNEL_PARK B: unexpected values %q %q %q", park.Get("Call-Direction"), park.Var("DP_MATCH"), park.UUID())
	}
	hc := byLabel["CHANNEL_HANGUP_COMPLETE (A-leg, outbound, loopback/tone-a)"]
	if hc.Get("Hangup-Cause") != "NORMAL_CLEARING" || hc.Var("caller_id") != `"Outbound Call" <default>` {
		t.Errorf("HANGUP_COMPLETE: cause %q caller_id %q", hc.Get("Hangup-Cause"), hc.Var("caller_id"))
	}
	if hc.Sequence() != 495 {
		t.Errorf("Event-Sequence %d, want 495", hc.Sequence())
	}
	play := byLabel["CHANNEL_EXECUTE_COMPLETE app=playback (B-leg, inbound, loopback/park-b)"]
	if play.Get("Application") != "playback" || play.Get("Application-UUID") == "" {
		t.Errorf("playback completion: %q %q", play.Get("Application"), play.Get("Application-UUID"))
	}
}

// The command replies quoted in ../shared/freeswitch/README.md.
func TestReplySamples(t *testing.T) {
	status := "UP 0 years, 0 days, 0 hours, 1 minute, 41 seconds, 625 milliseconds, 684 microseconds\n" +
		"FreeSWITCH (Version 1.11.1-release git c2c5964 2026-05-26 20:41:26Z 64bit) is ready\n" +
		"0 session(s) since startup\n" +
		"0 session(s) - peak 0, last 5min 0 \n" +
		"0 session(s) per Sec out of max 50, peak 0, last 5min 0 \n" +
		"200 session(s) max\n" +
		"min idle cpu 0.00/93.10\n" +
		"Current Stack Size/Max 240K/8192K\n"
	if len(status) != 367 {
		t.Fatalf("status sample is %d bytes, README says 367", len(status))
	}
	wire := "Content-Type: auth/request\n\n" +
		"Content-Type: command/reply\nReply-Text: +OK accepted\n\n" +
		"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n" +
		"Content-Type: api/response\nContent-Length: 367\n\n" + status +
		"Content-Type: command/reply\nReply-Text: +OK Job-UUID: 72f22dda-e1cd-4d9e-bf97-48bf257b7733\nJob-UUID: 72f22dda-e1cd-4d9e-bf97-48bf257b7733\n\n" +
		"Content-Type: command/reply\nReply-Text: -ERR invalid session id [00000000-0000-0000-0000-000000000000]\n\n" +
		"Content-Type: api/response\nContent-Length: 7\n\n-ERROR\n" +
		"Content-Type: api/response\nContent-Length: 3\n\n+OK"
	rd := NewReader(bytes.NewReader([]byte(wire)))
	want := []struct{ typ, reply, body string }{
		{TypeAuthRequest, "", ""},
		{TypeCommandReply, "+OK accepted", ""},
		{TypeCommandReply, "+OK event listener enabled plain", ""},
		{TypeAPIResponse, "", status},
		{TypeCommandReply, "+OK Job-UUID: 72f22dda-e1cd-4d9e-bf97-48bf257b7733", ""},
		{TypeCommandReply, "-ERR invalid session id [00000000-0000-0000-0000-000000000000]", ""},
		{TypeAPIResponse, "", "-ERROR\n"},
		{TypeAPIResponse, "", "+OK"},
	}
	for i, w := range want {
		m, err := rd.ReadMessage()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if m.ContentType() != w.typ || m.ReplyText() != w.reply || string(m.Body) != w.body {
			t.Errorf("frame %d: %q %q %q", i, m.ContentType(), m.ReplyText(), m.Body)
		}
	}
}

func TestURLCoding(t *testing.T) {
	for _, c := range []struct{ plain, enc string }{
		{"fd00::2", "fd00%3A%3A2"},
		{"2026-11-24 00:49:06", "2026-11-24%2000%3A49%3A06"},
		{"{origination_uuid=x}loopback/tone/default &park()", "%7Borigination_uuid%3Dx%7Dloopback/tone/default%20%26park()"},
		{`"Outbound Call" <default>`, "%22Outbound%20Call%22%20%3Cdefault%3E"},
		{"a,b(c)/d", "a,b(c)/d"},
	} {
		if got := URLEncode(c.plain); got != c.enc {
			t.Errorf("URLEncode(%q) = %q, want %q", c.plain, got, c.enc)
		}
		if got := URLDecode(c.enc); got != c.plain {
			t.Errorf("URLDecode(%q) = %q, want %q", c.enc, got, c.plain)
		}
	}
	for _, s := range []string{"%", "%4", "%zz", "100%", "a+b"} {
		if got := URLDecode(s); got != s {
			t.Errorf("URLDecode(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, in := range []string{
		"no colon here\n\n",
		"Content-Type: api/response\nContent-Length: x\n\n",
		"Content-Type: api/response\nContent-Length: -4\n\n",
		"Content-Type: api/response\nContent-Length: 99999999999\n\n",
		"Content-Length: 3\n\nabc",
		"Content-Length: 11\nContent-Type: text/event-plain\n\nno colon\n\n\n",
		"Content-Length: 10\nContent-Type: text/event-plain\n\nA: b\n\n\n\n\n\n",
		"Content-Length: 2\nContent-Type: text/event-json\n\n[]",
		"Content-Length: 29\nContent-Type: text/event-plain\n\nEvent-Name: X\nContent-Length: 9\n\n",
	} {
		_, err := NewReader(bytes.NewReader([]byte(in))).ReadMessage()
		var pe *ProtocolError
		if err == nil || !errorsAs(err, &pe) {
			t.Errorf("%q: err = %v, want a ProtocolError", in, err)
		}
	}
}

func TestEventJSON(t *testing.T) {
	body := `{"Event-Name":"BACKGROUND_JOB","Job-UUID":"j1","Event-Sequence":"7","Content-Length":"4","_body":"+OK\n","n":12,"arr":["a","b"]}`
	wire := "Content-Length: " + strconv.Itoa(len(body)) + "\nContent-Type: text/event-json\n\n" + body
	m, err := NewReader(bytes.NewReader([]byte(wire))).ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	ev := m.Event
	if ev.Name() != "BACKGROUND_JOB" || ev.Get("Job-UUID") != "j1" || string(ev.Body) != "+OK\n" ||
		ev.Get("n") != "12" || ev.Get("arr") != "a|b" || ev.Sequence() != 7 {
		t.Errorf("decoded %+v body %q", ev.Header, ev.Body)
	}
}

func BenchmarkReadEvent(b *testing.B) {
	exact, _ := loadSamples(b)
	var all []byte
	for _, s := range exact {
		all = append(all, s.frame...)
	}
	b.SetBytes(int64(len(all)))
	b.ReportAllocs()
	r := bytes.NewReader(all)
	for b.Loop() {
		r.Reset(all)
		rd := NewReader(r)
		for range exact {
			if _, err := rd.ReadMessage(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(exact))/b.Elapsed().Seconds(), "events/s")
}

func FuzzReadMessage(f *testing.F) {
	exact, fixed := loadSamples(f)
	for _, s := range append(exact, fixed...)[:6] {
		f.Add(s.frame)
	}
	f.Add([]byte("Content-Type: api/response\nContent-Length: 4\n\n+OK\n"))
	f.Add([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n"))
	f.Add([]byte("Content-Length: 40\nContent-Type: text/event-json\n\n{\"Event-Name\":\"X\",\"_body\":\"a\",\"k\":[1]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data))
		for range 64 {
			m, err := rd.ReadMessage()
			if err != nil {
				return
			}
			if m.Event != nil && m.Event.Name() == "" {
				t.Fatal("event without a name accepted")
			}
		}
	})
}
