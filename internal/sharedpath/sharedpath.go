// Package sharedpath finds, for tests, the files of the shared folder that
// lies beside the module's checkout (../shared seen from the module root),
// or the path an environment variable names instead, and reads its
// conformance cases. Only tests import it.
package sharedpath

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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

// Cases reads the conformance cases of the file env names, or else of
// ../shared/<rel...> seen from the module root: a file {"cases": [...]},
// each case decoded as a C (strict: refusing members C does not have, for
// a test that reads every kind of case). It skips t when neither file
// exists, and fails it when the file does not decode or holds no case.
func Cases[C any](t testing.TB, strict bool, env string, rel ...string) []C {
	t.Helper()
	p, tried, ok := Find(env, rel...)
	if !ok {
		t.Skipf("no cases file: set %s or provide ../shared/%s beside the module root (tried %q)", env, filepath.Join(rel...), tried)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []C `json:"cases"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if strict {
		d.DisallowUnknownFields()
	}
	if err := d.Decode(&file); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if len(file.Cases) == 0 {
		t.Fatalf("%s: no cases", p)
	}
	t.Logf("running %d cases from %s", len(file.Cases), p)
	return file.Cases
}
