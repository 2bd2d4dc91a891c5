package keyset_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/policy/keyset"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestPolicyLogger: a set built without a Logger (as the settings package
// builds them, before the application has chosen one) logs through the
// policy's Logger once a policy uses it; a set given a Logger keeps it.
func TestPolicyLogger(t *testing.T) {
	dir := t.TempDir()
	// newFileSet returns a set polling a good file, and a func that breaks
	// the file, which the set then reports to its logger. The file is
	// broken only once the policy is built: broken before, the set may
	// poll it before the policy gives its logger, and report to the old
	// one (one run in thirty-odd under load).
	newFileSet := func(name string, o keyset.Options) (*keyset.Set, func()) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, jwksJSON(t, ecSigner(0, "key-a")), 0o600); err != nil {
			t.Fatal(err)
		}
		o.FilePoll = 5 * time.Millisecond
		set := must(t)(keyset.NewFile(path, "", o))
		t.Cleanup(func() { set.Close() })
		return set, func() {
			time.Sleep(20 * time.Millisecond) // a new modification time
			if err := os.WriteFile(path, []byte(`{"keys": [`), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	var policyLog logBuffer
	cfg := func(set *keyset.Set) policy.Config {
		return policy.Config{KeySets: []policy.KeySet{set}, Logger: policyLog.logger()}
	}

	unset, breakUnset := newFileSet("unset.json", keyset.Options{})
	if _, err := policy.NewJWT(cfg(unset)); err != nil {
		t.Fatal(err)
	}
	breakUnset()
	eventually(t, "the failure in the policy's log", func() bool {
		return len(policyLog.records("jwtauth: key set fetch failed")) == 1
	})

	var ownLog logBuffer
	own, breakOwn := newFileSet("own.json", keyset.Options{Logger: ownLog.logger()})
	if _, err := policy.NewJWT(cfg(own)); err != nil {
		t.Fatal(err)
	}
	breakOwn()
	eventually(t, "the failure in the set's own log", func() bool {
		return len(ownLog.records("jwtauth: key set fetch failed")) == 1
	})
	if n := len(policyLog.records("jwtauth: key set fetch failed")); n != 1 {
		t.Errorf("the policy's log has %d failures; want only the first set's", n)
	}
}
