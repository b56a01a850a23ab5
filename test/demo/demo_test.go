package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/test/testenv"
)

var bins struct {
	once sync.Once
	dir  string
	err  error
}

// buildBinaries builds rayofaxd and rayoctl once per test run into a
// temporary directory, as make build does into bin/.
func buildBinaries(t *testing.T) string {
	t.Helper()
	bins.once.Do(func() {
		bins.dir, bins.err = os.MkdirTemp("", "rayofax-demo-bin-")
		for _, name := range []string{"rayofaxd", "rayoctl"} {
			if bins.err != nil {
				return
			}
			out, err := exec.Command("go", "build", "-o", filepath.Join(bins.dir, name), "github.com/rayofax/rayofax/cmd/"+name).CombinedOutput()
			if err != nil {
				bins.err = fmt.Errorf("go build %s: %v\n%s", name, err, out)
			}
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.dir
}

func TestMain(m *testing.M) {
	// make demo's earlier steps export these; they must not reach the
	// demo's rayofaxd, whose configuration file says otherwise.
	os.Setenv("RAYOFAX_STATE_DIR", filepath.Join(os.TempDir(), "rayofax-demo-test-elsewhere"))
	os.Setenv("RAYOFAX_HTTP_LISTEN", "127.0.0.1:0")
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// lockedBuffer collects the demo's output, written from several goroutines.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	onLine func(string)
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.onLine != nil {
		for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
			b.onLine(l)
		}
	}
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestDemo runs the demo as make demo does, on the page it draws: the fax
// crosses prosody, the simulator, rayofaxd and rayoctl and arrives intact,
// stored on local files (make demo) or on versitygw (-s3). The calls run in
// real time, so the cases run in parallel.
func TestDemo(t *testing.T) {
	for _, s3 := range []bool{false, true} {
		name := "local"
		if s3 {
			name = "s3"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testDemo(t, s3)
		})
	}
}

func testDemo(t *testing.T, s3 bool) {
	prosodyBin := testenv.Program(t, "prosody")
	c := Config{Prosody: prosodyBin, S3: s3}
	if s3 {
		c.Versitygw = testenv.Program(t, "versitygw")
	}
	c.Bin = buildBinaries(t)
	out := filepath.Join(t.TempDir(), "demo")
	c.Out = out
	var buf lockedBuffer
	c.Stdout = &buf
	res, err := Run(context.Background(), c)
	t.Logf("demo output:\n%s", buf.String())
	if err != nil {
		logs(t, out)
		t.Fatal(err)
	}
	if res.Pages != 1 {
		t.Errorf("%d pages received, want 1", res.Pages)
	}
	urlRE := regexp.MustCompile(`^http://127\.0\.0\.1:\d+/files/.+\.tif\?expires=\d+&signature=`)
	if s3 {
		urlRE = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/faxes/.+\.tif\?X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Signature=`)
	}
	if !urlRE.MatchString(res.URL) {
		t.Errorf("fax URL %q is not a signed URL of the storage", res.URL)
	}
	meta := map[string]string{}
	for _, m := range res.Metadata {
		meta[m[0]] = m[1]
	}
	if meta["fax-result"] != "ok" || meta["fax-pages"] != "1" || meta["fax-remote-ident"] != farIdent {
		t.Errorf("completion metadata %v, want fax-result ok, fax-pages 1, fax-remote-ident %s", meta, farIdent)
	}
	if res.Sent.Pages != 1 {
		t.Errorf("the far end reports %d pages sent, want 1", res.Sent.Pages)
	}
	f, err := os.Open(res.Preview)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	// Standard resolution: every row twice, for the page's proportions.
	if cfg.Width != pageWidth || cfg.Height != 2*pageHeight {
		t.Errorf("preview is %dx%d, want %dx%d", cfg.Width, cfg.Height, pageWidth, 2*pageHeight)
	}
	if !strings.Contains(buf.String(), "stopped (SIGTERM, graceful, exit status 0)") {
		t.Error("rayofaxd did not stop gracefully")
	}
	var sum bytes.Buffer
	Summary(&sum, res)
	for _, want := range []string{res.URL, res.Preview, "fax-transfer-rate", filepath.Join(out, "rayofax.yaml")} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

// TestDemoInterrupted: Ctrl-C in the middle of the call stops everything the
// demo started.
func TestDemoInterrupted(t *testing.T) {
	t.Parallel()
	prosodyBin := testenv.Program(t, "prosody")
	bin := buildBinaries(t)
	out := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pid := 0
	pidRE := regexp.MustCompile(`^rayofaxd +ready \(pid (\d+)\)`)
	buf := lockedBuffer{onLine: func(l string) {
		if m := pidRE.FindStringSubmatch(l); m != nil {
			pid, _ = strconv.Atoi(m[1])
		}
		if strings.HasPrefix(l, "far end ") && strings.Contains(l, "calls") {
			// The call is placed: interrupt a moment later, mid-fax.
			time.AfterFunc(2*time.Second, cancel)
		}
	}}
	_, err := Run(ctx, Config{Bin: bin, Out: out, Prosody: prosodyBin, Stdout: &buf})
	t.Logf("demo output:\n%s", buf.String())
	if !errors.Is(err, context.Canceled) {
		logs(t, out)
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	buf.mu.Lock()
	p := pid
	buf.mu.Unlock()
	if p == 0 {
		t.Fatal("rayofaxd's pid was not reported")
	}
	if err := syscall.Kill(p, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("rayofaxd (pid %d) still runs after the interrupt (kill 0: %v)", p, err)
	}
	if !strings.Contains(buf.String(), "rayofaxd   stopped") {
		t.Error("rayofaxd was not stopped")
	}
}

// TestResetDir: the demo empties only its own output directories.
func TestResetDir(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(other, "precious.txt")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := resetDir(other); err == nil {
		t.Error("resetDir emptied a directory the demo did not make")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("file lost: %v", err)
	}
	mine := filepath.Join(dir, "mine")
	for i := 0; i < 2; i++ {
		if err := resetDir(mine); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if err := os.WriteFile(filepath.Join(mine, "old.log"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := resetDir(mine); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(mine, "old.log")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old output kept: %v", err)
	}
}

func logs(t *testing.T, dir string) {
	for _, name := range []string{"rayofaxd.log", "rayoctl.log", "prosody/prosody.log"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			t.Logf("%s:\n%s", name, b)
		}
	}
}
