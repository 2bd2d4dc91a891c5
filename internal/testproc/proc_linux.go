package testproc

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// SysProcAttr puts a program in a process group of its own (so that what
// it forks is signalled and looked for with it) and has the kernel kill it
// if the test binary dies first (a test timeout's panic, a SIGKILL).
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// groupAlive reports whether a process of the group pgid is still there,
// zombies aside: an orphan that has exited stays one where nothing reaps
// orphans (a container whose first process does not), though it is gone.
func groupAlive(pgid int) bool {
	if syscall.Kill(-pgid, 0) != nil {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		state, pgrp, ok := procStat(filepath.Join("/proc", e.Name(), "stat"))
		if ok && pgrp == pgid && state != 'Z' {
			return true
		}
	}
	return false
}

// procStat reads the state and the process group of a /proc/<pid>/stat.
func procStat(path string) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(f[2]))
	return f[0][0], pgrp, err == nil
}
