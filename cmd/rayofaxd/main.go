// Command rayofaxd is the rayofax daemon: it gives Rayo applications fax on
// FreeSWITCH calls and stores received faxes where clients can fetch them.
//
// Usage:
//
//	rayofaxd [--config FILE]                 run the daemon
//	rayofaxd --check-config [--config FILE]  validate the configuration and exit
//	rayofaxd --version                       print the version
//	rayofaxd store [--config FILE] [--key KEY] FILE.tif
//	                                         store a TIFF as the daemon stores a
//	                                         received fax and print its URL (JSON)
//	rayofaxd url [--config FILE] KEY         print a fresh URL for a stored fax
//
// Every configuration key can be set in the environment (RAYOFAX_<SECTION>_<KEY>,
// see README.md). Exit status: 0 on success and after a clean SIGTERM shutdown,
// 1 on a runtime failure, 2 on bad usage or configuration.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rayofax/rayofax/cmd/rayofaxd/config"
	"github.com/rayofax/rayofax/cmd/rayofaxd/logging"
	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/fetch"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "store":
			return runStore(args[1:], stdout, stderr)
		case "url":
			return runURL(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("rayofaxd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration `file` (default: embedded defaults)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	check := fs.Bool("check-config", false, "validate the configuration and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: rayofaxd [--config FILE] [--check-config] [--version]\n"+
			"       rayofaxd store [--config FILE] [--key KEY] FILE.tif\n"+
			"       rayofaxd url [--config FILE] KEY\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rayofaxd: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	if *showVersion {
		fmt.Fprintf(stdout, "rayofaxd %s\n", version)
		return exitOK
	}
	cfg, err := config.Load(*configFile)
	if err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %v\n", err)
		return exitUsage
	}
	if *check {
		fmt.Fprintf(stdout, "rayofaxd: configuration OK\n")
		return exitOK
	}
	log, err := logging.New(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d := newDaemon(cfg, log)
	if err := d.run(ctx, stop); err != nil {
		log.Error("rayofaxd: stopped on error", "err", err)
		return exitFailure
	}
	return exitOK
}

// toolStorage opens the configured storage for a command-line tool sharing
// the daemon's spool: it stores its own file and leaves the rest to the
// daemon.
func toolStorage(fs *flag.FlagSet, configFile string, stderr io.Writer) (*config.Config, *storage.Spool, int) {
	cfg, err := config.Load(configFile)
	if err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %v\n", err)
		return nil, nil, exitUsage
	}
	log, _ := logging.New(stderr, "warn", cfg.Log.Format)
	base := cfg.PublicURL(nil)
	if cfg.Storage.Backend == "local" && strings.HasSuffix(base, ":0") {
		fmt.Fprintf(stderr, "rayofaxd: warning: http.listen has port 0, so URLs name port 0: set http.public_url (RAYOFAX_HTTP_PUBLIC_URL) to the daemon's address\n")
	}
	opts := cfg.StorageOptions(base, log, nil)
	opts.Spool.NoReplay = true
	sp, _, err := storage.Open(opts)
	if err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %v\n", err)
		return nil, nil, exitFailure
	}
	return cfg, sp, exitOK
}

// keySafe replaces the characters storage keys do not allow.
func keySafe(name string) string {
	b := []byte(name)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok || (i == 0 && c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 100 {
		b = b[len(b)-100:]
	}
	return string(b)
}

type objectJSON struct {
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

func printObject(w io.Writer, o storage.Object) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep '&' in URLs readable for shell scripts
	enc.Encode(objectJSON{o.Key, o.Size, o.URL, o.Expires.UTC()})
}

func runStore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rayofaxd store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration `file`")
	key := fs.String("key", "", "storage `key` (default: manual/<date>/<file name>)")
	timeout := fs.Duration("timeout", 0, "give up waiting for the backend after this long (the file stays spooled; 0: wait)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "usage: rayofaxd store [--config FILE] [--key KEY] FILE.tif\n")
		return exitUsage
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %v\n", err)
		return exitFailure
	}
	defer f.Close()
	var head [16]byte
	n, _ := io.ReadFull(f, head[:])
	if err := fetch.SniffTIFF(head[:n]); err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %s: %v\n", path, err)
		return exitFailure
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %v\n", err)
		return exitFailure
	}
	k := *key
	if k == "" {
		k = "manual/" + time.Now().UTC().Format("2006/01/02") + "/" + keySafe(filepath.Base(path))
	}
	if err := storage.ValidateKey(k); err != nil {
		fmt.Fprintf(stderr, "rayofaxd: --key: %v\n", err)
		return exitUsage
	}
	_, sp, code := toolStorage(fs, *configFile, stderr)
	if sp == nil {
		return code
	}
	defer sp.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	obj, err := sp.Store(ctx, k, f)
	if err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %v\n", err)
		return exitFailure
	}
	printObject(stdout, obj)
	return exitOK
}

func runURL(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rayofaxd url", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration `file`")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "usage: rayofaxd url [--config FILE] KEY\n")
		return exitUsage
	}
	_, sp, code := toolStorage(fs, *configFile, stderr)
	if sp == nil {
		return code
	}
	defer sp.Close()
	obj, err := sp.URL(context.Background(), fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "rayofaxd: %v\n", err)
		return exitFailure
	}
	printObject(stdout, obj)
	return exitOK
}
