package policy_test

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// scopeClaims are validClaims("alice") with extra claims merged in.
func scopeClaims(extra map[string]any) map[string]any {
	c := validClaims("alice")
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// scopeGroups gives every user the groups "group:staff" and "group:b".
func scopeGroups(string, *http.Request, policy.Claims) ([]string, bool) {
	return []string{"group:staff", "group:b"}, true
}

// manyScopes is n distinct scopes, s0 to s<n-1>.
func manyScopes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "s" + strconv.Itoa(i)
	}
	return out
}

func asAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func prefixed(scopes ...string) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = policy.ScopePrefix + s
	}
	return out
}

// TestScopePrincipals: with ScopePrincipals, every shape of scope claim
// providers send gives its scopes as principals after the groups, in the
// token's order, each once; scope wins over scp.
func TestScopePrincipals(t *testing.T) {
	base := []string{"alice", policy.Everyone, policy.Authenticated, "group:staff", "group:b"}
	tests := []struct {
		name   string
		claims map[string]any
		want   []string // the scopes
	}{
		{"scope, one", map[string]any{"scope": "read"}, []string{"read"}},
		{"scope, space-separated", map[string]any{"scope": "openid articles:read articles:write"}, []string{"openid", "articles:read", "articles:write"}},
		{"scope, every character of the grammar", map[string]any{"scope": "!#[]~ a/b:c https://api.example.com/x?y=z&w"}, []string{"!#[]~", "a/b:c", "https://api.example.com/x?y=z&w"}},
		{"scope, the token's order kept", map[string]any{"scope": "z a m"}, []string{"z", "a", "m"}},
		{"scope, a duplicate once", map[string]any{"scope": "a b a b"}, []string{"a", "b"}},
		{"scp, a string", map[string]any{"scp": "read write"}, []string{"read", "write"}},
		{"scp, an array", map[string]any{"scp": []any{"read", "write"}}, []string{"read", "write"}},
		{"scope, an array (Spring Authorization Server's)", map[string]any{"scope": []any{"read", "articles:write"}}, []string{"read", "articles:write"}},
		{"scope, an empty array", map[string]any{"scope": []any{}}, nil},
		{"scope, an array with a duplicate", map[string]any{"scope": []any{"a", "b", "a"}}, []string{"a", "b"}},
		{"scope as an array wins over scp", map[string]any{"scope": []any{"from-scope"}, "scp": "from-scp"}, []string{"from-scope"}},
		{"MaxScopes scopes in a scope array", map[string]any{"scope": asAny(manyScopes(policy.MaxScopes))}, manyScopes(policy.MaxScopes)},
		{"scp, an array of one", map[string]any{"scp": []any{"read"}}, []string{"read"}},
		{"scp, an empty array", map[string]any{"scp": []any{}}, nil},
		{"scp, an array with a duplicate", map[string]any{"scp": []any{"a", "b", "a"}}, []string{"a", "b"}},
		{"neither", nil, nil},
		{"both: scope wins", map[string]any{"scope": "from-scope", "scp": []any{"from-scp"}}, []string{"from-scope"}},
		{"both: scp is not read", map[string]any{"scope": "ok", "scp": 42}, []string{"ok"}},
		{"MaxScopes scopes", map[string]any{"scope": strings.Join(manyScopes(policy.MaxScopes), " ")}, manyScopes(policy.MaxScopes)},
		{"MaxScopes scopes in scp", map[string]any{"scp": asAny(manyScopes(policy.MaxScopes))}, manyScopes(policy.MaxScopes)},
		{"a group-like scope stays a scope", map[string]any{"scope": "group:admins"}, []string{"group:admins"}},
	}
	p := newPolicy(t, func(c *policy.Config) { c.ScopePrincipals = true; c.GroupFinder = scopeGroups })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mintHS(t, scopeClaims(tt.claims))
			got, err := p.EffectivePrincipals(newRequest(jwtAuth(tok)))
			if err != nil {
				t.Fatalf("EffectivePrincipals: %v", err)
			}
			if want := append(slices.Clone(base), prefixed(tt.want...)...); !slices.Equal(got, want) {
				t.Errorf("principals %q\nwant %q", got, want)
			}
		})
	}
}

// TestScopePrincipalsMalformed: a scope claim of any other shape is
// invalid credentials whose reason names the claim, never ignored.
func TestScopePrincipalsMalformed(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]any
		claim  string // the claim the reason names
	}{
		{"scope, a number", map[string]any{"scope": 42}, "scope"},
		{"scope, a boolean", map[string]any{"scope": true}, "scope"},
		{"scope, null", map[string]any{"scope": nil}, "scope"},
		{"scope, an object", map[string]any{"scope": map[string]any{"a": "b"}}, "scope"},
		{"scope, empty: no scope token, refused rather than read as no scopes", map[string]any{"scope": ""}, "scope"},
		{"scope, an array with a number", map[string]any{"scope": []any{"a", 1}}, "scope"},
		{"scope, an array with null", map[string]any{"scope": []any{nil}}, "scope"},
		{"scope, an array with an empty name", map[string]any{"scope": []any{""}}, "scope"},
		{"scope, an element with a space", map[string]any{"scope": []any{"a b"}}, "scope"},
		{"scope, an element with a backslash", map[string]any{"scope": []any{`a\b`}}, "scope"},
		{"scope, an element not ASCII", map[string]any{"scope": []any{"café"}}, "scope"},
		{"scope, one element too many", map[string]any{"scope": asAny(manyScopes(policy.MaxScopes + 1))}, "scope"},
		{"scope array malformed, scp fine: scope still wins", map[string]any{"scope": []any{1}, "scp": "a"}, "scope"},
		{"scope, a leading space", map[string]any{"scope": " a"}, "scope"},
		{"scope, a trailing space", map[string]any{"scope": "a "}, "scope"},
		{"scope, two spaces", map[string]any{"scope": "a  b"}, "scope"},
		{"scope, a tab", map[string]any{"scope": "a\tb"}, "scope"},
		{"scope, a newline", map[string]any{"scope": "a\nb"}, "scope"},
		{"scope, a quote", map[string]any{"scope": `a"b`}, "scope"},
		{"scope, a backslash", map[string]any{"scope": `a\b`}, "scope"},
		{"scope, DEL", map[string]any{"scope": "a\x7f"}, "scope"},
		{"scope, non-ASCII", map[string]any{"scope": "café"}, "scope"},
		{"scope, a NUL", map[string]any{"scope": "a\x00"}, "scope"},
		{"scope, one scope too many", map[string]any{"scope": strings.Join(manyScopes(policy.MaxScopes+1), " ")}, "scope"},
		{"scope, too many duplicates", map[string]any{"scope": strings.TrimSpace(strings.Repeat("a ", policy.MaxScopes+1))}, "scope"},
		{"scope malformed, scp fine: scope still wins", map[string]any{"scope": 1, "scp": []any{"a"}}, "scope"},
		{"scp, a number", map[string]any{"scp": 7}, "scp"},
		{"scp, an object", map[string]any{"scp": map[string]any{}}, "scp"},
		{"scp, empty string", map[string]any{"scp": ""}, "scp"},
		{"scp, two spaces", map[string]any{"scp": "a  b"}, "scp"},
		{"scp, an array with a number", map[string]any{"scp": []any{"a", 1}}, "scp"},
		{"scp, an array with null", map[string]any{"scp": []any{nil}}, "scp"},
		{"scp, an array with an array", map[string]any{"scp": []any{[]any{"a"}}}, "scp"},
		{"scp, an array with an empty name", map[string]any{"scp": []any{"a", ""}}, "scp"},
		{"scp, an element with a space", map[string]any{"scp": []any{"a b"}}, "scp"},
		{"scp, an element with a quote", map[string]any{"scp": []any{`a"`}}, "scp"},
		{"scp, one element too many", map[string]any{"scp": asAny(manyScopes(policy.MaxScopes + 1))}, "scp"},
	}
	logger, logs := bufLogger()
	p := newPolicy(t, func(c *policy.Config) { c.ScopePrincipals = true; c.Logger = logger })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mintHS(t, scopeClaims(tt.claims))
			id := policy.Identify(p, newRequest(jwtAuth(tok)))
			if !errors.Is(id.Err, policy.ErrInvalidCredentials) || !errors.Is(id.Err, policy.ErrInvalidScope) {
				t.Fatalf("Err = %v; want ErrInvalidCredentials and ErrInvalidScope", id.Err)
			}
			var ce *policy.ClaimError
			if !errors.As(id.Err, &ce) || ce.Claim != tt.claim {
				t.Fatalf("Err = %v; want a *ClaimError naming %q", id.Err, tt.claim)
			}
			var ite *policy.InvalidTokenError
			if !errors.As(id.Err, &ite) || ite.Reason.Error() != "invalid scope claim "+tt.claim {
				t.Errorf("reason %q; want %q", ite.Reason, "invalid scope claim "+tt.claim)
			}
			if !slices.Equal(id.Principals, []string{policy.Everyone}) || id.UserID != "" {
				t.Errorf("principals %q, userid %q; want [Everyone] and none", id.Principals, id.UserID)
			}
			// The verifier refuses it too: it is the token that is bad.
			if vt := p.Verifier().Verify(t.Context(), tok); !errors.Is(vt.Err, policy.ErrInvalidScope) {
				t.Errorf("Verify: %v; want ErrInvalidScope", vt.Err)
			}
		})
	}
	if strings.Contains(logs.String(), "café") || strings.Contains(logs.String(), "s100") {
		t.Errorf("the log quotes a scope:\n%s", logs)
	}
}

// TestScopePrincipalsOff: by default the scope claims are not read: a
// malformed one is no error, and no scope is a principal.
func TestScopePrincipalsOff(t *testing.T) {
	p := newPolicy(t, nil)
	if p.ScopePrincipals() {
		t.Error("ScopePrincipals() is true by default")
	}
	for _, extra := range []map[string]any{{"scope": "read write"}, {"scp": []any{"read"}}, {"scope": 42}, {"scp": []any{1}}} {
		tok := mintHS(t, scopeClaims(extra))
		got, err := p.EffectivePrincipals(newRequest(jwtAuth(tok)))
		if want := []string{"alice", policy.Everyone, policy.Authenticated}; err != nil || !slices.Equal(got, want) {
			t.Errorf("%v: %q, %v; want %q", extra, got, err, want)
		}
	}
	if !newPolicy(t, func(c *policy.Config) { c.ScopePrincipals = true }).ScopePrincipals() {
		t.Error("ScopePrincipals() is false with Config.ScopePrincipals")
	}
}

// TestScopePrincipalsCached: a token answered from the verified-token
// cache has the same principals, scopes included, as when it was
// verified; and a token with a malformed scope is never cached as good.
func TestScopePrincipalsCached(t *testing.T) {
	set := &countingKeySet{}
	set.set(es256Key("k1"))
	p, err := policy.NewJWT(policy.Config{KeySets: []policy.KeySet{set}, ScopePrincipals: true, GroupFinder: scopeGroups, Now: clock, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p256Once()},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	tok := testkit.MintSigned(t, signer, scopeClaims(map[string]any{"scp": []any{"read", "write"}}))
	want := []string{"alice", policy.Everyone, policy.Authenticated, "group:staff", "group:b", "scope:read", "scope:write"}
	for i := range 5 {
		// Plain Bearer-like forms too, for the header fast path.
		for _, h := range []string{jwtAuth(tok), "JWT " + tok} {
			got, err := p.EffectivePrincipals(newRequest(h))
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("request %d (%.12s...): %q, %v; want %q", i, h, got, err, want)
			}
		}
	}
	if n := set.calls.Load(); n != 2 {
		t.Fatalf("the keys were asked for %d times; want 2 (the later requests from the cache)", n)
	}

	bad := testkit.MintSigned(t, signer, scopeClaims(map[string]any{"scp": []any{"read", 1}}))
	before := set.calls.Load()
	for i := range 3 {
		if _, err := p.EffectivePrincipals(newRequest(jwtAuth(bad))); !errors.Is(err, policy.ErrInvalidScope) {
			t.Fatalf("request %d: %v; want ErrInvalidScope", i, err)
		}
	}
	if n := set.calls.Load() - before; n != 3 {
		t.Errorf("the bad token was verified %d times in 3 requests; want 3 (never cached)", n)
	}
}

// TestScopePrincipalsCookie: the cookie policy's tokens give their scopes
// the same way.
func TestScopePrincipalsCookie(t *testing.T) {
	c, err := policy.NewCookie(policy.CookieConfig{Config: policy.Config{MasterSecret: testSecret, ScopePrincipals: true, Now: clock, Logger: discard}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.ScopePrincipals() {
		t.Error("ScopePrincipals() is false")
	}
	r := newRequest()
	r.AddCookie(&http.Cookie{Name: policy.DefaultCookieName, Value: mintHS(t, scopeClaims(map[string]any{"scope": "a b"}))})
	got, err := c.EffectivePrincipals(r)
	if want := []string{"alice", policy.Everyone, policy.Authenticated, "scope:a", "scope:b"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("%q, %v; want %q", got, err, want)
	}
}

// TestScopePrincipalsReserved: scope principals need scope: reserved, so
// that no userid can be one.
func TestScopePrincipalsReserved(t *testing.T) {
	for _, prefixes := range [][]string{{"group:"}, {}, {"scope:x"}} {
		_, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, ScopePrincipals: true, ReservedPrincipalPrefixes: prefixes, Logger: discard})
		var ce *policy.ConfigError
		if !errors.As(err, &ce) || ce.Key != "reserved_principal_prefixes" || !strings.Contains(err.Error(), "scope_principals") {
			t.Errorf("prefixes %q: %v; want a ConfigError of reserved_principal_prefixes naming scope_principals", prefixes, err)
		}
	}
	for _, prefixes := range [][]string{nil, {"scope:"}, {"group:", "scope:"}, {"sc"}} {
		if _, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, ScopePrincipals: true, ReservedPrincipalPrefixes: prefixes, Logger: discard}); err != nil {
			t.Errorf("prefixes %q: %v", prefixes, err)
		}
	}
	// Without scope principals, the prefixes are the application's.
	if _, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, ReservedPrincipalPrefixes: []string{"group:"}, Logger: discard}); err != nil {
		t.Errorf("without scope principals: %v", err)
	}
	// A userid that is a scope is a user rejected.
	p := newPolicy(t, func(c *policy.Config) { c.ScopePrincipals = true })
	_, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintHS(t, validClaims("scope:admin")))))
	if !errors.Is(err, policy.ErrUserRejected) {
		t.Errorf("userid scope:admin: %v; want ErrUserRejected", err)
	}
}

// TestIsScopeToken holds the exported grammar check to RFC 6749's
// scope-token.
func TestIsScopeToken(t *testing.T) {
	for _, s := range []string{"a", "!", "#", "[", "]", "~", "articles:read", "https://x.example/y", strings.Repeat("z", 1000)} {
		if !policy.IsScopeToken(s) {
			t.Errorf("IsScopeToken(%q) = false", s)
		}
	}
	for _, s := range []string{"", " ", "a b", `"`, `\`, "\x7f", "\x20", "é", "\x00", "a\tb"} {
		if policy.IsScopeToken(s) {
			t.Errorf("IsScopeToken(%q) = true", s)
		}
	}
	for c := 0; c < 256; c++ {
		want := c == 0x21 || 0x23 <= c && c <= 0x5b || 0x5d <= c && c <= 0x7e
		if got := policy.IsScopeToken(string([]byte{byte(c)})); got != want {
			t.Errorf("IsScopeToken(%#x) = %v; want %v", c, got, want)
		}
	}
}

// FuzzScopeClaim holds the scope reading to its rule on any string, as
// scope or scp, written as one string or as the array of its parts
// between single spaces: the token verifies exactly when each part is a
// scope token, at most MaxScopes of them, and its principals are then
// those scopes, in order, each once.
func FuzzScopeClaim(f *testing.F) {
	for _, s := range []string{"a", "a b", "a  b", " a", "a ", "", "a\tb", `a"b`, "café", "a a", "x:y https://z/w"} {
		for _, scp := range []bool{false, true} {
			f.Add(s, scp, false)
			f.Add(s, scp, true)
		}
	}
	p := newPolicy(f, func(c *policy.Config) {
		c.ScopePrincipals = true
		c.CacheSize = policy.NoCache
		c.MaxTokenBytes = policy.MaxMaxTokenBytes // the fuzzer's strings grow long
	})
	f.Fuzz(func(t *testing.T, s string, scp, array bool) {
		if !utf8.ValidString(s) || len(s) > 64<<10 {
			// encoding/json would write U+FFFD, another string; and a
			// longer one could make a token over MaxMaxTokenBytes.
			return
		}
		name := "scope"
		if scp {
			name = "scp"
		}
		parts := strings.Split(s, " ")
		var claim any = s
		if array {
			claim = asAny(parts)
		}
		tok := mintHS(t, scopeClaims(map[string]any{name: claim}))
		got, err := p.EffectivePrincipals(newRequest(jwtAuth(tok)))
		valid := len(parts) <= policy.MaxScopes && !slices.ContainsFunc(parts, func(p string) bool { return !policy.IsScopeToken(p) })
		if valid != (err == nil) {
			t.Fatalf("%q as %s: %v; valid by the grammar: %v", s, name, err, valid)
		}
		if err != nil {
			if !errors.Is(err, policy.ErrInvalidScope) {
				t.Fatalf("%q: %v; want ErrInvalidScope", s, err)
			}
			return
		}
		var want []string
		for _, part := range parts {
			if !slices.Contains(want, policy.ScopePrefix+part) {
				want = append(want, policy.ScopePrefix+part)
			}
		}
		if !slices.Equal(got[3:], want) {
			t.Fatalf("%q: principals %q; want the scopes %q", s, got, want)
		}
	})
}
