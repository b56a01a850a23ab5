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
	out  bytes.Buffer
}

// Start starts versitygw on a free loopback port. The test is skipped (or
// failed under make check) when versitygw is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testenv.Program(t, "versitygw")
	port, err := freePort()
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	s := &Server{
		Endpoint:  fmt.Sprintf("127.0.0.1:%d", port),
		AccessKey: "rayofaxtest",
		SecretKey: "rayofax-test-secret-key",
		Dir:       filepath.Join(t.TempDir(), "s3"),
		t:         t,
		bin:       bin,
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	var lastErr error
	for try := 0; try < 50; try++ {
		cmd := exec.Command(s.bin, "--access", s.AccessKey, "--secret", s.SecretKey,
			"--port", s.Endpoint, "--quiet", "posix", s.Dir)
		s.out.Reset()
		cmd.Stdout = &s.out
		cmd.Stderr = &s.out
		if err := cmd.Start(); err != nil {
			s.t.Fatalf("s3test: start versitygw: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-done:
				// Exited: most likely the port is still held; try again.
				lastErr = fmt.Errorf("versitygw exited: %s", s.out.String())
				time.Sleep(100 * time.Millisecond)
				goto next
			default:
			}
			if c, err := net.DialTimeout("tcp", s.Endpoint, 100*time.Millisecond); err == nil {
				c.Close()
				s.cmd, s.done = cmd, done
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Kill()
		<-done
		lastErr = fmt.Errorf("versitygw not listening on %s after 10s: %s", s.Endpoint, s.out.String())
	next:
	}
	s.t.Fatalf("s3test: %v", lastErr)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
