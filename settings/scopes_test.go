package settings_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
	"github.com/pyramid-go/jwtauth/settings"
)

// TestScopeAndProfileSettings: scope_principals and profile reach the
// Config; any other value is an error naming the key.
func TestScopeAndProfileSettings(t *testing.T) {
	for _, tt := range []struct {
		key, value string
		field      func(policy.Config) any
		want       any
	}{
		{"scope_principals", "true", func(c policy.Config) any { return c.ScopePrincipals }, true},
		{"scope_principals", "Yes", func(c policy.Config) any { return c.ScopePrincipals }, true},
		{"scope_principals", "off", func(c policy.Config) any { return c.ScopePrincipals }, false},
		{"scope_principals", " ", func(c policy.Config) any { return c.ScopePrincipals }, false},
		{"profile", "rfc9068", func(c policy.Config) any { return c.Profile }, policy.ProfileRFC9068},
		{"profile", " RFC9068 ", func(c policy.Config) any { return c.Profile }, policy.ProfileRFC9068},
		{"profile", "none", func(c policy.Config) any { return c.Profile }, policy.ProfileNone},
		{"profile", "", func(c policy.Config) any { return c.Profile }, policy.ProfileNone},
	} {
		cfg, err := parseConfig(map[string]string{settings.Prefix + tt.key: tt.value}, nil)
		if err != nil {
			t.Errorf("%s = %q: %v", tt.key, tt.value, err)
			continue
		}
		if got := tt.field(cfg); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %q: %#v; want %#v", tt.key, tt.value, got, tt.want)
		}
	}
	for _, tt := range []struct{ key, value, want string }{
		{"scope_principals", "maybe", `"maybe" is not a boolean`},
		{"scope_principals", "scope", `"scope" is not a boolean`},
		{"profile", "rfc9069", `"rfc9069" is not a profile (use rfc9068, or none)`},
		{"profile", "rfc 9068", `is not a profile`},
		{"profile", "at+jwt", `is not a profile`},
	} {
		_, err := settings.NewPolicy(withSecret(map[string]string{settings.Prefix + tt.key: tt.value}), nil, nil)
		if msg := settingsError(t, err, settings.Prefix+tt.key, settings.ErrBadValue); !strings.Contains(msg, tt.want) {
			t.Errorf("%s = %q: %q does not say %q", tt.key, tt.value, msg, tt.want)
		}
	}
	// A typo of either key is caught.
	_, err := settings.NewPolicy(withSecret(map[string]string{"jwtauth.scope_principal": "true"}), nil, nil)
	if msg := settingsError(t, err, "jwtauth.scope_principal", settings.ErrUnknownKey); !strings.Contains(msg, "did you mean jwtauth.scope_principals?") {
		t.Errorf("typo: %q", msg)
	}
}

// TestProfileSettingsCombined: what the profile cannot be combined with
// is an error of the other key, naming the profile.
func TestProfileSettingsCombined(t *testing.T) {
	withProfile := func(kv ...string) map[string]string {
		m := withSecret(map[string]string{"jwtauth.profile": "rfc9068", "jwtauth.audience": "api", "jwtauth.issuer": "https://as.example"})
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
		m    map[string]string
		key  string
		want string
	}{
		{withProfile("jwtauth.disable_verify_exp", "true"), "jwtauth.disable_verify_exp", "cannot be combined with profile = rfc9068"},
		{withProfile("jwtauth.disable_verify_aud", "true"), "jwtauth.disable_verify_aud", "cannot be combined with profile = rfc9068"},
		{withProfile("jwtauth.disable_verify_signature", "true"), "jwtauth.disable_verify_signature", "cannot be combined with profile = rfc9068"},
		{withProfile("jwtauth.token_type", "JWT"), "jwtauth.token_type", "cannot be combined with profile = rfc9068"},
		{withProfile("jwtauth.audience", "-"), "jwtauth.audience", "required by profile = rfc9068"},
		{withProfile("jwtauth.issuer", "-"), "jwtauth.issuer", "required by profile = rfc9068"},
		{withProfile("jwtauth.issuer", " "), "jwtauth.issuer", "required by profile = rfc9068"},
		{withSecret(map[string]string{"jwtauth.scope_principals": "true", "jwtauth.reserved_principal_prefixes": "group:"}),
			"jwtauth.reserved_principal_prefixes", "must reserve scope: with scope_principals"},
	} {
		_, err := settings.NewPolicy(tt.m, nil, nil)
		if msg := settingsError(t, err, tt.key, settings.ErrBadValue); !strings.Contains(msg, tt.want) {
			t.Errorf("%v: %q does not say %q", redact(tt.m), msg, tt.want)
		}
	}
	for _, m := range []map[string]string{
		withProfile(),
		withProfile("jwtauth.token_type", "application/at+jwt"),
		withProfile("jwtauth.disable_verify_exp", "false"),
		withSecret(map[string]string{"jwtauth.disable_verify_exp": "true"}),
	} {
		if _, err := settings.NewPolicy(m, nil, nil); err != nil {
			t.Errorf("%v: %v", redact(m), err)
		}
	}
}

// TestProfileIssuerFromKeySets: the profile needs jwtauth.issuer unless
// every key set is bound to its issuer: oidc_issuer's are, and a
// jwks_file's is with jwtauth.issuer; a token of another issuer is then
// refused.
func TestProfileIssuerFromKeySets(t *testing.T) {
	a := jwk(0, "key-a")
	provider := newIDP(t, a)
	path := writeFile(t, "jwks.json", testkit.PublicJWKS(t, a))
	profile := func(kv ...string) map[string]string {
		m := map[string]string{"jwtauth.profile": "rfc9068", "jwtauth.audience": "api"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, m := range []map[string]string{
		profile("jwtauth.jwks_file", path),
		profile("jwtauth.jwks_url", provider.srv.URL+"/jwks"),
	} {
		_, err := settings.NewPolicy(m, nil, quiet)
		if msg := settingsError(t, err, "jwtauth.issuer", settings.ErrBadValue); !strings.Contains(msg, "required by profile = rfc9068") {
			t.Errorf("%v: %q", m, msg)
		}
	}
	at := func(iss string) string {
		c := accessToken("read")
		c["iss"] = iss
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(a.Algorithm), Key: a}, (&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			t.Fatal(err)
		}
		return testkit.MintSigned(t, signer, c)
	}
	for _, tt := range []struct {
		m   map[string]string
		iss string
	}{
		{profile("jwtauth.oidc_issuer", provider.srv.URL), provider.srv.URL},
		{profile("jwtauth.jwks_file", path, "jwtauth.issuer", "https://as.example"), "https://as.example"},
	} {
		p := mustPolicy(t, tt.m)
		if uid, err := authenticate(p, at(tt.iss)); err != nil || uid != "alice" {
			t.Errorf("%v, iss %s: %q, %v", tt.m, tt.iss, uid, err)
		}
		if _, err := authenticate(p, at("https://other.example")); !errors.Is(err, policy.ErrUnknownIssuer) {
			t.Errorf("%v, another issuer: %v; want ErrUnknownIssuer", tt.m, err)
		}
		p.Close()
	}
}

// mintAT mints claims with HS256 and the tests' secret, with the header
// typ typ, with go-jose.
func mintAT(t *testing.T, typ string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	return testkit.MintSigned(t, signer, claims)
}

// accessToken are the claims of an RFC 9068 access token valid now, with
// the scopes scope.
func accessToken(scope string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": "https://as.example", "exp": now.Add(time.Minute).Unix(), "aud": "api", "sub": "alice",
		"client_id": "c1", "iat": now.Unix(), "jti": "j1", "scope": scope,
	}
}

func principalsOf(t *testing.T, p policy.AuthenticationPolicy, r *http.Request) ([]string, error) {
	t.Helper()
	return p.EffectivePrincipals(r)
}

// TestScopeAndProfileFromSettings: the policy the settings make reads the
// scopes and holds tokens to the profile.
func TestScopeAndProfileFromSettings(t *testing.T) {
	p := mustPolicy(t, map[string]string{
		"jwtauth.master_secret":    secret,
		"jwtauth.scope_principals": "true",
		"jwtauth.profile":          "rfc9068",
		"jwtauth.audience":         "api",
		"jwtauth.issuer":           "https://as.example",
		"jwtauth.scheme":           "Bearer",
	})
	defer p.Close()
	if !p.ScopePrincipals() {
		t.Error("ScopePrincipals() is false")
	}
	bearer := func(tok string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	got, err := principalsOf(t, p, bearer(mintAT(t, "at+jwt", accessToken("read write"))))
	if want := []string{"alice", policy.Everyone, policy.Authenticated, "scope:read", "scope:write"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("%q, %v; want %q", got, err, want)
	}
	arrayScope := accessToken("")
	arrayScope["scope"] = []string{"read", "write"} // as Spring Authorization Server writes it
	got, err = principalsOf(t, p, bearer(mintAT(t, "at+jwt", arrayScope)))
	if want := []string{"alice", policy.Everyone, policy.Authenticated, "scope:read", "scope:write"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("scope as an array: %q, %v; want %q", got, err, want)
	}
	if _, err := principalsOf(t, p, bearer(mintAT(t, "JWT", accessToken("read")))); !errors.Is(err, policy.ErrWrongTokenType) {
		t.Errorf("typ JWT: %v; want ErrWrongTokenType", err)
	}
	c := accessToken("read")
	delete(c, "jti")
	if _, err := principalsOf(t, p, bearer(mintAT(t, "at+jwt", c))); !errors.Is(err, policy.ErrMissingClaim) || !strings.Contains(err.Error(), "missing claim jti") {
		t.Errorf("without jti: %v; want ErrMissingClaim naming jti", err)
	}
	if _, err := principalsOf(t, p, bearer(mintAT(t, "at+jwt", accessToken("a  b")))); !errors.Is(err, policy.ErrInvalidScope) {
		t.Errorf("scope a  b: %v; want ErrInvalidScope", err)
	}
}

// stackPolicy is the policy name of stack.
func stackPolicy(t *testing.T, stack *multiauth.Policy, name string) policy.AuthenticationPolicy {
	t.Helper()
	for _, n := range stack.Policies() {
		if n.Name == name {
			return n.Policy
		}
	}
	t.Fatalf("no policy %s in the stack", name)
	return nil
}

// TestScopeAndProfileInAStack: both keys are keys of a stack's jwt
// policies (their own, or the jwtauth.* defaults); scope_principals of its
// jwt_cookie policies too, but profile is not their default and is
// refused as their own key.
func TestScopeAndProfileInAStack(t *testing.T) {
	type scoper interface{ ScopePrincipals() bool }
	t.Run("own keys", func(t *testing.T) {
		stack := mustStack(t, cookieStack(
			"multiauth.policy.api.scope_principals", "true",
			"multiauth.policy.api.profile", "rfc9068",
			"multiauth.policy.api.audience", "api",
			"multiauth.policy.api.issuer", "https://as.example",
		))
		if !stackPolicy(t, stack, "api").(scoper).ScopePrincipals() || stackPolicy(t, stack, "web").(scoper).ScopePrincipals() {
			t.Error("scope_principals of api reached web, or not api")
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		policy.SetAuthorization(r, "JWT", mintAT(t, "at+jwt", accessToken("read")))
		if got, err := stack.EffectivePrincipals(r); err != nil || !slices.Contains(got, "scope:read") {
			t.Errorf("%q, %v; want scope:read among them", got, err)
		}
		r = httptest.NewRequest(http.MethodGet, "/", nil)
		policy.SetAuthorization(r, "JWT", mintAT(t, "JWT", accessToken("read")))
		if _, err := stack.EffectivePrincipals(r); !errors.Is(err, policy.ErrWrongTokenType) {
			t.Errorf("typ JWT: %v; want ErrWrongTokenType", err)
		}
	})
	t.Run("jwtauth.* defaults", func(t *testing.T) {
		stack := mustStack(t, cookieStack(
			"jwtauth.scope_principals", "true",
			"jwtauth.profile", "rfc9068",
			"jwtauth.audience", "api",
			"jwtauth.issuer", "https://as.example",
		))
		if !stackPolicy(t, stack, "api").(scoper).ScopePrincipals() || !stackPolicy(t, stack, "web").(scoper).ScopePrincipals() {
			t.Error("jwtauth.scope_principals is not the default of both token policies")
		}
		// The cookie policy, which profile is no default of, still signs
		// and accepts its own tokens.
		_, tok := remembered(t, stack, "bob")
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: "jwt", Value: tok})
		if u, err := stack.AuthenticatedUserID(r); err != nil || u != "bob" {
			t.Errorf("the cookie's own token: %q, %v", u, err)
		}
	})
	t.Run("errors name the policy's key", func(t *testing.T) {
		for _, tt := range []struct {
			kv        []string
			key, want string
		}{
			{[]string{"multiauth.policy.api.profile", "rfc9069"}, "multiauth.policy.api.profile", "is not a profile"},
			{[]string{"multiauth.policy.api.scope_principals", "maybe"}, "multiauth.policy.api.scope_principals", "is not a boolean"},
			{[]string{"multiauth.policy.api.profile", "rfc9068", "multiauth.policy.api.audience", "api", "multiauth.policy.api.disable_verify_exp", "true"},
				"multiauth.policy.api.disable_verify_exp", "cannot be combined with profile = rfc9068"},
			{[]string{"multiauth.policy.api.profile", "rfc9068"}, "multiauth.policy.api.audience", "required by profile = rfc9068"},
			{[]string{"multiauth.policy.api.profile", "rfc9068", "multiauth.policy.api.audience", "api"}, "multiauth.policy.api.issuer", "required by profile = rfc9068"},
			{[]string{"jwtauth.profile", "rfc9068", "jwtauth.audience", "api"}, "multiauth.policy.api.issuer", "required by profile = rfc9068"},
			{[]string{"multiauth.policy.web.profile", "rfc9068", "multiauth.policy.web.audience", "api"}, "multiauth.policy.web.profile", "a cookie policy verifies the session tokens it signs itself"},
			{[]string{"multiauth.policy.web.scope_principals", "true", "multiauth.policy.web.reserved_principal_prefixes", "group:"},
				"multiauth.policy.web.reserved_principal_prefixes", "must reserve scope:"},
			{[]string{"jwtauth.profile", "rfc9068", "jwtauth.audience", "api", "jwtauth.disable_verify_exp", "true"}, "jwtauth.disable_verify_exp", "cannot be combined with profile = rfc9068"},
		} {
			_, err := settings.NewPolicy(cookieStack(tt.kv...), nil, quiet)
			if msg := settingsError(t, err, tt.key, settings.ErrBadValue); !strings.Contains(msg, tt.want) {
				t.Errorf("%v: %q does not say %q", tt.kv, msg, tt.want)
			}
		}
	})
	t.Run("environment", func(t *testing.T) {
		m, from := settings.FromEnv([]string{
			"JWTAUTH_MASTER_SECRET=" + secret,
			"JWTAUTH_PROFILE=rfc7519",
		})
		_, err := settings.NewPolicy(m, from, quiet)
		if settingsError(t, err, "jwtauth.profile", settings.ErrBadValue); !strings.HasPrefix(err.Error(), "JWTAUTH_PROFILE (jwtauth.profile): ") {
			t.Errorf("%v", err)
		}
		m, from = settings.FromEnv([]string{
			"MULTIAUTH_POLICIES=api",
			"MULTIAUTH_POLICY_API_USE=jwt",
			"MULTIAUTH_POLICY_API_SCOPE_PRINCIPALS=true",
			"JWTAUTH_MASTER_SECRET=" + secret,
		})
		p, err := settings.NewPolicy(m, from, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if !stackPolicy(t, p.(*multiauth.Policy), "api").(scoper).ScopePrincipals() {
			t.Error("MULTIAUTH_POLICY_API_SCOPE_PRINCIPALS did not apply")
		}
	})
}

// TestStackReservesScopes: when a policy of a stack makes scopes
// principals, every policy of it must reserve scope:, so that no userid
// of one (a cookie user "scope:root") is a scope of another; the error
// names the setting of the policy at fault, or the jwtauth.* default it
// took.
func TestStackReservesScopes(t *testing.T) {
	check, _ := registerStackHelpers(t)
	withBasic := func(kv ...string) map[string]string {
		m := cookieStack(append([]string{
			"multiauth.policies", "api web svc",
			"multiauth.policy.svc.use", "basic",
			"multiauth.policy.svc.check", check,
		}, kv...)...)
		return m
	}
	for _, tt := range []struct {
		kv        []string
		key, want string
	}{
		{[]string{"multiauth.policy.api.scope_principals", "true", "multiauth.policy.web.reserved_principal_prefixes", "group:"},
			"multiauth.policy.web.reserved_principal_prefixes", `must reserve scope:: the scopes of the policy "api" are principals of the stack`},
		{[]string{"multiauth.policy.web.scope_principals", "true", "multiauth.policy.api.reserved_principal_prefixes", "group: role:"},
			"multiauth.policy.api.reserved_principal_prefixes", `the scopes of the policy "web"`},
		{[]string{"multiauth.policy.api.scope_principals", "true", "multiauth.policy.api.reserved_principal_prefixes", "scope:",
			"jwtauth.reserved_principal_prefixes", "group:"},
			"jwtauth.reserved_principal_prefixes", `the default of the policy "web", which must reserve scope:`},
	} {
		_, err := settings.NewPolicy(cookieStack(tt.kv...), nil, quiet)
		if msg := settingsError(t, err, tt.key, settings.ErrBadValue); !strings.Contains(msg, tt.want) {
			t.Errorf("%v: %q does not say %q", tt.kv, msg, tt.want)
		}
	}
	// The Basic policy's reserved prefixes too.
	_, err := settings.NewPolicy(withBasic("multiauth.policy.api.scope_principals", "true", "multiauth.policy.svc.reserved_principal_prefixes", "system."), nil, quiet)
	if msg := settingsError(t, err, "multiauth.policy.svc.reserved_principal_prefixes", settings.ErrBadValue); !strings.Contains(msg, "must reserve scope:") {
		t.Errorf("basic: %q", msg)
	}
	// From the environment, the variable is named.
	m, from := settings.FromEnv([]string{
		"MULTIAUTH_POLICIES=api web",
		"MULTIAUTH_POLICY_API_USE=jwt",
		"MULTIAUTH_POLICY_API_SCOPE_PRINCIPALS=true",
		"MULTIAUTH_POLICY_WEB_USE=jwt_cookie",
		"MULTIAUTH_POLICY_WEB_RESERVED_PRINCIPAL_PREFIXES=group:",
		"JWTAUTH_MASTER_SECRET=" + secret,
	})
	_, err = settings.NewPolicy(m, from, quiet)
	if settingsError(t, err, "multiauth.policy.web.reserved_principal_prefixes", settings.ErrBadValue); !strings.HasPrefix(err.Error(), "MULTIAUTH_POLICY_WEB_RESERVED_PRINCIPAL_PREFIXES (multiauth.policy.web.reserved_principal_prefixes): ") {
		t.Errorf("environment: %v", err)
	}

	// Accepted: scope: reserved by all (by default, or named), or no
	// scopes as principals at all.
	for _, m := range []map[string]string{
		cookieStack("multiauth.policy.api.scope_principals", "true"),
		cookieStack("multiauth.policy.api.scope_principals", "true", "multiauth.policy.web.reserved_principal_prefixes", "group: scope:"),
		cookieStack("multiauth.policy.web.reserved_principal_prefixes", "group:"),
		withBasic("jwtauth.scope_principals", "true"),
		withBasic("multiauth.policy.svc.reserved_principal_prefixes", "system."),
	} {
		p, err := settings.NewPolicy(m, nil, quiet)
		if err != nil {
			t.Errorf("%v: %v", redact(m), err)
			continue
		}
		p.Close()
	}
}
