package redistest

import "syscall"

// sysProcAttr puts redis-server in a process group of its own (so that a
// child it forks for a save is stopped with it) and has the kernel kill it
// if the test binary dies first (a test timeout's panic, a SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
