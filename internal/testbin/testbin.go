// Package testbin finds the outside programs that test harnesses run (the
// chromium of internal/browser, the redis-server of internal/redistest, the
// node of internal/oidctest) and ends a test that cannot have one, in one
// way for all of them: [Find] looks for the binary (an environment variable
// that names it, else a default path, else the program's name on PATH), and
// [Require] skips the test when the program's skip variable is 1, else fails
// it, naming the script that installs the program, when [Find] finds none. Only test
// harnesses and _test.go files import it.
package testbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Find returns the binary to run: the path in the environment variable
// envVar when it is set (the file must exist), else defaultPath when it
// exists, else name on PATH. The path is returned as found, not resolved
// (a symbolic link stays one).
func Find(envVar, defaultPath, name string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", envVar, p, err)
		}
		return p, nil
	}
	if _, err := os.Stat(defaultPath); err == nil {
		return defaultPath, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", errors.New("no " + name + ": not at " + defaultPath + " nor on PATH, and " + envVar + " is not set")
	}
	return p, nil
}

// Program is a program a test harness runs, and how a test gets it.
type Program struct {
	Name        string // its name on PATH: "redis-server"
	PathEnv     string // the environment variable that names the binary: "REDIS_SERVER"
	DefaultPath string // where Debian's package puts it: "/usr/bin/redis-server"
	Package     string // Debian's package: "redis-server"
	Script      string // what installs it: "scripts/ensure-redis.sh (make redis)"
	SkipEnv     string // the environment variable that, set to 1, skips the tests: "JWTAUTHTEST_SKIP_REDIS"
	Tests       string // the tests SkipEnv skips: "Redis tests"
	Skipping    string // what a skipped test does not do: "not starting redis-server"
}

// Require returns the program's binary (see [Find]) for the test t. With
// p.SkipEnv=1 it skips t first, whether or not there is a binary ("SkipEnv=1:
// Skipping"); without a binary it fails t (t.Fatalf), saying why, which
// script installs the package, and how to skip instead.
func Require(t testing.TB, p Program) string {
	t.Helper()
	if os.Getenv(p.SkipEnv) == "1" {
		t.Skip(p.SkipEnv + "=1: " + p.Skipping)
	}
	bin, err := Find(p.PathEnv, p.DefaultPath, p.Name)
	if err != nil {
		t.Fatalf("%v; run %s to install Debian's %s, or set %s=1 to skip the %s", err, p.Script, p.Package, p.SkipEnv, p.Tests)
	}
	return bin
}
