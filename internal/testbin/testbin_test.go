package testbin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/testbin"
)

const env = "TESTBIN_TEST_BINARY"

// program writes an executable file name into a new directory and returns
// its path.
func program(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFind: the environment variable first (it must exist), then the
// default path, then PATH.
func TestFind(t *testing.T) {
	byEnv, byDefault, onPath := program(t, "by-env"), program(t, "by-default"), program(t, "testbin-on-path")
	t.Setenv("PATH", filepath.Dir(onPath))
	nowhere := filepath.Join(t.TempDir(), "nowhere")

	for _, c := range []struct {
		what, env, defaultPath, want string
	}{
		{"the variable", byEnv, byDefault, byEnv},
		{"the default path", "", byDefault, byDefault},
		{"PATH", "", nowhere, onPath},
	} {
		t.Setenv(env, c.env)
		if got, err := testbin.Find(env, c.defaultPath, "testbin-on-path"); err != nil || got != c.want {
			t.Errorf("%s: Find = %q, %v; want %q", c.what, got, err, c.want)
		}
	}

	t.Setenv(env, nowhere)
	if _, err := testbin.Find(env, byDefault, "testbin-on-path"); err == nil || !strings.Contains(err.Error(), env+"="+nowhere) {
		t.Errorf("with $%s naming no file: err = %v; want one naming it", env, err)
	}
	t.Setenv(env, "")
	_, err := testbin.Find(env, nowhere, "testbin-not-anywhere")
	if err == nil || !strings.Contains(err.Error(), "no testbin-not-anywhere: not at "+nowhere+" nor on PATH, and "+env+" is not set") {
		t.Errorf("with no binary: err = %v", err)
	}
}

// fakeTB records how Require ends a test instead of ending the real one.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Fatalf(s string, a ...any) { f.fatal = fmt.Sprintf(s, a...); runtime.Goexit() }
func (f *fakeTB) Skip(args ...any)          { f.skip = fmt.Sprint(args...); runtime.Goexit() }

// require calls Require with a fakeTB in a goroutine of its own, which its
// Fatalf and Skip end.
func require(t *testing.T, p testbin.Program) (bin string, f *fakeTB) {
	f = &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		bin = testbin.Require(f, p)
	}()
	<-done
	return bin, f
}

// TestRequire: the binary when there is one; without one a failure that
// names the script; with the skip variable at 1 a skip, binary or not.
func TestRequire(t *testing.T) {
	bin := program(t, "prog")
	p := testbin.Program{
		Name:        "testbin-not-anywhere",
		PathEnv:     env,
		DefaultPath: bin,
		Package:     "prog-pkg",
		Script:      "scripts/ensure-prog.sh (make prog)",
		SkipEnv:     "TESTBIN_TEST_SKIP",
		Tests:       "prog tests",
		Skipping:    "not starting prog",
	}
	t.Setenv(env, "")
	t.Setenv(p.SkipEnv, "")
	if got, f := require(t, p); got != bin || f.fatal != "" || f.skip != "" {
		t.Errorf("with a binary: Require = %q, fatal %q, skip %q; want %q", got, f.fatal, f.skip, bin)
	}

	t.Setenv(p.SkipEnv, "1")
	if _, f := require(t, p); f.fatal != "" || f.skip != "TESTBIN_TEST_SKIP=1: not starting prog" {
		t.Errorf("with a binary and %s=1: fatal %q, skip %q", p.SkipEnv, f.fatal, f.skip)
	}

	p.DefaultPath = filepath.Join(t.TempDir(), "nowhere")
	if _, f := require(t, p); f.fatal != "" || f.skip != "TESTBIN_TEST_SKIP=1: not starting prog" {
		t.Errorf("with no binary and %s=1: fatal %q, skip %q", p.SkipEnv, f.fatal, f.skip)
	}

	t.Setenv(p.SkipEnv, "")
	_, f := require(t, p)
	want := "no testbin-not-anywhere: not at " + p.DefaultPath + " nor on PATH, and " + env + " is not set; " +
		"run scripts/ensure-prog.sh (make prog) to install Debian's prog-pkg, or set TESTBIN_TEST_SKIP=1 to skip the prog tests"
	if f.skip != "" || f.fatal != want {
		t.Errorf("with no binary: fatal %q, skip %q; want fatal %q", f.fatal, f.skip, want)
	}
}
