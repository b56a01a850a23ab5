package audio

import (
	"net"
	"syscall"
	"time"
	"unsafe"
)

// enableTimestamps asks the kernel to stamp each datagram on arrival.
func enableTimestamps(pc *net.UDPConn) {
	rc, err := pc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) { setTimestamps(int(fd)) })
}

func setTimestamps(fd int) {
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}

// arrivalTime returns the kernel's receive time from the control messages
// (parsed in place: nothing is allocated per datagram), or now.
func arrivalTime(oob []byte, now time.Time) time.Time {
	for len(oob) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < syscall.SizeofCmsghdr || l > len(oob) {
			return now
		}
		data := oob[cmsgAlign(syscall.SizeofCmsghdr):l]
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SO_TIMESTAMPNS &&
			len(data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&data[0]))
			wall := time.Unix(ts.Unix())
			// Keep now's monotonic reading, shifted by the difference.
			return now.Add(wall.Sub(now.Round(0)))
		}
		next := cmsgAlign(l)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return now
}
