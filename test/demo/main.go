// Command demo runs the whole rayofax stack on this machine and shows an
// inbound fax arriving, as `make demo` does after its first steps:
//
//   - Debian's prosody (the XMPP server), from deploy/prosody/rayofax.cfg.lua,
//     on free loopback ports, with a Rayo user app@localhost;
//   - the FreeSWITCH simulator (test/fsim: the real event socket wire format
//     and unicast UDP audio), in this process;
//   - rayofaxd (the real binary) with a YAML configuration pointing at both,
//     storing faxes on local disk and serving them at signed URLs;
//   - rayoctl (the real binary) running `receive`: it waits for the offer,
//     answers, starts <receivefax/> and prints the fax URL;
//   - a far-end fax machine (our own T.30 terminal) on an inbound call,
//     sending a test document.
//
// It then downloads the fax from the URL, checks that every page equals the
// page sent, writes a PNG preview of page 1 and stops everything (also on
// Ctrl-C). Usage:
//
//	go run ./test/demo [-bin bin] [-out DIR] [-doc FILE.tif] [-s3]
//
// Exit status: 0 when the fax arrived intact, 1 otherwise, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var c Config
	flag.StringVar(&c.Bin, "bin", "bin", "directory holding the rayofaxd and rayoctl binaries")
	flag.StringVar(&c.Out, "out", "test/tools/out/demo/stack", "directory for the received fax, its preview, the configuration and the logs")
	flag.StringVar(&c.Doc, "doc", "", "TIFF document the far end sends (default: a page drawn by the demo)")
	flag.StringVar(&c.Prosody, "prosody", "", "prosody program (default: prosody on $PATH)")
	flag.BoolVar(&c.S3, "s3", false, "store faxes on an S3 server (versitygw, started on loopback) instead of local files")
	flag.StringVar(&c.Versitygw, "versitygw", "", "versitygw program (default: versitygw on $PATH, then $GOPATH/bin)")
	flag.DurationVar(&c.Timeout, "timeout", 3*time.Minute, "give up after this long")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	c.Stdout = os.Stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, c)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "demo: interrupted; everything it started is stopped")
		} else {
			fmt.Fprintf(os.Stderr, "demo: FAILED: %v\n", err)
		}
		if res != nil && res.Dir != "" {
			fmt.Fprintf(os.Stderr, "demo: logs in %s\n", res.Dir)
		}
		os.Exit(1)
	}
	Summary(os.Stdout, res)
}
