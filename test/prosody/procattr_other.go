//go:build !linux

package prosody

import "os/exec"

func setDeathSignal(*exec.Cmd) {}
