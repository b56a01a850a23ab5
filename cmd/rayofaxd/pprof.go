package main

import (
	"net/http"
	"net/http/pprof"
	"os"
)

// pprofEnv names the environment variable that, set to 1, serves Go's
// profiler (net/http/pprof) under /debug/pprof/ on the HTTP listener. It is
// off by default: profiles reveal internals and a CPU profile costs CPU. The
// load test (test/load) turns it on to profile the daemon under load.
const pprofEnv = "RAYOFAXD_PPROF"

// addPprof registers the profiler's handlers on mux when pprofEnv is 1.
func addPprof(mux *http.ServeMux) bool {
	if os.Getenv(pprofEnv) != "1" {
		return false
	}
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return true
}
