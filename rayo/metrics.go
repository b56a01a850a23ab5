package rayo

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Rayo server's Prometheus metrics.
type Metrics struct {
	Connected   prometheus.Gauge
	Reconnects  prometheus.Counter
	Queue       prometheus.Gauge
	Dropped     prometheus.Counter
	Calls       prometheus.Gauge
	Components  *prometheus.GaugeVec   // by kind: receivefax, sendfax, input
	FaxResults  *prometheus.CounterVec // by direction and result name
	FaxPages    *prometheus.CounterVec // by direction
	ECMRetrans  *prometheus.CounterVec // ECM frames sent again, by direction
	CommandSecs prometheus.Histogram
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Connected:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "rayofax_xmpp_connected", Help: "1 while the XMPP component connection is up."}),
		Reconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "rayofax_xmpp_reconnects_total", Help: "XMPP component connections lost and retried."}),
		Queue:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "rayofax_xmpp_queue_stanzas", Help: "Stanzas waiting to be sent."}),
		Dropped:    prometheus.NewCounter(prometheus.CounterOpts{Name: "rayofax_xmpp_dropped_stanzas_total", Help: "Stanzas dropped because the queue was full."}),
		Calls:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "rayofax_calls_active", Help: "Calls known to the Rayo server."}),
		Components: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rayofax_components_active", Help: "Running Rayo components by kind."}, []string{"kind"}),
		FaxResults: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rayofax_faxes_total", Help: "Fax components completed, by direction and T.30 result."}, []string{"direction", "result"}),
		FaxPages:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rayofax_fax_pages_total", Help: "Fax pages transferred, by direction."}, []string{"direction"}),
		ECMRetrans: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rayofax_fax_ecm_retransmissions_total", Help: "ECM frames sent again after a PPR, by direction of the fax."}, []string{"direction"}),
		CommandSecs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rayofax_rayo_command_seconds", Help: "Time from a Rayo command to its reply.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	if reg != nil {
		reg.MustRegister(m.Connected, m.Reconnects, m.Queue, m.Dropped, m.Calls, m.Components, m.FaxResults, m.FaxPages, m.ECMRetrans, m.CommandSecs)
	}
	return m
}
