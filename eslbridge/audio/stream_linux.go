package audio

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// On Linux the streams share a few readers (one per CPU), each an epoll
// set of stream sockets served by one goroutine: a frame costs one
// recvmsg and one sendto, and a reader wakes once for all the frames that
// came meanwhile. (A goroutine
// per stream on the Go poller costs, per frame, a second recvmsg that
// finds the socket empty, a read-deadline reset, the poller's epoll_wait
// and a goroutine switch: a third of the daemon's CPU at 300 calls.)

// sock is a stream's socket, owned by one reader.
type sock struct {
	fd     int
	family int
	rd     *reader
	closed bool // the reader closed fd (the reader's only)
	// The address answers go to, as the kernel wants it (the reader's
	// only): rebuilt when Expect changes the remote.
	to    netip.AddrPort
	sa    syscall.RawSockaddrInet6 // large enough for either family
	salen uint32
}

func (s *Stream) open(addr *net.UDPAddr) error {
	ap := addr.AddrPort()
	ip := ap.Addr().Unmap()
	family := syscall.AF_INET
	if ip.Is6() {
		family = syscall.AF_INET6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	var sa syscall.Sockaddr
	if family == syscall.AF_INET {
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}
	} else {
		sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16(), ZoneId: uint32(zoneIndex(addr.Zone))}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("bind: %w", err)
	}
	setTimestamps(fd)
	got, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return fmt.Errorf("getsockname: %w", err)
	}
	switch a := got.(type) {
	case *syscall.SockaddrInet4:
		s.local = &net.UDPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	case *syscall.SockaddrInet6:
		s.local = &net.UDPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port, Zone: addr.Zone}
	}
	s.sock.fd, s.sock.family = fd, family
	rd, err := pickReader()
	if err != nil {
		syscall.Close(fd)
		return err
	}
	if err := rd.add(s); err != nil {
		syscall.Close(fd)
		return err
	}
	return nil
}

func zoneIndex(zone string) int {
	if zone == "" {
		return 0
	}
	if ifc, err := net.InterfaceByName(zone); err == nil {
		return ifc.Index
	}
	return 0
}

// shut asks the stream's reader to close the socket; it closes s.done
// when it has.
func (s *Stream) shut() { s.sock.rd.remove(s) }

// write sends pkt to `to` (reader only).
func (s *Stream) write(pkt []byte, to netip.AddrPort) error {
	k := &s.sock
	if to != k.to || k.salen == 0 {
		if err := k.setDest(to); err != nil {
			return err
		}
	}
	_, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(k.fd), uintptr(unsafe.Pointer(&pkt[0])), uintptr(len(pkt)),
		0, uintptr(unsafe.Pointer(&k.sa)), uintptr(k.salen))
	if e != 0 {
		return e
	}
	return nil
}

// setDest builds the kernel's form of `to` for the socket's family.
func (k *sock) setDest(to netip.AddrPort) error {
	k.sa = syscall.RawSockaddrInet6{}
	ip := to.Addr()
	port := to.Port()
	if k.family == syscall.AF_INET {
		if !ip.Unmap().Is4() {
			return errors.New("audio: IPv6 destination on an IPv4 socket")
		}
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&k.sa))
		sa4.Family = syscall.AF_INET
		putPort(&sa4.Port, port)
		sa4.Addr = ip.Unmap().As4()
		k.salen = syscall.SizeofSockaddrInet4
	} else {
		k.sa.Family = syscall.AF_INET6
		putPort(&k.sa.Port, port)
		k.sa.Addr = ip.As16()
		k.salen = syscall.SizeofSockaddrInet6
	}
	k.to = to
	return nil
}

// putPort stores a port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// reader is one goroutine serving an epoll set of stream sockets: it
// reads each datagram as it comes, answers from silence the slots whose
// datagram is overdue, and closes the sockets of streams that ended.
type reader struct {
	epfd         int
	wakeR, wakeW int // a pipe in the set: remove wakes the reader through it

	mu      sync.Mutex
	streams map[int32]*Stream // by socket
	closing []*Stream         // streams whose socket the reader is to close
	load    int               // streams served (under readers.mu)

	wheel holdWheel // the reader's only
}

var readers struct {
	mu   sync.Mutex
	list []*reader
	err  error
}

// pickReader returns the reader serving the fewest streams, starting the
// readers (one per CPU) at first use.
func pickReader() (*reader, error) {
	readers.mu.Lock()
	defer readers.mu.Unlock()
	if readers.list == nil && readers.err == nil {
		for range runtime.GOMAXPROCS(0) {
			rd, err := newReader()
			if err != nil {
				readers.err = err
				break
			}
			readers.list = append(readers.list, rd)
			go rd.run()
		}
	}
	if len(readers.list) == 0 {
		return nil, readers.err
	}
	best := readers.list[0]
	for _, rd := range readers.list[1:] {
		if rd.load < best.load {
			best = rd
		}
	}
	best.load++
	return best, nil
}

func newReader() (*reader, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("audio: epoll: %w", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("audio: epoll: %w", err)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("audio: pipe: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, fmt.Errorf("audio: epoll: %w", err)
	}
	return &reader{epfd: epfd, wakeR: p[0], wakeW: p[1], streams: map[int32]*Stream{}}, nil
}

func (rd *reader) add(s *Stream) error {
	s.sock.rd = rd
	rd.mu.Lock()
	defer rd.mu.Unlock()
	rd.streams[int32(s.sock.fd)] = s
	// Level-triggered: a socket with datagrams left is reported again.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(s.sock.fd)}
	if err := syscall.EpollCtl(rd.epfd, syscall.EPOLL_CTL_ADD, s.sock.fd, &ev); err != nil {
		delete(rd.streams, int32(s.sock.fd))
		readers.mu.Lock()
		rd.load--
		readers.mu.Unlock()
		return fmt.Errorf("audio: epoll: %w", err)
	}
	return nil
}

func (rd *reader) remove(s *Stream) {
	rd.mu.Lock()
	rd.closing = append(rd.closing, s)
	rd.mu.Unlock()
	syscall.Write(rd.wakeW, []byte{1}) // a full pipe is already a wake-up
}

// run serves the set forever (readers live as long as the process, like
// the Go runtime's own poller). The epoll set is itself waited on through
// the Go poller (an epoll descriptor is readable while it has events), so
// a reader with nothing to do is a parked goroutine, not a thread blocked
// in epoll_wait, and the next fill deadline is the file's read deadline.
func (rd *reader) run() {
	f := os.NewFile(uintptr(rd.epfd), "audio-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		panic("audio: epoll descriptor: " + err.Error()) // cannot happen for an *os.File
	}
	var (
		events   = make([]syscall.EpollEvent, 128)
		ready    = make([]*Stream, 0, 128)
		due      []holdEntry
		buf      = make([]byte, 2048)
		oob      = make([]byte, 128)
		wake     = make([]byte, 64)
		deadline time.Time // the read deadline in force
		n        int
	)
	rd.wheel.base = time.Now()
	wait := func(fd uintptr) bool {
		var err error
		n, err = syscall.EpollWait(int(fd), events, 0)
		return n > 0 || err != nil && err != syscall.EINTR
	}
	for {
		if next := rd.wheel.nextDue(); !next.Equal(deadline) {
			f.SetReadDeadline(next)
			deadline = next
		}
		n = 0
		rc.Read(wait) // a deadline passed, or events are ready
		woken := false
		ready = ready[:0]
		rd.mu.Lock()
		for _, ev := range events[:max(n, 0)] {
			if int(ev.Fd) == rd.wakeR {
				woken = true
				continue
			}
			if s := rd.streams[ev.Fd]; s != nil {
				ready = append(ready, s)
			}
		}
		rd.mu.Unlock()
		for _, s := range ready {
			rd.read(s, buf, oob)
		}
		// Slots whose datagram is overdue: a last look at the socket
		// (the datagram may be queued, stamped in time, while we ran
		// late), then silence for each slot whose deadline has passed.
		// Loss is random, one stream here and there; a switch (or host)
		// that runs late delays every stream's datagram at once. So when
		// many of the deadlines passing together find no datagram, the
		// sender is late, not the network lossy: those slots get until
		// the edge of their slot (lateGrace more) before silence.
		now := time.Now()
		due = rd.wheel.due(now, due[:0])
		overdue := 0
		for i, e := range due {
			s := e.s
			if s.sock.closed || !s.fillDeadline().Equal(e.at) {
				due[i].s = nil // answered since, or ended
				continue
			}
			if e.at.After(now) {
				rd.wheel.add(s, e.at) // filed a lap of the wheel early
				due[i].s = nil
				continue
			}
			for i := 0; i < 4 && rd.read(s, buf, oob); i++ {
			}
			if !s.fillDeadline().Equal(e.at) {
				due[i].s = nil // its datagram was queued
				continue
			}
			overdue++
		}
		senderLate := overdue >= lateQuorum && 4*overdue >= len(due)
		for _, e := range due {
			s := e.s
			if s == nil {
				continue
			}
			if senderLate && !e.graced && now.Before(e.at.Add(lateGrace)) {
				rd.wheel.addAt(s, e.at, e.at.Add(lateGrace), true)
				s.graced.Add(1)
				continue
			}
			s.expire(now)
			rd.refile(s, e.at)
		}
		clear(due)
		if woken {
			for {
				if n, _ := syscall.Read(rd.wakeR, wake); n < len(wake) {
					break
				}
			}
			rd.closeEnded()
		}
	}
}

// holdWheel finds the slots whose datagram is overdue without looking at
// every stream: a timing wheel of milliseconds. Each stream's fill
// deadline is filed under its millisecond; an entry goes stale when the
// slot is answered, and each entry is looked at once, after its
// millisecond has passed (up to 1 ms after the deadline).
type holdWheel struct {
	base    time.Time
	next    int64 // the first millisecond (since base) not yet looked at
	slots   [wheelSlots][]holdEntry
	pending int
}

// wheelSlots covers more than a frame and FillMargin: a deadline filed is never a full
// lap ahead (and one that is gets filed again).
const wheelSlots = 64

type holdEntry struct {
	s      *Stream
	at     time.Time // the fill deadline when filed
	graced bool      // filed again, lateGrace later (the sender ran late)
}

// lateQuorum and a quarter of the deadlines passing together, found
// without their datagram, mean the sender is late: at 1 % random loss,
// three or more losses in the same millisecond among few streams are
// rare, and among many they are far fewer than a quarter.
const lateQuorum = 3

// lateGrace is the extra wait for a late sender's datagram: up to the
// lateness a datagram may have and keep its slot (15 ms, see slotOf),
// still 5 ms before the switch's next frame.
const lateGrace = FrameTime/4*3 - FillMargin

func (w *holdWheel) ms(t time.Time) int64 { return int64(t.Sub(w.base) / time.Millisecond) }

func (w *holdWheel) add(s *Stream, at time.Time) { w.addAt(s, at, at, false) }

// addAt files the deadline at under the millisecond of fileAt.
func (w *holdWheel) addAt(s *Stream, at, fileAt time.Time, graced bool) {
	m := max(w.ms(fileAt), w.next)
	w.slots[m%wheelSlots] = append(w.slots[m%wheelSlots], holdEntry{s, at, graced})
	w.pending++
}

// due appends the entries of every millisecond that has passed by now.
func (w *holdWheel) due(now time.Time, out []holdEntry) []holdEntry {
	end := w.ms(now)
	for m, k := w.next, 0; m < end && k < wheelSlots && w.pending > 0; m, k = m+1, k+1 {
		slot := &w.slots[m%wheelSlots]
		out = append(out, *slot...)
		w.pending -= len(*slot)
		clear(*slot)
		*slot = (*slot)[:0]
	}
	w.next = max(w.next, end)
	return out
}

// nextDue is when the earliest filed millisecond has passed; zero if
// nothing is filed.
func (w *holdWheel) nextDue() time.Time {
	if w.pending == 0 {
		return time.Time{}
	}
	for m := w.next; m < w.next+wheelSlots; m++ {
		if len(w.slots[m%wheelSlots]) > 0 {
			return w.base.Add(time.Duration(m+1) * time.Millisecond)
		}
	}
	return time.Time{}
}

// read takes one datagram from s's socket, if there is one, and reports
// whether there was.
func (rd *reader) read(s *Stream, buf, oob []byte) bool {
	var (
		rsa syscall.RawSockaddrInet6
		iov syscall.Iovec
		msg syscall.Msghdr
	)
	iov.Base = &buf[0]
	iov.SetLen(len(buf))
	msg.Name = (*byte)(unsafe.Pointer(&rsa))
	msg.Namelen = syscall.SizeofSockaddrInet6
	msg.Iov = &iov
	msg.Iovlen = 1
	msg.Control = &oob[0]
	msg.SetControllen(len(oob))
	// Raw: neither call blocks (MSG_DONTWAIT, a non-blocking socket).
	n, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(s.sock.fd), uintptr(unsafe.Pointer(&msg)), syscall.MSG_DONTWAIT)
	if e != 0 {
		return false // EAGAIN, or e.g. ICMP port unreachable reported on a read
	}
	now := time.Now()
	var from netip.AddrPort
	switch rsa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		from = netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), getPort(&sa4.Port))
	case syscall.AF_INET6:
		from = netip.AddrPortFrom(netip.AddrFrom16(rsa.Addr).Unmap(), getPort(&rsa.Port))
	}
	before := s.fillDeadline()
	s.datagram(buf[:n], from, arrivalTime(oob[:msg.Controllen], now), now)
	rd.refile(s, before)
	return true
}

// refile files s's fill deadline in the wheel if it moved from before.
func (rd *reader) refile(s *Stream, before time.Time) {
	if d := s.fillDeadline(); !d.IsZero() && !d.Equal(before) {
		rd.wheel.add(s, d)
	}
}

// closeEnded closes the sockets of the streams that ended.
func (rd *reader) closeEnded() {
	rd.mu.Lock()
	list := rd.closing
	rd.closing = nil
	for _, s := range list {
		delete(rd.streams, int32(s.sock.fd))
		syscall.EpollCtl(rd.epfd, syscall.EPOLL_CTL_DEL, s.sock.fd, nil)
		syscall.Close(s.sock.fd)
		s.sock.closed = true
	}
	rd.mu.Unlock()
	readers.mu.Lock()
	rd.load -= len(list)
	readers.mu.Unlock()
	for _, s := range list {
		close(s.done)
	}
}
