//go:build unix

package eslbridge_test

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayofax/rayofax/eslbridge"
	"github.com/rayofax/rayofax/eslbridge/audio"
	"github.com/rayofax/rayofax/test/fsim"
)

// echoHandler sends back what it heard.
var echoHandler = audio.HandlerFunc(func(in, out []int16) { copy(out, in) })

// answerEchoing takes n offers, then answers the calls and starts echoing
// media on each, all at once; it returns the calls and their media in the
// order they started (check t.Failed).
// waitReceived waits until every stream has received frames datagrams,
// failing the test if one has not within the time given.
func waitReceived(t *testing.T, medias []*eslbridge.Media, frames int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		least := int64(-1)
		for _, m := range medias {
			if n := m.Stats().Received; least < 0 || n < least {
				least = n
			}
		}
		if least >= frames {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a call received only %d frames in %v", least, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *rig) answerEchoing(t *testing.T, n int) ([]*eslbridge.Call, []*eslbridge.Media) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		cs     []*eslbridge.Call
		medias []*eslbridge.Media
	)
	for range n {
		c := r.offer(t)
		wg.Go(func() {
			if err := c.Answer(r.ctx); err != nil {
				t.Error(err)
				return
			}
			m, err := c.StartMedia(r.ctx, echoHandler)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			cs, medias = append(cs, c), append(medias, m)
			mu.Unlock()
		})
	}
	wg.Wait()
	return cs, medias
}

// 100 concurrent calls stream audio through the bridge, 100 frames each.
// The far ends send numbered frames and hear them echoed: every far end
// must hear its own numbers back, in order. Deadline misses are counted,
// not timed: answers whose service took more than a frame
// (audio.Stats.Late) and far-end jitter-buffer underruns must both be zero
// whenever the host kept time (no answer delayed by the scheduler, no slip
// of the simulator's clock). On an overloaded machine (make check runs
// every package at once under -race on 2 cores) the counts are reported.
func TestHundredConcurrentCalls(t *testing.T) {
	const calls = 100
	// The switch's sessions on two goroutines (as the load test runs it).
	r := newRig(t, fsim.Config{ClockWorkers: 2}, nil)
	recs := make([]*fsim.Recorder, calls)
	chans := make([]*fsim.Channel, calls)
	for i := range calls {
		recs[i] = &fsim.Recorder{Peer: &fsim.Counter{}}
		chans[i] = r.sim.NewInboundCall(fsim.CallOptions{Peer: recs[i]})
	}
	cs, medias := r.answerEchoing(t, calls)
	if t.Failed() {
		return
	}
	// Run until every call's bridge side has taken 100 frames (2 s of
	// audio; longer on a slow host).
	cpu0, base := cpuTime(), int64(0)
	for _, m := range medias {
		base += m.Stats().Received
	}
	waitReceived(t, medias, 100, 60*time.Second)
	cpu := cpuTime() - cpu0
	var late, delayed, received, filled, underruns, simSent int64
	for _, m := range medias {
		st := m.Stats()
		late += st.Late
		delayed += st.Delayed
		received += st.Received
		filled += st.Filled
	}
	for _, c := range cs {
		if err := c.Hangup(r.ctx, ""); err != nil {
			t.Error(err)
		}
	}
	for i, ch := range chans {
		ms := ch.MediaStats()
		underruns += int64(ms.Underruns)
		simSent += int64(ms.Sent)
		// The far end hears its own numbers back, in order, none twice.
		last := int16(0)
		heard := recs[i].Heard()
		for j := 0; j < len(heard); j += fsim.FrameSamples {
			v := heard[j]
			if v == 0 || v == -1 {
				continue
			}
			if v <= last {
				t.Errorf("call %d: heard frame %d after %d", i, v, last)
				break
			}
			last = v
		}
		if last < 50 {
			t.Errorf("call %d: only %d frames came back", i, last)
		}
	}
	slips := r.sim.ClockSlips()
	if n := received - base; n > 0 {
		t.Logf("CPU (bridge and simulator together, both directions): %v per frame, %.1f %% of a core for %d calls",
			cpu/time.Duration(n), 100*float64(cpu)/float64(time.Duration(n/calls)*audio.FrameTime), calls)
	}
	t.Logf("%d calls: switch sent %d frames, bridge received %d, filled %d, late %d, delayed by the host %d; far-end underruns %d, switch clock slips %d",
		calls, simSent, received, filled, late, delayed, underruns, slips)
	if delayed == 0 && slips == 0 {
		if late != 0 {
			t.Errorf("%d frames missed their deadline in the bridge", late)
		}
		if underruns != 0 {
			t.Errorf("%d far-end underruns although the host kept time", underruns)
		}
	} else {
		t.Logf("host overloaded (%d answers delayed by scheduling, %d clock slips): deadline counts reported only", delayed, slips)
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
