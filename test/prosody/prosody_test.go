package prosody

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rayofax/rayofax/test/testenv"
)

// TestRunClose: a server from Run listens on both ports, takes users, and
// Close stops it and removes the directory it made.
func TestRunClose(t *testing.T) {
	bin := testenv.Program(t, "prosody")
	s, err := Run(Options{Bin: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, addr := range []string{s.C2SAddr, s.ComponentAddr} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		c.Close()
	}
	if err := s.Register("demo", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := s.Register("bad/name", "pw"); err == nil {
		t.Error("Register accepted a user name with a slash")
	}
	if err := s.RestartErr(); err != nil {
		t.Fatal(err)
	}
	dir := s.Dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s: %v", dir, err)
	}
	if c, err := net.Dial("tcp", s.C2SAddr); err == nil {
		c.Close()
		t.Error("prosody still listens after Close")
	}
}

// TestRunErrors: a missing program or template is an error naming it.
func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(Options{Bin: filepath.Join(dir, "no-prosody"), Dir: dir}); err == nil {
		t.Error("Run with a missing program succeeded")
	}
	_, err := Run(Options{Bin: "/bin/true", Dir: dir, Template: filepath.Join(dir, "none.cfg.lua")})
	if err == nil || !strings.Contains(err.Error(), "none.cfg.lua") {
		t.Errorf("missing template: %v", err)
	}
}

func TestRender(t *testing.T) {
	tmpl := []byte("a = 1 -- @test a\nb = 2\n")
	got, err := Render(tmpl, map[string]string{"a": "a = 9"})
	if err != nil || string(got) != "a = 9\nb = 2\n" {
		t.Errorf("Render: %q, %v", got, err)
	}
	if _, err := Render(tmpl, nil); err == nil {
		t.Error("a marked line without a value was accepted")
	}
	if _, err := Render(tmpl, map[string]string{"a": "", "c": ""}); err == nil {
		t.Error("a value without a marked line was accepted")
	}
}
