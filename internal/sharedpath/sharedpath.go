// Package sharedpath finds, for tests, the files of the shared folder that
// lies beside the module's checkout (../shared seen from the module root),
// or the path an environment variable names instead.
package sharedpath

import (
	"os"
	"path/filepath"
)

// Find returns the path named by the environment variable env when that
// exists, else ../shared/<rel...> seen from the module root (the nearest
// folder above the working directory holding go.mod) when that exists.
// ok is false when neither does; tried lists what was looked at, for the
// message of a skipped test.
func Find(env string, rel ...string) (path string, tried []string, ok bool) {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil, true
		}
		tried = append(tried, p+" ($"+env+")")
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", append(tried, "(no working directory)"), false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(append([]string{dir, "..", "shared"}, rel...)...)
			if _, err := os.Stat(p); err == nil {
				return p, nil, true
			}
			return "", append(tried, p), false
		}
		if filepath.Dir(dir) == dir {
			return "", append(tried, "(no go.mod above "+wd+")"), false
		}
	}
}
