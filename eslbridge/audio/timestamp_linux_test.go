package audio

import (
	"net"
	"testing"
	"time"
)

func TestKernelTimestamp(t *testing.T) {
	pc, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer pc.Close()
	enableTimestamps(pc)
	tx, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer tx.Close()
	tx.WriteToUDP([]byte("x"), pc.LocalAddr().(*net.UDPAddr))
	time.Sleep(50 * time.Millisecond)
	buf, oob := make([]byte, 100), make([]byte, 128)
	_, oobn, _, _, err := pc.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	at := arrivalTime(oob[:oobn], now)
	if d := now.Sub(at); d < 40*time.Millisecond || d > time.Second {
		t.Fatalf("arrival %v before read (oob %d bytes), want about 50 ms", d, oobn)
	}
}
