//go:build !linux

package audio

import (
	"net"
	"time"
)

func enableTimestamps(*net.UDPConn) {}

// arrivalTime falls back to the time the reader saw the datagram.
func arrivalTime(_ []byte, now time.Time) time.Time { return now }
