// Command rayofax is the fax tool: it inspects and converts TIFF fax
// documents and (in fax.go) sends and receives faxes.
//
// Usage:
//
//	rayofax <command> [arguments]
//	rayofax help [command]
//
// # Adding a command
//
// Each command lives in its own file and registers itself from an init
// function; nothing else needs editing:
//
//	func init() { register("send", "send a fax", "send [options] FILE", runSend) }
//
//	func runSend(env *Env, args []string) error { ... }
//
// A command parses its own flags, preferably with parseArgs (which lets
// options come before or after the positional arguments), prints to
// env.Stdout and env.Stderr, and returns nil (exit status 0), an error
// (status 1, printed as "rayofax: <error>") or an error made with usage()
// (status 2, printed with the command's usage line). An error with a
// reported() method has been reported by the command: status 1, nothing
// more printed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// version is set by the linker (see the Makefile).
var version = "dev"

// Env is what a command gets from the process.
type Env struct {
	Stdout, Stderr io.Writer
}

type command struct {
	name, summary, usage string
	run                  func(env *Env, args []string) error
}

var commands = map[string]*command{}

// register adds a command. usageLine starts with the command name.
func register(name, summary, usageLine string, run func(env *Env, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("rayofax: command registered twice: " + name)
	}
	commands[name] = &command{name: name, summary: summary, usage: usageLine, run: run}
}

// usageError makes the command exit with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// reportedError is an error the command has already reported on stderr
// (the fax commands' JSON line): it exits 1 and prints nothing more.
type reportedError interface {
	error
	reported()
}

// usage returns an error that prints the command's usage and exits 2.
func usage(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// parseArgs parses flags that may stand before, between or after the
// positional arguments (the flag package alone stops at the first
// positional). "--" ends the options: everything after it is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usage("help requested")
			}
			return nil, usage("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func main() {
	os.Exit(run(os.Args[1:], &Env{Stdout: os.Stdout, Stderr: os.Stderr}))
}

// run executes a command line and returns the exit status: 0 success, 1
// failure, 2 usage error.
func run(args []string, env *Env) int {
	if len(args) == 0 {
		printHelp(env.Stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				printUsage(env.Stdout, c)
				return 0
			}
		}
		printHelp(env.Stdout)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(env.Stdout, "rayofax", version)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "rayofax: unknown command %q\n", name)
		printHelp(env.Stderr)
		return 2
	}
	err := c.run(env, args[1:])
	var ue *usageError
	var rep reportedError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &rep):
		return 1 // the command has said what went wrong
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "rayofax %s: %v\n", name, ue.msg)
		printUsage(env.Stderr, c)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "rayofax %s: %v\n", name, err)
		return 1
	}
}

func printUsage(w io.Writer, c *command) {
	fmt.Fprintln(w, "usage:")
	for _, line := range strings.Split(c.usage, "\n") {
		if strings.HasPrefix(line, " ") {
			fmt.Fprintf(w, "          %s\n", line)
		} else {
			fmt.Fprintf(w, "  rayofax %s\n", line)
		}
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: rayofax <command> [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  %-10s %s\n", n, c.summary)
	}
	fmt.Fprintln(w, "\nrayofax help COMMAND prints a command's usage; rayofax version its version.")
}
