// Package redistest runs a real redis-server for tests: [Start] starts a
// private one on a free port of 127.0.0.1 and stops it when the test ends,
// and the methods of [Server] stop, kill and restart it (on the same port)
// for tests of outages and recovery. [Conn] is a bare RESP2 connection, with
// no Redis client behind it, for looking at the server independently of the
// client under test. Only _test.go files import it.
//
// The server is Debian's redis-server package. The binary is the one named
// by the environment variable REDIS_SERVER, else /usr/bin/redis-server,
// else redis-server on PATH; scripts/ensure-redis.sh installs it (make test
// runs it first). A test that finds none fails, saying so;
// JWTAUTHTEST_SKIP_REDIS=1 skips the Redis tests instead.
//
// Each server is the test's own, never a system instance (one on 6379 is
// left alone): it listens on 127.0.0.1 only, in protected mode, on a port
// chosen by listening on 127.0.0.1:0 and closing (Redis cannot report a port
// it picked itself), retried with another port if something else takes it
// first. Its working directory, configuration and log are in a temporary
// directory of the test's; it persists nothing unless [Options].Persist
// asks, and it knows no other server. Passwords go in the configuration
// file (mode 0600), never on the command line. Starting waits, bounded by
// [StartTimeout], until the server answers INFO with its own process id, so
// a test never talks to another process that happens to hold the port. At
// the end of the test the server is stopped (SIGTERM, then SIGKILL past
// [StopTimeout]) and the test fails if any of its processes outlives that;
// a failed test gets the server's log.
package redistest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/testbin"
	"github.com/pyramid-go/jwtauth/internal/testproc"
)

// SkipEnv is the environment variable that, set to 1, makes [Start] skip
// the test instead of failing it when no redis-server can be found.
const SkipEnv = "JWTAUTHTEST_SKIP_REDIS"

// PathEnv is the environment variable that names the redis-server binary to
// use, ahead of /usr/bin/redis-server and PATH.
const PathEnv = "REDIS_SERVER"

// StartTimeout bounds a start (or restart) of the server, until it answers.
// redis-server starts in a few milliseconds; a busy machine under the race
// detector can take far longer.
const StartTimeout = 15 * time.Second

// StopTimeout bounds a graceful stop; past it the server is killed.
const StopTimeout = 10 * time.Second

// Find returns the redis-server binary that [Start] would run: $REDIS_SERVER
// when set (it must exist), else /usr/bin/redis-server, else redis-server on
// PATH. The path is not resolved: Debian's redis-server is a symbolic link
// to redis-check-rdb, a binary that acts by the name it is run as.
func Find() (string, error) {
	return testbin.Find(PathEnv, redisServer.DefaultPath, redisServer.Name)
}

// redisServer is how [StartWith] finds redis-server, and what it says
// without one.
var redisServer = testbin.Program{
	Name:        "redis-server",
	PathEnv:     PathEnv,
	DefaultPath: "/usr/bin/redis-server",
	Package:     "redis-server",
	Script:      "scripts/ensure-redis.sh (make redis)",
	SkipEnv:     SkipEnv,
	Tests:       "Redis tests",
	Skipping:    "not starting redis-server",
}

// Options are the settings of a server beyond the defaults of [Start].
type Options struct {
	// Password is the default user's password (requirepass): without it,
	// the default user needs none.
	Password string
	// User and UserPassword add an ACL user with every permission on every
	// key and channel, for tests of redis://user:password@host:port/db.
	User, UserPassword string
	// DefaultUserOff turns the default user off (it needs User), so that
	// only User's credentials get in.
	DefaultUserOff bool
	// TLS makes the server listen with TLS only (for rediss:// URLs), with a
	// certificate for 127.0.0.1 from a CA made for it: see [Server.TLSConfig]
	// and [Server.CAFile]. Clients need no certificate.
	TLS bool
	// Persist keeps the data across [Server.Stop], [Server.Kill] and
	// [Server.Restart]: an append-only file, written through on every
	// write. Without it the server keeps nothing on disk, and a restart
	// begins empty.
	Persist bool
	// Config is more configuration, one directive a line in redis.conf's
	// syntax ("maxmemory 10mb"), after the harness's own.
	Config []string
}

// Server is one redis-server for one test. Its methods fail the test
// (t.Fatalf) when they cannot do what they say, so call them from the
// test's goroutine; [Server.Addr], [Server.URL] and [Server.Dial] may be
// called from any goroutine.
type Server struct {
	t    testing.TB
	bin  string
	opts Options
	dir  string
	port int
	tls  *tlsFiles

	mu       sync.Mutex
	proc     *testproc.Process // nil when stopped
	launches int
}

// name is how the messages of [testproc] name the harness and redis-server.
var name = testproc.Name{Harness: "redistest", Program: "redis-server"}

// Start starts a redis-server for the test t, with no password and no
// persistence, and returns it once it answers. It is stopped by t.Cleanup.
// Without a redis-server binary (see [Find]) the test fails, naming the
// script that installs one; with JWTAUTHTEST_SKIP_REDIS=1 it is skipped.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is [Start] with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := testbin.Require(t, redisServer)
	if opts.DefaultUserOff && opts.User == "" {
		t.Fatal("redistest: DefaultUserOff needs a User")
	}
	for _, s := range append([]string{opts.Password, opts.User, opts.UserPassword}, opts.Config...) {
		if strings.ContainsAny(s, "\r\n\x00") {
			t.Fatalf("redistest: option %q has a line break or NUL", s)
		}
	}
	if opts.User != "" && strings.ContainsAny(opts.User, " \t\"'\\") {
		t.Fatalf("redistest: user name %q has a space, quote or backslash", opts.User)
	}
	s := &Server{t: t, bin: bin, opts: opts, dir: t.TempDir()}
	if opts.TLS {
		var err error
		if s.tls, err = makeTLS(s.dir); err != nil {
			t.Fatalf("redistest: making the TLS certificates: %v", err)
		}
	}
	t.Cleanup(s.cleanup) // after t.TempDir's, so it runs before the directory goes

	start := time.Now()
	s.port = testproc.OnFreePort(t, name, func(port int) error {
		p, err := s.launch(port)
		if err == nil {
			s.mu.Lock()
			s.proc = p
			s.mu.Unlock()
		}
		return err
	})
	t.Logf("redistest: redis-server on %s, started in %v", s.Addr(), time.Since(start).Round(time.Millisecond))
	return s
}

// config is redis.conf for a run on port.
func (s *Server) config(port int) string {
	var b strings.Builder
	line := func(directive string, args ...string) {
		b.WriteString(directive)
		for _, a := range args {
			b.WriteByte(' ')
			b.WriteString(quote(a))
		}
		b.WriteByte('\n')
	}
	line("bind", "127.0.0.1")
	line("protected-mode", "yes")
	if s.tls != nil {
		line("port", "0")
		line("tls-port", strconv.Itoa(port))
		line("tls-cert-file", s.tls.certFile)
		line("tls-key-file", s.tls.keyFile)
		line("tls-ca-cert-file", s.tls.caFile)
		line("tls-auth-clients", "no")
	} else {
		line("port", strconv.Itoa(port))
	}
	line("daemonize", "no")
	line("supervised", "no")
	line("dir", s.dir)
	line("logfile", "") // standard output, which is the run's log file
	line("loglevel", "notice")
	line("pidfile", filepath.Join(s.dir, "redis.pid"))
	line("save", "")
	if s.opts.Persist {
		line("appendonly", "yes")
		line("appendfsync", "always")
	} else {
		line("appendonly", "no")
	}
	if s.opts.Password != "" {
		line("requirepass", s.opts.Password)
	}
	if s.opts.User != "" {
		line("user", s.opts.User, "on", ">"+s.opts.UserPassword, "~*", "&*", "+@all")
	}
	if s.opts.DefaultUserOff {
		line("user", "default", "off")
	}
	for _, c := range s.opts.Config {
		b.WriteString(c)
		b.WriteByte('\n')
	}
	return b.String()
}

// quote writes a value as a double-quoted string of redis.conf.
func quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// launch runs redis-server on port and waits until it answers. A server
// that exits at once because the port is in use is [testproc.ErrPortTaken].
func (s *Server) launch(port int) (*testproc.Process, error) {
	s.launches++
	confPath := filepath.Join(s.dir, "redis.conf")
	if err := os.WriteFile(confPath, []byte(s.config(port)), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(s.bin, confPath)
	cmd.Dir = s.dir
	p, err := testproc.Start(name, cmd, s.logPath(s.launches))
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	err = p.AwaitReady(StartTimeout, 10*time.Millisecond,
		func() error { return s.ready(addr, p.Pid()) },
		func(_ error, log string) bool { return strings.Contains(log, "Address already in use") })
	if err != nil {
		return nil, err
	}
	return p, nil
}

// logPath is the path of the log of the server's nth run.
func (s *Server) logPath(n int) string {
	return filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", n))
}

// ready asks the server at addr for INFO and checks that the process
// answering is pid and that it has loaded its data (Redis answers INFO, but
// refuses most commands with -LOADING, while it reads its append-only file).
func (s *Server) ready(addr string, pid int) error {
	c, err := dial(addr, s.clientTLS(), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := s.auth(c); err != nil {
		return err
	}
	info := map[string]string{}
	for _, section := range []string{"server", "persistence"} { // one a call: Redis 6 takes one
		r, err := c.Do("INFO", section)
		if err != nil {
			return err
		}
		for l := range strings.SplitSeq(r.Str, "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
				info[k] = v
			}
		}
	}
	if info["process_id"] != strconv.Itoa(pid) {
		return fmt.Errorf("the server on %s is not redis-server pid %d (process_id:%s)", addr, pid, info["process_id"])
	}
	if info["loading"] != "0" || info["async_loading"] == "1" { // async_loading: Redis 7
		return fmt.Errorf("redis-server on %s is still loading its data", addr)
	}
	return nil
}

// auth authenticates c as the harness: User when there is one, else the
// default user with Password, else not at all.
func (s *Server) auth(c *Conn) error {
	var err error
	switch {
	case s.opts.User != "":
		_, err = c.Do("AUTH", s.opts.User, s.opts.UserPassword)
	case s.opts.Password != "":
		_, err = c.Do("AUTH", s.opts.Password)
	}
	return err
}

func (s *Server) clientTLS() *tls.Config {
	if s.tls == nil {
		return nil
	}
	return s.tls.clientConfig()
}

// stop ends the running server with sig (SIGKILL past StopTimeout), and
// fails the test if a process of its group is left.
func (s *Server) stop(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.Stop(s.t, sig, StopTimeout)
	}
}

// Stop stops the server gracefully (SIGTERM) and waits for it to exit. It
// does nothing when the server is not running.
func (s *Server) Stop() {
	s.t.Helper()
	s.stop(syscall.SIGTERM)
}

// Kill kills the server (SIGKILL, to it and any child it forked), for an
// abrupt outage: connections are reset, nothing is saved but what
// [Options].Persist has already written. It waits for the server to exit.
func (s *Server) Kill() {
	s.t.Helper()
	s.stop(syscall.SIGKILL)
}

// Restart stops the server if it is running and starts it again on the same
// port and with the same settings (and, with [Options].Persist, the same
// data). When another process has taken the port meanwhile it keeps trying
// for [StartTimeout], then fails the test.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	start := time.Now()
	deadline := start.Add(StartTimeout)
	for {
		p, err := s.launch(s.port)
		if err == nil {
			s.mu.Lock()
			s.proc = p
			s.mu.Unlock()
			s.t.Logf("redistest: redis-server restarted on %s in %v", s.Addr(), time.Since(start).Round(time.Millisecond))
			return
		}
		if !errors.Is(err, testproc.ErrPortTaken) || time.Now().After(deadline) {
			s.t.Fatalf("redistest: restarting redis-server on %s: %v", s.Addr(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Running reports whether the server has been started and not stopped or
// killed by the harness, and its process is still there.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.Running()
}

// PID is the process id of the running server, or 0.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.Pid()
}

// Addr is the server's address, 127.0.0.1:port; it stays the same across
// restarts.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Port is the server's port.
func (s *Server) Port() int { return s.port }

// URL is the server's URL for database 0: redis://127.0.0.1:port/0, or
// rediss:// with [Options].TLS. It carries the credentials the harness
// uses: User's (redis://user:password@...) when there is one, else the
// default user's password (redis://:password@...).
func (s *Server) URL() string { return s.URLFor(0) }

// URLFor is [Server.URL] for database db.
func (s *Server) URLFor(db int) string {
	u := url.URL{Scheme: "redis", Host: s.Addr(), Path: "/" + strconv.Itoa(db)}
	if s.tls != nil {
		u.Scheme = "rediss"
	}
	switch {
	case s.opts.User != "":
		u.User = url.UserPassword(s.opts.User, s.opts.UserPassword)
	case s.opts.Password != "":
		u.User = url.UserPassword("", s.opts.Password)
	}
	return u.String()
}

// TLSConfig is a client TLS configuration that trusts the server's
// certificate (its CA only), or nil without [Options].TLS. Each call
// returns a new one.
func (s *Server) TLSConfig() *tls.Config { return s.clientTLS() }

// CAFile is the path of the PEM file of the CA that signed the server's
// certificate, or "" without [Options].TLS.
func (s *Server) CAFile() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.caFile
}

// Dial opens a connection to the server (over TLS with [Options].TLS),
// unauthenticated. Close it when done.
func (s *Server) Dial() (*Conn, error) {
	return dial(s.Addr(), s.clientTLS(), 5*time.Second)
}

// Do runs one command on a new connection authenticated as the harness
// (see [Server.URL]) and returns its reply. It fails the test when the
// server cannot be reached or answers with an error; use [Server.Dial] and
// [Conn.Do] to see error replies.
func (s *Server) Do(args ...string) Reply {
	s.t.Helper()
	c, err := s.Dial()
	if err != nil {
		s.t.Fatalf("redistest: %q on %s: %v", args, s.Addr(), err)
	}
	defer c.Close()
	if err := s.auth(c); err != nil {
		s.t.Fatalf("redistest: authenticating on %s: %v", s.Addr(), err)
	}
	r, err := c.Do(args...)
	if err != nil {
		s.t.Fatalf("redistest: %q on %s: %v", args, s.Addr(), err)
	}
	return r
}

// Log returns the log of the server's runs so far, each under a header.
func (s *Server) Log() string { return testproc.Logs("redis-server run", s.launches, s.logPath) }

// cleanup stops the server at the end of the test; a failed test gets the
// server's log.
func (s *Server) cleanup() {
	s.stop(syscall.SIGTERM)
	if s.t.Failed() && s.launches > 0 {
		s.t.Logf("redistest: redis-server's log:\n%s", testproc.TailN(s.Log(), 8000))
	}
}
