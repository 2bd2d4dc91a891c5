// Command server is the jwtauth example: a JSON API whose routes show what
// the authentication policies answer, and a page (GET /) that signs a
// browser in and out with the cookie policy and tries the routes.
//
//	go run ./examples/server [-config FILE [-demo-users]] [-addr HOST:PORT]
//
// With -config, the settings are the [app:main] section of that INI file:
// jwtauth.* keys for the JWT policy alone, or multiauth.* keys for a stack
// of policies (see settings.NewPolicy); the demo users can get a token from
// POST /login (when the configuration can sign: a master secret or a
// private key) and send their password to the Basic check
// example:basiccheck only with -demo-users. Without -config, an embedded
// default serves: a stack of the JWT policy (HS256 with a secret made at
// start), the cookie policy (jwt_cookie, the same secret) and HTTP Basic,
// and the demo users, who can get a token from POST /login, sign a browser
// in with the page's form, or send their password with Basic. In both
// cases JWTAUTH_* and MULTIAUTH_* environment variables override the
// settings (for example JWTAUTH_MASTER_SECRET sets jwtauth.master_secret).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
	"github.com/pyramid-go/jwtauth/settings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// demoUsers are the demo accounts, on in the embedded default and with
// -demo-users: the users of POST /login and of the Basic check
// example:basiccheck with check_users = demo (demoCheck).
var demoUsers = map[string]user{
	"alice":  {Password: "alice", Groups: []string{"editors"}},
	"admin":  {Password: "admin", Groups: []string{"admins"}},
	"bob":    {Password: "bob"},
	"badguy": {Password: "badguy"},
}

// demoCheck is the password check of the demo users, registered as
// example:basiccheck: it accepts each user with their password (badguy
// too: the group finder rejects him) and gives them "group:<name>" for
// each of their groups, the principals the group finder gives their
// tokens. basic.Passwords compares the passwords in constant time.
func demoCheck() basic.Check {
	passwords := make(map[string]string, len(demoUsers))
	groups := make(map[string][]string, len(demoUsers))
	for name, u := range demoUsers {
		passwords[name] = u.Password
		for _, g := range u.Groups {
			groups[name] = append(groups[name], "group:"+g)
		}
	}
	return basic.Passwords(passwords, groups)
}

// defaultSettings returns the embedded default: a stack of the JWT policy
// (HS256 with a fresh random secret, so that tokens do not outlive the
// process, and one-hour tokens), the cookie policy (the same tokens in a
// Secure, HttpOnly, SameSite=Lax cookie, re-issued when older than ten
// minutes) and Basic with the demo users' check, the example's group
// finder shared by all three; revoked tokens are kept in memory
// (jwtauth.revocation = memory: POST /logout revokes the request's token,
// POST /users/{id}/revoke all of a user's). The token settings are jwtauth.* keys,
// which the stack's jwt and jwt_cookie policies take as their defaults,
// so that JWTAUTH_* variables override them; neither has a find_groups of
// its own, or the finder would be asked twice about each token.
func defaultSettings() map[string]string {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return map[string]string{
		"jwtauth.algorithm":                             "HS256",
		"jwtauth.master_secret":                         hex.EncodeToString(secret),
		"jwtauth.expiration":                            "3600",
		"jwtauth.revocation":                            "memory",
		"multiauth.policies":                            "jwt cookie basic",
		"multiauth.policy.jwt.use":                      "jwt",
		"multiauth.policy.cookie.use":                   "jwt_cookie",
		"multiauth.policy.cookie.cookie_reissue_time":   "600",
		"multiauth.policy.basic.use":                    "basic",
		"multiauth.policy.basic.check":                  BasicCheckName,
		"multiauth.policy.basic.check_" + checkUsersArg: demoUsersValue,
		"multiauth.policy.basic.realm":                  "jwtauth example",
		"multiauth.groupfinder":                         GroupFinderName,
	}
}

// withDemoUsers gives each basic policy of m whose check is
// example:basiccheck its check_users argument: demo when demo is set (the
// -demo-users flag), none otherwise. It refuses settings that set
// check_users themselves: the flag alone turns the demo users on.
func withDemoUsers(m map[string]string, from settings.Origins, demo bool) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !strings.HasPrefix(k, "multiauth.policy.") || !strings.HasSuffix(k, ".check") || strings.TrimSpace(m[k]) != BasicCheckName {
			continue
		}
		arg := k + "_" + checkUsersArg
		if _, set := m[arg]; set {
			where := arg
			if env := from[arg]; env != "" {
				where = env + " (" + arg + ")"
			}
			return fmt.Errorf("%s: the -demo-users flag sets the users of %s; remove it from the settings", where, BasicCheckName)
		}
		if demo {
			m[arg] = demoUsersValue
		}
	}
	return nil
}

// tokenMaker returns the policy that signs the tokens of POST /login: p
// itself when it is the JWT policy, else the first JWT policy of p's
// stack; nil when there is none.
func tokenMaker(p policy.AuthenticationPolicy) *policy.JWT {
	switch p := p.(type) {
	case *policy.JWT:
		return p
	case *multiauth.Policy:
		for _, n := range p.Policies() {
			if j := tokenMaker(n.Policy); j != nil {
				return j
			}
		}
	}
	return nil
}

// hasBasic tells whether p is, or stacks, a Basic policy.
func hasBasic(p policy.AuthenticationPolicy) bool {
	switch p := p.(type) {
	case *basic.Policy:
		return true
	case *multiauth.Policy:
		for _, n := range p.Policies() {
			if hasBasic(n.Policy) {
				return true
			}
		}
	}
	return false
}

// shownCounters are the policies' counters that GET /debug/vars shows
// as "jwtauth" (expvar's variables are the process's, published once):
// those of the last run that started (one, but in the tests).
var shownCounters atomic.Pointer[policy.Counters]

// publishCounters publishes the expvar variable "jwtauth", the snapshot
// of shownCounters, once.
var publishCounters = sync.OnceFunc(func() {
	expvar.Publish("jwtauth", expvar.Func(func() any {
		if c := shownCounters.Load(); c != nil {
			return c.Snapshot()
		}
		return nil
	}))
})

// showCounters makes c the counters of GET /debug/vars.
func showCounters(c *policy.Counters) {
	shownCounters.Store(c)
	publishCounters()
}

// run is the program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "INI `file` whose [app:main] section holds the jwtauth.* settings (default: the embedded demo configuration)")
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
	demoFlag := fs.Bool("demo-users", false, "with -config: the demo users may log in with POST /login and with the Basic check "+BasicCheckName+" (always on without -config)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "server: unexpected arguments:", fs.Args())
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if stderr == os.Stderr {
		// The program's logger for everything; the policies and their
		// key sets are given it too (settings.NewPolicy below).
		slog.SetDefault(logger)
	}

	var m map[string]string
	var from settings.Origins
	users := map[string]user{}
	if *config != "" {
		var err error
		if m, from, err = settings.Load(*config, ""); err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
		if err := withDemoUsers(m, from, *demoFlag); err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
		if *demoFlag {
			users = demoUsers
		}
	} else {
		m = defaultSettings()
		var env map[string]string
		env, from = settings.FromEnv(os.Environ())
		maps.Copy(m, env)
		users = demoUsers
	}
	counters := new(policy.Counters)
	p, err := settings.NewPolicy(m, from, logger, settings.WithObserver(counters.Observer()))
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	defer p.Close()
	showCounters(counters)
	debug, err := settings.DebugAuthorization(m, from)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	srv := &http.Server{
		Handler:           newApp(p, users, debug, logger),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	printHelp(stdout, "http://"+ln.Addr().String(), p, len(users) > 0)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "server:", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	return 0
}

// printHelp prints where the server listens and curl lines that work for
// its mode. demo tells whether the demo users are on (the embedded
// default, or -demo-users): then a JWT policy that signs gets the token of
// the demo user alice from POST /login, and a Basic policy's lines send the
// demo users' passwords. Otherwise the help says where a token comes from
// (made elsewhere, with this configuration's key or by the issuer of its
// keys) and prints no Basic credentials, since example:basiccheck, the one
// check of this program, then knows no users. It gives the address of the
// page, and, with a cookie policy, why its Secure cookie works on
// http://127.0.0.1. Its last line is always the DELETE of the secret
// article.
func printHelp(w io.Writer, base string, p policy.AuthenticationPolicy, demo bool) {
	fmt.Fprintf(w, "jwtauth example listening on %s\n\n", base)
	switch {
	case cookieSigner(p) == nil:
		fmt.Fprintf(w, "The page: %s/ in a browser tries the routes; its sign-in form answers 501, as no policy of this configuration sets a cookie (jwt_cookie).\n\n", base)
	case !demo:
		fmt.Fprintf(w, "The page: %s/ in a browser tries the routes; its sign-in form knows no users without -demo-users.\n\n", base)
	default:
		fmt.Fprintf(w, "The page: open %s/ in a browser, sign in there as a demo user and try the routes.\n", base)
		fmt.Fprintf(w, "The session is an HttpOnly cookie, Secure unless cookie_secure = false: browsers treat http://127.0.0.1 and\nhttp://localhost as secure contexts and keep it there over plain HTTP; anywhere else, serve HTTPS.\n\n")
	}
	jwtp, signs := tokenMaker(p), signer(p) != nil
	basicUsers := demo && hasBasic(p)
	if demo && (signs || basicUsers) {
		fmt.Fprintf(w, "Demo users (username = password): alice (group editors), admin (group admins), bob, badguy (rejected by the group finder).\n\n")
	}
	if jwtp != nil {
		send := fmt.Sprintf("\"Authorization: %s token=$TOKEN\"", jwtp.Scheme())
		switch {
		case signs && demo:
			fmt.Fprintf(w, "Get a token:\n  TOKEN=$(curl -s -X POST %s/login -d '{\"username\":\"alice\",\"password\":\"alice\"}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')\n\n", base)
		case signs:
			fmt.Fprintf(w, "POST /login knows no users without -demo-users. Set TOKEN to a token made elsewhere, signed with this configuration's key, and send it as %s.\n\n", send)
		default:
			fmt.Fprintf(w, "This configuration cannot sign (no master secret, no private key): POST /login answers 501, tokens come from elsewhere. Set TOKEN to one and send it as %s.\n\n", send)
		}
	}
	if hasBasic(p) && !demo {
		fmt.Fprintf(w, "Basic: the check %s knows no users without -demo-users.\n\n", BasicCheckName)
	}
	// The credentials of the PUT and DELETE lines: the token, else Basic.
	editorAuth, adminAuth := "", ""
	fmt.Fprintf(w, "Try:\n")
	fmt.Fprintf(w, "  curl -i %s/public\n", base)
	fmt.Fprintf(w, "  curl -i %s/auth                       # 401 and the challenges\n", base)
	if jwtp != nil {
		scheme := jwtp.Scheme()
		editorAuth = fmt.Sprintf("-H \"Authorization: %s token=$TOKEN\" ", scheme)
		adminAuth = editorAuth
		fmt.Fprintf(w, "  curl -i %s%s/auth\n", editorAuth, base)
		fmt.Fprintf(w, "  curl -i %s%s/groups\n", editorAuth, base)
		fmt.Fprintf(w, "  curl -i -H \"Authorization: %s token=$TOKEN.broken\" %s/auth   # 401 invalid_token\n", scheme, base)
	}
	if basicUsers {
		fmt.Fprintf(w, "  curl -i -u alice:alice %s/auth                # Basic; the answer names the policy\n", base)
		fmt.Fprintf(w, "  curl -i -u alice:alice %s/groups\n", base)
		if jwtp == nil {
			editorAuth, adminAuth = "-u alice:alice ", "-u admin:admin "
		}
	}
	fmt.Fprintf(w, "  curl -i %s/articles/1                 # 200: Everyone may view\n", base)
	if editorAuth == "" {
		// No credentials in this mode: nobody can log in.
		fmt.Fprintf(w, "  curl -i -X PUT %s/articles/1      # 401: nobody can log in without -demo-users\n", base)
		fmt.Fprintf(w, "  curl -i -X DELETE %s/articles/secret # 401: nobody can log in without -demo-users\n", base)
		return
	}
	fmt.Fprintf(w, "  curl -i -X PUT %s%s/articles/1      # 200 for an editor, 403 for others\n", editorAuth, base)
	fmt.Fprintf(w, "  curl -i -X DELETE %s%s/articles/secret # 200 for an admin only\n", adminAuth, base)
}
