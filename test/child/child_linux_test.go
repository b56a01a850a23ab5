package child

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The test binary runs itself as a middle process that starts a long sleep
// with DieWithParent, prints its pid and exits: the kernel must then end
// the sleep.
func TestDieWithParent(t *testing.T) {
	if os.Getenv("CHILD_TEST_MIDDLE") == "1" {
		sleep := exec.Command("sleep", "60")
		DieWithParent(sleep, syscall.SIGKILL)
		if err := sleep.Start(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(sleep.Process.Pid)
		os.Exit(0) // the middle process dies: the sleep must follow
	}
	middle := exec.Command(os.Args[0], "-test.run=^TestDieWithParent$")
	middle.Env = append(os.Environ(), "CHILD_TEST_MIDDLE=1")
	out, err := middle.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := middle.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	middle.Wait()
	pid, err := strconv.Atoi(line[:max(len(line)-1, 0)])
	if err != nil {
		t.Fatalf("middle process said %q", line)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		// Gone, or a zombie of init's: either way not running.
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || len(b) > 0 && containsState(string(b), 'Z') {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("process %d outlived the process that started it", pid)
}

// containsState reports whether a /proc/PID/stat line has state s.
func containsState(stat string, s byte) bool {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' {
			return i+2 < len(stat) && stat[i+2] == s
		}
	}
	return false
}
