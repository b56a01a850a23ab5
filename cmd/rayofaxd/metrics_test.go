package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rayofax/rayofax/cmd/rayofaxd/config"
	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/eslbridge/audio"
	"github.com/rayofax/rayofax/rayo"
	"github.com/rayofax/rayofax/storage"
)

func TestLogMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newLogMetrics(reg)
	var out bytes.Buffer
	// The daemon's handler at warn: info lines are counted though not written.
	log := slog.New(m.Handler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})))
	k := log.With("call_id", "c1", "component_id", "k1")
	k.Info(msgRate, "rate", 14400, "modem", "V.17 14400")
	k.Info(msgRate, "rate", 12000, "modem", "V.17 12000")
	k.Info(msgFaxEnded, "direction", "receive", "result", "ok", "pages", 3, "rate", 12000)
	k.Info(msgFaxEnded, "direction", "send", "result", "training-failed", "pages", 0, "rate", 0)
	log.Warn(msgESLDown, "addr", "127.0.0.1:8021")
	log.Warn(msgUnicastRetry, "call", "c2")
	log.Error(msgMediaRecovery, "call", "c3")
	log.Error("storage: spool rescan", "err", "boom")
	log.Warn("Weird message")

	for _, c := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.trainings.WithLabelValues("14400", "V.17 14400"), 1},
		{m.trainings.WithLabelValues("12000", "V.17 12000"), 1},
		{m.faxRates.WithLabelValues("receive", "12000"), 1},
		{m.faxRates.WithLabelValues("send", "0"), 1},
		{m.trainFails.WithLabelValues("send"), 1},
		{m.eslDrops, 1},
		{m.mediaRetry, 1},
		{m.mediaFailed, 1},
		{m.logLines.WithLabelValues("warn", "esl"), 1},
		{m.logLines.WithLabelValues("warn", "eslbridge"), 1},
		{m.logLines.WithLabelValues("error", "eslbridge"), 1},
		{m.logLines.WithLabelValues("error", "storage"), 1},
		{m.logLines.WithLabelValues("warn", "other"), 1},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%v: %v, want %v", c.c, got, c.want)
		}
	}
	if testutil.ToFloat64(m.trainFails.WithLabelValues("receive")) != 0 {
		t.Error("a successful fax counted as a training failure")
	}
	// Only warn and above were written; attributes added with With survive.
	if strings.Contains(out.String(), msgRate) || !strings.Contains(out.String(), "esl: disconnected") {
		t.Errorf("output:\n%s", out.String())
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Errorf("gather: %d, %v", n, err)
	}
}

func TestSubsystem(t *testing.T) {
	for msg, want := range map[string]string{
		"rayo: offer": "rayo", "t30: page": "t30", "esl: x": "esl", "no colon": "other",
		": empty": "other", "Upper: x": "other", "averyveryverylongprefix: x": "other",
	} {
		if got := subsystem(msg); got != want {
			t.Errorf("subsystem(%q) = %q, want %q", msg, got, want)
		}
	}
}

// The counters key on log messages: each must still be logged somewhere.
func TestLogMetricsMessagesExist(t *testing.T) {
	var src strings.Builder
	root := filepath.Join("..", "..")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == "test" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") && !strings.HasSuffix(path, "metrics.go") {
			b, _ := os.ReadFile(path)
			src.Write(b)
		}
		return nil
	})
	for _, msg := range []string{msgRate, msgFaxEnded, msgESLDown, msgUnicastRetry, msgMediaRecovery} {
		if !strings.Contains(src.String(), `"`+msg+`"`) {
			t.Errorf("no code logs %q any more: update cmd/rayofaxd/metrics.go", msg)
		}
	}
}

func TestAudioCollector(t *testing.T) {
	st := audio.Stats{Received: 10, Sent: 11, Filled: 1, Late: 2, Delayed: 3, Strays: 4}
	c := newAudioCollector(func() audio.Stats { return st })
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	want := `
# HELP rayofax_audio_frames_late_total Audio frames answered after their 20 ms deadline through our own processing time.
# TYPE rayofax_audio_frames_late_total counter
rayofax_audio_frames_late_total 2
# HELP rayofax_audio_frames_received_total Audio frames received from the switch.
# TYPE rayofax_audio_frames_received_total counter
rayofax_audio_frames_received_total 10
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "rayofax_audio_frames_late_total", "rayofax_audio_frames_received_total"); err != nil {
		t.Error(err)
	}
	if n, _ := testutil.GatherAndCount(reg); n != len(audioCounters) {
		t.Errorf("%d audio metrics, want %d", n, len(audioCounters))
	}
}

// recorder is a Registerer that keeps what is registered, so the names of
// label vectors with no children yet can be read from their descriptors.
type recorder struct {
	prometheus.Registerer
	cs   []prometheus.Collector
	into *recorder // also keep them there, when set
}

func (r *recorder) keep(cs ...prometheus.Collector) {
	r.cs = append(r.cs, cs...)
	if r.into != nil {
		r.into.cs = append(r.into.cs, cs...)
	}
}

func (r *recorder) Register(c prometheus.Collector) error {
	r.keep(c)
	return r.Registerer.Register(c)
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	r.keep(cs...)
	r.Registerer.MustRegister(cs...)
}

var fqName = regexp.MustCompile(`fqName: "([a-zA-Z0-9_:]+)"`)

// registeredMetrics lists every metric name rayofaxd registers: the daemon's
// own (with the log-line counters), the Rayo server's, storage's and the
// bridge's.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	cfg := config.Default()
	d := newDaemon(&cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := &recorder{Registerer: d.reg}
	rayo.NewMetrics(rec)
	storage.NewMetrics(rec)
	// newDaemon registered the log-line counters itself; their twins on a
	// scratch registry give the recorder their names.
	newLogMetrics(&recorder{Registerer: prometheus.NewRegistry(), into: rec})
	b, err := eslbridge.New(eslbridge.Config{Addr: "127.0.0.1:1", MediaIP: "127.0.0.1", PortMin: 40000, PortMax: 40001})
	if err != nil {
		t.Fatal(err)
	}
	registerBridgeMetrics(rec, b)

	names := map[string]bool{}
	mfs, err := d.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, c := range rec.cs {
		ch := make(chan *prometheus.Desc, 64)
		c.Describe(ch)
		close(ch)
		for desc := range ch {
			if m := fqName.FindStringSubmatch(desc.String()); m != nil {
				names[m[1]] = true
			}
		}
	}
	return names
}

// Every metric the Grafana dashboard in deploy/ queries exists.
func TestDashboardMetricsExist(t *testing.T) {
	names := registeredMetrics(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "rayofax-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct{ Definition string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	metric := regexp.MustCompile(`\b((?:rayofax|process|go)_[a-z0-9_]+)`)
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		exprs = append(exprs, v.Definition)
	}
	used := 0
	for _, e := range exprs {
		for _, m := range metric.FindAllString(e, -1) {
			used++
			base := m
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if s, ok := strings.CutSuffix(m, suf); ok && names[s] {
					base = s
				}
			}
			if !names[base] {
				t.Errorf("dashboard queries %s, which rayofaxd does not register (in %q)", m, e)
			}
		}
	}
	if used < 20 {
		t.Errorf("only %d metric references found in the dashboard", used)
	}
	// And every rayofax metric appears on the dashboard.
	all := strings.Join(exprs, "\n")
	for n := range names {
		if strings.HasPrefix(n, "rayofax_") && !strings.Contains(all, n) {
			t.Errorf("metric %s is not on the dashboard", n)
		}
	}
}
