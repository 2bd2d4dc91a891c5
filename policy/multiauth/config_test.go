package multiauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// TestNewRefuses: an empty stack, a policy without a name, with a space in
// its name, a name given twice and a nil policy (or a nil pointer, which
// would panic on the first request) are *policy.ConfigError
// for the setting "policies", matching policy.ErrConfig.
func TestNewRefuses(t *testing.T) {
	stub := &apiKeyPolicy{}
	tests := []struct {
		name     string
		policies []multiauth.Named
	}{
		{"empty stack", nil},
		{"empty name", []multiauth.Named{{Name: "", Policy: stub}}},
		{"space in a name", []multiauth.Named{{Name: "api key", Policy: stub}}},
		{"name given twice", []multiauth.Named{{Name: "a", Policy: stub}, {Name: "a", Policy: &apiKeyPolicy{}}}},
		{"nil policy", []multiauth.Named{{Name: "a", Policy: stub}, {Name: "b"}}},
		{"nil pointer policy", []multiauth.Named{{Name: "a", Policy: stub}, {Name: "b", Policy: (*apiKeyPolicy)(nil)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := multiauth.New(multiauth.Config{Policies: tt.policies})
			var ce *policy.ConfigError
			if p != nil || !errors.As(err, &ce) || ce.Key != "policies" || !errors.Is(err, policy.ErrConfig) {
				t.Errorf("New = %v, %v; want a ConfigError for policies", p, err)
			}
		})
	}
	p, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "a", Policy: stub}, {Name: "b", Policy: &apiKeyPolicy{}}}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := p.Policies(); len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("Policies() = %v", got)
	}
}

// closer is a policy with a Close method that counts its calls.
type closer struct {
	apiKeyPolicy
	closed int
	err    error
}

func (c *closer) Close() error { c.closed++; return c.err }

// TestClose: Close closes every policy that has a Close() error method,
// even after one fails, and returns their errors joined, each naming its
// policy; the JWT policies close too.
func TestClose(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("boom")
	a, b := &closer{err: boom}, &closer{}
	p, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{
		{Name: "a", Policy: a}, {Name: "plain", Policy: &apiKeyPolicy{}}, {Name: "b", Policy: b}, {Name: "jwt", Policy: f.jwt},
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Close()
	if !errors.Is(err, boom) || a.closed != 1 || b.closed != 1 {
		t.Errorf("Close = %v; closed a %d, b %d times", err, a.closed, b.closed)
	}
	if want := `multiauth: closing policy "a": boom`; err == nil || err.Error() != want {
		t.Errorf("Close = %q, want %q", err, want)
	}
	if err := f.stack.Close(); err != nil {
		t.Errorf("closing a stack of JWT policies: %v", err)
	}
}

// cookiePolicy is a policy whose Remember and Forget set cookies.
type cookiePolicy struct{ apiKeyPolicy }

func (*cookiePolicy) Remember(_ *http.Request, userid string) http.Header {
	return http.Header{"Set-Cookie": {"a=" + userid, "b=" + userid}}
}

func (*cookiePolicy) Forget(*http.Request) http.Header {
	return http.Header{"Set-Cookie": {"a=; Max-Age=0"}, "Www-Authenticate": {"Cookie"}}
}

func (c *cookiePolicy) Challenge(w http.ResponseWriter, r *http.Request) {
	for k, v := range c.Forget(r) {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Cache-Control", "private")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("log in"))
}

// TestRememberForgetChallengeHeaders: Remember and Forget concatenate every
// policy's headers in stack order; the challenge adds every policy's
// headers too, but those of a policy's body and caching, which are the
// stack's own; a header the application set before stays.
func TestRememberForgetChallengeHeaders(t *testing.T) {
	f := newFixture(t)
	p, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{
		{Name: "jwt", Policy: f.jwt}, {Name: "cookie", Policy: &cookiePolicy{}}, {Name: "bearer", Policy: f.bearer},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if got := p.Remember(r, "alice"); len(got) != 1 || !slices.Equal(got["Set-Cookie"], []string{"a=alice", "b=alice"}) {
		t.Errorf("Remember = %q", got)
	}
	forget := p.Forget(r)
	if len(forget) != 2 || !slices.Equal(forget.Values("WWW-Authenticate"), []string{"JWT", "Cookie", "Bearer"}) ||
		!slices.Equal(forget.Values("Set-Cookie"), []string{"a=; Max-Age=0"}) {
		t.Errorf("Forget = %q", forget)
	}

	w := httptest.NewRecorder()
	w.Header().Set("X-Request-Id", "7")
	p.Challenge(w, r)
	h := w.Result().Header
	if w.Code != http.StatusUnauthorized || !slices.Equal(h.Values("WWW-Authenticate"), []string{"JWT", "Cookie", "Bearer"}) ||
		!slices.Equal(h.Values("Set-Cookie"), []string{"a=; Max-Age=0"}) || h.Get("X-Request-Id") != "7" ||
		!slices.Equal(h.Values("Content-Type"), []string{"application/json"}) || !slices.Equal(h.Values("Cache-Control"), []string{"no-store"}) {
		t.Errorf("Challenge: %d %q", w.Code, h)
	}
	if body := w.Body.String(); body != `{"error":"unauthorized"}`+"\n" {
		t.Errorf("Challenge body %q", body)
	}
}

// TestNewRefusesScopesUnreserved: in a stack where a policy's scopes are
// principals, a policy that does not reserve scope: (whose userid
// "scope:root" would be the scope root) is refused, naming its
// reserved_principal_prefixes, in a stack held by the stack too; a policy
// that cannot tell its reserved prefixes is not checked.
func TestNewRefusesScopesUnreserved(t *testing.T) {
	jwtOf := func(scopes bool, reserved ...string) *policy.JWT {
		p, err := policy.NewJWT(policy.Config{MasterSecret: secretJWT, ScopePrincipals: scopes, ReservedPrincipalPrefixes: reserved, Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	scoped, unreserved := jwtOf(true), jwtOf(false, "group:")
	inner, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "x", Policy: unreserved}}})
	if err != nil {
		t.Fatal(err)
	}
	scopedInner, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "x", Policy: scoped}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		policies []multiauth.Named
		key      string
	}{
		{"scopes first", []multiauth.Named{{Name: "api", Policy: scoped}, {Name: "web", Policy: unreserved}}, "policy.web.reserved_principal_prefixes"},
		{"scopes last", []multiauth.Named{{Name: "web", Policy: unreserved}, {Name: "api", Policy: scoped}}, "policy.web.reserved_principal_prefixes"},
		{"in a stack held", []multiauth.Named{{Name: "api", Policy: scoped}, {Name: "inner", Policy: inner}}, "policy.inner.reserved_principal_prefixes"},
		{"scopes in a stack held", []multiauth.Named{{Name: "inner", Policy: scopedInner}, {Name: "web", Policy: unreserved}}, "policy.web.reserved_principal_prefixes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := multiauth.New(multiauth.Config{Policies: tt.policies})
			var ce *policy.ConfigError
			if p != nil || !errors.As(err, &ce) || ce.Key != tt.key || ce.Prefix != "multiauth." || !errors.Is(err, policy.ErrConfig) {
				t.Fatalf("New = %v, %v; want a ConfigError for %s", p, err, tt.key)
			}
			if !strings.Contains(err.Error(), "multiauth."+tt.key+": must reserve scope:") {
				t.Errorf("%q", err)
			}
		})
	}
	for name, policies := range map[string][]multiauth.Named{
		"no scopes":               {{Name: "a", Policy: jwtOf(false)}, {Name: "web", Policy: unreserved}},
		"scope: reserved by both": {{Name: "api", Policy: scoped}, {Name: "b", Policy: jwtOf(false, "scope:")}},
		"a policy of one's own":   {{Name: "api", Policy: scoped}, {Name: "key", Policy: &apiKeyPolicy{}}},
	} {
		if _, err := multiauth.New(multiauth.Config{Policies: policies}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
