package main

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rayofax/rayofax/eslbridge/audio"
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
