package storage

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the storage counters exported on /metrics. A nil *Metrics is
// valid and records nothing.
type Metrics struct {
	pending prometheus.Gauge
	uploads *prometheus.CounterVec
	latency *prometheus.HistogramVec
	bytes   *prometheus.CounterVec
}

// NewMetrics creates the storage metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rayofax_storage_spool_pending",
			Help: "Faxes written to the spool and not yet stored by the backend.",
		}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rayofax_storage_uploads_total",
			Help: "Upload attempts from the spool to the backend, by result (ok, error).",
		}, []string{"backend", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rayofax_storage_upload_seconds",
			Help:    "Duration of successful uploads from the spool to the backend.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, []string{"backend"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rayofax_storage_stored_bytes_total",
			Help: "Bytes stored by the backend.",
		}, []string{"backend"}),
	}
	if reg != nil {
		reg.MustRegister(m.pending, m.uploads, m.latency, m.bytes)
	}
	return m
}

func (m *Metrics) setPending(n int) {
	if m != nil {
		m.pending.Set(float64(n))
	}
}

func (m *Metrics) observeUpload(backend string, d time.Duration, size int64, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.uploads.WithLabelValues(backend, "error").Inc()
		return
	}
	m.uploads.WithLabelValues(backend, "ok").Inc()
	m.latency.WithLabelValues(backend).Observe(d.Seconds())
	m.bytes.WithLabelValues(backend).Add(float64(size))
}
