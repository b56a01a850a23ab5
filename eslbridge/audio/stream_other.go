//go:build !linux

package audio

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
)

// sock: elsewhere than Linux, each stream has a goroutine of its own that
// reads its socket through the Go runtime's poller.
type sock struct {
	pc *net.UDPConn
}

func (s *Stream) open(addr *net.UDPAddr) error {
	pc, err := net.ListenUDP("udp", addr)
	if err != nil {
		return err
	}
	s.sock.pc = pc
	s.local = pc.LocalAddr().(*net.UDPAddr)
	go s.loop()
	return nil
}

func (s *Stream) shut() { s.sock.pc.Close() }

func (s *Stream) write(pkt []byte, to netip.AddrPort) error {
	_, err := s.sock.pc.WriteToUDPAddrPort(pkt, to)
	return err
}

func (s *Stream) loop() {
	defer close(s.done)
	pc := s.sock.pc
	buf, oob := make([]byte, 2048), make([]byte, 128)
	var deadline time.Time // read deadline in force (zero: none)
	for {
		// Wait for the next slot's datagram until its fill deadline; if
		// we are running behind, still look at what is queued first.
		want := s.fillDeadline()
		if !want.IsZero() {
			if soon := time.Now().Add(time.Millisecond); want.Before(soon) {
				want = soon
			}
		}
		if !want.Equal(deadline) {
			pc.SetReadDeadline(want)
			deadline = want
		}
		n, oobn, _, from, err := pc.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.expire(time.Now())
			}
			continue // or e.g. ICMP port unreachable reported on a read
		}
		now := time.Now()
		s.datagram(buf[:n], from, arrivalTime(oob[:oobn], now), now)
	}
}
