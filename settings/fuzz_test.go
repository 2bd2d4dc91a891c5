package settings_test

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// fuzzKnown are the documented settings, without the prefix; find_groups_<arg>
// keys are known as well. A setting added to the package must be added here.
var fuzzKnown = map[string]bool{
	"find_groups": true, "master_secret": true,
	"private_key": true, "private_key_file": true, "public_key": true, "public_key_file": true,
	"algorithm": true, "algorithms": true, "leeway": true, "userid_in_claim": true,
	"scheme": true, "audience": true, "issuer": true, "expiration": true,
	"max_token_bytes": true, "cache_size": true, "token_type": true, "debug_authorization": true,
	"reserved_principal_prefixes": true,
	"disable_verify_signature":    true, "disable_verify_exp": true, "disable_verify_nbf": true,
	"disable_verify_iat": true, "disable_verify_aud": true,
	"jwks_file": true, "jwks_url": true, "oidc_issuer": true, "jwks_refresh": true,
	"jwks_min_refresh": true, "jwks_timeout": true, "jwks_allow_http": true,
	"jwks_required_at_start": true,
}

func fuzzIsKnown(name string) bool {
	return fuzzKnown[name] || len(name) > len("find_groups_") && strings.HasPrefix(name, "find_groups_")
}

// fuzzSecretKeys hold values that no error may show: the HMAC secret, the
// inline PEM keys and (as the fuzz test writes them to files) the contents
// of the key files.
var fuzzSecretKeys = []string{"master_secret", "private_key", "public_key", "private_key_file", "public_key_file"}

var fuzzRegister sync.Once

// FuzzParseSettings builds a settings map from three (key suffix, value)
// pairs under the jwtauth. prefix (a pair of empty strings is left out) and
// one key without it, then calls Parse and NewPolicy. The value of a *_file
// key is written to a file whose path becomes the value; inputs with a key
// that names a URL to fetch (jwks_url, oidc_issuer) are skipped. The seed
// corpus is in testdata/fuzz/FuzzParseSettings.
//
// No input may panic. Every error is a *settings.Error naming a key of the
// map, matching policy.ErrConfig and exactly one of ErrUnknownKey and
// ErrBadValue (ErrUnknownKey exactly when a prefixed key is not a
// setting, or a key's prefix is jwtauth. or multiauth. in another case);
// the key without the prefix changes nothing (unless its prefix is one of
// those in another case, which makes it the unknown key); no error shows
// the value of a secret setting; Parse starts no goroutine of the key sets,
// and none is left running once the policy is closed (or NewPolicy
// failed).
func FuzzParseSettings(f *testing.F) {
	fuzzRegister.Do(func() {
		settings.RegisterGroupFinder("fuzz:groups", func(args map[string]string) (policy.GroupFinder, error) {
			if args["fail"] != "" {
				return nil, errors.New("the factory refuses")
			}
			return func(string, *http.Request, policy.Claims) ([]string, bool) { return []string{"g"}, true }, nil
		})
	})
	// NewJWT warns on the default logger about disabled
	// signature checks; keep the fuzzer's output readable.
	defaultLogger := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	f.Cleanup(func() { slog.SetDefault(defaultLogger) })
	dir := f.TempDir()

	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3, plainKey, plainValue string) {
		pairs := [][2]string{{k1, v1}, {k2, v2}, {k3, v3}}
		for _, kv := range pairs {
			if strings.HasSuffix(kv[0], "_url") || strings.HasSuffix(kv[0], "_issuer") {
				t.Skip("a setting that may fetch a URL") // never from a fuzzer
			}
		}
		if strings.HasPrefix(plainKey, settings.Prefix) {
			plainKey = "x" + plainKey
		}
		build := func(pairs [][2]string) map[string]string {
			m := map[string]string{}
			for i, kv := range pairs {
				k, v := kv[0], kv[1]
				if k == "" && v == "" {
					continue // an unused pair
				}
				if strings.HasSuffix(k, "_file") {
					path := filepath.Join(dir, strconv.Itoa(i)+".pem")
					if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
						t.Fatal(err)
					}
					v = path
				}
				m[settings.Prefix+k] = v
			}
			if _, ok := m[plainKey]; !ok {
				m[plainKey] = plainValue
			}
			return m
		}
		m := build(pairs)
		in := fmt.Sprintf("%q", m)
		keySets := slices.ContainsFunc(slices.Collect(maps.Keys(m)), func(k string) bool { return strings.HasPrefix(k, settings.Prefix+"jwks_") })
		var goroutines int
		if keySets {
			goroutines = fuzzKeySetGoroutines()
		}

		perr := fuzzParse(m)
		fuzzCheckError(t, "Parse", in, perr)
		if keySets && fuzzKeySetGoroutines() > goroutines {
			t.Fatalf("Parse(%s) started key set goroutines", in)
		}
		var unknown string // the first key, in sorted order, that is no setting
		for k := range m {
			name, ok := strings.CutPrefix(k, settings.Prefix)
			if (ok && !fuzzIsKnown(name) || fuzzPrefixCase(k)) && (unknown == "" || k < unknown) {
				unknown = k
			}
		}
		var se *settings.Error
		errors.As(perr, &se)
		if (unknown != "") != errors.Is(perr, settings.ErrUnknownKey) || unknown != "" && se.Key != unknown {
			t.Fatalf("Parse(%s): error %v; the first unknown key is %q", in, perr, unknown)
		}
		if perr != nil {
			if _, ok := m[se.Key]; !ok {
				t.Fatalf("Parse(%s): error %v names a key that is not set", in, perr)
			}
		}

		// The key without the prefix is ignored.
		without := fuzzWithout(m, plainKey)
		if err := fuzzParse(without); !fuzzPrefixCase(plainKey) && fuzzErrText(err) != fuzzErrText(perr) {
			t.Fatalf("Parse(%s): %v, but without %q: %v", in, perr, plainKey, err)
		}

		made, nerr := fuzzNewPolicy(m)
		fuzzCheckError(t, "NewPolicy", in, nerr)
		switch {
		case perr != nil && fuzzErrText(nerr) != fuzzErrText(perr):
			t.Fatalf("NewPolicy(%s): %v, but Parse failed with %v", in, nerr, perr)
		case nerr == nil && !made:
			t.Fatalf("NewPolicy(%s): no policy and no error", in)
		case nerr != nil && made:
			t.Fatalf("NewPolicy(%s): a policy and the error %v", in, nerr)
		}

		// No error shows the value of a secret setting (for a key file, its
		// contents), raw or quoted. A value of fewer than 8 non-space bytes,
		// which any text could hold, is not checked; nor is a value that the
		// errors hold just as well when it is replaced by another of the
		// same length (it then comes from another setting or the message).
		texts := func(m map[string]string) string {
			perr := fuzzParse(m)
			_, nerr := fuzzNewPolicy(m)
			return fuzzErrText(perr) + "\n" + fuzzErrText(nerr)
		}
		got := fuzzErrText(perr) + "\n" + fuzzErrText(nerr)
		for i, kv := range pairs {
			k, v := kv[0], kv[1]
			if !slices.Contains(fuzzSecretKeys, k) || len(strings.TrimSpace(v)) < 8 ||
				slices.ContainsFunc(pairs[i+1:], func(later [2]string) bool { return later[0] == k }) {
				continue
			}
			quoted := strconv.Quote(v)
			for _, form := range []string{v, quoted[1 : len(quoted)-1]} {
				if !strings.Contains(got, form) {
					continue
				}
				alt := slices.Clone(pairs)
				other := strings.Repeat("Q", len(v))
				if other == v {
					other = strings.Repeat("R", len(v))
				}
				alt[i][1] = other
				if !strings.Contains(texts(build(alt)), form) {
					t.Fatalf("settings %s: an error shows the value of jwtauth.%s:\n%s", in, k, got)
				}
			}
		}

		// Whatever the key sets started has stopped: on an error, or once
		// the policy is closed.
		for deadline := time.Now().Add(2 * time.Second); keySets && fuzzKeySetGoroutines() > goroutines; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("settings %s: %d key set goroutines left running", in, fuzzKeySetGoroutines()-goroutines)
			}
		}
	})
}

// fuzzKeySetGoroutines counts the goroutines running code of the key sets.
func fuzzKeySetGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "jwtauth/policy/keyset.") {
			count++
		}
	}
	return count
}

// fuzzParse is Parse, which builds no key set.
func fuzzParse(m map[string]string) error {
	p, err := settings.Parse(m, nil)
	if len(p.Config.KeySets) != 0 {
		panic("Parse built key sets")
	}
	return err
}

// fuzzNewPolicy is NewPolicy, closing the policy it makes.
func fuzzNewPolicy(m map[string]string) (made bool, err error) {
	p, err := settings.NewPolicy(m, nil, nil)
	if p != nil {
		p.Close()
	}
	return p != nil, err
}

// fuzzCheckError checks an error of Parse or NewPolicy.
func fuzzCheckError(t *testing.T, fn, in string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *settings.Error
	if !errors.As(err, &se) {
		t.Fatalf("%s(%s): %T %v is no *settings.Error", fn, in, err, err)
	}
	if !errors.Is(err, policy.ErrConfig) {
		t.Fatalf("%s(%s): %v does not match policy.ErrConfig", fn, in, err)
	}
	if errors.Is(err, settings.ErrUnknownKey) == errors.Is(err, settings.ErrBadValue) {
		t.Fatalf("%s(%s): %v does not match exactly one of ErrUnknownKey, ErrBadValue", fn, in, err)
	}
	if !strings.HasPrefix(se.Key, settings.Prefix) && !fuzzPrefixCase(se.Key) && !strings.HasPrefix(se.Key, settings.MultiauthPrefix) {
		t.Fatalf("%s(%s): %v names the key %q", fn, in, err, se.Key)
	}
}

// fuzzPrefixCase tells whether k begins with jwtauth. or multiauth. in
// another case: an unknown key.
func fuzzPrefixCase(k string) bool {
	for _, p := range []string{settings.Prefix, settings.MultiauthPrefix} {
		if len(k) >= len(p) && k[:len(p)] != p && strings.EqualFold(k[:len(p)], p) {
			return true
		}
	}
	return false
}

func fuzzWithout(m map[string]string, key string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func fuzzErrText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
