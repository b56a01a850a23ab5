// Package child starts helper processes for tests (the daemon, Prosody, an
// S3 server) so that they do not outlive the test binary: a test killed at
// its timeout, or by a signal, leaves no process holding ports, files or
// locks behind.
package child

import (
	"os/exec"
	"syscall"
)

// DieWithParent has the kernel send sig to the process cmd starts when the
// process that started it dies (Linux; elsewhere it does nothing). Call it
// before cmd.Start.
func DieWithParent(cmd *exec.Cmd, sig syscall.Signal) { dieWithParent(cmd, sig) }
