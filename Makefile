# rayofax build, test and benchmark targets. See README.md.

GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
PKGS     := ./...
BINARIES := rayofaxd rayofax rayoctl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 10s

export PATH := $(GOBIN):$(PATH)

.PHONY: all build test check deps vet fmt-check unit integration interop e2e bench fuzz demo clean loadtest

all: build

# The binaries that exist so far (cmd/NAME/main.go).
BUILT    := $(patsubst %/main.go,./%,$(wildcard $(addsuffix /main.go,$(addprefix cmd/,$(BINARIES)))))

build:
	@mkdir -p bin
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ $(BUILT)

# Fast unit tests: no outside programs required (suites that need them skip).
test:
	$(GO) test $(PKGS)

# Everything: dependencies, static checks, unit tests under the race detector
# and every integration suite. A missing outside program fails here.
check: deps vet fmt-check unit integration

deps:
	@bash test/tools/deps.sh

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags spandsp ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The end-to-end suite runs the daemon as a separate binary, so it gains
# nothing from the race detector, and the load test (100 concurrent faxes)
# holds calls to real-time frame deadlines, which the race detector's
# slowdown would break: both run once, without it, in e2e, the load test
# after the end-to-end suite rather than beside it.
UNIT_PKGS = $(shell $(GO) list $(PKGS) | grep -v -e /test/e2e -e /test/load)

unit:
	RAYOFAX_REQUIRE_TOOLS=1 $(GO) test -race -timeout 20m $(UNIT_PKGS)

# Integration suites that run against real peers (spandsp, prosody, S3,
# libtiff, the FreeSWITCH simulator).
integration: interop e2e

interop:
	RAYOFAX_REQUIRE_TOOLS=1 $(GO) test -tags spandsp -timeout 30m ./test/interop/... ./faxengine/t4/internal/spandsptest/...

e2e:
	RAYOFAX_REQUIRE_TOOLS=1 $(GO) test -timeout 20m ./test/e2e/...
	RAYOFAX_REQUIRE_TOOLS=1 $(GO) test -timeout 20m ./test/load/...

# Benchmarks, ours beside the references (spandsp, libtiff) in the same run.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	RAYOFAX_REQUIRE_TOOLS=1 $(GO) test -tags spandsp -run '^$$' -bench . -benchmem ./test/interop/...
	@bash test/tools/bench-extra.sh

# A short run of every fuzz target.
fuzz:
	@FUZZTIME=$(FUZZTIME) bash test/tools/fuzz.sh

# Load test: ramp concurrent fax calls through the whole stack until they
# fail or miss frame deadlines (test/load; report.txt, CPU and heap profiles
# of both processes and their logs in test/tools/out/loadtest/). The
# default steps, 100,300,400,500,550,600,700, go past the largest clean
# step measured on 2 cores (500); LOADTEST_STEPS=20,50,100 picks others;
# the rayofaxd binary is under test (LOADTEST_DAEMON= runs eslbridge and
# rayo in the test process instead, so the CPU profiles cover them).
LOADTEST_DAEMON ?= 1
loadtest:
	@mkdir -p test/tools/out/loadtest
	RAYOFAX_REQUIRE_TOOLS=1 RAYOFAX_LOADTEST=1 RAYOFAX_LOADTEST_STEPS=$(LOADTEST_STEPS) \
	RAYOFAX_LOADTEST_DAEMON=$(LOADTEST_DAEMON) \
	RAYOFAX_LOADTEST_REPORT=$(CURDIR)/test/tools/out/loadtest/report.txt \
	RAYOFAX_LOADTEST_PROFILE=$(CURDIR)/test/tools/out/loadtest/cpu.pprof \
	$(GO) test -count=1 -run TestLoadRamp -timeout 90m -v ./test/load/

demo: build
	@bash test/tools/demo.sh

clean:
	rm -rf bin
