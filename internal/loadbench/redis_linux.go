package main

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has Linux kill the child when this process dies, so
// that an interrupted run leaves no redis-server behind.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
