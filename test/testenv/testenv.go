// Package testenv lets tests that need outside programs (prosody, tiffcp,
// gs, versitygw) skip in a bare `go test ./...` but fail under `make check`,
// which sets RAYOFAX_REQUIRE_TOOLS=1.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Required reports whether missing programs are failures rather than skips.
func Required() bool { return os.Getenv("RAYOFAX_REQUIRE_TOOLS") == "1" }

// Program returns the path of the named program. When it is missing the test
// is skipped, or failed when Required.
func Program(t testing.TB, name string) string {
	t.Helper()
	p, err := LookPath(name)
	if err != nil {
		Missing(t, name+" not found (run `make deps`)")
	}
	return p
}

// LookPath finds name on PATH or in $(go env GOPATH)/bin, where `make deps`
// installs Go-built test servers.
func LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	p := filepath.Join(gopath, "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return exec.LookPath(name) // for its error
}

// Missing skips or fails the test because something it needs is absent.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("required for make check: %s", why)
	}
	t.Skip(why)
}

// SharedDir returns the path of ../shared beside the checkout (the specs,
// wire samples and test documents), found by walking up from the working
// directory. The test is skipped (or failed when Required) if it is absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(s); err != nil {
				Missing(t, "../shared beside the checkout not found")
			}
			return s
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}
