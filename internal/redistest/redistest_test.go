package redistest_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/redistest"
	"github.com/pyramid-go/jwtauth/internal/testproc"
)

// do runs a command on c and fails the test on any error.
func do(t *testing.T, c *redistest.Conn, args ...string) redistest.Reply {
	t.Helper()
	r, err := c.Do(args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return r
}

func dial(t *testing.T, s *redistest.Server) *redistest.Conn {
	t.Helper()
	c, err := s.Dial()
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// alive reports whether a process with the pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestStartPingSetGet starts a server and talks RESP to it: PING, SET with
// a TTL, GET, TTL, a missing key; its URL and address agree.
func TestStartPingSetGet(t *testing.T) {
	s := redistest.Start(t)
	c := dial(t, s)
	if r := do(t, c, "PING"); r.Kind != redistest.SimpleString || r.Str != "PONG" {
		t.Fatalf("PING = %v, want PONG", r)
	}
	if r := do(t, c, "SET", "k", "a value\r\nwith CRLF", "EX", "100"); r.Str != "OK" {
		t.Fatalf("SET = %v", r)
	}
	if r := do(t, c, "GET", "k"); r.Kind != redistest.BulkString || r.Str != "a value\r\nwith CRLF" {
		t.Fatalf("GET k = %v", r)
	}
	if r := do(t, c, "TTL", "k"); r.Kind != redistest.Integer || r.Int < 99 || r.Int > 100 {
		t.Fatalf("TTL k = %v, want 99 or 100", r)
	}
	if r := do(t, c, "GET", "missing"); r.Kind != redistest.Null {
		t.Fatalf("GET missing = %v, want nil", r)
	}
	if r := s.Do("DBSIZE"); r.Int != 1 {
		t.Fatalf("DBSIZE = %v, want 1", r)
	}
	if _, err := c.Do("NOSUCHCOMMAND"); !errors.As(err, new(redistest.ErrorReply)) || err.(redistest.ErrorReply).Prefix() != "ERR" {
		t.Fatalf("an unknown command: err = %v, want an ERR reply", err)
	}
	if r := do(t, c, "PING"); r.Str != "PONG" { // still usable after an error reply
		t.Fatalf("PING after an error = %v", r)
	}

	u, err := url.Parse(s.URL())
	if err != nil || u.Scheme != "redis" || u.Host != s.Addr() || u.Path != "/0" || u.User != nil {
		t.Fatalf("URL = %q (%v), want redis://%s/0", s.URL(), err, s.Addr())
	}
	if host, _, _ := net.SplitHostPort(s.Addr()); host != "127.0.0.1" {
		t.Fatalf("Addr = %q, want 127.0.0.1", s.Addr())
	}
	if got := s.URLFor(3); got != "redis://"+s.Addr()+"/3" {
		t.Fatalf("URLFor(3) = %q", got)
	}
	// Loopback only, no persistence, protected mode.
	for param, want := range map[string]string{"bind": "127.0.0.1", "protected-mode": "yes", "appendonly": "no", "save": ""} {
		r := s.Do("CONFIG", "GET", param)
		if len(r.Elems) != 2 || r.Elems[1].Str != want {
			t.Errorf("CONFIG GET %s = %v, want %q", param, r, want)
		}
	}
}

// TestRestart restarts a server: the same port, a new process that answers,
// and (without persistence) no data.
func TestRestart(t *testing.T) {
	s := redistest.Start(t)
	addr, pid := s.Addr(), s.PID()
	s.Do("SET", "k", "v")
	s.Restart()
	if s.Addr() != addr {
		t.Fatalf("Addr after Restart = %s, want %s", s.Addr(), addr)
	}
	if s.PID() == pid || alive(pid) {
		t.Fatalf("after Restart: pid %d (was %d, alive %v)", s.PID(), pid, alive(pid))
	}
	if r := s.Do("PING"); r.Str != "PONG" {
		t.Fatalf("PING after Restart = %v", r)
	}
	if r := s.Do("GET", "k"); r.Kind != redistest.Null {
		t.Fatalf("GET k after Restart = %v, want nil (no persistence)", r)
	}
}

// TestKillRestart kills a server abruptly: an open connection is cut, new
// ones are refused, and Restart brings it back on the same port.
func TestKillRestart(t *testing.T) {
	s := redistest.Start(t)
	c := dial(t, s)
	do(t, c, "PING")
	pid := s.PID()
	s.Kill()
	if s.Running() || alive(pid) {
		t.Fatalf("after Kill: Running %v, pid %d alive %v", s.Running(), pid, alive(pid))
	}
	if _, err := c.Do("PING"); err == nil {
		t.Fatal("PING on a connection to a killed server succeeded")
	}
	if c2, err := s.Dial(); err == nil {
		c2.Close()
		t.Fatal("dialing a killed server succeeded")
	}
	s.Kill() // a second Kill, or Stop, does nothing
	s.Stop()
	s.Restart()
	if !s.Running() {
		t.Fatal("not Running after Restart")
	}
	if r := do(t, dial(t, s), "PING"); r.Str != "PONG" {
		t.Fatalf("PING after Kill and Restart = %v", r)
	}
}

// TestStopThenCleanup stops a server within the test; the cleanup has
// nothing left to do, and the process is gone.
func TestStopThenCleanup(t *testing.T) {
	s := redistest.Start(t)
	pid := s.PID()
	s.Stop()
	if s.Running() || s.PID() != 0 || alive(pid) {
		t.Fatalf("after Stop: Running %v, PID %d, pid %d alive %v", s.Running(), s.PID(), pid, alive(pid))
	}
}

// TestCleanupStops checks, from the parent test, that a subtest's server is
// gone when the subtest ends.
func TestCleanupStops(t *testing.T) {
	var pid int
	t.Run("sub", func(t *testing.T) {
		pid = redistest.Start(t).PID()
	})
	if os.Getenv(redistest.SkipEnv) == "1" {
		t.Skip(redistest.SkipEnv + "=1")
	}
	if pid == 0 || alive(pid) {
		t.Fatalf("the subtest's redis-server (pid %d) outlives the subtest", pid)
	}
}

// TestTwoServers runs servers side by side, started at the same moment:
// each on a port of its own, with data of its own.
func TestTwoServers(t *testing.T) {
	if os.Getenv(redistest.SkipEnv) == "1" {
		t.Skip(redistest.SkipEnv + "=1") // Start's own skip would come from other goroutines
	}
	const n = 4
	servers := make([]*redistest.Server, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		wg.Go(func() {
			// Start from other goroutines: its t.Fatalf would be misplaced,
			// but these must start together to race for ports.
			s := redistest.Start(t)
			mu.Lock()
			servers[i] = s
			mu.Unlock()
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, s := range servers {
		if s == nil {
			t.Fatal("a Start failed") // it said why
		}
		if seen[s.Addr()] {
			t.Fatalf("two servers on %s", s.Addr())
		}
		seen[s.Addr()] = true
		s.Do("SET", "who", s.Addr())
	}
	for _, s := range servers {
		if r := s.Do("GET", "who"); r.Str != s.Addr() {
			t.Fatalf("GET who on %s = %v", s.Addr(), r)
		}
	}
}

// TestPassword: with a password the server refuses commands before AUTH,
// and a wrong password; the URL carries it for the default user.
func TestPassword(t *testing.T) {
	const pw = `p@ss:w/rd "quoted" \ 100%`
	s := redistest.StartWith(t, redistest.Options{Password: pw})
	c := dial(t, s)
	if _, err := c.Do("PING"); !isReply(err, "NOAUTH") {
		t.Fatalf("PING before AUTH: err = %v, want NOAUTH", err)
	}
	if _, err := c.Do("AUTH", "wrong"); !isReply(err, "WRONGPASS") {
		t.Fatalf("AUTH wrong: err = %v, want WRONGPASS", err)
	}
	if r := do(t, c, "AUTH", pw); r.Str != "OK" {
		t.Fatalf("AUTH = %v", r)
	}
	do(t, c, "PING")
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := u.User.Password(); u.User.Username() != "" || got != pw {
		t.Fatalf("URL %q: user %q password %q, want \"\" and %q", s.URL(), u.User.Username(), got, pw)
	}
	s.Restart() // the password holds across a restart
	if _, err := dial(t, s).Do("PING"); !isReply(err, "NOAUTH") {
		t.Fatalf("PING before AUTH after Restart: err = %v, want NOAUTH", err)
	}
}

// TestACLUser: an ACL user with the default user off, as
// redis://user:password@host:port/db names it.
func TestACLUser(t *testing.T) {
	s := redistest.StartWith(t, redistest.Options{User: "jwtauth", UserPassword: "s3cret pass", DefaultUserOff: true})
	c := dial(t, s)
	if _, err := c.Do("PING"); !isReply(err, "NOAUTH") {
		t.Fatalf("PING before AUTH: err = %v, want NOAUTH", err)
	}
	if _, err := c.Do("AUTH", "s3cret pass"); !isReply(err, "WRONGPASS") { // as the default user
		t.Fatalf("AUTH as the default user: err = %v, want WRONGPASS", err)
	}
	do(t, c, "AUTH", "jwtauth", "s3cret pass")
	if r := do(t, c, "ACL", "WHOAMI"); r.Str != "jwtauth" {
		t.Fatalf("ACL WHOAMI = %v", r)
	}
	do(t, c, "SET", "k", "v")
	if r := do(t, c, "GET", "k"); r.Str != "v" {
		t.Fatalf("GET k = %v", r)
	}
	if got, want := s.URL(), "redis://jwtauth:s3cret%20pass@"+s.Addr()+"/0"; got != want {
		t.Fatalf("URL = %q, want %q", got, want)
	}
}

// TestPersist: with Persist the data survives a kill and a restart.
func TestPersist(t *testing.T) {
	s := redistest.StartWith(t, redistest.Options{Persist: true})
	s.Do("SET", "k", "kept", "EX", "1000")
	s.Kill()
	s.Restart()
	if r := s.Do("GET", "k"); r.Str != "kept" {
		t.Fatalf("GET k after Kill and Restart = %v, want \"kept\"", r)
	}
	if r := s.Do("TTL", "k"); r.Int <= 0 || r.Int > 1000 {
		t.Fatalf("TTL k after Restart = %v", r)
	}
	s.Stop()
	s.Restart()
	if r := s.Do("GET", "k"); r.Str != "kept" {
		t.Fatalf("GET k after Stop and Restart = %v, want \"kept\"", r)
	}
}

// TestTLS: a TLS-only server, for rediss:// URLs: TLS with the harness's CA
// works, a client that does not trust it is refused, plaintext gets nothing.
func TestTLS(t *testing.T) {
	s := redistest.StartWith(t, redistest.Options{TLS: true, Password: "pw"})
	if !strings.HasPrefix(s.URL(), "rediss://:pw@127.0.0.1:") || s.CAFile() == "" {
		t.Fatalf("URL = %q, CAFile = %q", s.URL(), s.CAFile())
	}
	c := dial(t, s)
	do(t, c, "AUTH", "pw")
	if r := do(t, c, "PING"); r.Str != "PONG" {
		t.Fatalf("PING over TLS = %v", r)
	}
	if _, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Addr(), &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		t.Fatal("a client without the harness's CA trusted the server")
	}
	nc, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	if buf := make([]byte, 64); func() bool { n, _ := nc.Read(buf); return strings.Contains(string(buf[:n]), "PONG") }() {
		t.Fatal("a plaintext PING was answered by the TLS port")
	}
	s.Restart()
	if r := s.Do("PING"); r.Str != "PONG" {
		t.Fatalf("PING over TLS after Restart = %v", r)
	}
}

// TestFind: REDIS_SERVER names the binary, and must exist.
func TestFind(t *testing.T) {
	t.Setenv(redistest.PathEnv, "/nonexistent/redis-server")
	if _, err := redistest.Find(); err == nil || !strings.Contains(err.Error(), redistest.PathEnv) {
		t.Fatalf("Find with a missing $%s: err = %v", redistest.PathEnv, err)
	}
}

// TestMissingBinary runs this test binary again with REDIS_SERVER naming
// no file: Start fails the test and names the script that installs
// redis-server, or skips it with JWTAUTHTEST_SKIP_REDIS=1.
func TestMissingBinary(t *testing.T) {
	if os.Getenv("REDISTEST_CHILD") == "1" {
		redistest.Start(t)
		t.Fatal("Start returned without a redis-server")
	}
	run := func(skip string) (string, error) {
		return testproc.RerunTest("TestMissingBinary", "REDISTEST_CHILD=1", redistest.PathEnv+"=/nonexistent/redis-server", redistest.SkipEnv+"="+skip)
	}
	out, err := run("")
	if err == nil || !strings.Contains(out, "scripts/ensure-redis.sh") || !strings.Contains(out, "--- FAIL: TestMissingBinary") {
		t.Errorf("without a binary: err = %v, output:\n%s", err, out)
	}
	out, err = run("1")
	if err != nil || !strings.Contains(out, "--- SKIP: TestMissingBinary") {
		t.Errorf("with %s=1: err = %v, output:\n%s", redistest.SkipEnv, err, out)
	}
}

func isReply(err error, prefix string) bool {
	var e redistest.ErrorReply
	return errors.As(err, &e) && e.Prefix() == prefix
}
