package settings_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
	"github.com/pyramid-go/jwtauth/settings"
)

// stackNames makes registry names new on every run, so that go test
// -count=N registers them again.
var stackRun atomic.Int32

// registerStackHelpers registers a password check and a group finder
// under fresh names, and returns them.
func registerStackHelpers(t *testing.T) (check, finder string) {
	t.Helper()
	n := stackRun.Add(1)
	check, finder = fmt.Sprintf("test:check-%d", n), fmt.Sprintf("test:stackfinder-%d", n)
	settings.RegisterBasicCheck(check, func(args map[string]string) (basic.Check, error) {
		if args["fail"] != "" {
			return nil, errors.New("the password store is closed")
		}
		return basic.Passwords(map[string]string{"svc": "svc-password", "badbot": "x"}, map[string][]string{"svc": {"group:services"}}), nil
	})
	settings.RegisterGroupFinder(finder, func(map[string]string) (policy.GroupFinder, error) {
		return func(userid string, _ *http.Request, c policy.Claims) ([]string, bool) {
			if strings.HasPrefix(userid, "bad") {
				return nil, false
			}
			role, _ := c.String("role")
			if role == "" {
				return nil, true
			}
			return []string{"role:" + role}, true
		}, nil
	})
	return check, finder
}

// stackSettings is a stack of a JWT policy (api) and a Basic one (svc).
func stackSettings(check string) map[string]string {
	return map[string]string{
		"multiauth.policies":               "api, svc",
		"multiauth.policy.api.use":         "jwt",
		"multiauth.policy.api.scheme":      "Bearer",
		"multiauth.policy.api.leeway":      "5",
		"multiauth.policy.svc.use":         "basic",
		"multiauth.policy.svc.check":       check,
		"multiauth.policy.svc.realm":       "services",
		"jwtauth.master_secret":            secret, // a default of the jwt policies
		"unrelated.key":                    "ignored",
		"multiauth.policy.api.audience":    "",
		"multiauth.policy.svc.check_table": "",
	}
}

// TestStackFromSettings: multiauth.* keys build the stack, whose
// policies authenticate their own credentials and say which did.
func TestStackFromSettings(t *testing.T) {
	check, finder := registerStackHelpers(t)
	m := stackSettings(check)
	m["multiauth.groupfinder"] = finder
	p, err := settings.NewPolicy(m, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	stack, ok := p.(*multiauth.Policy)
	if !ok {
		t.Fatalf("NewPolicy made a %T; want a stack", p)
	}
	if names := []string{stack.Policies()[0].Name, stack.Policies()[1].Name}; !slices.Equal(names, []string{"api", "svc"}) {
		t.Errorf("the stack is %q", names)
	}
	claims := fresh("carol")
	tok := mint(t, "HS256", []byte(secret), claims, map[string]any{"role": "editor"})
	for _, tt := range []struct {
		name       string
		set        func(r *http.Request)
		userid     string
		by         string
		principals []string
		err        error
	}{
		{"bearer token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }, "carol", "api",
			[]string{"carol", policy.Everyone, policy.Authenticated, "role:editor"}, nil},
		{"basic", func(r *http.Request) { r.SetBasicAuth("svc", "svc-password") }, "svc", "svc",
			[]string{"svc", policy.Everyone, policy.Authenticated, "group:services"}, nil},
		{"basic, wrong password", func(r *http.Request) { r.SetBasicAuth("svc", "guess") }, "", "svc", []string{policy.Everyone}, policy.ErrInvalidCredentials},
		{"basic, rejected by the shared finder", func(r *http.Request) { r.SetBasicAuth("badbot", "x") }, "", "svc", nil, policy.ErrUserRejected},
		{"a JWT of the wrong scheme", func(r *http.Request) { policy.SetAuthorization(r, "JWT", tok) }, "", "", []string{policy.Everyone}, policy.ErrNoCredentials},
		{"nothing", func(*http.Request) {}, "", "", []string{policy.Everyone}, policy.ErrNoCredentials},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		tt.set(r)
		id := policy.Identify(p, r)
		if id.UserID != tt.userid || id.Policy != tt.by || (tt.err == nil) != (id.Err == nil) || tt.err != nil && !errors.Is(id.Err, tt.err) {
			t.Errorf("%s: %q by %q, %v; want %q by %q, %v", tt.name, id.UserID, id.Policy, id.Err, tt.userid, tt.by, tt.err)
		}
		if tt.principals != nil && !slices.Equal(id.Principals, tt.principals) {
			t.Errorf("%s: principals %q; want %q", tt.name, id.Principals, tt.principals)
		}
	}
	// One challenge per policy.
	w := httptest.NewRecorder()
	p.Challenge(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := w.Header().Values("WWW-Authenticate"); w.Code != 401 || len(got) != 2 || got[0] != "Bearer" || !strings.HasPrefix(got[1], `Basic realm="services"`) {
		t.Errorf("challenge %d %q", w.Code, got)
	}
}

// TestStackFromEnvironment: MULTIAUTH_* variables set the keys of a stack.
func TestStackFromEnvironment(t *testing.T) {
	m, _ := settings.FromEnv([]string{
		"MULTIAUTH_POLICIES=api svc",
		"MULTIAUTH_POLICY_API_USE=jwt",
		"MULTIAUTH_POLICY_API_MASTER_SECRET=s3cret",
		"MULTIAUTH_POLICY_SVC_CHECK_TABLE=users",
		"MULTIAUTH_GROUPFINDER=myapp:finder",
		"MULTIAUTH_GROUPFINDER_TABLE=groups",
		"MULTIAUTH_POLICY_=x", "MULTIAUTH_POLICY_API=x", "MULTIAUTH_=x", // not keys
		"JWTAUTH_LEEWAY=3",
	})
	want := map[string]string{
		"multiauth.policies":                 "api svc",
		"multiauth.policy.api.use":           "jwt",
		"multiauth.policy.api.master_secret": "s3cret",
		"multiauth.policy.svc.check_table":   "users",
		"multiauth.groupfinder":              "myapp:finder",
		"multiauth.groupfinder_table":        "groups",
		"jwtauth.leeway":                     "3",
	}
	if len(m) != len(want) {
		t.Errorf("FromEnv = %v; want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q; want %q", k, m[k], v)
		}
	}
}

// TestStackFromINI: a stack written in an INI file, as a Pyramid
// application writes it.
func TestStackFromINI(t *testing.T) {
	check, _ := registerStackHelpers(t)
	path := writeFile(t, "stack.ini", []byte(`[app:main]
multiauth.policies = api svc
multiauth.policy.api.use = jwt
multiauth.policy.api.master_secret = `+secret+`
multiauth.policy.svc.use = basic
multiauth.policy.svc.check = `+check+`
`))
	m, err := settings.LoadINI(path, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := settings.NewPolicy(m, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	policy.SetAuthorization(r, "JWT", mint(t, "HS256", []byte(secret), fresh("dora")))
	if uid, err := p.AuthenticatedUserID(r); err != nil || uid != "dora" {
		t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
	}
}

// TestStackErrors: every mistake in a stack's settings is an error naming
// the key at fault, the one the settings wrote.
func TestStackErrors(t *testing.T) {
	check, _ := registerStackHelpers(t)
	with := func(kv ...string) map[string]string {
		m := stackSettings(check)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	for _, tt := range []struct {
		name     string
		m        map[string]string
		key      string
		sentinel error
		says     string
	}{
		{"no policy", with("multiauth.policies", " , "), "multiauth.policies", settings.ErrBadValue, "names no policy"},
		{"a name in capitals", with("multiauth.policies", "API svc"), "multiauth.policies", settings.ErrBadValue, "not a policy name"},
		{"a name with an underscore", with("multiauth.policies", "my_api"), "multiauth.policies", settings.ErrBadValue, "not a policy name"},
		{"a name twice", with("multiauth.policies", "api svc api"), "multiauth.policies", settings.ErrBadValue, "named twice"},
		{"an unknown multiauth key", with("multiauth.polices", "api"), "multiauth.polices", settings.ErrUnknownKey, "unknown setting"},
		{"a key of a policy not stacked", with("multiauth.policy.web.use", "jwt"), "multiauth.policy.web.use", settings.ErrBadValue, `"web" is not in multiauth.policies`},
		{"a policy key without a name", with("multiauth.policy.api", "jwt"), "multiauth.policy.api", settings.ErrUnknownKey, "unknown setting"},
		{"no use", with("multiauth.policy.svc.use", "-"), "multiauth.policy.svc.use", settings.ErrBadValue, "required"},
		{"an unknown factory", with("multiauth.policy.svc.use", "ldap"), "multiauth.policy.svc.use", settings.ErrBadValue, `no policy factory "ldap" (registered: basic, jwt`},
		{"a bad value of the jwt policy", with("multiauth.policy.api.leeway", "soon"), "multiauth.policy.api.leeway", settings.ErrBadValue, "whole number of seconds"},
		{"an unknown key of the jwt policy", with("multiauth.policy.api.lee_way", "5"), "multiauth.policy.api.lee_way", settings.ErrUnknownKey, "unknown setting"},
		{"a jwtauth default at fault", with("jwtauth.expiration", "forever"), "jwtauth.expiration", settings.ErrBadValue, "whole number"},
		{"no secret at all", with("jwtauth.master_secret", "-"), "multiauth.policy.api.master_secret", settings.ErrBadValue, "required"},
		{"a weak secret of the jwt policy", with("multiauth.policy.api.master_secret", "short"), "multiauth.policy.api.master_secret", settings.ErrBadValue, "RFC 7518 section 3.2 requires"},
		{"no check", with("multiauth.policy.svc.check", "-"), "multiauth.policy.svc.check", settings.ErrBadValue, "required"},
		{"an unknown check", with("multiauth.policy.svc.check", "test:nope"), "multiauth.policy.svc.check", settings.ErrBadValue, `no password check "test:nope"`},
		{"a check that fails", with("multiauth.policy.svc.check_fail", "yes"), "multiauth.policy.svc.check", settings.ErrBadValue, "the password store is closed"},
		{"an unknown key of the basic policy", with("multiauth.policy.svc.realms", "x"), "multiauth.policy.svc.realms", settings.ErrUnknownKey, "unknown setting"},
		{"a bad realm", with("multiauth.policy.svc.realm", `a"b`), "multiauth.policy.svc.realm", settings.ErrBadValue, "printable ASCII"},
		{"a bad trusted origin of the basic policy", with("multiauth.policy.svc.trusted_origins", "https://app.example/path"), "multiauth.policy.svc.trusted_origins", settings.ErrBadValue, "scheme://host[:port]"},
		{"an unknown shared finder", with("multiauth.groupfinder", "test:none"), "multiauth.groupfinder", settings.ErrBadValue, `no group finder "test:none"`},
		{"a jwtauth typo beside a basic-only stack", map[string]string{"multiauth.policies": "svc", "multiauth.policy.svc.use": "basic", "multiauth.policy.svc.check": check, "jwtauth.mastr_secret": "x"}, "jwtauth.mastr_secret", settings.ErrUnknownKey, "unknown setting"},
		{"multiauth keys without policies", map[string]string{"jwtauth.master_secret": secret, "multiauth.groupfinder": "x"}, "multiauth.groupfinder", settings.ErrBadValue, "multiauth.policies is not"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := settings.NewPolicy(tt.m, nil, slog.New(slog.DiscardHandler))
			if p != nil {
				p.Close()
				t.Fatalf("a policy was made: %T", p)
			}
			msg := settingsError(t, err, tt.key, tt.sentinel)
			if !strings.Contains(msg, tt.says) {
				t.Errorf("error %q does not say %q", msg, tt.says)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q holds the secret", msg)
			}
		})
	}
}

// countingPolicy is a policy factory's policy of a test's own, which
// counts its Close.
type countingPolicy struct {
	policy.AuthenticationPolicy
	closed *atomic.Int32
}

func (c countingPolicy) Close() error { c.closed.Add(1); return nil }

// TestRegisterPolicy: an application's policy factory takes part in a
// stack; its errors name its keys; a failed stack closes what it built.
func TestRegisterPolicy(t *testing.T) {
	n := stackRun.Add(1)
	name := fmt.Sprintf("test-factory-%d", n)
	closed := &atomic.Int32{}
	settings.RegisterPolicy(name, func(own, _ map[string]string, _ *slog.Logger) (policy.AuthenticationPolicy, error) {
		if own["colour"] == "" {
			return nil, &settings.Error{Key: "colour", Err: errors.New("required")}
		}
		jwt, err := policy.NewJWT(policy.Config{MasterSecret: []byte(secret), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, err
		}
		return countingPolicy{AuthenticationPolicy: jwt, closed: closed}, nil
	})
	m := map[string]string{"multiauth.policies": "mine", "multiauth.policy.mine.use": name}
	_, err := settings.NewPolicy(m, nil, nil)
	settingsError(t, err, "multiauth.policy.mine.colour", nil)

	m["multiauth.policy.mine.colour"] = "blue"
	p, err := settings.NewPolicy(m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if closed.Load() != 1 {
		t.Errorf("the stack's Close closed the policy %d times", closed.Load())
	}
	// A stack that fails after the policy was made closes it.
	m["multiauth.policies"] = "mine other"
	m["multiauth.policy.other.use"] = "ldap"
	if _, err := settings.NewPolicy(m, nil, nil); err == nil {
		t.Fatal("no error for an unknown factory")
	}
	if closed.Load() != 2 {
		t.Errorf("a failed stack closed the policies it built %d times in all; want 2", closed.Load())
	}
}

// TestRegistriesRefuse: the registries refuse what database/sql.Register
// refuses.
func TestRegistriesRefuse(t *testing.T) {
	n := stackRun.Add(1)
	name := fmt.Sprintf("test-dup-%d", n)
	settings.RegisterBasicCheck(name, func(map[string]string) (basic.Check, error) { return nil, nil })
	settings.RegisterPolicy(name, func(_, _ map[string]string, _ *slog.Logger) (policy.AuthenticationPolicy, error) { return nil, nil })
	for what, f := range map[string]func(){
		"an empty policy name": func() {
			settings.RegisterPolicy("", func(_, _ map[string]string, _ *slog.Logger) (policy.AuthenticationPolicy, error) { return nil, nil })
		},
		"a nil policy factory": func() { settings.RegisterPolicy(name+"x", nil) },
		"a policy name twice": func() {
			settings.RegisterPolicy("jwt", func(_, _ map[string]string, _ *slog.Logger) (policy.AuthenticationPolicy, error) { return nil, nil })
		},
		"an empty check name": func() {
			settings.RegisterBasicCheck("", func(map[string]string) (basic.Check, error) { return nil, nil })
		},
		"a nil check factory": func() { settings.RegisterBasicCheck(name+"x", nil) },
		"a check name twice": func() {
			settings.RegisterBasicCheck(name, func(map[string]string) (basic.Check, error) { return nil, nil })
		},
		"a nil finder factory": func() { settings.RegisterGroupFinder(name+"x", nil) },
		"an empty finder name": func() {
			settings.RegisterGroupFinder("", func(map[string]string) (policy.GroupFinder, error) { return nil, nil })
		},
		"a factory making none": nil,
	} {
		if f == nil {
			continue
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", what)
				}
			}()
			f()
		}()
	}
	// Factories that make nothing are errors, not nil policies.
	m := map[string]string{"multiauth.policies": "a", "multiauth.policy.a.use": name}
	if _, err := settings.NewPolicy(m, nil, nil); !errors.Is(err, settings.ErrBadValue) {
		t.Errorf("a factory that made no policy: %v", err)
	}
	m = map[string]string{"multiauth.policies": "a", "multiauth.policy.a.use": "basic", "multiauth.policy.a.check": name}
	if _, err := settings.NewPolicy(m, nil, nil); !errors.Is(err, settings.ErrBadValue) {
		t.Errorf("a check factory that made no check: %v", err)
	}
}
