package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rayofax/rayofax/cmd/rayofaxd/config"
	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/rayo"
	"github.com/rayofax/rayofax/storage"
	"github.com/rayofax/rayofax/storage/fetch"
)

// daemon holds the running parts of rayofaxd. Subsystems (ESL, Rayo, the fax
// engine) are started in run after storage and the HTTP listener, register
// their readiness checks with ready and wrap each fax in active.Begin.
type daemon struct {
	cfg *config.Config
	log *slog.Logger
	reg *prometheus.Registry

	store   *storage.Spool
	fetcher *fetch.Fetcher
	baseURL string

	bridge    *eslbridge.Bridge
	rayo      *rayo.Server
	stopCalls func() // disconnects from the switch and the XMPP server

	active   activity
	ready    readiness
	draining atomic.Bool
}

func newDaemon(cfg *config.Config, log *slog.Logger) *daemon {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "rayofax_build_info",
			Help:        "Always 1; the version label says which build is running.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	// Some counters (rates, fallbacks, training failures, reconnects,
	// warnings by subsystem) are taken from the log lines themselves.
	lm := newLogMetrics(reg)
	log = slog.New(lm.Handler(log.Handler()))
	d := &daemon{cfg: cfg, log: log, reg: reg}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rayofax_active_work",
		Help: "Units of work (faxes) in progress; shutdown waits for them up to the grace period.",
	}, func() float64 { return float64(d.active.count()) }))
	return d
}

// logStartup prints the version, the configuration file and every effective
// setting (secrets shown only as set or unset).
func (d *daemon) logStartup() {
	file := d.cfg.File
	if file == "" {
		file = "(none: embedded defaults)"
	}
	d.log.Info("rayofaxd: starting", "version", version, "config", file)
	var attrs []any
	for _, k := range d.cfg.Settings() {
		attrs = append(attrs, slog.String(k.Name, k.Default))
	}
	d.log.Info("rayofaxd: effective configuration", attrs...)
}

// run starts everything, serves until ctx ends (SIGTERM), then shuts down
// gracefully: /readyz turns 503, active work gets up to the grace period,
// HTTP requests in flight are drained, pending uploads stay in the spool.
// stopSignals restores default signal handling, so a second SIGTERM during
// the grace period kills the process at once.
func (d *daemon) run(ctx context.Context, stopSignals func()) error {
	d.logStartup()

	ln, err := net.Listen("tcp", d.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	d.baseURL = d.cfg.PublicURL(ln.Addr())
	d.log.Info("rayofaxd: http listening", "addr", ln.Addr().String(), "public_url", d.baseURL)

	store, fileHandler, err := storage.Open(d.cfg.StorageOptions(d.baseURL, d.log, storage.NewMetrics(d.reg)))
	if err != nil {
		ln.Close()
		return err
	}
	d.store = store
	defer store.Close()
	d.log.Info("rayofaxd: storage ready", "backend", d.cfg.Storage.Backend, "spool_dir", d.cfg.Storage.SpoolDir,
		"pending", store.Pending())
	if d.fetcher, err = fetch.New(d.cfg.FetchConfig()); err != nil {
		ln.Close()
		return err
	}

	// The switch and the Rayo service: each keeps reconnecting on its own,
	// so the daemon starts (and stays up) while either is away.
	if err := d.startCalls(ctx); err != nil {
		ln.Close()
		return err
	}

	srv := &http.Server{
		Handler:           d.routes(fileHandler),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	d.log.Info("rayofaxd: ready")
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("http: %w", err)
	}
	stopSignals()

	grace := d.cfg.Shutdown.GracePeriod
	d.draining.Store(true)
	d.rayo.Drain()
	d.log.Info("rayofaxd: shutting down", "grace_period", grace, "active", d.active.count())
	deadline := time.Now().Add(grace)
	if !d.active.wait(grace) {
		d.log.Warn("rayofaxd: grace period over, cutting active work", "active", d.active.count())
	}
	d.stopCalls()
	sctx, cancel := context.WithDeadline(context.Background(), deadline.Add(time.Second))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		d.log.Warn("rayofaxd: http requests cut at shutdown", "err", err)
	}
	if n := store.Pending(); n > 0 {
		d.log.Warn("rayofaxd: faxes left in the spool, uploaded at next start", "pending", n)
	}
	d.log.Info("rayofaxd: stopped")
	return nil
}

func (d *daemon) routes(fileHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", d.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	if fileHandler != nil {
		mux.Handle(storage.Route, d.logFetches(fileHandler))
	}
	if addPprof(mux) {
		d.log.Warn("rayofaxd: profiler served under /debug/pprof/ (" + pprofEnv + "=1)")
	}
	return mux
}

// logFetches logs each request for a stored fax: who fetched which key with
// what result. The query (the URL signature) is never logged.
func (d *daemon) logFetches(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.status >= 400 {
			level = slog.LevelWarn
		}
		d.log.Log(r.Context(), level, "http: fax request", "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "bytes", sw.bytes, "remote", r.RemoteAddr,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (d *daemon) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if d.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if failed := d.ready.check(); len(failed) > 0 {
		http.Error(w, "not ready: "+strings.Join(failed, "; "), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "ready (storage %s, %d pending in spool)\n", d.cfg.Storage.Backend, d.store.Pending())
}

// activity counts work that shutdown waits for (a fax in progress).
type activity struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while n == 0
}

// Begin marks the start of a unit of work; call the returned func when done.
func (a *activity) Begin() (done func()) {
	a.mu.Lock()
	a.n++
	if a.idle == nil {
		a.idle = make(chan struct{})
	}
	a.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			a.n--
			if a.n == 0 {
				close(a.idle)
				a.idle = nil
			}
			a.mu.Unlock()
		})
	}
}

func (a *activity) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// wait waits until no work is active, at most d; it reports whether the
// work finished.
func (a *activity) wait(d time.Duration) bool {
	a.mu.Lock()
	idle := a.idle
	a.mu.Unlock()
	if idle == nil {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
		return true
	case <-t.C:
		return false
	}
}

// readiness is the set of named checks behind /readyz (e.g. "esl": the
// event socket is connected).
type readiness struct {
	mu     sync.Mutex
	checks map[string]func() error
}

// Add registers a check; it must be fast and not block.
func (r *readiness) Add(name string, check func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checks == nil {
		r.checks = map[string]func() error{}
	}
	r.checks[name] = check
}

func (r *readiness) check() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var failed []string
	for name, c := range r.checks {
		if err := c(); err != nil {
			failed = append(failed, name+": "+err.Error())
		}
	}
	sort.Strings(failed)
	return failed
}
