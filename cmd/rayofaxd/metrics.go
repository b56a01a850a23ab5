package main

import (
	"context"
	"log/slog"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/eslbridge/audio"
)

// Operations metrics that the subsystems do not export themselves. Two
// sources, neither of which needs code in the subsystems:
//
//   - logMetrics watches the daemon's own log records (the lines the README
//     documents for operators) and counts events in them: negotiated fax
//     rates, training failures, event socket reconnects, unicast start
//     retries, and warnings and errors by subsystem;
//   - registerBridgeMetrics reads the bridge's state: the event socket
//     connection, and the audio frame counters once the bridge reports them
//     (see audioStatser).
//
// Wiring (in newDaemon / startCalls):
//
//	lm := newLogMetrics(d.reg)
//	d.log = slog.New(lm.Handler(d.log.Handler()))
//	...
//	registerBridgeMetrics(d.reg, bridge)

// logMetrics counts events found in log records.
type logMetrics struct {
	trainings   *prometheus.CounterVec // t30: rate, by rate and modem
	faxRates    *prometheus.CounterVec // rayo: fax ended, by direction and rate
	trainFails  *prometheus.CounterVec // rayo: fax ended with a training result
	eslDrops    prometheus.Counter     // esl: disconnected
	mediaRetry  prometheus.Counter     // eslbridge: unicast did not start
	mediaFailed prometheus.Counter     // eslbridge: media recovery failed
	logLines    *prometheus.CounterVec // warn and error lines by level and subsystem
}

// Log messages the counters key on; TestLogMetricsMessagesExist checks
// that the code still logs each of them.
const (
	msgRate          = "t30: rate"
	msgFaxEnded      = "rayo: fax ended"
	msgESLDown       = "esl: disconnected"
	msgUnicastRetry  = "eslbridge: unicast did not start, trying another port pair"
	msgMediaRecovery = "eslbridge: media recovery failed"
)

// trainingResults are the T.30 result names of a fax that never got
// through training.
var trainingResults = map[string]bool{"training-failed": true, "no-tcf": true}

func newLogMetrics(reg prometheus.Registerer) *logMetrics {
	m := &logMetrics{
		trainings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rayofax_fax_trainings_total",
			Help: "Modem rates negotiated (each DCS accepted or sent, including fallbacks after a failed training), by bit rate and modem.",
		}, []string{"rate", "modem"}),
		faxRates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rayofax_fax_rate_total",
			Help: "Faxes ended, by direction and the bit rate they ended at (0: none negotiated).",
		}, []string{"direction", "rate"}),
		trainFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rayofax_fax_training_failures_total",
			Help: "Faxes that failed because no training succeeded (T.30 results training-failed, no-tcf), by direction.",
		}, []string{"direction"}),
		eslDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rayofax_esl_reconnects_total",
			Help: "Event socket connections to FreeSWITCH lost (each is retried with backoff).",
		}),
		mediaRetry: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rayofax_audio_start_retries_total",
			Help: "Unicast audio streams that did not start on the first port pair and were retried on another.",
		}),
		mediaFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rayofax_audio_recovery_failures_total",
			Help: "Audio streams that could not be restarted after an application interrupted them.",
		}),
		logLines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rayofax_log_messages_total",
			Help: "Warning and error log lines, by level and subsystem (the word before the colon of the message).",
		}, []string{"level", "subsystem"}),
	}
	if reg != nil {
		reg.MustRegister(m.trainings, m.faxRates, m.trainFails, m.eslDrops, m.mediaRetry, m.mediaFailed, m.logLines)
	}
	return m
}

// Handler returns a handler that counts records and passes them to next.
// Counting happens whether or not next is enabled for the record's level,
// but only for levels next would see at info (the counted lines are info,
// warn and error).
func (m *logMetrics) Handler(next slog.Handler) slog.Handler {
	return &metricsHandler{m: m, next: next}
}

type metricsHandler struct {
	m    *logMetrics
	next slog.Handler
}

func (h *metricsHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *metricsHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &metricsHandler{m: h.m, next: h.next.WithAttrs(attrs)}
}

func (h *metricsHandler) WithGroup(name string) slog.Handler {
	return &metricsHandler{m: h.m, next: h.next.WithGroup(name)}
}

func (h *metricsHandler) Handle(ctx context.Context, r slog.Record) error {
	h.m.observe(r)
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (m *logMetrics) observe(r slog.Record) {
	if r.Level >= slog.LevelWarn {
		level := "warn"
		if r.Level >= slog.LevelError {
			level = "error"
		}
		m.logLines.WithLabelValues(level, subsystem(r.Message)).Inc()
	}
	switch r.Message {
	case msgRate:
		m.trainings.WithLabelValues(attrString(r, "rate"), attrString(r, "modem")).Inc()
	case msgFaxEnded:
		dir := attrString(r, "direction")
		m.faxRates.WithLabelValues(dir, attrString(r, "rate")).Inc()
		if trainingResults[attrString(r, "result")] {
			m.trainFails.WithLabelValues(dir).Inc()
		}
	case msgESLDown:
		m.eslDrops.Inc()
	case msgUnicastRetry:
		m.mediaRetry.Inc()
	case msgMediaRecovery:
		m.mediaFailed.Inc()
	}
}

// subsystem is the prefix of a log message before ": " ("rayo", "esl",
// "storage", ...), or "other".
func subsystem(msg string) string {
	for i := 0; i < len(msg) && i < 16; i++ {
		switch c := msg[i]; {
		case c == ':':
			if i > 0 {
				return msg[:i]
			}
			return "other"
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			return "other"
		}
	}
	return "other"
}

// attrString returns a record attribute's value as text ("" if absent).
func attrString(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != key {
			return true
		}
		switch a.Value.Kind() {
		case slog.KindInt64:
			v = strconv.FormatInt(a.Value.Int64(), 10)
		default:
			v = a.Value.String()
		}
		return false
	})
	return v
}

// audioStatser is what the audio frame counters need from the bridge:
// totals over every stream it has had (so they only grow).
type audioStatser interface {
	AudioStats() audio.Stats
}

// registerBridgeMetrics exports the event socket state and, when the bridge
// reports them, the audio frame counters.
func registerBridgeMetrics(reg prometheus.Registerer, b *eslbridge.Bridge) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rayofax_esl_connected",
		Help: "1 while the event socket connection to FreeSWITCH is up.",
	}, func() float64 {
		if b.Connected() {
			return 1
		}
		return 0
	}))
	var s audioStatser = b
	reg.MustRegister(newAudioCollector(s.AudioStats))
}

// audioCollector exports audio.Stats totals as counters.
type audioCollector struct {
	stats func() audio.Stats
	descs map[string]*prometheus.Desc
	mu    sync.Mutex
}

var audioCounters = []struct{ name, help string }{
	{"received", "Audio frames received from the switch."},
	{"sent", "Audio frames sent to the switch."},
	{"filled", "Audio slots answered before their frame came from the switch (filled - heard_late were lost)."},
	{"heard_late", "Audio frames that came after their slot was answered and were still heard."},
	{"late", "Audio frames answered after their 20 ms deadline through our own processing time."},
	{"delayed", "Audio frames answered more than 20 ms after they arrived, host scheduling included."},
	{"strays", "Datagrams from unexpected sources, ignored."},
}

func newAudioCollector(stats func() audio.Stats) *audioCollector {
	c := &audioCollector{stats: stats, descs: map[string]*prometheus.Desc{}}
	for _, a := range audioCounters {
		c.descs[a.name] = prometheus.NewDesc("rayofax_audio_frames_"+a.name+"_total", a.help, nil, nil)
	}
	return c
}

func (c *audioCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *audioCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	s := c.stats()
	c.mu.Unlock()
	for name, v := range map[string]int64{
		"received": s.Received, "sent": s.Sent, "filled": s.Filled, "heard_late": s.HeardLate,
		"late": s.Late, "delayed": s.Delayed, "strays": s.Strays,
	} {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v))
	}
}
