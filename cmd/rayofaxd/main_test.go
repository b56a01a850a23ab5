package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/cmd/rayofaxd/config"
	"github.com/rayofax/rayofax/storage/s3test"
)

// The tests below build the real binary and run it as an operator would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rayofaxd-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "rayofaxd")
		out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// cleanEnv is the environment without RAYOFAX_* settings of the caller,
// plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix+"_") || strings.HasPrefix(kv, "RAYOFAX_REQUIRE_TOOLS=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := runBinary(t, cleanEnv(), "--version")
	if code != 0 || out != "rayofaxd v0.0.0-test\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

func TestBadConfigExit2(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"unknown key", []string{"--config", write("a.yaml", "storage:\n  s3:\n    bukcet: x\n")},
			nil, "storage.s3.bukcet: unknown key (did you mean storage.s3.bucket?)"},
		{"s3 without bucket", []string{"--config", write("b.yaml", "storage:\n  backend: s3\n  s3:\n    endpoint: s3:9000\n")},
			nil, "storage.s3.bucket: required when storage.backend is s3"},
		{"bad env", nil, []string{"RAYOFAX_LOG_FORMAT=xml"}, `log.format: "xml" is not text or json`},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, nil, "none.yaml"},
		{"check-config", []string{"--check-config", "--config", write("c.yaml", "fax:\n  max_rate: 1\n")}, nil, "fax.max_rate"},
		{"bad flag", []string{"--frobnicate"}, nil, "flag provided but not defined"},
		{"stray argument", []string{"run"}, nil, `unexpected argument "run"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runBinary(t, cleanEnv(append(tc.env, "RAYOFAX_STATE_DIR="+t.TempDir())...), tc.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.want)
			}
		})
	}
	code, out, _ := runBinary(t, cleanEnv("RAYOFAX_STATE_DIR="+t.TempDir()), "--check-config", "--config", "../../deploy/rayofax.yaml")
	if code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("--check-config of the example: exit %d %q", code, out)
	}
}

// daemonProc is a running rayofaxd.
type daemonProc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  bytes.Buffer
	done chan error
}

func (d *daemonProc) logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

var listenRE = regexp.MustCompile(`"?addr"?[=:]"?(127\.0\.0\.1:\d+)`)

// startDaemon runs rayofaxd with env and waits until it logs "ready".
func startDaemon(t *testing.T, env []string, args ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		closed := false
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.log.WriteString(line + "\n")
			if m := listenRE.FindStringSubmatch(line); m != nil && strings.Contains(line, "http listening") {
				d.addr = m[1]
			}
			d.mu.Unlock()
			if !closed && strings.Contains(line, "rayofaxd: ready") {
				close(ready)
				closed = true
			}
		}
	}()
	go func() { d.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-d.done
		}
	})
	select {
	case <-ready:
	case err := <-d.done:
		t.Fatalf("rayofaxd exited early (%v):\n%s", err, d.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("rayofaxd not ready after 30s:\n%s", d.logs())
	}
	return d
}

func (d *daemonProc) stop(t *testing.T) int {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("rayofaxd did not stop on SIGTERM:\n%s", d.logs())
	}
	return d.cmd.ProcessState.ExitCode()
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func tiffFile(t *testing.T) (string, []byte) {
	t.Helper()
	data := append([]byte("II*\x00\x08\x00\x00\x00"), bytes.Repeat([]byte("fax page "), 2000)...)
	p := filepath.Join(t.TempDir(), "page.tif")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, data
}

type storeOutput struct {
	Key, URL string
	Size     int64
	Expires  time.Time
}

func TestDaemonLocal(t *testing.T) {
	state := t.TempDir()
	secret := "xmpp-component-SECRET-value"
	cfgFile := filepath.Join(t.TempDir(), "rayofax.yaml")
	os.WriteFile(cfgFile, []byte("esl:\n  password: esl-SECRET-from-file\nhttp:\n  listen: 127.0.0.1:0\n"), 0o600)
	env := cleanEnv("RAYOFAX_STATE_DIR="+state, "RAYOFAX_XMPP_SECRET="+secret,
		"RAYOFAX_STORAGE_LOCAL_SIGNING_KEY=signing-SECRET-0123456789", "RAYOFAX_LOG_FORMAT=json")
	d := startDaemon(t, env, "--config", cfgFile)
	base := "http://" + d.addr

	if code, body := httpGet(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	// Nothing listens on the default FreeSWITCH and XMPP addresses here:
	// the daemon runs, keeps retrying, and says why it is not ready.
	if code, body := httpGet(t, base+"/readyz"); code != 503 || !strings.Contains(body, "esl: not connected") || !strings.Contains(body, "xmpp: not connected") {
		t.Errorf("/readyz: %d %q, want 503 naming esl and xmpp", code, body)
	}

	// A TIFF stored through the daemon's spool is served at a signed URL.
	tif, data := tiffFile(t)
	code, out, stderr := runBinary(t, append(env, "RAYOFAX_HTTP_PUBLIC_URL="+base), "store", "--config", cfgFile, "--key", "test/page.tif", tif)
	if code != 0 {
		t.Fatalf("store: exit %d: %s", code, stderr)
	}
	var obj storeOutput
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("store output %q: %v", out, err)
	}
	if obj.Key != "test/page.tif" || obj.Size != int64(len(data)) || !strings.HasPrefix(obj.URL, base+"/files/test/page.tif?") {
		t.Fatalf("store output %+v", obj)
	}
	resp, err := http.Get(obj.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "image/tiff" {
		t.Fatalf("signed URL: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	if code, _ := httpGet(t, strings.Replace(obj.URL, "page.tif", "other.tif", 1)); code != 403 {
		t.Errorf("tampered URL: %d, want 403", code)
	}
	if code, _ := httpGet(t, base+"/files/test/page.tif"); code != 403 {
		t.Errorf("unsigned URL: %d, want 403", code)
	}
	// A non-TIFF is refused by `store`.
	txt := filepath.Join(t.TempDir(), "a.pdf")
	os.WriteFile(txt, []byte("%PDF-1.4 ..."), 0o600)
	if code, _, stderr := runBinary(t, env, "store", txt); code != 1 || !strings.Contains(stderr, "looks like PDF") {
		t.Errorf("store of a PDF: exit %d %q", code, stderr)
	}
	// `url` reissues a URL for the stored fax.
	code, out, stderr = runBinary(t, append(env, "RAYOFAX_HTTP_PUBLIC_URL="+base), "url", "test/page.tif")
	if code != 0 || !strings.Contains(out, "/files/test/page.tif?") {
		t.Fatalf("url: exit %d %q %q", code, out, stderr)
	}
	if code, _, stderr := runBinary(t, env, "url", "test/none.tif"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("url of a missing key: exit %d %q", code, stderr)
	}

	code, metrics := httpGet(t, base+"/metrics")
	for _, m := range []string{`rayofax_build_info{version="v0.0.0-test"} 1`, "rayofax_storage_spool_pending 0", "go_goroutines"} {
		if code != 200 || !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}

	if code := d.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM %d, want 0", code)
	}
	logs := d.logs()
	for _, s := range []string{secret, "esl-SECRET-from-file", "signing-SECRET"} {
		if strings.Contains(logs, s) {
			t.Errorf("secret %q in the logs", s)
		}
	}
	// Start-up names the version, the file and effective settings; every
	// line is JSON because RAYOFAX_LOG_FORMAT overrode the default.
	if strings.Contains(logs, "signature=") {
		t.Error("a URL signature was logged")
	}
	for _, s := range []string{`"msg":"http: fax request","method":"GET","path":"/files/test/page.tif","status":200`,
		`"path":"/files/test/other.tif","status":403`, `"version":"v0.0.0-test"`, `"config":"` + cfgFile, `"xmpp.secret":"[redacted]"`,
		`"esl.address":"127.0.0.1:8021"`, `"msg":"rayofaxd: stopped"`} {
		if !strings.Contains(logs, s) {
			t.Errorf("logs lack %s", s)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not a JSON line: %s", line)
		}
	}
}

func TestDaemonS3(t *testing.T) {
	srv := s3test.Start(t)
	env := cleanEnv("RAYOFAX_STATE_DIR="+t.TempDir(), "RAYOFAX_HTTP_LISTEN=127.0.0.1:0",
		"RAYOFAX_STORAGE_BACKEND=s3", "RAYOFAX_STORAGE_S3_ENDPOINT="+srv.Endpoint, "RAYOFAX_STORAGE_S3_BUCKET=faxes",
		"RAYOFAX_STORAGE_S3_TLS=false", "RAYOFAX_STORAGE_S3_CREATE_BUCKET=true",
		"RAYOFAX_STORAGE_S3_ACCESS_KEY="+srv.AccessKey, "RAYOFAX_STORAGE_S3_SECRET_KEY="+srv.SecretKey)
	d := startDaemon(t, env)
	tif, data := tiffFile(t)
	code, out, stderr := runBinary(t, env, "store", "--key", "s3/page.tif", tif)
	if code != 0 {
		t.Fatalf("store: exit %d: %s", code, stderr)
	}
	var obj storeOutput
	json.Unmarshal([]byte(out), &obj)
	if !strings.HasPrefix(obj.URL, "http://"+srv.Endpoint+"/faxes/faxes/s3/page.tif?") {
		t.Fatalf("URL %s", obj.URL)
	}
	resp, err := http.Get(obj.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("presigned URL: %d, %d bytes", resp.StatusCode, len(got))
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if strings.Contains(d.logs(), srv.SecretKey) {
		t.Error("S3 secret key in the logs")
	}
}

// TestGracefulShutdown runs the daemon in-process: on SIGTERM (ctx) it
// waits for active work, up to the grace period.
func TestGracefulShutdown(t *testing.T) {
	for _, tc := range []struct {
		name      string
		grace     time.Duration
		workFor   time.Duration
		minWait   time.Duration
		maxWait   time.Duration
		cutLogged bool
	}{
		{"work finishes", 5 * time.Second, 300 * time.Millisecond, 250 * time.Millisecond, 4 * time.Second, false},
		{"grace expires", 300 * time.Millisecond, time.Hour, 250 * time.Millisecond, 4 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RAYOFAX_STATE_DIR", t.TempDir())
			t.Setenv("RAYOFAX_HTTP_LISTEN", "127.0.0.1:0")
			cfg, err := config.Load("")
			if err != nil {
				t.Fatal(err)
			}
			cfg.Shutdown.GracePeriod = tc.grace
			var logs syncBuffer
			d := newDaemon(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.run(ctx, func() {}) }()
			for !strings.Contains(logs.String(), "rayofaxd: ready") {
				time.Sleep(5 * time.Millisecond)
			}
			finish := d.active.Begin()
			go func() { time.Sleep(tc.workFor); finish() }()
			start := time.Now()
			cancel()
			// While draining, /readyz says so.
			addr := listenRE.FindStringSubmatch(logs.String())[1]
			code, body := 0, ""
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if code, body = httpGet(t, "http://"+addr+"/readyz"); code == 503 {
					break
				}
			}
			if code != 503 || !strings.Contains(body, "shutting down") {
				t.Errorf("/readyz while draining: %d %q", code, body)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < tc.minWait || el > tc.maxWait {
				t.Errorf("shutdown took %v, want %v..%v", el, tc.minWait, tc.maxWait)
			}
			if got := strings.Contains(logs.String(), "grace period over"); got != tc.cutLogged {
				t.Errorf("cut logged %v, want %v:\n%s", got, tc.cutLogged, logs.String())
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestKeySafe(t *testing.T) {
	for in, want := range map[string]string{
		"page.tif":       "page.tif",
		"my fax (1).tif": "my_fax__1_.tif",
		".hidden.tif":    "_hidden.tif",
		"fäx.tif":        "f__x.tif",
		"a/b":            "a_b",
	} {
		if got := keySafe(in); got != want {
			t.Errorf("keySafe(%q) = %q, want %q", in, got, want)
		}
	}
}
