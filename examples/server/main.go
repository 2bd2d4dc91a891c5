// Command server is the jwtauth example: a JSON API whose routes show what
// the authentication policies answer.
//
//	go run ./examples/server [-config FILE] [-addr HOST:PORT]
//
// With -config, the settings are the [app:main] section of that INI file:
// jwtauth.* keys for the JWT policy alone, or multiauth.* keys for a stack
// of policies (see settings.NewPolicy). Without it, an embedded default
// serves: a stack of the JWT policy (HS256 with a secret made at start)
// and HTTP Basic, and demo users that can get a token from POST /login or
// send their password with Basic. In both cases JWTAUTH_* and MULTIAUTH_*
// environment variables override the settings (for example
// JWTAUTH_MASTER_SECRET sets jwtauth.master_secret).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
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

// demoUsers are the accounts of the embedded default: the users of POST
// /login and of the Basic check example:basiccheck (demoCheck).
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
// process, and one-hour tokens) and Basic with the demo users' check, the
// example's group finder shared by both. The JWT policy's settings are
// jwtauth.* keys, which the stack's jwt policy takes as its defaults, so
// that JWTAUTH_* variables override them; it has no find_groups of its own,
// or the finder would be asked twice about each token.
func defaultSettings() map[string]string {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return map[string]string{
		"jwtauth.algorithm":            "HS256",
		"jwtauth.master_secret":        hex.EncodeToString(secret),
		"jwtauth.expiration":           "3600",
		"multiauth.policies":           "jwt basic",
		"multiauth.policy.jwt.use":     "jwt",
		"multiauth.policy.basic.use":   "basic",
		"multiauth.policy.basic.check": BasicCheckName,
		"multiauth.policy.basic.realm": "jwtauth example",
		"multiauth.groupfinder":        GroupFinderName,
	}
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

// run is the program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "INI `file` whose [app:main] section holds the jwtauth.* settings (default: the embedded demo configuration)")
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
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
		// The program's logger for everything, the key sets that
		// settings.Parse starts included.
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
	} else {
		m = defaultSettings()
		var env map[string]string
		env, from = settings.FromEnv(os.Environ())
		maps.Copy(m, env)
		users = demoUsers
	}
	p, err := settings.NewPolicy(m, from, logger)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	defer p.Close()
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

// printHelp prints where the server listens and curl lines for its
// policies: a JWT policy's token lines, a Basic policy's -u lines (the demo
// users' when demo, else placeholders). Its last line is always the DELETE
// of the secret article.
func printHelp(w io.Writer, base string, p policy.AuthenticationPolicy, demo bool) {
	fmt.Fprintf(w, "jwtauth example listening on %s\n\n", base)
	jwtp := tokenMaker(p)
	if demo {
		fmt.Fprintf(w, "Demo users (username = password): alice (group editors), admin (group admins), bob, badguy (rejected by the group finder).\n\n")
		if jwtp != nil {
			fmt.Fprintf(w, "Get a token:\n  TOKEN=$(curl -s -X POST %s/login -d '{\"username\":\"alice\",\"password\":\"alice\"}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')\n\n", base)
		}
	}
	alice, admin := "alice:alice", "admin:admin"
	if !demo {
		alice, admin = "USER:PASSWORD", "USER:PASSWORD"
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
	if hasBasic(p) {
		fmt.Fprintf(w, "  curl -i -u %s %s/auth                # Basic; the answer names the policy\n", alice, base)
		fmt.Fprintf(w, "  curl -i -u %s %s/groups\n", alice, base)
		if jwtp == nil {
			editorAuth, adminAuth = "-u "+alice+" ", "-u "+admin+" "
		}
	}
	fmt.Fprintf(w, "  curl -i %s/articles/1                 # 200: Everyone may view\n", base)
	fmt.Fprintf(w, "  curl -i -X PUT %s%s/articles/1      # 200 for an editor, 403 for others\n", editorAuth, base)
	fmt.Fprintf(w, "  curl -i -X DELETE %s%s/articles/secret # 200 for an admin only\n", adminAuth, base)
}
