package fsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Var is a channel variable.
type Var struct{ Name, Value string }

// CallOptions describe an inbound call offered to the switch.
type CallOptions struct {
	CallerName   string // Caller-Caller-ID-Name
	CallerNumber string // Caller-Caller-ID-Number (default "0000000000")
	Dest         string // Caller-Destination-Number (default "park")
	// Vars are set on the channel before the dialplan runs, in order, e.g.
	// {"sip_h_X-Fax-Id", "42"}, {"sip_from_uri", "alice@example.com"}, or
	// the variable the bridge's config names to hand a call over.
	Vars []Var
	// Answer makes the dialplan answer the call before parking it; by
	// default it is parked ringing, for the application to answer.
	Answer bool
	// Peer is the caller's audio; nil is silence.
	Peer Peer
	// HangupAfter, if set, hangs the call up from the far end that long
	// after it was answered (NORMAL_CLEARING), e.g. in the middle of a fax.
	HangupAfter time.Duration
}

// Channel is one simulated call leg.
type Channel struct {
	s         *Server
	uuid      string
	name      string
	direction string
	cidName   string
	cidNum    string
	dest      string
	vars      []field
	created   time.Time
	session   int
	peer      Peer

	// guarded by s.mu
	answeredAt    time.Time
	hangupAt      time.Time
	state         string
	stateNum      int
	parked        bool
	parkAppUUID   string
	appRunning    bool
	app, appData  string
	killedInPark  bool // a stream was torn down inside the current park
	stream        *stream
	cause         string
	gone          bool
	transferredTo string
	nomedia       int
	executed      []string

	statsMu   sync.Mutex
	pastStats MediaStats

	apps chan appReq
	done chan struct{}
}

type appReq struct {
	name, arg, id string
}

// UUID returns the channel's Unique-ID.
func (ch *Channel) UUID() string { return ch.uuid }

// Done is closed when the channel is destroyed.
func (ch *Channel) Done() <-chan struct{} { return ch.done }

// Peer returns the far end's audio peer.
func (ch *Channel) Peer() Peer { return ch.peer }

// HangupCause returns the cause once hung up.
func (ch *Channel) HangupCause() string {
	ch.s.mu.Lock()
	defer ch.s.mu.Unlock()
	return ch.cause
}

// Answered reports whether the channel was answered.
func (ch *Channel) Answered() bool {
	ch.s.mu.Lock()
	defer ch.s.mu.Unlock()
	return !ch.answeredAt.IsZero()
}

// Parked reports whether the channel sits in park.
func (ch *Channel) Parked() bool {
	ch.s.mu.Lock()
	defer ch.s.mu.Unlock()
	return ch.parked
}

// TransferredTo returns the last uuid_transfer destination.
func (ch *Channel) TransferredTo() string {
	ch.s.mu.Lock()
	defer ch.s.mu.Unlock()
	return ch.transferredTo
}

// Executed lists the applications run through sendmsg execute.
func (ch *Channel) Executed() []string {
	ch.s.mu.Lock()
	defer ch.s.mu.Unlock()
	return append([]string(nil), ch.executed...)
}

// Var returns a channel variable.
func (ch *Channel) Var(name string) string {
	ch.s.mu.Lock()
	defer ch.s.mu.Unlock()
	for _, f := range ch.vars {
		if f.k == name {
			return f.v
		}
	}
	return ""
}

// Hangup hangs the call up from the far end (or the switch) with cause.
func (ch *Channel) Hangup(cause string) {
	ch.s.mu.Lock()
	defer ch.s.mu.Unlock()
	ch.hangupLocked(cause)
}

// Channel returns a live channel by UUID, or nil.
func (s *Server) Channel(uuid string) *Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channels[uuid]
}

// Channels returns the live channels in creation order.
func (s *Server) Channels() []*Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Channel(nil), s.order...)
}

// WaitChannels waits until no channel is left or the timeout passes,
// reporting success.
func (s *Server) WaitChannels(timeout time.Duration) bool {
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		s.mu.Lock()
		n := len(s.channels)
		s.mu.Unlock()
		if n == 0 {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// NewInboundCall makes a call arrive: CHANNEL_CREATE, then the dialplan
// (optionally answer) and park: CHANNEL_EXECUTE and CHANNEL_PARK.
func (s *Server) NewInboundCall(o CallOptions) *Channel {
	if o.CallerNumber == "" {
		o.CallerNumber = "0000000000"
	}
	if o.Dest == "" {
		o.Dest = "park"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.newChannelLocked("inbound", "sofia/internal/"+o.CallerNumber+"@127.0.0.1", o.CallerName, o.CallerNumber, o.Dest, newUUID(), o.Peer)
	for _, v := range o.Vars {
		ch.vars = append(ch.vars, field{v.Name, v.Value})
	}
	ch.createLocked()
	ch.state, ch.stateNum = "CS_EXECUTE", 4
	if o.Answer {
		ch.answerLocked()
		ch.fireAppLocked("CHANNEL_EXECUTE", "answer", "", newUUID())
		ch.fireAppLocked("CHANNEL_EXECUTE_COMPLETE", "answer", "", newUUID())
	}
	ch.parkLocked()
	if o.HangupAfter > 0 {
		go func() {
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-ch.done:
					return
				case <-s.done:
					return
				case <-t.C:
				}
				s.mu.Lock()
				at := ch.answeredAt
				if !at.IsZero() && time.Since(at) >= o.HangupAfter {
					ch.hangupLocked("NORMAL_CLEARING")
				}
				s.mu.Unlock()
			}
		}()
	}
	return ch
}

func (s *Server) newChannelLocked(dir, name, cidName, cidNum, dest, uuid string, peer Peer) *Channel {
	if peer == nil {
		peer = Silence{}
	}
	s.sessions++
	ch := &Channel{
		s: s, uuid: uuid, name: name, direction: dir,
		cidName: cidName, cidNum: cidNum, dest: dest,
		created: time.Now(), session: s.sessions, peer: peer,
		state: "CS_INIT", stateNum: 2,
		apps: make(chan appReq, 64), done: make(chan struct{}),
	}
	ch.vars = []field{
		{"direction", dir},
		{"uuid", uuid},
		{"call_uuid", uuid},
		{"session_id", fmt.Sprint(ch.session)},
		{"channel_name", name},
		{"read_codec", "L16"},
		{"read_rate", "8000"},
		{"write_codec", "L16"},
		{"write_rate", "8000"},
	}
	s.channels[uuid] = ch
	s.order = append(s.order, ch)
	go ch.runApps()
	return ch
}

func (ch *Channel) setVarLocked(k, v string) {
	for i := range ch.vars {
		if ch.vars[i].k == k {
			ch.vars[i].v = v
			return
		}
	}
	ch.vars = append(ch.vars, field{k, v})
}

func (ch *Channel) callState() string {
	switch {
	case ch.gone || ch.cause != "":
		return "HANGUP"
	case !ch.answeredAt.IsZero():
		return "ACTIVE"
	case ch.state == "CS_INIT":
		return "DOWN"
	}
	return "RINGING"
}

func (ch *Channel) answerState() string {
	switch {
	case ch.cause != "":
		return "hangup"
	case !ch.answeredAt.IsZero():
		return "answered"
	}
	return "ringing"
}

func usec(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return fmt.Sprint(t.UnixMicro())
}

// eventLocked builds a channel event with the headers in the order the
// real switch writes them.
func (ch *Channel) eventLocked(name, file, fn, line string) *event {
	ev := ch.s.newEvent(name, file, fn, line)
	if name == "CHANNEL_HANGUP_COMPLETE" {
		ev.add("Hangup-Cause", ch.cause)
	}
	ev.add("Channel-State", ch.state)
	ev.add("Channel-Call-State", ch.callState())
	ev.add("Channel-State-Number", fmt.Sprint(ch.stateNum))
	ev.add("Channel-Name", ch.name)
	ev.add("Unique-ID", ch.uuid)
	ev.add("Call-Direction", ch.direction)
	ev.add("Presence-Call-Direction", ch.direction)
	ev.add("Channel-HIT-Dialplan", strconv.FormatBool(ch.direction == "inbound" || ch.parked))
	ev.add("Channel-Call-UUID", ch.uuid)
	ev.add("Answer-State", ch.answerState())
	if ch.cause != "" {
		ev.add("Hangup-Cause", ch.cause)
	}
	for _, k := range []string{"Read", "Write"} {
		ev.add("Channel-"+k+"-Codec-Name", "L16")
		ev.add("Channel-"+k+"-Codec-Rate", "8000")
		ev.add("Channel-"+k+"-Codec-Bit-Rate", "128000")
	}
	ev.add("Caller-Direction", ch.direction)
	ev.add("Caller-Logical-Direction", ch.direction)
	ev.add("Caller-Dialplan", "xml")
	if ch.cidName != "" {
		ev.add("Caller-Caller-ID-Name", ch.cidName)
	}
	ev.add("Caller-Caller-ID-Number", ch.cidNum)
	ev.add("Caller-Orig-Caller-ID-Number", ch.cidNum)
	ev.add("Caller-ANI", ch.cidNum)
	ev.add("Caller-Destination-Number", ch.dest)
	ev.add("Caller-Unique-ID", ch.uuid)
	ev.add("Caller-Source", "mod_sofia")
	ev.add("Caller-Context", "default")
	ev.add("Caller-Channel-Name", ch.name)
	ev.add("Caller-Profile-Index", "1")
	ev.add("Caller-Profile-Created-Time", usec(ch.created))
	ev.add("Caller-Channel-Created-Time", usec(ch.created))
	ev.add("Caller-Channel-Answered-Time", usec(ch.answeredAt))
	ev.add("Caller-Channel-Progress-Time", "0")
	ev.add("Caller-Channel-Progress-Media-Time", "0")
	ev.add("Caller-Channel-Hangup-Time", usec(ch.hangupAt))
	ev.add("Caller-Channel-Transfer-Time", "0")
	ev.add("Caller-Channel-Resurrect-Time", "0")
	ev.add("Caller-Channel-Bridged-Time", "0")
	ev.add("Caller-Channel-Last-Hold", "0")
	ev.add("Caller-Channel-Hold-Accum", "0")
	ev.add("Caller-Screen-Bit", "true")
	ev.add("Caller-Privacy-Hide-Name", "false")
	ev.add("Caller-Privacy-Hide-Number", "false")
	for _, v := range ch.vars {
		ev.add("variable_"+v.k, v.v)
	}
	return ev
}

func (ch *Channel) createLocked() {
	ch.s.fireLocked(ch.eventLocked("CHANNEL_CREATE", "switch_core_state_machine.c", "switch_core_session_run", "626"))
}

func (ch *Channel) answerLocked() {
	if !ch.answeredAt.IsZero() || ch.gone {
		return
	}
	ch.answeredAt = time.Now()
	ch.setVarLocked("endpoint_disposition", "ANSWER")
	ch.s.fireLocked(ch.eventLocked("CHANNEL_ANSWER", "switch_channel.c", "switch_channel_perform_mark_answered", "3848"))
}

func (ch *Channel) fireAppLocked(name, app, data, id string) {
	line, fn := "2949", "switch_core_session_exec"
	if name == "CHANNEL_EXECUTE_COMPLETE" {
		line = "2972"
	}
	ev := ch.eventLocked(name, "switch_core_session.c", fn, line)
	ev.add("Application", app)
	if data != "" {
		ev.add("Application-Data", data)
	}
	if name == "CHANNEL_EXECUTE_COMPLETE" {
		ev.add("Application-Response", "_none_")
	}
	ev.add("Application-UUID", id)
	ch.s.fireLocked(ev)
}

func (ch *Channel) parkLocked() {
	ch.app, ch.appData = "park", ""
	ch.setVarLocked("current_application", "park")
	ch.parkAppUUID = newUUID()
	ch.fireAppLocked("CHANNEL_EXECUTE", "park", "", ch.parkAppUUID)
	ch.parked = true
	ch.killedInPark = false
	ch.s.fireLocked(ch.eventLocked("CHANNEL_PARK", "switch_ivr.c", "switch_ivr_park", "1002"))
}

// unparkLocked leaves park: the stream ends, CHANNEL_UNPARK and the
// park's CHANNEL_EXECUTE_COMPLETE fire.
func (ch *Channel) unparkLocked() {
	if !ch.parked {
		return
	}
	ch.parked = false
	ch.stopMediaLocked()
	ch.s.fireLocked(ch.eventLocked("CHANNEL_UNPARK", "switch_ivr.c", "switch_ivr_park", "1213"))
	ch.fireAppLocked("CHANNEL_EXECUTE_COMPLETE", "park", "", ch.parkAppUUID)
}

func (ch *Channel) stopMediaLocked() {
	if ch.stream != nil {
		ch.stream.close()
		ch.stream = nil
	}
}

func (ch *Channel) hangupLocked(cause string) {
	if ch.gone || ch.cause != "" {
		return
	}
	if cause == "" {
		cause = "NORMAL_CLEARING"
	}
	ch.cause = cause
	ch.stateNum = 10
	ch.setVarLocked("hangup_cause", cause)
	ch.s.fireLocked(ch.eventLocked("CHANNEL_HANGUP", "switch_channel.c", "switch_channel_perform_hangup", "3447"))
	ch.unparkLocked()
	ch.stopMediaLocked()
	ch.hangupAt = time.Now()
	ch.state, ch.stateNum = "CS_REPORTING", 11
	ch.s.fireLocked(ch.eventLocked("CHANNEL_HANGUP_COMPLETE", "switch_core_state_machine.c", "switch_core_session_reporting_state", "943"))
	ch.state, ch.stateNum = "CS_DESTROY", 12
	ch.s.fireLocked(ch.eventLocked("CHANNEL_DESTROY", "switch_core_session.c", "switch_core_session_perform_destroy", "1705"))
	ch.gone = true
	delete(ch.s.channels, ch.uuid)
	for i, c := range ch.s.order {
		if c == ch {
			ch.s.order = append(ch.s.order[:i:i], ch.s.order[i+1:]...)
			break
		}
	}
	close(ch.done)
}

// runApps executes sendmsg'd applications one at a time, inside park.
func (ch *Channel) runApps() {
	for {
		var r appReq
		select {
		case r = <-ch.apps:
		case <-ch.done:
			return
		case <-ch.s.done:
			return
		}
		s := ch.s
		s.mu.Lock()
		if ch.gone {
			s.mu.Unlock()
			return
		}
		ch.executed = append(ch.executed, r.name)
		ch.appRunning = true
		inPark := ch.parked
		hadStream := ch.stream != nil
		ch.fireAppLocked("CHANNEL_EXECUTE", r.name, r.arg, r.id)
		var d time.Duration
		switch r.name {
		case "answer":
			ch.answerLocked()
		case "hangup":
			ch.hangupLocked(r.arg)
		case "set":
			k, v, _ := strings.Cut(r.arg, "=")
			ch.setVarLocked(k, v)
		case "park":
		case "sleep":
			ms, _ := strconv.Atoi(r.arg)
			d = time.Duration(ms) * time.Millisecond
		case "playback":
			d = 500 * time.Millisecond
			if ms, ok := strings.CutPrefix(r.arg, "silence_stream://"); ok {
				n, _ := strconv.Atoi(strings.SplitN(ms, ",", 2)[0])
				d = time.Duration(n) * time.Millisecond
			}
		default:
			d = 100 * time.Millisecond
		}
		s.mu.Unlock()
		if d > 0 {
			select {
			case <-time.After(d):
			case <-ch.done:
			case <-s.done:
			}
		}
		s.mu.Lock()
		if !ch.gone {
			ch.fireAppLocked("CHANNEL_EXECUTE_COMPLETE", r.name, r.arg, r.id)
			ch.appRunning = false
			// switch_core_session_reset after an app inside park shuts
			// the unicast down.
			if inPark && hadStream && ch.parked {
				ch.stopMediaLocked()
				ch.killedInPark = true
			}
		}
		s.mu.Unlock()
	}
}

// api runs an api command and returns its body.
func (s *Server) api(cmdline string) string {
	name, args, _ := strings.Cut(strings.TrimSpace(cmdline), " ")
	args = strings.TrimSpace(args)
	words := strings.Fields(args)
	switch name {
	case "status":
		return s.status()
	case "uuid_answer":
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.lookupLocked(words)
		if ch == nil {
			return "-ERROR\n"
		}
		ch.answerLocked()
		return "+OK\n"
	case "uuid_kill":
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.lookupLocked(words)
		if ch == nil {
			return "-ERR No such channel!\n"
		}
		cause := "NORMAL_CLEARING"
		if len(words) > 1 {
			cause = words[1]
		}
		ch.hangupLocked(cause)
		return "+OK\n"
	case "uuid_transfer":
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.lookupLocked(words)
		if ch == nil {
			return "-ERR No such channel!\n"
		}
		rest := words[1:]
		if len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"
		}
		ch.transferLocked(rest[0])
		return "+OK\n"
	case "uuid_exists":
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.lookupLocked(words) != nil {
			return "true"
		}
		return "false"
	case "uuid_dump":
		// The channel's data as an event: "Name: value" lines, or one
		// JSON object with "json".
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.lookupLocked(words)
		if ch == nil {
			return "-ERR No such channel!\n"
		}
		ev := ch.eventLocked("CHANNEL_DATA", "switch_ivr.c", "switch_ivr_uuid_dump", "2080")
		if len(words) > 1 && words[1] == "json" {
			b := ev.json()
			return string(b[bytes.Index(b, []byte("\n\n"))+2:])
		}
		var b strings.Builder
		for _, f := range ev.h {
			b.WriteString(f.k + ": " + urlEncode(f.v) + "\n")
		}
		return b.String()
	case "uuid_getvar":
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.lookupLocked(words)
		if ch == nil || len(words) < 2 {
			return "-ERR No such channel!\n"
		}
		for _, f := range ch.vars {
			if f.k == words[1] {
				return f.v
			}
		}
		return "_undef_"
	case "uuid_setvar":
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.lookupLocked(words)
		if ch == nil || len(words) < 2 {
			return "-ERR No such channel!\n"
		}
		ch.setVarLocked(words[1], strings.Join(words[2:], " "))
		return "+OK\n"
	case "hupall":
		cause := "NORMAL_CLEARING"
		if len(words) > 0 {
			cause = words[0]
		}
		s.mu.Lock()
		for _, ch := range append([]*Channel(nil), s.order...) {
			ch.hangupLocked(cause)
		}
		s.mu.Unlock()
		return "+OK hangup all channels with cause " + cause + "\n"
	case "global_setvar":
		return "+OK"
	case "show":
		if len(words) >= 1 && words[0] == "channels" {
			return s.showChannels(len(words) >= 3 && words[1] == "as" && words[2] == "json")
		}
		return "-USAGE: show channels [as json]\n"
	case "originate":
		return s.originate(args)
	}
	return "-ERR " + name + " Command not found!\n"
}

func (s *Server) lookupLocked(words []string) *Channel {
	if len(words) == 0 {
		return nil
	}
	return s.channels[words[0]]
}

func (ch *Channel) transferLocked(dest string) {
	ch.unparkLocked()
	ch.transferredTo = dest
	ch.dest = dest
	if dest == "park" {
		ch.parkLocked()
		return
	}
	// Any other extension: the simulated dialplan bridges the call away.
	ch.app, ch.appData = "bridge", dest
	ch.fireAppLocked("CHANNEL_EXECUTE", "bridge", dest, newUUID())
}

func (s *Server) status() string {
	up := time.Since(s.started)
	s.mu.Lock()
	n, total := len(s.channels), s.sessions
	s.mu.Unlock()
	return fmt.Sprintf("UP 0 years, 0 days, %d hours, %d minutes, %d seconds, %d milliseconds, 0 microseconds\n"+
		"FreeSWITCH (Version 1.11.1-release fsim) is ready\n"+
		"%d session(s) since startup\n"+
		"%d session(s) - peak %d, last 5min %d \n"+
		"0 session(s) per Sec out of max 50, peak 0, last 5min 0 \n"+
		"1000 session(s) max\n"+
		"min idle cpu 0.00/99.00\n"+
		"Current Stack Size/Max 240K/8192K\n",
		int(up.Hours()), int(up.Minutes())%60, int(up.Seconds())%60, up.Milliseconds()%1000,
		total, n, n, n)
}

func (s *Server) showChannels(asJSON bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	type row map[string]string
	var rows []row
	for _, ch := range s.order {
		rows = append(rows, row{
			"uuid": ch.uuid, "direction": ch.direction,
			"created":       ch.created.Format("2006-01-02 15:04:05"),
			"created_epoch": fmt.Sprint(ch.created.Unix()),
			"name":          ch.name, "state": ch.state,
			"cid_name": ch.cidName, "cid_num": ch.cidNum,
			"ip_addr": "127.0.0.1", "dest": ch.dest,
			"application": ch.app, "application_data": ch.appData,
			"dialplan": "XML", "context": "default",
			"read_codec": "L16", "read_rate": "8000", "read_bit_rate": "128000",
			"write_codec": "L16", "write_rate": "8000", "write_bit_rate": "128000",
			"secure": "", "hostname": "fsim", "callstate": ch.callState(),
			"call_uuid": ch.uuid,
		})
	}
	if !asJSON {
		var b strings.Builder
		b.WriteString("uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data,dialplan,context,callstate\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", r["uuid"], r["direction"], r["created"],
				r["created_epoch"], r["name"], r["state"], r["cid_name"], r["cid_num"], r["ip_addr"], r["dest"],
				r["application"], r["application_data"], r["dialplan"], r["context"], r["callstate"])
		}
		fmt.Fprintf(&b, "\n%d total.\n", len(rows))
		return b.String()
	}
	if len(rows) == 0 {
		return "{\"row_count\":0}\n"
	}
	b, _ := json.Marshal(struct {
		RowCount int   `json:"row_count"`
		Rows     []row `json:"rows"`
	}{len(rows), rows})
	return string(b) + "\n"
}

// originate handles "<{vars}dialstring> <&app(args)|exten [dialplan] [context]>".
func (s *Server) originate(args string) string {
	dial, app, _ := strings.Cut(args, " ")
	vars := map[string]string{}
	if strings.HasPrefix(dial, "{") {
		end := strings.IndexByte(dial, '}')
		if end < 0 {
			return "-ERR INVALID_URL\n"
		}
		for _, kv := range strings.Split(dial[1:end], ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k != "" {
				vars[k] = v
			}
		}
		dial = dial[end+1:]
	}
	if dial == "" {
		return "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"
	}
	res := DialResult{}
	if s.cfg.Dial != nil {
		res = s.cfg.Dial(dial, vars)
	}
	uuid := vars["origination_uuid"]
	if uuid == "" {
		uuid = newUUID()
	}
	cidNum := vars["origination_caller_id_number"]
	if cidNum == "" {
		cidNum = "0000000000"
	}
	s.mu.Lock()
	if s.channels[uuid] != nil {
		s.mu.Unlock()
		return "-ERR DESTINATION_OUT_OF_ORDER\n"
	}
	ch := s.newChannelLocked("outbound", dial, vars["origination_caller_id_name"], cidNum, dial, uuid, res.Peer)
	ch.setVarLocked("origination_uuid", uuid)
	for k, v := range vars {
		if k != "origination_uuid" {
			ch.setVarLocked(k, v)
		}
	}
	ch.createLocked()
	ch.state, ch.stateNum = "CS_ROUTING", 3
	if res.Ring > 0 {
		// The callee rings (a SIP 180).
		ch.s.fireLocked(ch.eventLocked("CHANNEL_PROGRESS", "switch_channel.c", "switch_channel_perform_mark_ring_ready_value", "3563"))
	}
	s.mu.Unlock()

	ring := res.Ring
	if t, err := strconv.Atoi(vars["originate_timeout"]); err == nil && t > 0 && ring > time.Duration(t)*time.Second {
		ring = time.Duration(t) * time.Second
		res.Cause = "NO_ANSWER"
	}
	select {
	case <-time.After(ring):
	case <-ch.done:
		return "-ERR ORIGINATOR_CANCEL\n"
	case <-s.done:
		return "-ERR SYSTEM_SHUTDOWN\n"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch.gone {
		return "-ERR ORIGINATOR_CANCEL\n"
	}
	if res.Cause != "" {
		ch.hangupLocked(res.Cause)
		return "-ERR " + res.Cause + "\n"
	}
	ch.state, ch.stateNum = "CS_EXECUTE", 4
	ch.answerLocked()
	if strings.HasPrefix(app, "&park") || strings.HasPrefix(app, "park") {
		// The job's result goes out before the park (as observed), so a
		// client must wait for CHANNEL_PARK before starting unicast.
		go func() {
			time.Sleep(2 * time.Millisecond)
			s.mu.Lock()
			defer s.mu.Unlock()
			if !ch.gone {
				ch.parkLocked()
			}
		}()
	} else if app != "" {
		a := strings.TrimPrefix(app, "&")
		name, arg, _ := strings.Cut(a, "(")
		ch.apps <- appReq{name: name, arg: strings.TrimSuffix(arg, ")"), id: newUUID()}
	}
	return "+OK " + uuid + "\n"
}

// sendmsg handles a sendmsg command and returns the Reply-Text.
func (s *Server) sendmsg(uuid string, h []field, body []byte) string {
	uuid = strings.TrimSpace(uuid)
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[uuid]
	if ch == nil {
		return "-ERR invalid session id [" + uuid + "]"
	}
	priv := ch.eventLocked("PRIVATE_COMMAND", "switch_ivr.c", "switch_ivr_parse_event", "473")
	for _, f := range h {
		priv.add(f.k, f.v)
	}
	s.fireLocked(priv)
	switch strings.ToLower(getField(h, "call-command")) {
	case "execute":
		app := getField(h, "execute-app-name")
		arg := getField(h, "execute-app-arg")
		if arg == "" && len(body) > 0 {
			arg = string(body)
		}
		id := getField(h, "Event-UUID")
		if id == "" {
			id = newUUID()
		}
		select {
		case ch.apps <- appReq{name: app, arg: arg, id: id}:
		default:
			return "-ERR too many queued applications"
		}
	case "hangup":
		ch.hangupLocked(getField(h, "hangup-cause"))
	case "unicast":
		ch.unicastLocked(h)
	case "nomedia":
		ch.nomedia++
	}
	return "+OK"
}

// unicastLocked starts a stream the way switch_ivr_activate_unicast does,
// including its failures, which the sendmsg reply never reports.
func (ch *Channel) unicastLocked(h []field) {
	lip, lport := getField(h, "local-ip"), getField(h, "local-port")
	rip, rport := getField(h, "remote-ip"), getField(h, "remote-port")
	if lip == "" {
		lip = "127.0.0.1"
	}
	if lport == "" {
		lport = "8025"
	}
	if rip == "" {
		rip = "127.0.0.1"
	}
	if rport == "" {
		rport = "8026"
	}
	remote, err := net.ResolveUDPAddr("udp", net.JoinHostPort(rip, rport))
	if err != nil {
		ch.s.log.Error("[CRIT] Failure creating unicast connection", "err", err)
		return
	}
	ch.stopMediaLocked()
	pc, err := net.ListenUDP("udp", mustUDPAddr(lip, lport))
	if err != nil {
		ch.s.log.Error("[CRIT] Failure creating unicast connection", "local", lip+":"+lport, "err", err)
		return
	}
	st := newStream(ch, pc, remote, ch.s.loss, ch.s.reorder)
	ch.stream = st
	if ch.killedInPark {
		// The park loop still holds the old, torn-down connection and
		// shuts the new one down within a frame.
		time.AfterFunc(20*time.Millisecond, func() {
			ch.s.mu.Lock()
			defer ch.s.mu.Unlock()
			if ch.stream == st {
				ch.stopMediaLocked()
			}
		})
		st.mute = true
	}
	if !ch.parked {
		st.mute = true // socket exists, nothing is sent outside park
	}
	ch.s.media.add(st)
	go st.readLoop()
}

func mustUDPAddr(ip, port string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", net.JoinHostPort(ip, port))
	if err != nil {
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	}
	return a
}
