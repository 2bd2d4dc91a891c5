package oidctest

import "syscall"

// sysProcAttr puts node in a process group of its own (so that anything it
// starts is stopped with it) and has the kernel kill it if the test binary
// dies first (a test timeout's panic, a SIGKILL); the end of its standard
// input would stop it too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
