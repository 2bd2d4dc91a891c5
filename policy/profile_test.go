package policy_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// at9068Claims are the claims of a valid RFC 9068 access token for the
// audience "api".
func at9068Claims() map[string]any {
	return map[string]any{
		"iss":       "https://as.example.com",
		"exp":       testNow.Add(time.Hour).Unix(),
		"aud":       "api",
		"sub":       "alice",
		"client_id": "s6BhdRkqt3",
		"iat":       testNow.Add(-time.Minute).Unix(),
		"jti":       "dbe39bf3a3ba4238a513f51d6e1691c4",
		"scope":     "read",
	}
}

// mintTyp mints claims with HS256 and testSecret, the header typ typ (none
// when empty), with go-jose.
func mintTyp(t testing.TB, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: testSecret}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.MintSigned(t, signer, claims)
}

func newRFC9068Policy(t testing.TB, mod func(*policy.Config)) *policy.JWT {
	t.Helper()
	return newPolicy(t, func(c *policy.Config) {
		c.Profile = policy.ProfileRFC9068
		c.Audience = []string{"api"}
		c.Issuer = "https://as.example.com"
		if mod != nil {
			mod(c)
		}
	})
}

// TestRFC9068Type: the profile requires typ at+jwt, with or without
// application/, in any case.
func TestRFC9068Type(t *testing.T) {
	p := newRFC9068Policy(t, nil)
	for _, typ := range []string{"at+jwt", "application/at+jwt", "AT+JWT", "Application/At+JWT"} {
		if u, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintTyp(t, typ, at9068Claims())))); err != nil || u != "alice" {
			t.Errorf("typ %q: %q, %v; want alice", typ, u, err)
		}
	}
	for _, typ := range []string{"", "JWT", "jwt", "at+jw", "at+jwt2", "application/jwt", "text/at+jwt", "application/application/at+jwt", "at+JWT "} {
		_, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintTyp(t, typ, at9068Claims()))))
		if !errors.Is(err, policy.ErrInvalidCredentials) || !errors.Is(err, policy.ErrWrongTokenType) {
			t.Errorf("typ %q: %v; want ErrWrongTokenType", typ, err)
		}
	}
	// A token_type of at+jwt, in another spelling, is the same check.
	for _, tt := range []string{"at+jwt", "application/AT+JWT"} {
		p := newRFC9068Policy(t, func(c *policy.Config) { c.TokenType = tt })
		if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintTyp(t, "application/at+jwt", at9068Claims())))); err != nil {
			t.Errorf("token_type %q: %v", tt, err)
		}
		if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintTyp(t, "JWT", at9068Claims())))); !errors.Is(err, policy.ErrWrongTokenType) {
			t.Errorf("token_type %q, typ JWT: %v; want ErrWrongTokenType", tt, err)
		}
	}
	// Without the profile, the same tokens without at+jwt pass.
	if _, err := newPolicy(t, func(c *policy.Config) { c.Audience = []string{"api"} }).AuthenticatedUserID(newRequest(jwtAuth(mintTyp(t, "JWT", at9068Claims())))); err != nil {
		t.Errorf("without the profile: %v", err)
	}
}

// TestRFC9068Claims: each claim the profile requires, missing or of the
// wrong type, is invalid credentials whose reason names it.
func TestRFC9068Claims(t *testing.T) {
	for _, userIDClaim := range []string{"", "client_id"} {
		p := newRFC9068Policy(t, func(c *policy.Config) { c.UserIDClaim = userIDClaim })
		for _, name := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} {
			t.Run("missing "+name+" (userid in "+userIDClaim+")", func(t *testing.T) {
				c := at9068Claims()
				delete(c, name)
				checkClaimRefused(t, p, c, name, policy.ErrMissingClaim, "missing claim "+name)
			})
		}
		for _, tc := range []struct {
			name  string
			value any
		}{{"iss", 1}, {"sub", true}, {"client_id", 42}, {"client_id", nil}, {"client_id", []any{"c"}}, {"jti", 7}, {"jti", map[string]any{}}} {
			t.Run("non-string "+tc.name+" (userid in "+userIDClaim+")", func(t *testing.T) {
				c := at9068Claims()
				c[tc.name] = tc.value
				// The profile's check comes before the userid claim's.
				checkClaimRefused(t, p, c, tc.name, policy.ErrInvalidClaim, "invalid claim "+tc.name)
			})
		}
	}
	p := newRFC9068Policy(t, nil)
	// The types of exp, iat and aud are checked as ever.
	for name, value := range map[string]any{"exp": "soon", "iat": "now", "aud": 5} {
		c := at9068Claims()
		c[name] = value
		if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintTyp(t, "at+jwt", c)))); !errors.Is(err, policy.ErrMalformedClaims) {
			t.Errorf("%s = %v: %v; want ErrMalformedClaims", name, value, err)
		}
	}
	// aud as an array, and the challenge's error_description.
	c := at9068Claims()
	c["aud"] = []any{"other", "api"}
	if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintTyp(t, "at+jwt", c)))); err != nil {
		t.Errorf("aud as an array: %v", err)
	}
	c = at9068Claims()
	delete(c, "client_id")
	r := newRequest(jwtAuth(mintTyp(t, "at+jwt", c)))
	rec := httptest.NewRecorder()
	p.Challenge(rec, r)
	if got, want := rec.Header().Get("WWW-Authenticate"), `JWT error="invalid_token", error_description="missing claim client_id"`; got != want {
		t.Errorf("challenge %q; want %q", got, want)
	}
	// Without the profile, none of it is required.
	plain := newPolicy(t, nil)
	if _, err := plain.AuthenticatedUserID(newRequest(jwtAuth(mintHS(t, validClaims("alice"))))); err != nil {
		t.Errorf("without the profile: %v", err)
	}
}

func checkClaimRefused(t *testing.T, p *policy.JWT, claims map[string]any, name string, reason error, text string) {
	t.Helper()
	id := policy.Identify(p, newRequest(jwtAuth(mintTyp(t, "at+jwt", claims))))
	if !errors.Is(id.Err, policy.ErrInvalidCredentials) || !errors.Is(id.Err, reason) {
		t.Fatalf("Err = %v; want ErrInvalidCredentials and %v", id.Err, reason)
	}
	var ce *policy.ClaimError
	if !errors.As(id.Err, &ce) || ce.Claim != name {
		t.Fatalf("Err = %v; want a *ClaimError naming %q", id.Err, name)
	}
	var ite *policy.InvalidTokenError
	if !errors.As(id.Err, &ite) || ite.Reason.Error() != text {
		t.Errorf("reason %q; want %q", ite.Reason, text)
	}
}

// TestRFC9068Config: the profile's settings, and what it cannot be
// combined with, each error naming both settings.
func TestRFC9068Config(t *testing.T) {
	base := func(mod func(*policy.Config)) policy.Config {
		c := policy.Config{MasterSecret: testSecret, Profile: policy.ProfileRFC9068, Audience: []string{"api"}, Issuer: "https://as.example.com", Logger: discard}
		mod(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     policy.Config
		key     string
		mention string
	}{
		{"unknown profile", base(func(c *policy.Config) { c.Profile = "rfc9069" }), "profile", "rfc9068"},
		{"profile in another case", base(func(c *policy.Config) { c.Profile = "RFC9068" }), "profile", "rfc9068"},
		{"disable_verify_exp", base(func(c *policy.Config) { c.DisableVerifyExp = true }), "disable_verify_exp", "profile"},
		{"disable_verify_aud", base(func(c *policy.Config) { c.DisableVerifyAud = true }), "disable_verify_aud", "profile"},
		{"disable_verify_signature", base(func(c *policy.Config) { c.DisableVerifySignature = true }), "disable_verify_signature", "profile"},
		{"no audience", base(func(c *policy.Config) { c.Audience = nil }), "audience", "profile"},
		{"no issuer, static keys", base(func(c *policy.Config) { c.Issuer = "" }), "issuer", "profile"},
		{"no issuer, a key set for any issuer", base(func(c *policy.Config) {
			c.Issuer, c.MasterSecret, c.KeySets = "", nil, []policy.KeySet{staticSet(t, "")}
		}), "issuer", "profile"},
		{"no issuer, a key set bound beside one for any issuer", base(func(c *policy.Config) {
			c.Issuer, c.MasterSecret, c.KeySets = "", nil, []policy.KeySet{staticSet(t, "https://as.example.com"), staticSet(t, "")}
		}), "issuer", "profile"},
		{"another token_type", base(func(c *policy.Config) { c.TokenType = "JWT" }), "token_type", "profile"},
		{"token_type of an ID token", base(func(c *policy.Config) { c.TokenType = "application/id+jwt" }), "token_type", "profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policy.NewJWT(tt.cfg)
			var ce *policy.ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("NewJWT: %v; want a ConfigError of %s", err, tt.key)
			}
			if !strings.Contains(err.Error(), "jwtauth."+tt.key) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("%q does not name jwtauth.%s and %s", err, tt.key, tt.mention)
			}
		})
	}
	// Key sets each bound to an issuer, or a resolver, check iss: no
	// Issuer needed. Nor with Issuer beside a set for any issuer.
	for name, mod := range map[string]func(*policy.Config){
		"bound key sets": func(c *policy.Config) {
			c.Issuer, c.MasterSecret, c.KeySets = "", nil, []policy.KeySet{staticSet(t, "https://as.example.com"), staticSet(t, "https://other.example.com")}
		},
		"an issuer resolver": func(c *policy.Config) {
			c.Issuer, c.MasterSecret, c.IssuerResolver = "", nil, resolverFunc(func(context.Context, string) (policy.KeySet, error) { return nil, errors.New("no issuer") })
		},
		"issuer and a key set for any issuer": func(c *policy.Config) {
			c.MasterSecret, c.KeySets = nil, []policy.KeySet{staticSet(t, "")}
		},
	} {
		p, err := policy.NewJWT(base(mod))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		p.Close()
	}
	// Without the profile, the same switches are accepted.
	if _, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, DisableVerifyExp: true, TokenType: "JWT", Logger: discard}); err != nil {
		t.Errorf("without the profile: %v", err)
	}
	// A cookie policy verifies its own session tokens, not access tokens.
	_, err := policy.NewCookie(policy.CookieConfig{Config: base(func(*policy.Config) {})})
	var ce *policy.ConfigError
	if !errors.As(err, &ce) || ce.Key != "profile" {
		t.Errorf("NewCookie with the profile: %v; want a ConfigError of profile", err)
	}
}

// TestRFC9068NewToken: with the profile, the policy's own tokens carry
// typ at+jwt and a jti, read back with go-jose; given a client_id, they
// verify.
func TestRFC9068NewToken(t *testing.T) {
	p := newRFC9068Policy(t, func(c *policy.Config) { c.Issuer = "https://as.example.com" })
	tok, err := p.NewToken("alice", map[string]any{"client_id": "c1"})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := parsed.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
		t.Errorf("typ %v; want at+jwt", typ)
	}
	claims := verifyWithJose(t, tok, jose.HS256, testSecret)
	if jti, _ := claims["jti"].(string); jti == "" {
		t.Errorf("no jti in %v", claims)
	}
	if u, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); err != nil || u != "alice" {
		t.Errorf("the policy's own token: %q, %v", u, err)
	}
}

// staticSet is a static key set of one RSA public key for issuer ("" for
// any issuer).
func staticSet(t *testing.T, issuer string) policy.KeySet {
	t.Helper()
	s, err := policy.NewStaticKeySet(issuer, policy.Key{Algorithm: "RS256", Material: &rsaKeyOnce().PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
