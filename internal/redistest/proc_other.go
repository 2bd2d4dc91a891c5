//go:build unix && !linux

package redistest

import "syscall"

// sysProcAttr puts redis-server in a process group of its own, so that a
// child it forks for a save is stopped with it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
