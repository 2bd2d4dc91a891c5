// Command server is the jwtauth example: a JSON API whose routes show what
// the JWT authentication policy answers.
//
//	go run ./examples/server [-config FILE] [-addr HOST:PORT]
//
// With -config, the settings are the [app:main] section of that INI file.
// Without it, an embedded default serves: HS256 with a secret made at
// start, and demo users that can get a token from POST /login. In both
// cases JWTAUTH_* environment variables override the settings (for
// example JWTAUTH_MASTER_SECRET sets jwtauth.master_secret).
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
	"github.com/pyramid-go/jwtauth/settings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// demoUsers are the accounts of the embedded default.
var demoUsers = map[string]user{
	"alice":  {Password: "alice", Groups: []string{"editors"}},
	"admin":  {Password: "admin", Groups: []string{"admins"}},
	"bob":    {Password: "bob"},
	"badguy": {Password: "badguy"},
}

// defaultSettings returns the embedded default: HS256 with a fresh random
// secret (so tokens do not outlive the process), the example's group
// finder, one-hour tokens.
func defaultSettings() map[string]string {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return map[string]string{
		"jwtauth.algorithm":     "HS256",
		"jwtauth.master_secret": hex.EncodeToString(secret),
		"jwtauth.find_groups":   GroupFinderName,
		"jwtauth.expiration":    "3600",
	}
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
	users := map[string]user{}
	if *config != "" {
		var err error
		if m, err = settings.Load(*config, ""); err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
	} else {
		m = defaultSettings()
		maps.Copy(m, settings.FromEnv(os.Environ()))
		users = demoUsers
	}
	cfg, err := settings.Parse(m)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	cfg.Logger = logger
	p, err := policy.NewJWT(cfg)
	if err != nil {
		for _, s := range cfg.KeySets {
			s.Close()
		}
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	defer p.Close()
	debug, err := settings.DebugAuthorization(m)
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
	printHelp(stdout, "http://"+ln.Addr().String(), p.Scheme(), len(users) > 0)

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

func printHelp(w io.Writer, base, scheme string, demo bool) {
	fmt.Fprintf(w, "jwtauth example listening on %s\n\n", base)
	if demo {
		fmt.Fprintf(w, "Demo users (username = password): alice (group editors), admin (group admins), bob, badguy (rejected by the group finder).\n\n")
		fmt.Fprintf(w, "Get a token:\n  TOKEN=$(curl -s -X POST %s/login -d '{\"username\":\"alice\",\"password\":\"alice\"}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')\n\n", base)
	}
	fmt.Fprintf(w, "Try:\n")
	fmt.Fprintf(w, "  curl -i %s/public\n", base)
	fmt.Fprintf(w, "  curl -i %s/auth                       # 401 and the challenge\n", base)
	fmt.Fprintf(w, "  curl -i -H \"Authorization: %s token=$TOKEN\" %s/auth\n", scheme, base)
	fmt.Fprintf(w, "  curl -i -H \"Authorization: %s token=$TOKEN\" %s/groups\n", scheme, base)
	fmt.Fprintf(w, "  curl -i -H \"Authorization: %s token=$TOKEN.broken\" %s/auth   # 401 invalid_token\n", scheme, base)
	fmt.Fprintf(w, "  curl -i %s/articles/1                 # 200: Everyone may view\n", base)
	fmt.Fprintf(w, "  curl -i -X PUT -H \"Authorization: %s token=$TOKEN\" %s/articles/1      # 200 for an editor, 403 for others\n", scheme, base)
	fmt.Fprintf(w, "  curl -i -X DELETE -H \"Authorization: %s token=$TOKEN\" %s/articles/secret # 200 for an admin only\n", scheme, base)
}
