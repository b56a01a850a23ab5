//go:build unix

package audio

import (
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPacedStreams: 200 streams, each fed one frame per 20 ms from
// one switch-side socket, as under a load of 200 calls; cpu-µs/frame is the
// process's CPU (both ends: the switch side's sends and reads too) per
// frame answered, host-µs/frame the whole host's (Linux; on loopback the
// kernel does part of a datagram's delivery in softirq context, charged to
// whichever process runs or to ksoftirqd, so only the host's total is
// comparable between runs; run it on a quiet host). b.N counts ticks of
// 20 ms.
func BenchmarkPacedStreams(b *testing.B) {
	const streams = 200
	sw, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sw.Close()
	sw.SetReadBuffer(4 << 20)
	var dests []*net.UDPAddr
	for range streams {
		st, err := Listen("127.0.0.1", 0, echo)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		st.Expect(sw.LocalAddr().(*net.UDPAddr).AddrPort())
		dests = append(dests, st.LocalAddr())
	}
	var answers sync.WaitGroup
	answered := 0
	answers.Add(1)
	go func() {
		defer answers.Done()
		buf := make([]byte, 2048)
		for {
			if _, _, err := sw.ReadFromUDP(buf); err != nil {
				return
			}
			answered++
		}
	}()
	pkt := make([]byte, FrameBytes)
	cpu0, host0 := cpuNow(), hostCPU()
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		time.Sleep(time.Until(start.Add(time.Duration(i) * FrameTime)))
		for _, d := range dests {
			sw.WriteToUDP(pkt, d)
		}
	}
	time.Sleep(3 * FrameTime) // the last frames' answers
	b.StopTimer()
	cpu, host := cpuNow()-cpu0, hostCPU()-host0
	sw.Close()
	answers.Wait()
	if answered > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(answered), "cpu-µs/frame")
		if host > 0 {
			b.ReportMetric(float64(host.Microseconds())/float64(answered), "host-µs/frame")
		}
	}
	b.ReportMetric(float64(answered)/float64(b.N*streams), "answers/frame")
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hostCPU is the host's busy CPU time so far (Linux /proc/stat: all but
// idle and iowait), or 0.
func hostCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 7 { // idle, iowait; steal, guest (counted in user)
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}
