// Package prosody starts a real Prosody XMPP server for tests, on loopback
// ports, from the deployment example deploy/prosody/rayofax.cfg.lua.
package prosody

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/test/testenv"
)

// Server is a running Prosody.
type Server struct {
	Host            string // the users' virtual host, "localhost"
	ComponentDomain string // the component's domain, "rayo.localhost"
	Secret          string // the component secret
	C2SAddr         string // host:port for clients
	ComponentAddr   string // host:port for the component

	dir    string
	cfg    string
	cmd    *exec.Cmd
	bin    string
	output bytes.Buffer
	t      testing.TB
	exited chan struct{}
}

// Start runs Prosody until the test ends. It skips the test (or fails it
// under make check) when prosody is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testenv.Program(t, "prosody")
	s := &Server{
		Host:            "localhost",
		ComponentDomain: "rayo.localhost",
		Secret:          "s3cret-" + fmt.Sprint(os.Getpid()),
		dir:             t.TempDir(),
		t:               t,
	}
	c2s, comp := freePort(t), freePort(t)
	s.C2SAddr = fmt.Sprintf("127.0.0.1:%d", c2s)
	s.ComponentAddr = fmt.Sprintf("127.0.0.1:%d", comp)
	for _, d := range []string{"data", "certs"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root := repoRoot(t)
	tmpl, err := os.ReadFile(filepath.Join(root, "deploy", "prosody", "rayofax.cfg.lua"))
	if err != nil {
		t.Fatal(err)
	}
	runAsRoot := ""
	if os.Geteuid() == 0 {
		runAsRoot = "run_as_root = true\n"
	}
	cfg, err := Render(tmpl, map[string]string{
		"data_path":                    fmt.Sprintf("data_path = %q", filepath.Join(s.dir, "data")),
		"pidfile":                      fmt.Sprintf("pidfile = %q\n%s", filepath.Join(s.dir, "prosody.pid"), runAsRoot),
		"interfaces":                   `interfaces = { "127.0.0.1" }`,
		"c2s_ports":                    fmt.Sprintf("c2s_ports = { %d }", c2s),
		"component_ports":              fmt.Sprintf("component_ports = { %d }", comp),
		"component_interfaces":         `component_interfaces = { "127.0.0.1" }`,
		"modules_enabled":              `modules_enabled = { "disco"; "roster"; "saslauth"; "ping"; "presence"; "iq"; "posix" }`,
		"modules_disabled":             `modules_disabled = { "s2s"; "tls"; "http"; "offline"; "c2s_bosh"; "limits" }`,
		"c2s_require_encryption":       "c2s_require_encryption = false",
		"allow_unencrypted_plain_auth": "allow_unencrypted_plain_auth = true",
		"authentication":               `authentication = "internal_plain"`,
		"certificates":                 fmt.Sprintf("certificates = %q", filepath.Join(s.dir, "certs")),
		"log":                          fmt.Sprintf(`log = { { levels = { min = "info" }, to = "file", filename = %q } }`, filepath.Join(s.dir, "prosody.log")),
		"virtualhost":                  fmt.Sprintf("VirtualHost %q", s.Host),
		"component":                    fmt.Sprintf("Component %q", s.ComponentDomain),
		"component_secret":             fmt.Sprintf("\tcomponent_secret = %q", s.Secret),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = filepath.Join(s.dir, "prosody.cfg.lua")
	if err := os.WriteFile(s.cfg, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	s.bin = bin
	s.start()
	t.Cleanup(s.Stop)
	return s
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

func (s *Server) start() {
	t := s.t
	s.cmd = exec.Command(s.bin, "--config", s.cfg, "-F")
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = &s.output, &s.output
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("prosody: %v", err)
	}
	s.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(s.cmd, s.exited)
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range []string{s.C2SAddr, s.ComponentAddr} {
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-s.exited:
				t.Fatalf("prosody exited at start:\n%s\n%s", s.output.String(), s.Log())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("prosody did not listen on %s:\n%s", addr, s.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Stop stops Prosody (SIGTERM, then SIGKILL).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Restart stops Prosody and starts it again on the same ports, as an
// operator restarting the XMPP server would.
func (s *Server) Restart() {
	s.Stop()
	s.start()
}

// AddUser registers user@Host with the given password.
func (s *Server) AddUser(user, pass string) {
	dir := filepath.Join(s.dir, "data", strings.ReplaceAll(s.Host, ".", "%2e"), "accounts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	body := fmt.Sprintf("return { [\"password\"] = %q; };\n", pass)
	if err := os.WriteFile(filepath.Join(dir, user+".dat"), []byte(body), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// Log returns what Prosody has logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "prosody.log"))
	return string(b)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
