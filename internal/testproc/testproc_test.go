package testproc_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/testproc"
)

var name = testproc.Name{Harness: "testproctest", Program: "sh"}

// fakeTB records what the functions under test report instead of reporting
// it on the real test; its Fatalf ends the goroutine, as a real one's does.
type fakeTB struct {
	testing.TB
	mu                  sync.Mutex
	errors, logs, fatal []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(s string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(s, a...))
}
func (f *fakeTB) Logf(s string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(s, a...))
}
func (f *fakeTB) Fatalf(s string, a ...any) {
	f.mu.Lock()
	f.fatal = append(f.fatal, fmt.Sprintf(s, a...))
	f.mu.Unlock()
	runtime.Goexit()
}

// inGoroutine runs fn in a goroutine of its own, which a fakeTB's Fatalf
// ends, and waits for it.
func inGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// start runs script with sh -c under the test's control; the test's cleanup
// kills what is left of its group.
func start(t *testing.T, script string) *testproc.Process {
	t.Helper()
	p, err := testproc.Start(name, exec.Command("sh", "-c", script), filepath.Join(t.TempDir(), "sh.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-p.Pid(), syscall.SIGKILL) })
	return p
}

// waitLog waits until the process's log holds want, and returns the log.
func waitLog(t *testing.T, p *testproc.Process, want string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		out := p.Log()
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("the log does not say %q: %q", want, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gone reports whether the process pid has ended: it no longer exists, or
// it is a zombie that nothing has reaped yet (a container's first process
// may reap none).
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return runtime.GOOS == "linux" // no /proc elsewhere: kill said it is there
	}
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	return len(f) > 0 && string(f[0]) == "Z"
}

// waitGone waits a moment for pid to end, and fails the test if it does not.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; !gone(pid); i++ {
		if i == 200 {
			t.Fatalf("pid %d is still there", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFreePortConcurrent: ports handed out at the same moment, from many
// goroutines, are never handed out twice.
func TestFreePortConcurrent(t *testing.T) {
	const goroutines, each = 8, 40
	var (
		mu   sync.Mutex
		seen = map[int]bool{}
		wg   sync.WaitGroup
	)
	for range goroutines {
		wg.Go(func() {
			for range each {
				port, err := testproc.FreePort()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[port] {
					t.Errorf("port %d handed out twice", port)
				}
				seen[port] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != goroutines*each {
		t.Errorf("%d ports for %d calls", len(seen), goroutines*each)
	}
}

// TestOnFreePort: a launch whose port was taken is tried again on another,
// saying so; another error, or five taken ports, fail the test.
func TestOnFreePort(t *testing.T) {
	f := &fakeTB{TB: t}
	var tried []int
	var got int
	inGoroutine(func() {
		got = testproc.OnFreePort(f, name, func(port int) error {
			tried = append(tried, port)
			if len(tried) < 3 {
				return fmt.Errorf("bind: %w", testproc.ErrPortTaken)
			}
			return nil
		})
	})
	if len(tried) != 3 || got != tried[2] || tried[0] == tried[1] || tried[1] == tried[2] || len(f.fatal) != 0 {
		t.Errorf("tried %v, got %d, fatal %q", tried, got, f.fatal)
	}
	if len(f.logs) != 2 || f.logs[0] != fmt.Sprintf("testproctest: port %d was taken before sh bound it; trying another", tried[0]) {
		t.Errorf("logs %q", f.logs)
	}

	f = &fakeTB{TB: t}
	inGoroutine(func() {
		testproc.OnFreePort(f, name, func(int) error { return errors.New("no such file") })
		t.Error("OnFreePort returned after a failed launch")
	})
	if len(f.fatal) != 1 || f.fatal[0] != "testproctest: starting sh: no such file" {
		t.Errorf("another error: fatal %q", f.fatal)
	}

	f = &fakeTB{TB: t}
	n := 0
	inGoroutine(func() {
		testproc.OnFreePort(f, name, func(int) error { n++; return testproc.ErrPortTaken })
		t.Error("OnFreePort returned with every port taken")
	})
	if n != 5 || len(f.fatal) != 1 || !strings.Contains(f.fatal[0], testproc.ErrPortTaken.Error()) {
		t.Errorf("every port taken: %d launches, fatal %q", n, f.fatal)
	}
}

// TestStop: a program that exits on SIGTERM is stopped without a word.
func TestStop(t *testing.T) {
	p := start(t, "echo started; exec sleep 100")
	waitLog(t, p, "started")
	f := &fakeTB{TB: t}
	if !p.Stop(f, syscall.SIGTERM, 10*time.Second) || len(f.errors) != 0 {
		t.Errorf("Stop = false, or errors %q", f.errors)
	}
	var exit *exec.ExitError
	if !p.Exited() || !errors.As(p.Err(), &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("Exited %v, Err %v; want ended by SIGTERM", p.Exited(), p.Err())
	}
	waitGone(t, p.Pid())
}

// TestStopIgnoresSIGTERM: a process group that ignores SIGTERM is killed
// past the timeout, and the test is told.
func TestStopIgnoresSIGTERM(t *testing.T) {
	p := start(t, `trap "" TERM; echo ready; exec sleep 100`)
	waitLog(t, p, "ready")
	f := &fakeTB{TB: t}
	if p.Stop(f, syscall.SIGTERM, 200*time.Millisecond) {
		t.Error("Stop = true")
	}
	want := fmt.Sprintf("testproctest: sh (pid %d) did not exit in 200ms after SIGTERM; killing it", p.Pid())
	if len(f.errors) != 1 || f.errors[0] != want {
		t.Errorf("errors %q; want %q", f.errors, want)
	}
	var exit *exec.ExitError
	if !p.Exited() || !errors.As(p.Err(), &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("Exited %v, Err %v; want ended by SIGKILL", p.Exited(), p.Err())
	}
	waitGone(t, p.Pid())
}

// TestStopChildLeftBehind: a child that outlives the program (it ignores
// the SIGTERM the program exits of) is found in the program's group,
// killed, and reported.
func TestStopChildLeftBehind(t *testing.T) {
	p := start(t, `sh -c 'trap "" TERM; echo child $$; exec sleep 100' & wait`)
	out := waitLog(t, p, "\n")
	child, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(out, "child ")))
	if err != nil {
		t.Fatalf("the log %q: %v", out, err)
	}
	f := &fakeTB{TB: t}
	if p.Stop(f, syscall.SIGTERM, 10*time.Second) {
		t.Error("Stop = true")
	}
	want := fmt.Sprintf("testproctest: processes of sh's group %d outlive it; killing them", p.Pid())
	if len(f.errors) != 1 || f.errors[0] != want {
		t.Errorf("errors %q; want %q", f.errors, want)
	}
	waitGone(t, child)
}

// TestAwaitReady: ready once the check passes; an exit at start is an
// error with the log, or ErrPortTaken when the caller says so; no answer in
// time kills the program.
func TestAwaitReady(t *testing.T) {
	p := start(t, "echo up; exec sleep 100")
	if err := p.AwaitReady(10*time.Second, time.Millisecond, func() error {
		if !strings.Contains(p.Log(), "up") {
			return errors.New("not up yet")
		}
		return nil
	}, nil); err != nil {
		t.Errorf("AwaitReady: %v", err)
	}
	p.Stop(t, syscall.SIGTERM, 10*time.Second)

	notYet := func() error { return errors.New("not yet") }
	p = start(t, "echo Address already in use >&2; exit 1")
	taken := func(_ error, log string) bool { return strings.Contains(log, "Address already in use") }
	if err := p.AwaitReady(10*time.Second, time.Millisecond, notYet, taken); !errors.Is(err, testproc.ErrPortTaken) {
		t.Errorf("a port taken: %v", err)
	}
	p = start(t, "echo something went wrong; exit 2")
	if err := p.AwaitReady(10*time.Second, time.Millisecond, notYet, taken); err == nil ||
		err.Error() != "sh exited at start (exit status 2):\nsomething went wrong" {
		t.Errorf("an exit: %v", err)
	}
	p = start(t, "exec sleep 100")
	err := p.AwaitReady(100*time.Millisecond, time.Millisecond, notYet, taken)
	if err == nil || err.Error() != "sh gave no answer in 100ms; last: not yet (sh printed nothing)" || !p.Exited() {
		t.Errorf("no answer: %v, exited %v", err, p.Exited())
	}
}

// TestTail: the end of a long output, the whole of a short one, a note for
// none.
func TestTail(t *testing.T) {
	if got := testproc.Tail(" \n", "prog"); got != " (prog printed nothing)" {
		t.Errorf("Tail of nothing = %q", got)
	}
	if got := testproc.Tail("a line\n", "prog"); got != "\na line" {
		t.Errorf("Tail of a line = %q", got)
	}
	long := strings.Repeat("x", 5000) + "end"
	if got := testproc.Tail(long, "prog"); got != "\n..."+long[len(long)-4000:] {
		t.Errorf("Tail of %d bytes = %d bytes", len(long), len(got))
	}
	if got := testproc.TailN("abcdef", 3); got != "...def" {
		t.Errorf("TailN = %q", got)
	}
	if got := testproc.ReadLog(filepath.Join(t.TempDir(), "none")); !strings.HasPrefix(got, "(no log: ") {
		t.Errorf("ReadLog of no file = %q", got)
	}
}

// TestRerunTest runs itself again, as a child that fails saying what its
// environment told it.
func TestRerunTest(t *testing.T) {
	if v := os.Getenv("TESTPROC_CHILD"); v != "" {
		t.Fatal("the child says " + v)
	}
	out, err := testproc.RerunTest("TestRerunTest", "TESTPROC_CHILD=hello")
	if err == nil || !strings.Contains(out, "the child says hello") || !strings.Contains(out, "--- FAIL: TestRerunTest") ||
		strings.Contains(out, "TestFreePortConcurrent") {
		t.Errorf("err = %v, output:\n%s", err, out)
	}
}

// TestNoProcess: a harness's accessors read a nil Process (none started,
// or stopped) as no program, and Logs puts each launch's log under its
// header in order.
func TestNoProcess(t *testing.T) {
	var p *testproc.Process
	if p.Running() || p.Pid() != 0 {
		t.Errorf("a nil Process: running %v, pid %d; want false, 0", p.Running(), p.Pid())
	}
	dir := t.TempDir()
	path := func(i int) string { return filepath.Join(dir, fmt.Sprintf("run-%d.log", i)) }
	for i, text := range []string{"first\n", "second\n"} {
		if err := os.WriteFile(path(i+1), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want := "--- prog run 1 ---\nfirst\n--- prog run 2 ---\nsecond\n"
	if got := testproc.Logs("prog run", 2, path); got != want {
		t.Errorf("Logs = %q, want %q", got, want)
	}
}
