package settings_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// The registry is global: each test registers names of its own.

// Ported from pyramid_jwtauth: find_groups set explicitly is the policy's
// group finder, and its arguments reach the factory.
func TestFindGroups(t *testing.T) {
	var gotArgs map[string]string
	settings.RegisterGroupFinder("test:find-groups", func(args map[string]string) (policy.GroupFinder, error) {
		gotArgs = args
		return func(userid string, _ *http.Request, _ policy.Claims) ([]string, bool) {
			if userid == "mallory" {
				return nil, false
			}
			return []string{"group:" + args["prefix"] + userid}, true
		}, nil
	})
	m := withSecret(map[string]string{
		"jwtauth.find_groups":        "test:find-groups",
		"jwtauth.find_groups_prefix": "x-",
		"jwtauth.find_groups_table":  " users ",
		"jwtauth.find_groups_empty":  "",
	})
	cfg, err := settings.Parse(m)
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
	settings.RegisterGroupFinder("test:failing", func(map[string]string) (policy.GroupFinder, error) { return nil, errFactory })
	settings.RegisterGroupFinder("test:nil", func(map[string]string) (policy.GroupFinder, error) { return nil, nil })

	_, err := settings.Parse(withSecret(map[string]string{"jwtauth.find_groups": "test:nope"}))
	msg := settingsError(t, err, "jwtauth.find_groups", settings.ErrBadValue)
	if want := "registered: " + strings.Join(settings.GroupFinders(), ", "); !strings.Contains(msg, want) || !strings.Contains(msg, `"test:nope"`) {
		t.Errorf("error %q does not list the registered names (%s)", msg, want)
	}

	_, err = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups": "test:failing"}))
	msg = settingsError(t, err, "jwtauth.find_groups", settings.ErrBadValue)
	if !errors.Is(err, errFactory) || !strings.Contains(msg, "cannot connect") {
		t.Errorf("factory error lost: %q", msg)
	}

	_, err = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups": "test:nil"}))
	settingsError(t, err, "jwtauth.find_groups", settings.ErrBadValue)

	// Arguments without find_groups.
	_, err = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups_zeta": "1", "jwtauth.find_groups_table": "users"}))
	msg = settingsError(t, err, "jwtauth.find_groups_table", settings.ErrBadValue)
	if !strings.Contains(msg, "jwtauth.find_groups is not") {
		t.Errorf("error %q", msg)
	}
	_, err = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups_table": "users", "jwtauth.find_groups": " "}))
	settingsError(t, err, "jwtauth.find_groups_table", settings.ErrBadValue)
}

func TestRegisterGroupFinderPanics(t *testing.T) {
	f := func(map[string]string) (policy.GroupFinder, error) { return policy.AcceptAll, nil }
	settings.RegisterGroupFinder("test:dup", f)
	for name, call := range map[string]func(){
		"empty name": func() { settings.RegisterGroupFinder("", f) },
		"nil":        func() { settings.RegisterGroupFinder("test:nil-factory", nil) },
		"duplicate":  func() { settings.RegisterGroupFinder("test:dup", f) },
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
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { settings.RegisterGroupFinder(fmt.Sprintf("test:concurrent-%02d", i), f) })
		wg.Go(func() {
			names := settings.GroupFinders()
			if !slices.IsSorted(names) {
				t.Errorf("GroupFinders not sorted: %q", names)
			}
		})
		wg.Go(func() {
			_, _ = settings.Parse(withSecret(map[string]string{"jwtauth.find_groups": fmt.Sprintf("test:concurrent-%02d", i)}))
		})
	}
	wg.Wait()
	names := settings.GroupFinders()
	for i := range 20 {
		if !slices.Contains(names, fmt.Sprintf("test:concurrent-%02d", i)) {
			t.Errorf("test:concurrent-%02d missing from %q", i, names)
		}
	}
	if _, err := settings.NewPolicy(withSecret(map[string]string{"jwtauth.find_groups": "test:concurrent-07"})); err != nil {
		t.Error(err)
	}
}
