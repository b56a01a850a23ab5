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
	if r := onlyJSON(t, stderr); r.Result != t30.ErrHangup.Name() || r.Pages != 0 {
		t.Errorf("result %+v", r)
	}
}

// onlyJSON returns the result line, failing unless it is all of stderr.
func onlyJSON(t *testing.T, stderr string) resultLine {
	t.Helper()
	if lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(stderr, "{") {
		t.Fatalf("stderr is not one JSON line: %q", stderr)
	}
	return lastJSON(t, stderr)
}

// A fax that fails, however early, exits 1 with one JSON line on stderr
// and nothing after it.
func TestFaxFailureOneLine(t *testing.T) {
	in, outw := audioIn, audioOut
	defer func() { audioIn, audioOut = in, outw }()
	audioOut = io.Discard
	doc := sharedDoc(t, "chart-p1-fine-g3.tif")
	dir := t.TempDir()
	notTIFF := filepath.Join(dir, "not.tif")
	if err := os.WriteFile(notTIFF, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args       []string
		result     t30.Result
		errMention string
	}{
		{[]string{"send", doc}, t30.ErrHangup, ""},
		{[]string{"send", doc, "--pages", "2-3"}, t30.ErrDocument, "2-3"},
		{[]string{"send", notTIFF}, t30.ErrDocument, "not.tif"},
		{[]string{"send", filepath.Join(dir, "missing.tif")}, t30.ErrDocument, "missing.tif"},
		{[]string{"receive", "-o", filepath.Join(dir, "rx.tif")}, t30.ErrHangup, ""},
		{[]string{"receive", "-o", filepath.Join(dir, "no", "such", "dir.tif")}, t30.ErrPageStore, "dir.tif"},
		{[]string{"loopback", notTIFF, "-o", filepath.Join(dir, "lb.tif")}, t30.ErrDocument, "not.tif"},
	} {
		audioIn = strings.NewReader("")
		code, stdout, stderr := runCmd(c.args...)
		if code != 1 {
			t.Errorf("%q: exit %d: %s", c.args, code, stderr)
			continue
		}
		r := onlyJSON(t, stderr)
		if r.Result != c.result.Name() || !strings.Contains(r.Error, c.errMention) {
			t.Errorf("%q: %+v", c.args, r)
		}
		if c.args[0] == "loopback" && stdout != "" {
			t.Errorf("%q: stdout %q", c.args, stdout)
		}
	}
}
