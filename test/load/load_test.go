package load

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLoadSmall runs concurrent faxes through the whole stack in every test
// run: 20 calls, or 4 under the race detector (which makes the DSP about
// ten times slower). When the host kept time (the simulator's clock never
// slipped), every fax must succeed and no frame may miss its deadline.
// make check runs every package at once on 2 shared cores, where the
// simulator's clock slips and drops ticks like a switch whose host is
// overloaded: then a tenth of the faxes (at least one) may fail and
// deadline misses are reported, not asserted.
func TestLoadSmall(t *testing.T) {
	n := 20
	if raceEnabled || testing.Short() {
		n = 4
	}
	st := newStack(t)
	s := st.run(n, 2*time.Second, "")
	t.Log(s)
	allowed := 0
	if !s.hostKeptTime() {
		allowed = max(1, n/10)
	}
	if len(s.Failures) > allowed {
		t.Errorf("%d of %d faxes failed (%d simulator clock slips)", len(s.Failures), n, s.ClockSlips)
	} else if len(s.Failures) > 0 {
		t.Logf("%d of %d faxes failed while the host did not keep time (%d simulator clock slips)", len(s.Failures), n, s.ClockSlips)
	}
	if s.Frame.count() == 0 || s.Answer.quantile(1) == 0 || s.Start.quantile(1) == 0 {
		t.Error("nothing was measured")
	}
	if s.hostKeptTime() {
		if s.Underruns != 0 || s.Overflows != 0 {
			t.Errorf("frame deadlines missed although the host kept time: %d underruns, %d overflows", s.Underruns, s.Overflows)
		}
	} else {
		t.Logf("host overloaded (%d simulator clock slips, %d far-end stalls): deadline counts reported only", s.ClockSlips, s.FarEndStalls)
	}
}

// TestLoadRamp is `make loadtest`: it ramps the number of concurrent calls
// (RAYOFAX_LOADTEST_STEPS, default 20,50,100,150,200,250,300,400) until
// more than a tenth of the faxes fail, or frames miss their deadline while
// the host kept time, and reports each step, the largest step with every
// fax ok and the largest with, in addition, no deadline missed. RAYOFAX_LOADTEST_PROFILE=FILE writes a
// CPU profile of each step to FILE.N and a heap profile to FILE.N.heap.
// RAYOFAX_LOADTEST_REPORT=FILE also writes the report there.
func TestLoadRamp(t *testing.T) {
	if os.Getenv("RAYOFAX_LOADTEST") == "" {
		t.Skip("the load ramp runs with make loadtest (RAYOFAX_LOADTEST=1)")
	}
	steps := []int{20, 50, 100, 150, 200, 250, 300, 400}
	if v := os.Getenv("RAYOFAX_LOADTEST_STEPS"); v != "" {
		steps = steps[:0]
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				t.Fatalf("RAYOFAX_LOADTEST_STEPS: bad step %q", f)
			}
			steps = append(steps, n)
		}
	}
	profile := os.Getenv("RAYOFAX_LOADTEST_PROFILE")
	var report strings.Builder
	fmt.Fprintf(&report, "rayofax load test, %s, %d CPUs, host load average at start %.1f\n",
		time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), loadAverage())
	st := newStack(t)
	allOK, noMiss := 0, 0
	for _, n := range steps {
		var pf *os.File
		heap := ""
		if profile != "" {
			var err error
			if pf, err = os.Create(fmt.Sprintf("%s.%d", profile, n)); err != nil {
				t.Fatal(err)
			}
			if err := pprof.StartCPUProfile(pf); err != nil {
				t.Fatal(err)
			}
			heap = fmt.Sprintf("%s.%d.heap", profile, n)
		}
		s := st.run(n, time.Duration(n)*50*time.Millisecond, heap)
		if pf != nil {
			pprof.StopCPUProfile()
			pf.Close()
		}
		t.Log(s)
		fmt.Fprintln(&report, s)
		if len(s.Failures) == 0 {
			allOK = n
			if !s.missed() {
				noMiss = n
			}
		}
		// Past the limit: faxes fail in numbers, or frames miss their
		// deadline although the host kept time. A few failures while the
		// simulator's own clock slipped are the shared host's doing; the
		// ramp goes on to measure the next step.
		if 10*len(s.Failures) > n || s.missed() && s.hostKeptTime() {
			break
		}
	}
	fmt.Fprintf(&report, "largest step with every fax ok: %d concurrent calls; largest step with no frame deadline missed: %d\n", allOK, noMiss)
	t.Logf("largest step with every fax ok: %d; with no deadline missed: %d", allOK, noMiss)
	if f := os.Getenv("RAYOFAX_LOADTEST_REPORT"); f != "" {
		if err := os.WriteFile(f, []byte(report.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if allOK == 0 {
		t.Error("no step had every fax ok")
	}
}
