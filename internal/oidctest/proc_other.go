//go:build unix && !linux

package oidctest

import "syscall"

// sysProcAttr puts node in a process group of its own, so that anything it
// starts is stopped with it; should the test binary die, the end of node's
// standard input stops it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
