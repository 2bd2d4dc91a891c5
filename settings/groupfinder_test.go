package settings_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// The registry is global: each test registers names of its own, and
// register makes them new on every run, so that go test -count=N can run
// the tests again in one process.

var registrations atomic.Int64

// register registers f under base plus a suffix never used before, and
// returns that name.
func register(base string, f settings.GroupFinderFactory) string {
	name := fmt.Sprintf("%s#%d", base, registrations.Add(1))
	settings.RegisterGroupFinder(name, f)
	return name
}

// Ported from pyramid_jwtauth: find_groups set explicitly is the policy's
// group finder, and its arguments reach the factory.
func TestFindGroups(t *testing.T) {
	var gotArgs map[string]string
	finder := register("test:find-groups", func(args map[string]string) (policy.GroupFinder, error) {
		gotArgs = args
		return func(userid string, _ *http.Request, _ policy.Claims) ([]string, bool) {
			if userid == "mallory" {
				return nil, false
			}
			return []string{"group:" + args["prefix"] + userid}, true
		}, nil
	})
	m := withSecret(map[string]string{
		"jwtauth.find_groups":        finder,
		"jwtauth.find_groups_prefix": "x-",
		"jwtauth.find_groups_table":  " users ",
		"jwtauth.find_groups_empty":  "",
	})
	cfg, err := parseConfig(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GroupFinder == nil {
		t.Fatal("no group finder")
	}
	if want := map[string]string{"prefix": "x-", "table": " users "}; !reflect.DeepEqual(gotArgs, want) {
		t.Errorf("factory args %q, want %q", gotArgs, want)
	}

	p := mustPolicy(t, m)
	key := []byte(longSecret)
	got, err := p.EffectivePrincipals(request("JWT", mint(t, "HS256", key, fresh("alice"))))
	if want := []string{"alice", policy.Everyone, policy.Authenticated, "group:x-alice"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("principals %q, %v; want %q", got, err, want)
	}
	if _, err := authenticate(p, mint(t, "HS256", key, fresh("mallory"))); !errors.Is(err, policy.ErrUserRejected) {
		t.Errorf("rejected user: %v", err)
	}
}

func TestFindGroupsErrors(t *testing.T) {
	errFactory := errors.New("cannot connect")
	failing := register("test:failing", func(map[string]string) (policy.GroupFinder, error) { return nil, errFactory })
	nilFinder := register("test:nil", func(map[string]string) (policy.GroupFinder, error) { return nil, nil })

	_, err := settings.Parse(withSecret(map[string]string{"jwtauth.find_groups": "test:nope"}), nil)
	msg := settingsError(t, err, "jwtauth.find_groups", settings.ErrBadValue)
	if want := "registered: " + strings.Join(settings.GroupFinders(), ", "); !strings.Contains(msg, want) || !strings.Contains(msg, `"test:nope"`) {
		t.Errorf("error %q does not list the registered names (%s)", msg, want)
	}

	_, err = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups": failing}), nil)
	msg = settingsError(t, err, "jwtauth.find_groups", settings.ErrBadValue)
	if !errors.Is(err, errFactory) || !strings.Contains(msg, "cannot connect") {
		t.Errorf("factory error lost: %q", msg)
	}

	_, err = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups": nilFinder}), nil)
	settingsError(t, err, "jwtauth.find_groups", settings.ErrBadValue)

	// Arguments without find_groups.
	_, err = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups_zeta": "1", "jwtauth.find_groups_table": "users"}), nil)
	msg = settingsError(t, err, "jwtauth.find_groups_table", settings.ErrBadValue)
	if !strings.Contains(msg, "jwtauth.find_groups is not") {
		t.Errorf("error %q", msg)
	}
	_, err = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups_table": "users", "jwtauth.find_groups": " "}), nil)
	settingsError(t, err, "jwtauth.find_groups_table", settings.ErrBadValue)
}

func TestRegisterGroupFinderPanics(t *testing.T) {
	f := func(map[string]string) (policy.GroupFinder, error) { return policy.AcceptAll, nil }
	dup := register("test:dup", f)
	for name, call := range map[string]func(){
		"empty name": func() { settings.RegisterGroupFinder("", f) },
		"nil":        func() { settings.RegisterGroupFinder("test:nil-factory", nil) },
		"duplicate":  func() { settings.RegisterGroupFinder(dup, f) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			call()
		}()
	}
	if slices.Contains(settings.GroupFinders(), "test:nil-factory") {
		t.Error("a nil factory was registered")
	}
}

func TestRegisterGroupFinderConcurrently(t *testing.T) {
	f := func(map[string]string) (policy.GroupFinder, error) { return policy.AcceptAll, nil }
	prefix := fmt.Sprintf("test:concurrent#%d-", registrations.Add(1))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { settings.RegisterGroupFinder(fmt.Sprintf("%s%02d", prefix, i), f) })
		wg.Go(func() {
			names := settings.GroupFinders()
			if !slices.IsSorted(names) {
				t.Errorf("GroupFinders not sorted: %q", names)
			}
		})
		wg.Go(func() {
			_, _ = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups": fmt.Sprintf("%s%02d", prefix, i)}), nil)
		})
	}
	wg.Wait()
	names := settings.GroupFinders()
	for i := range 20 {
		if name := fmt.Sprintf("%s%02d", prefix, i); !slices.Contains(names, name) {
			t.Errorf("%s missing from %q", name, names)
		}
	}
	if _, err := settings.NewPolicy(withSecret(map[string]string{"jwtauth.find_groups": prefix + "07"}), nil, nil); err != nil {
		t.Error(err)
	}
}
