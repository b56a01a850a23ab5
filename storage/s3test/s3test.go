// Package s3test runs a real S3-compatible server (versitygw, which checks
// SigV4 signatures and presigned URL expiry) on a loopback port for tests.
package s3test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/test/child"
	"github.com/rayofax/rayofax/test/testenv"
)

// Server is a versitygw process serving a posix directory on loopback.
// It is stopped when the test ends.
type Server struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string
	Dir       string // the directory holding the buckets

	t    testing.TB
	bin  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts versitygw on a free loopback port. The test is skipped (or
// failed under make check) when versitygw is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testenv.Program(t, "versitygw")
	s := &Server{
		AccessKey: "rayofaxtest",
		SecretKey: "rayofax-test-secret-key",
		Dir:       filepath.Join(t.TempDir(), "s3"),
		t:         t,
		bin:       bin,
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	// A free port may be taken by someone else before versitygw binds it:
	// then try another.
	var err error
	for try := 0; try < 5; try++ {
		port, perr := freePort()
		if perr != nil {
			t.Fatalf("s3test: %v", perr)
		}
		s.Endpoint = fmt.Sprintf("127.0.0.1:%d", port)
		if err = s.start(3); err == nil {
			return s
		}
	}
	t.Fatalf("s3test: %v", err)
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL) and waits for it; a stopped
// server refuses connections. The directory and port stay reserved for
// Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts the server again on the same port and directory (after
// Stop) and waits until it accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	// The port was ours a moment ago; retry while the old socket lingers.
	if err := s.start(50); err != nil {
		s.t.Fatalf("s3test: %v", err)
	}
}

func (s *Server) start(tries int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	var lastErr error
	for try := 0; try < tries; try++ {
		cmd := exec.Command(s.bin, "--access", s.AccessKey, "--secret", s.SecretKey,
			"--port", s.Endpoint, "--quiet", "posix", s.Dir)
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &out
		child.DieWithParent(cmd, syscall.SIGKILL)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start versitygw: %w", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		if err := waitListening(s.Endpoint, done); err != nil {
			cmd.Process.Kill()
			<-done
			lastErr = fmt.Errorf("versitygw on %s: %v: %s", s.Endpoint, err, out.String())
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.cmd, s.done = cmd, done
		return nil
	}
	return lastErr
}

// waitListening waits until addr accepts connections, the process exits
// (done closes) or 10 s pass.
func waitListening(addr string, done <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("exited")
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			// Someone else may own the port; ours would exit on bind.
			select {
			case <-done:
				return fmt.Errorf("exited (port taken?)")
			case <-time.After(50 * time.Millisecond):
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not listening after 10s")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
