package fsim

import "crypto/rand"

func randRead(b []byte) { rand.Read(b) }
