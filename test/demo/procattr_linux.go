package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill cmd if the demo dies without cleaning
// up (kill -9), so no daemon outlives it.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
