// Command rayoctl is a Rayo client for operators and tests: it logs in to an
// XMPP server as a user, talks to a Rayo service (rayofaxd) and prints what
// comes back, one stanza payload per line.
//
//	rayoctl [flags] listen                    print offers and events until interrupted
//	rayoctl [flags] receive                   wait for an offer, answer, receive a fax, print its URL
//	rayoctl [flags] sendfax CALL URL...       send documents as one fax on an answered call
//	rayoctl [flags] dial TO [--from URI]      place a call; print its ref and events
//	rayoctl [flags] answer|hangup CALL        call commands
//	rayoctl [flags] stop COMPONENT            stop a component
//	rayoctl [flags] raw TO XML                send XML as an iq set; print the reply and events
//
// CALL is a call JID (callid@rayo.example.com) or a bare call ID; COMPONENT
// a component JID. Flags (also after the command): --server host:port of the
// XMPP server's client port, --jid user@host[/resource], --password (or
// $RAYOCTL_PASSWORD), --service the Rayo domain, --timeout, --wait.
//
// Exit status: 0 on success, 1 when a command or fax failed, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/rayofax/rayofax/rayo/client"
	"github.com/rayofax/rayofax/rayo/wire"
)

var version = "dev"

type options struct {
	server, jid, password, service string
	timeout, wait                  time.Duration
	from                           string
	ident, header, pages           string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is bad command-line usage (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	o, pos, err := parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "rayoctl: %v\nrun 'rayoctl -h' for usage\n", err)
		return 2
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "rayoctl: no command (listen, receive, sendfax, dial, answer, hangup, stop, raw, version)")
		return 2
	}
	if pos[0] == "help" {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	if pos[0] == "version" {
		fmt.Fprintln(stdout, "rayoctl", version)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err = dispatch(ctx, o, pos, stdout)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "rayoctl: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "rayoctl: %v\n", err)
		return 1
	}
}

// parse reads flags wherever they stand among the positional arguments.
func parse(args []string) (options, []string, error) {
	o := options{password: os.Getenv("RAYOCTL_PASSWORD")}
	fs := flag.NewFlagSet("rayoctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.server, "server", "127.0.0.1:5222", "XMPP server client port, host:port")
	fs.StringVar(&o.jid, "jid", "", "user JID to log in as (user@host[/resource])")
	fs.StringVar(&o.password, "password", o.password, "password (default $RAYOCTL_PASSWORD)")
	fs.StringVar(&o.service, "service", "", "Rayo service domain, e.g. rayo.example.com")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Second, "how long to wait for a command's reply")
	fs.DurationVar(&o.wait, "wait", 10*time.Minute, "how long to wait for offers and completions")
	fs.StringVar(&o.from, "from", "", "dial: caller ID URI (tel:+1555...)")
	fs.StringVar(&o.ident, "identity", "", "sendfax: E.164 identity of the documents")
	fs.StringVar(&o.header, "header", "", "sendfax: header line of the documents")
	fs.StringVar(&o.pages, "pages", "", "sendfax: page ranges of the documents (1-3,5)")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, []string{"help"}, nil
			}
			return o, nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) > 0 && pos[0] != "version" && pos[0] != "help" {
		if o.jid == "" {
			return o, nil, errors.New("--jid is required")
		}
		if o.service == "" {
			return o, nil, errors.New("--service (the Rayo domain) is required")
		}
	}
	return o, pos, nil
}

const usage = `usage: rayoctl [flags] COMMAND [ARGS]
commands: listen | receive | sendfax CALL URL... | dial TO | answer CALL | hangup CALL | stop COMPONENT | raw TO XML | version
flags: --server host:port --jid user@host[/res] --password P --service rayo.domain --timeout D --wait D
       --from URI (dial) --identity N --header TEXT --pages RANGES (sendfax)`

func dispatch(ctx context.Context, o options, pos []string, out io.Writer) error {
	want := map[string]int{"listen": 1, "receive": 1, "dial": 2, "answer": 2, "hangup": 2, "stop": 2, "raw": 3}
	n, known := want[pos[0]]
	switch {
	case pos[0] == "sendfax":
		if len(pos) < 3 {
			return usageError{"sendfax needs CALL and at least one URL"}
		}
	case !known:
		return usageError{fmt.Sprintf("unknown command %q", pos[0])}
	case len(pos) != n:
		return usageError{fmt.Sprintf("%s takes %d argument(s)", pos[0], n-1)}
	}
	dctx, cancel := context.WithTimeout(ctx, o.timeout)
	c, err := client.Dial(dctx, client.Options{Addr: o.server, JID: o.jid, Password: o.password})
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	r := &runner{o: o, c: c, out: out}
	switch pos[0] {
	case "listen":
		return r.listen(ctx)
	case "receive":
		return r.receive(ctx)
	case "sendfax":
		return r.sendfax(ctx, r.callJID(pos[1]), pos[2:])
	case "dial":
		return r.dial(ctx, pos[1])
	case "answer", "hangup":
		_, err := r.command(ctx, r.callJID(pos[1]), wire.New(wire.NSRayo, pos[0]))
		return err
	case "stop":
		_, err := r.command(ctx, pos[1], wire.New(wire.NSExt, "stop"))
		return err
	case "raw":
		el, err := wire.Parse([]byte(pos[2]))
		if err != nil {
			return usageError{"raw: " + err.Error()}
		}
		if _, err := r.command(ctx, pos[1], el); err != nil {
			return err
		}
		return r.events(ctx, func(client.Event) bool { return false })
	}
	return nil
}

type runner struct {
	o   options
	c   *client.Client
	out io.Writer
}

func (r *runner) callJID(s string) string {
	if strings.Contains(s, "@") {
		return s
	}
	return s + "@" + r.o.service
}

func (r *runner) command(ctx context.Context, to string, payload *wire.Element) (*wire.Element, error) {
	cctx, cancel := context.WithTimeout(ctx, r.o.timeout)
	defer cancel()
	res, err := r.c.Command(cctx, to, payload)
	if err != nil {
		return nil, fmt.Errorf("%s to %s: %w", payload.Name.Local, to, err)
	}
	if res != nil {
		fmt.Fprintf(r.out, "result %s %s\n", to, res)
	} else {
		fmt.Fprintf(r.out, "result %s\n", to)
	}
	return res, nil
}

// events prints events until done says stop, the wait runs out or ctx ends.
func (r *runner) events(ctx context.Context, done func(client.Event) bool) error {
	timer := time.NewTimer(r.o.wait)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-r.c.Events():
			if !ok {
				return fmt.Errorf("connection closed: %v", r.c.Err())
			}
			typ := ev.Type
			if typ == "" {
				typ = "available"
			}
			fmt.Fprintf(r.out, "event %s %s %s\n", ev.From, typ, ev.Payload)
			if done(ev) {
				return nil
			}
		case <-timer.C:
			return fmt.Errorf("nothing more within %v", r.o.wait)
		case <-ctx.Done():
			return nil
		}
	}
}

func (r *runner) available(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, r.o.timeout)
	defer cancel()
	return r.c.Available(cctx, r.o.service)
}

func (r *runner) listen(ctx context.Context) error {
	if err := r.available(ctx); err != nil {
		return err
	}
	err := r.events(ctx, func(client.Event) bool { return false })
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// receive answers the first offer, receives a fax on it and prints the URL.
func (r *runner) receive(ctx context.Context) error {
	if err := r.available(ctx); err != nil {
		return err
	}
	var call string
	if err := r.events(ctx, func(ev client.Event) bool {
		if ev.Payload.Name.Local == "offer" {
			call = ev.From.String()
			return true
		}
		return false
	}); err != nil {
		return err
	}
	if call == "" {
		return errors.New("interrupted")
	}
	if _, err := r.command(ctx, call, wire.New(wire.NSRayo, "answer")); err != nil {
		return err
	}
	ref, err := r.command(ctx, call, wire.New(wire.NSFax, "receivefax"))
	if err != nil {
		return err
	}
	return r.complete(ctx, ref)
}

func (r *runner) sendfax(ctx context.Context, call string, urls []string) error {
	sf := wire.New(wire.NSFax, "sendfax")
	for _, u := range urls {
		d := wire.New(wire.NSFax, "document", "url", u)
		for _, a := range [][2]string{{"identity", r.o.ident}, {"header", r.o.header}, {"pages", r.o.pages}} {
			if a[1] != "" {
				d.SetAttr(a[0], a[1])
			}
		}
		sf.Append(d)
	}
	ref, err := r.command(ctx, call, sf)
	if err != nil {
		return err
	}
	return r.complete(ctx, ref)
}

// complete waits for the completion of the component ref names and prints
// the fax URL if there is one. A reason other than finish is a failure.
func (r *runner) complete(ctx context.Context, ref *wire.Element) error {
	uri, _ := ref.Attribute("uri")
	comp := strings.TrimPrefix(uri, "xmpp:")
	var reason string
	err := r.events(ctx, func(ev client.Event) bool {
		if ev.From.String() != comp || ev.Payload.Name.Local != "complete" || len(ev.Payload.Children) == 0 {
			return false
		}
		reason = ev.Payload.Children[0].Name.Local
		for _, c := range ev.Payload.Children {
			if c.Name.Local == "fax" {
				u, _ := c.Attribute("url")
				fmt.Fprintf(r.out, "fax %s\n", u)
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if reason != "finish" {
		return fmt.Errorf("component completed with %s", reason)
	}
	return nil
}

func (r *runner) dial(ctx context.Context, to string) error {
	d := wire.New(wire.NSRayo, "dial", "to", to)
	if r.o.from != "" {
		d.SetAttr("from", r.o.from)
	}
	ref, err := r.command(ctx, r.o.service, d)
	if err != nil {
		return err
	}
	uri, _ := ref.Attribute("uri")
	call := strings.TrimPrefix(uri, "xmpp:")
	var answered bool
	err = r.events(ctx, func(ev client.Event) bool {
		if ev.From.String() != call {
			return false
		}
		switch ev.Payload.Name.Local {
		case "answered":
			answered = true
			return true
		case "end":
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	if !answered {
		return errors.New("the call ended before it was answered")
	}
	return nil
}
