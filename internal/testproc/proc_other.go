//go:build unix && !linux

package testproc

import "syscall"

// SysProcAttr puts a program in a process group of its own, so that what
// it forks is signalled and looked for with it.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// groupAlive reports whether a process of the group pgid is still there.
func groupAlive(pgid int) bool { return syscall.Kill(-pgid, 0) == nil }
