// Package prosody starts a real Prosody XMPP server on loopback ports, from
// the deployment example deploy/prosody/rayofax.cfg.lua: for tests (Start)
// and for programs such as the demo (Run).
package prosody

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/test/child"
	"github.com/rayofax/rayofax/test/testenv"
)

// Options configure Run. The zero value finds prosody on $PATH, the
// configuration template from the module root above the working directory,
// and keeps its data in a new temporary directory.
type Options struct {
	Bin      string // the prosody program; "prosody" on $PATH when empty
	Dir      string // directory for config, data and log; a new temporary directory (removed by Close) when empty
	Template string // the configuration template; <module root>/deploy/prosody/rayofax.cfg.lua when empty
	// StartTimeout bounds the wait for prosody's ports (10 s when zero).
	StartTimeout time.Duration
}

// Server is a running Prosody.
type Server struct {
	Host            string // the users' virtual host, "localhost"
	ComponentDomain string // the component's domain, "rayo.localhost"
	Secret          string // the component secret
	C2SAddr         string // host:port for clients
	ComponentAddr   string // host:port for the component
	Dir             string // config, data and log ("prosody.log")

	removeDir bool
	timeout   time.Duration
	cfg       string
	bin       string
	t         testing.TB // nil for servers from Run

	mu     sync.Mutex
	cmd    *exec.Cmd
	output *syncBuffer
	exited chan struct{}
}

// Start runs Prosody until the test ends. It skips the test (or fails it
// under make check) when prosody is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testenv.Program(t, "prosody")
	s, err := Run(Options{Bin: bin, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s.t = t
	t.Cleanup(s.Stop)
	return s
}

// Run starts Prosody and waits until it listens on its client and component
// ports. The caller must Close it.
func Run(o Options) (*Server, error) {
	bin := o.Bin
	if bin == "" {
		p, err := exec.LookPath("prosody")
		if err != nil {
			return nil, fmt.Errorf("prosody: not installed (test/tools/deps.sh installs it): %w", err)
		}
		bin = p
	}
	tmpl := o.Template
	if tmpl == "" {
		root, err := moduleRoot()
		if err != nil {
			return nil, fmt.Errorf("prosody: %w", err)
		}
		tmpl = filepath.Join(root, "deploy", "prosody", "rayofax.cfg.lua")
	}
	s := &Server{
		Host:            "localhost",
		ComponentDomain: "rayo.localhost",
		Secret:          "s3cret-" + fmt.Sprint(os.Getpid()),
		Dir:             o.Dir,
		bin:             bin,
		timeout:         o.StartTimeout,
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	if s.Dir == "" {
		d, err := os.MkdirTemp("", "rayofax-prosody-")
		if err != nil {
			return nil, fmt.Errorf("prosody: %w", err)
		}
		s.Dir, s.removeDir = d, true
	}
	if err := s.configure(tmpl); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) configure(tmplPath string) error {
	c2s, err := freePort()
	if err != nil {
		return err
	}
	comp, err := freePort()
	if err != nil {
		return err
	}
	s.C2SAddr = fmt.Sprintf("127.0.0.1:%d", c2s)
	s.ComponentAddr = fmt.Sprintf("127.0.0.1:%d", comp)
	for _, d := range []string{"data", "certs"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			return fmt.Errorf("prosody: %w", err)
		}
	}
	tmpl, err := os.ReadFile(tmplPath)
	if err != nil {
		return fmt.Errorf("prosody: config template: %w", err)
	}
	runAsRoot := ""
	if os.Geteuid() == 0 {
		runAsRoot = "run_as_root = true\n"
	}
	cfg, err := Render(tmpl, map[string]string{
		"data_path":                    fmt.Sprintf("data_path = %q", filepath.Join(s.Dir, "data")),
		"pidfile":                      fmt.Sprintf("pidfile = %q\n%s", filepath.Join(s.Dir, "prosody.pid"), runAsRoot),
		"interfaces":                   `interfaces = { "127.0.0.1" }`,
		"c2s_ports":                    fmt.Sprintf("c2s_ports = { %d }", c2s),
		"component_ports":              fmt.Sprintf("component_ports = { %d }", comp),
		"component_interfaces":         `component_interfaces = { "127.0.0.1" }`,
		"modules_enabled":              `modules_enabled = { "disco"; "roster"; "saslauth"; "ping"; "presence"; "iq"; "posix" }`,
		"modules_disabled":             `modules_disabled = { "s2s"; "tls"; "http"; "offline"; "c2s_bosh"; "limits" }`,
		"c2s_require_encryption":       "c2s_require_encryption = false",
		"allow_unencrypted_plain_auth": "allow_unencrypted_plain_auth = true",
		"authentication":               `authentication = "internal_plain"`,
		"certificates":                 fmt.Sprintf("certificates = %q", filepath.Join(s.Dir, "certs")),
		"log":                          fmt.Sprintf(`log = { { levels = { min = "info" }, to = "file", filename = %q } }`, s.LogPath()),
		"virtualhost":                  fmt.Sprintf("VirtualHost %q", s.Host),
		"component":                    fmt.Sprintf("Component %q", s.ComponentDomain),
		"component_secret":             fmt.Sprintf("\tcomponent_secret = %q", s.Secret),
	})
	if err != nil {
		return err
	}
	s.cfg = filepath.Join(s.Dir, "prosody.cfg.lua")
	if err := os.WriteFile(s.cfg, cfg, 0o644); err != nil {
		return fmt.Errorf("prosody: %w", err)
	}
	return nil
}

// Render replaces every line of tmpl marked "-- @test KEY" with vals[KEY].
// Every marked key must have a value, and every value a marked line, so that
// the deployment example and the tests cannot drift apart unnoticed.
func Render(tmpl []byte, vals map[string]string) ([]byte, error) {
	used := map[string]bool{}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(tmpl))
	for sc.Scan() {
		line := sc.Text()
		if m := testMark.FindStringSubmatch(line); m != nil {
			v, ok := vals[m[1]]
			if !ok {
				return nil, fmt.Errorf("prosody config: no test value for @test %s", m[1])
			}
			used[m[1]] = true
			line = v
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	for k := range vals {
		if !used[k] {
			return nil, fmt.Errorf("prosody config: no line marked @test %s", k)
		}
	}
	return out.Bytes(), sc.Err()
}

var testMark = regexp.MustCompile(`--\s*@test\s+(\S+)\s*$`)

// syncBuffer collects prosody's console output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (s *Server) start() error {
	cmd := exec.Command(s.bin, "--config", s.cfg, "-F")
	cmd.Dir = s.Dir
	child.DieWithParent(cmd, syscall.SIGTERM)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("prosody: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.output, s.exited = cmd, out, exited
	s.mu.Unlock()
	deadline := time.Now().Add(s.timeout)
	for _, addr := range []string{s.C2SAddr, s.ComponentAddr} {
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				return fmt.Errorf("prosody exited at start:\n%s\n%s", out.String(), s.Log())
			default:
			}
			if time.Now().After(deadline) {
				s.Stop()
				return fmt.Errorf("prosody did not listen on %s within %v:\n%s", addr, s.timeout, s.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// Stop stops Prosody (SIGTERM, then SIGKILL after 5 s). The directory stays,
// so Restart can start it again.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

// Close stops Prosody and removes its directory if Run made it.
func (s *Server) Close() error {
	s.Stop()
	if s.removeDir {
		s.removeDir = false
		if err := os.RemoveAll(s.Dir); err != nil {
			return fmt.Errorf("prosody: %w", err)
		}
	}
	return nil
}

// Restart stops Prosody and starts it again on the same ports, as an
// operator restarting the XMPP server would. It fails the test on error;
// programs use RestartErr.
func (s *Server) Restart() {
	if err := s.RestartErr(); err != nil {
		s.fatal(err)
	}
}

// RestartErr is Restart returning its error.
func (s *Server) RestartErr() error {
	s.Stop()
	return s.start()
}

// AddUser registers user@Host with the given password. It fails the test
// on error; programs use Register.
func (s *Server) AddUser(user, pass string) {
	if err := s.Register(user, pass); err != nil {
		s.fatal(err)
	}
}

// Register registers user@Host with the given password. Prosody reads
// accounts from its data directory at each login, so this works while it
// runs.
func (s *Server) Register(user, pass string) error {
	if user == "" || strings.ContainsAny(user, "/@\\ .") {
		return fmt.Errorf("prosody: invalid user name %q", user)
	}
	dir := filepath.Join(s.Dir, "data", strings.ReplaceAll(s.Host, ".", "%2e"), "accounts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("prosody: add user %s: %w", user, err)
	}
	body := fmt.Sprintf("return { [\"password\"] = %q; };\n", pass)
	if err := os.WriteFile(filepath.Join(dir, user+".dat"), []byte(body), 0o644); err != nil {
		return fmt.Errorf("prosody: add user %s: %w", user, err)
	}
	return nil
}

// fatal reports err on the test of a Start server; a Run server has no
// test, so the error goes to stderr (such callers use the Err variants).
func (s *Server) fatal(err error) {
	if s.t != nil {
		s.t.Helper()
		s.t.Fatal(err)
		return
	}
	fmt.Fprintln(os.Stderr, err)
}

// LogPath is the file Prosody logs to.
func (s *Server) LogPath() string { return filepath.Join(s.Dir, "prosody.log") }

// Log returns what Prosody has logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogPath())
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("prosody: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// moduleRoot finds the directory holding go.mod at or above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
