package prosody

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel stop prosody when the process that started
// it dies without cleaning up (a test binary killed at its timeout), so no
// server outlives its test.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
