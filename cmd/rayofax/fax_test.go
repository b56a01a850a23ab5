package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rayofax/rayofax/faxengine"
	"github.com/rayofax/rayofax/faxengine/t30"
	"github.com/rayofax/rayofax/test/testenv"
)

func sharedDoc(t *testing.T, name string) string {
	return filepath.Join(testenv.SharedDir(t), "testdata", name)
}

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func lastJSON(t *testing.T, stderr string) resultLine {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "{") {
			var r resultLine
			if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
				t.Fatalf("bad JSON line %q: %v", lines[i], err)
			}
			return r
		}
	}
	t.Fatalf("no JSON line in %q", stderr)
	return resultLine{}
}

func TestLoopbackCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.tif")
	// Options before and after the file, as users type them.
	code, _, stderr := runCmd("loopback", "--ecm=true", sharedDoc(t, "chart-p1-fine-g3.tif"), "-o", out,
		"--progress", "off", "--gap-ms", "200", "--noise-dbm0", "-55")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := lastJSON(t, stderr)
	if r.Result != "ok" || r.Pages != 1 || r.Rate != 14400 || !r.ECM || r.Resolution != "204x196" || r.FileBytes == 0 ||
		r.RemoteIdent == "" || r.AudioSeconds <= 0 {
		t.Errorf("result %+v", r)
	}
}

func TestFaxUsage(t *testing.T) {
	doc := sharedDoc(t, "chart-p1-fine-g3.tif")
	for _, args := range [][]string{
		{"send"},
		{"send", doc, "--caller", "--answerer"},
		{"send", doc, "--max-rate", "1234"},
		{"send", doc, "--ident", "not a number"},
		{"send", doc, "--bogus"},
		{"receive"},
		{"receive", "-o", "x.tif", "extra"},
		{"loopback", doc},
		{"loopback", doc, "-o", "x.tif", "--gap-ms", "-5"},
		{"loopback", doc, "-o", "x.tif", "--progress", "sometimes"},
	} {
		if code, _, stderr := runCmd(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
	// A bad page range or a file that is not a TIFF fails (exit 1) with a
	// message naming the problem.
	if code, _, stderr := runCmd("send", doc, "--pages", "2-3"); code != 1 || !strings.Contains(stderr, "2-3") {
		t.Errorf("bad range: exit %d: %s", code, stderr)
	}
}

// send and receive, connected by pipes as two processes would be.
func TestSendReceivePipes(t *testing.T) {
	doc := sharedDoc(t, "chart-std-g3.tif")
	out := filepath.Join(t.TempDir(), "rx.tif")
	tx, err := faxengine.NewSender(doc, faxengine.Options{Caller: true, Pages: "1", NoECM: true, MaxRate: 9600, Ident: "+1"})
	if err != nil {
		t.Fatal(err)
	}
	rx, err := faxengine.NewReceiver(out, faxengine.Options{Ident: "+2"})
	if err != nil {
		t.Fatal(err)
	}
	// OS pipes buffer (io.Pipe does not), as between two processes.
	ar, aw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	br, bw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var rt, rr faxengine.Report
	wg.Add(2)
	go func() { defer wg.Done(); rt = pipeAudio(tx, ar, bw); bw.Close(); ar.Close() }()
	go func() { defer wg.Done(); rr = pipeAudio(rx, br, aw); aw.Close(); br.Close() }()
	wg.Wait()
	if rt.Result != t30.OK || rr.Result != t30.OK || rr.Pages != 1 || rr.RemoteIdent != "+1" || rt.RemoteIdent != "+2" {
		t.Errorf("reports\n%+v\n%+v", rt, rr)
	}
}

// EOF on stdin at once: the far end hung up; the fax failed (exit 1) and
// the JSON line says so.
func TestReceiveHangup(t *testing.T) {
	in, outw := audioIn, audioOut
	defer func() { audioIn, audioOut = in, outw }()
	audioIn, audioOut = strings.NewReader(""), io.Discard
	out := filepath.Join(t.TempDir(), "rx.tif")
	code, _, stderr := runCmd("receive", "-o", out)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if r := lastJSON(t, stderr); r.Result != t30.ErrHangup.Name() || r.Pages != 0 {
		t.Errorf("result %+v", r)
	}
}
