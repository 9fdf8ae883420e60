//go:build !linux

package main

import "os/exec"

// setParentDeathSignal does nothing where the OS has no parent-death
// signal: an interrupted run may leave its redis-server running.
func setParentDeathSignal(*exec.Cmd) {}
