package multiauth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/sharedpath"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// multiauthCase is one case of conformance/pyramid-multiauth.json.
type multiauthCase struct {
	Name           string          `json:"name"`
	Kind           string          `json:"kind"`
	Policies       []stubSpec      `json:"policies"`
	GroupFinder    json.RawMessage `json:"groupfinder"`
	RememberUserID string          `json:"remember_userid"`
	Expect         struct {
		UnauthenticatedUserID *string     `json:"unauthenticated_userid"`
		AuthenticatedUserID   *string     `json:"authenticated_userid"`
		Selected              []string    `json:"selected"`
		Principals            []string    `json:"effective_principals"`
		Remember              [][2]string `json:"remember"`
		Forget                [][2]string `json:"forget"`
	} `json:"expect"`
}

// stubSpec is a stub policy's fixed answers.
type stubSpec struct {
	Name                  string      `json:"name"`
	UnauthenticatedUserID *string     `json:"unauthenticated_userid"`
	AuthenticatedUserID   *string     `json:"authenticated_userid"`
	Principals            []string    `json:"effective_principals"`
	Remember              [][2]string `json:"remember"`
	Forget                [][2]string `json:"forget"`
}

// stubPolicy answers every call with its spec's values. It implements
// policy.AuthenticationPolicy only (no Identifier), so that the stack
// asks it each question as pyramid_multiauth asks a policy.
type stubPolicy struct{ spec stubSpec }

func (s *stubPolicy) AuthenticatedUserID(*http.Request) (string, error) {
	if s.spec.AuthenticatedUserID == nil {
		return "", policy.ErrNoCredentials
	}
	return *s.spec.AuthenticatedUserID, nil
}

func (s *stubPolicy) UnauthenticatedUserID(*http.Request) (string, bool) {
	if s.spec.UnauthenticatedUserID == nil {
		return "", false
	}
	return *s.spec.UnauthenticatedUserID, true
}

func (s *stubPolicy) EffectivePrincipals(*http.Request) ([]string, error) {
	return slices.Clone(s.spec.Principals), nil
}

func (s *stubPolicy) Remember(*http.Request, string) http.Header { return headerOf(s.spec.Remember) }
func (s *stubPolicy) Forget(*http.Request) http.Header           { return headerOf(s.spec.Forget) }

func (s *stubPolicy) Challenge(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusUnauthorized)
}

// headerOf is a list of [name, value] pairs as an http.Header: the order
// of each name's values kept (the only order an http.Header has).
func headerOf(pairs [][2]string) http.Header {
	h := http.Header{}
	for _, kv := range pairs {
		h.Add(kv[0], kv[1])
	}
	return h
}

// TestPyramidMultiauthConformance runs every case of the multiauth cases
// file ($PYRAMID_MULTIAUTH_CASES, else
// ../shared/conformance/pyramid-multiauth.json seen from the module root;
// skipped when neither exists), recorded from pyramid_multiauth itself, on
// a stack of stub policies: each method on a fresh request, the selected
// events of one AuthenticatedUserID call, the principals as a set.
func TestPyramidMultiauthConformance(t *testing.T) {
	cases := sharedpath.Cases[multiauthCase](t, false, "PYRAMID_MULTIAUTH_CASES", "conformance", "pyramid-multiauth.json")
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Kind != "multiauth" {
				t.Fatalf("kind %q, want multiauth", c.Kind)
			}
			runMultiauthCase(t, c)
		})
	}
}

func runMultiauthCase(t *testing.T, c multiauthCase) {
	var selected []string
	cfg := multiauth.Config{
		OnSelected: func(_ *http.Request, name, _ string) { selected = append(selected, name) },
	}
	for _, s := range c.Policies {
		cfg.Policies = append(cfg.Policies, multiauth.Named{Name: s.Name, Policy: &stubPolicy{s}})
	}
	if gf := bytes.TrimSpace(c.GroupFinder); string(gf) != `"none"` {
		var groups map[string]*[]string
		if err := json.Unmarshal(gf, &groups); err != nil {
			t.Fatalf("groupfinder %s: %v", gf, err)
		}
		cfg.GroupFinder = func(userid string, _ *http.Request, claims policy.Claims) ([]string, bool) {
			if claims != nil {
				t.Errorf("group finder given claims %v for a stub without any", claims)
			}
			g := groups[userid]
			if g == nil {
				return nil, false
			}
			return slices.Clone(*g), true
		}
	}

	p, err := multiauth.New(cfg)
	if len(c.Policies) == 0 {
		// New refuses an empty stack; the zero Policy is one.
		var ce *policy.ConfigError
		if !errors.As(err, &ce) || ce.Key != "policies" {
			t.Fatalf("New(empty stack) = %v, want a ConfigError for policies", err)
		}
		p = new(multiauth.Policy)
	} else if err != nil {
		t.Fatalf("New: %v", err)
	}
	fresh := func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }

	uid, ok := p.UnauthenticatedUserID(fresh())
	if want := c.Expect.UnauthenticatedUserID; (want == nil) != !ok || (want != nil && uid != *want) {
		t.Errorf("UnauthenticatedUserID = %q, %v; want %s", uid, ok, show(want))
	}

	selected = nil
	uid, err = p.AuthenticatedUserID(fresh())
	switch want := c.Expect.AuthenticatedUserID; {
	case want == nil && err == nil:
		t.Errorf("AuthenticatedUserID = %q, want none", uid)
	case want == nil && !errors.Is(err, policy.ErrNoCredentials) && !errors.Is(err, policy.ErrUserRejected):
		t.Errorf("AuthenticatedUserID err = %v, want no credentials or a user rejected", err)
	case want != nil && (err != nil || uid != *want):
		t.Errorf("AuthenticatedUserID = %q, %v; want %q", uid, err, *want)
	}
	if want := c.Expect.Selected; !slices.Equal(selected, want) {
		t.Errorf("selected during AuthenticatedUserID = %q, want %q", selected, want)
	}
	// The error tells why there is no user: a user some policy
	// authenticated and the finder rejected is a user rejected.
	if c.Expect.AuthenticatedUserID == nil && len(c.Expect.Selected) > 0 && !errors.Is(err, policy.ErrUserRejected) {
		t.Errorf("AuthenticatedUserID err = %v, want ErrUserRejected", err)
	}
	if c.Expect.AuthenticatedUserID == nil && len(c.Expect.Selected) == 0 && !errors.Is(err, policy.ErrNoCredentials) {
		t.Errorf("AuthenticatedUserID err = %v, want ErrNoCredentials", err)
	}

	principals, err := p.EffectivePrincipals(fresh())
	if err != nil {
		t.Errorf("EffectivePrincipals err = %v", err)
	}
	if got := slices.Sorted(slices.Values(principals)); !slices.Equal(got, c.Expect.Principals) {
		t.Errorf("EffectivePrincipals = %q (sorted %q), want %q", principals, got, c.Expect.Principals)
	}
	if len(principals) != len(c.Expect.Principals) {
		t.Errorf("EffectivePrincipals = %q holds a principal twice", principals)
	}

	if got, want := p.Remember(fresh(), c.RememberUserID), headerOf(c.Expect.Remember); !headersEqual(got, want) {
		t.Errorf("Remember = %q, want %q", got, want)
	}
	if got, want := p.Forget(fresh()), headerOf(c.Expect.Forget); !headersEqual(got, want) {
		t.Errorf("Forget = %q, want %q", got, want)
	}
}

// headersEqual compares two headers name by name, each name's values in
// order.
func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func show(s *string) string {
	if s == nil {
		return "none"
	}
	b, _ := json.Marshal(*s)
	return string(b)
}
