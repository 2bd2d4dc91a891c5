// Package testproc runs the outside programs of test harnesses (the
// redis-server of internal/redistest, the node of internal/oidctest) as
// processes that a test owns, in one way for all of them: [FreePort] picks
// a port of 127.0.0.1 that no other caller in the test binary has been
// given, [OnFreePort] retries a start on another port when the one picked
// was taken meanwhile, [Start] runs a program in a process group of its
// own with its output in a log file, [Process.AwaitReady] waits until it
// answers, and [Process.Stop] ends it (a signal, then SIGKILL past a
// timeout) and fails the test if any process of its group outlives it.
// [ReadLog], [Tail] and [TailN] put a program's output in a message (the
// chromium of internal/browser, which chromedp starts and stops, too).
// [RerunTest] runs one test of the test binary again, in a child, for the
// tests of how a harness ends a test. Only
// test harnesses and _test.go files import it.
//
// Its messages begin with the harness's name and name the program, as
// [Name] says: "redistest: redis-server (pid 1234) did not exit in 10s
// after SIGTERM; killing it".
package testproc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Name is how messages name a harness and the program it runs.
type Name struct {
	Harness string // the harness's package, which begins each message: "redistest"
	Program string // the program: "redis-server"
}

// ErrPortTaken is a start that failed because its port was in use: see
// [OnFreePort].
var ErrPortTaken = errors.New("port already in use")

// Ports handed out in this process are not handed out again: two programs
// started at the same moment must not both try the same one.
var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

// FreePort returns a port of 127.0.0.1 that was free a moment ago (it
// listens on 127.0.0.1:0 and closes) and that it has not returned before in
// this process, so that callers in other goroutines get other ports. The
// port can still be taken by another process before the caller binds it:
// see [OnFreePort].
func FreePort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		portsMu.Lock()
		taken := ports[port]
		ports[port] = true
		portsMu.Unlock()
		if !taken {
			return port, nil
		}
	}
	return 0, errors.New("no port not handed out already")
}

// OnFreePort calls launch with a port from [FreePort], and again with
// another when launch returns [ErrPortTaken] (something else bound the port
// first), logging each retry, up to five times in all. It returns the port
// of the launch that succeeded; it fails t (t.Fatalf) when there is no free
// port, when launch fails otherwise, or when every port was taken.
func OnFreePort(t testing.TB, name Name, launch func(port int) error) int {
	t.Helper()
	const attempts = 5
	for i := 1; ; i++ {
		port, err := FreePort()
		if err != nil {
			t.Fatalf("%s: finding a free port: %v", name.Harness, err)
		}
		err = launch(port)
		if err == nil {
			return port
		}
		if !errors.Is(err, ErrPortTaken) || i == attempts {
			t.Fatalf("%s: starting %s: %v", name.Harness, name.Program, err)
		}
		t.Logf("%s: port %d was taken before %s bound it; trying another", name.Harness, port, name.Program)
	}
}

// Process is one run of a program, started by [Start].
type Process struct {
	name    Name
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when cmd.Wait returns
	waitErr error         // cmd.Wait's error, once done is closed
}

// Start starts cmd, with its standard output and error in a new file at
// logPath (mode 0600), in a process group of its own (see [SysProcAttr]:
// cmd.SysProcAttr is replaced), and waits for it in a goroutine of its own.
// Set up cmd's standard input, if any, before.
func Start(name Name, cmd *exec.Cmd, logPath string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = SysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id of the program, which is also the id of its
// process group; 0 for a nil p (none started).
func (p *Process) Pid() int {
	if p == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether p is a program started and not exited yet;
// false for a nil p (none started).
func (p *Process) Running() bool { return p != nil && !p.Exited() }

// Done is closed when the program has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the program has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the program exited (cmd.Wait's error), once [Process.Exited].
func (p *Process) Err() error {
	<-p.done
	return p.waitErr
}

// LogPath is the path of the program's log file.
func (p *Process) LogPath() string { return p.logPath }

// Log is the program's output so far (see [ReadLog]).
func (p *Process) Log() string { return ReadLog(p.logPath) }

// Logs is the output of a harness's launches 1 to n, each log (logPath
// of its number) after a "--- <launch> <number> ---" line.
func Logs(launch string, n int, logPath func(int) string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "--- %s %d ---\n", launch, i)
		b.WriteString(ReadLog(logPath(i)))
	}
	return b.String()
}

// AwaitReady calls ready every interval until it returns nil, bounded by
// timeout. When the program exits first, it returns [ErrPortTaken] if
// portTaken (nil for never) says so of the exit and the log, else an error
// with the end of the log; past timeout it kills the program's group
// (SIGKILL) and returns ready's last error with the end of the log.
func (p *Process) AwaitReady(timeout, interval time.Duration, ready func() error, portTaken func(waitErr error, log string) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.Exited() {
			out := p.Log()
			if portTaken != nil && portTaken(p.waitErr, out) {
				return ErrPortTaken
			}
			return fmt.Errorf("%s exited at start (%v):%s", p.name.Program, p.waitErr, Tail(out, p.name.Program))
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.Terminate(syscall.SIGKILL, timeout)
			return fmt.Errorf("%s gave no answer in %v; last: %v%s", p.name.Program, timeout, err, Tail(p.Log(), p.name.Program))
		}
		time.Sleep(interval)
	}
}

// Terminate sends sig to the program's process group and waits for the
// program, up to timeout. It reports whether the program exited.
func (p *Process) Terminate(sig syscall.Signal, timeout time.Duration) bool {
	_ = syscall.Kill(-p.Pid(), sig)
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Stop ends the program: sig to its process group, then SIGKILL when it
// has not exited within timeout (which fails t, with t.Errorf), and then
// waits a moment for the rest of its group, which it kills and fails t for
// if any of it is still there. It fails t too if the program outlives
// SIGKILL. It reports whether the program and its group went as asked.
func (p *Process) Stop(t testing.TB, sig syscall.Signal, timeout time.Duration) bool {
	t.Helper()
	pid, n := p.Pid(), p.name
	ok := true
	if !p.Terminate(sig, timeout) {
		ok = false
		t.Errorf("%s: %s (pid %d) did not exit in %v after %s; killing it", n.Harness, n.Program, pid, timeout, signalName(sig))
		if !p.Terminate(syscall.SIGKILL, timeout) {
			t.Errorf("%s: %s (pid %d) outlives SIGKILL", n.Harness, n.Program, pid)
			return false
		}
	}
	for i := 0; groupAlive(pid); i++ {
		// A child (one forked for a save, say) can outlive its parent for
		// a moment.
		if i == 50 {
			t.Errorf("%s: processes of %s's group %d outlive it; killing them", n.Harness, n.Program, pid)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ok
}

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}

// ReadLog returns the contents of the log file at path, or a note of why
// there are none.
func ReadLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(b)
}

// Tail is the end of program's output out, for an error message: a line
// break and the last 4000 bytes, or a note that program printed nothing.
func Tail(out, program string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return " (" + program + " printed nothing)"
	}
	return "\n" + TailN(out, 4000)
}

// TailN is the last n bytes of s, after "..." when that cuts s short.
func TailN(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// RerunTest runs this test binary again with only the top-level test named
// test, verbose (-test.v), and env ("NAME=value") added to its environment,
// and returns what it printed and how it exited. It is for a test of how a
// harness ends a test (a failure, a skip), which must end a test binary of
// its own: the test looks for a variable of env to know that it is the
// child.
func RerunTest(test string, env ...string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(test)+"$", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
