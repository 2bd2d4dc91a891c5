package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// This file ports pyramid_jwtauth's test suite: a small application with a
// public view, a view that needs an authenticated user and a view that
// reports the effective principals, with a group finder that rejects every
// userid containing "bad".

// finderCounter is the group finder of the original tests, counting calls.
type finderCounter struct{ calls atomic.Int32 }

func (f *finderCounter) find(userid string, _ *http.Request, _ policy.Claims) ([]string, bool) {
	f.calls.Add(1)
	switch {
	case strings.Contains(userid, "bad"):
		return nil, false
	case userid == "test":
		return []string{"group"}, true
	}
	return nil, true
}

// testApp is the original test application over a policy.
func testApp(p *policy.JWT) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/public", func(w http.ResponseWriter, r *http.Request) {
		uid, ok := p.UnauthenticatedUserID(r)
		if !ok {
			uid = "None"
		}
		io.WriteString(w, uid)
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		uid, err := p.AuthenticatedUserID(r)
		switch {
		case errors.Is(err, policy.ErrUserRejected):
			http.Error(w, "forbidden", http.StatusForbidden)
		case err != nil:
			p.Challenge(w, r)
		default:
			io.WriteString(w, uid)
		}
	})
	mux.HandleFunc("/groups", func(w http.ResponseWriter, r *http.Request) {
		principals, err := p.EffectivePrincipals(r)
		if err != nil {
			p.Challenge(w, r)
			return
		}
		json.NewEncoder(w).Encode(principals)
	})
	return mux
}

// appPolicy builds the original suite's policy: HS256, the counting group
// finder, then mod.
func appPolicy(t *testing.T, mod func(*policy.Config)) (*policy.JWT, *finderCounter) {
	t.Helper()
	f := &finderCounter{}
	p := newPolicy(t, func(c *policy.Config) {
		c.GroupFinder = f.find
		if mod != nil {
			mod(c)
		}
	})
	return p, f
}

// do serves one request to h with the Authorization header authz (none when
// empty) and returns the recorded response.
func do(h http.Handler, path, authz string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestUnauthenticatedRequestsGetAChallenge(t *testing.T) {
	p, _ := appPolicy(t, nil)
	app := testApp(p)
	w := do(app, "/auth", "")
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", w.Code)
	}
	got := w.Header().Get("WWW-Authenticate")
	if !strings.HasPrefix(got, "JWT") {
		t.Errorf("WWW-Authenticate = %q, want it to start with JWT", got)
	}
	if strings.Contains(got, "error=") {
		t.Errorf("WWW-Authenticate = %q has an error attribute for a request without credentials", got)
	}
	if w := do(app, "/public", ""); w.Code != http.StatusOK || w.Body.String() != "None" {
		t.Errorf("/public = %d %q, want 200 None", w.Code, w.Body.String())
	}
}

func TestAuthenticatedRequestWorks(t *testing.T) {
	tok := mintHS(t, validClaims("test@moz.com"))
	tests := []struct {
		name   string
		scheme string
		authz  string
	}{
		{"token param unquoted", "", "JWT token=" + tok},
		{"token param quoted", "", `JWT token="` + tok + `"`},
		{"bare token", "", "JWT " + tok},
		{"lower-case scheme", "", "jwt token=" + tok},
		{"bearer scheme", "Bearer", "Bearer " + tok},
		{"bearer scheme case-insensitive", "Bearer", "bearer " + tok},
		{"bearer scheme with token param", "Bearer", "Bearer token=" + tok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := appPolicy(t, func(c *policy.Config) { c.Schemes = schemes(tt.scheme) })
			app := testApp(p)
			for _, path := range []string{"/auth", "/public"} {
				w := do(app, path, tt.authz)
				if w.Code != http.StatusOK || w.Body.String() != "test@moz.com" {
					t.Errorf("%s = %d %q, want 200 test@moz.com", path, w.Code, w.Body.String())
				}
			}
		})
	}
}

func TestBearerPolicyIgnoresJWTScheme(t *testing.T) {
	tok := mintHS(t, validClaims("test@moz.com"))
	p, _ := appPolicy(t, func(c *policy.Config) { c.Schemes = []string{"Bearer"} })
	app := testApp(p)
	if w := do(app, "/auth", "JWT token="+tok); w.Code != http.StatusUnauthorized {
		t.Errorf("/auth with JWT scheme on a Bearer policy = %d, want 401", w.Code)
	}
	w := do(app, "/auth", "")
	if got := w.Header().Get("WWW-Authenticate"); got != "Bearer" {
		t.Errorf("challenge = %q, want Bearer", got)
	}
}

func TestAuthenticateOnlyAcceptsItsScheme(t *testing.T) {
	p, _ := appPolicy(t, nil)
	app := testApp(p)
	w := do(app, "/auth", "OpenID hello=world")
	if w.Code != http.StatusUnauthorized {
		t.Errorf("/auth = %d, want 401", w.Code)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != "JWT" {
		t.Errorf("WWW-Authenticate = %q, want JWT (another scheme is no credentials)", got)
	}
	if w := do(app, "/public", "OpenID hello=world"); w.Code != http.StatusOK || w.Body.String() != "None" {
		t.Errorf("/public = %d %q, want 200 None", w.Code, w.Body.String())
	}
	_, err := p.AuthenticatedUserID(newRequest("OpenID hello=world"))
	if !errors.Is(err, policy.ErrNoCredentials) {
		t.Errorf("err = %v, want ErrNoCredentials", err)
	}
}

func TestExpiredTokenIsRejected(t *testing.T) {
	claims := validClaims("test@moz.com")
	claims["exp"] = testNow.Add(-time.Minute).Unix()
	tok := mintHS(t, claims)
	p, _ := appPolicy(t, nil)
	w := do(testApp(p), "/auth", jwtAuth(tok))
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", w.Code)
	}
	if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, `JWT error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q, want error=\"invalid_token\"", got)
	}
	_, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
	if !errors.Is(err, policy.ErrTokenExpired) || !errors.Is(err, policy.ErrInvalidCredentials) {
		t.Errorf("err = %v, want ErrTokenExpired and ErrInvalidCredentials", err)
	}
}

func TestCanGetClaimsFromToken(t *testing.T) {
	const jtiClaim = "urn:websandhq.co.uk/auth:jti"
	claims := validClaims("test@moz.com")
	claims[jtiClaim] = "1234"
	tok := mintHS(t, claims)
	p, _ := appPolicy(t, nil)
	got, err := p.Claims(newRequest(jwtAuth(tok)))
	if err != nil {
		t.Fatalf("Claims: %v", err)
	}
	if v, ok := got.String(jtiClaim); !ok || v != "1234" {
		t.Errorf("claim %s = %v, want 1234", jtiClaim, got[jtiClaim])
	}
	if v, _ := got.String("sub"); v != "test@moz.com" {
		t.Errorf("sub = %q", v)
	}
}

func TestGroupFinderBlocksUser(t *testing.T) {
	p, _ := appPolicy(t, nil)
	app := testApp(p)
	tok := mintHS(t, validClaims("baduser"))
	if w := do(app, "/auth", jwtAuth(tok)); w.Code != http.StatusForbidden {
		t.Errorf("/auth = %d, want 403", w.Code)
	}
	if w := do(app, "/public", jwtAuth(tok)); w.Code != http.StatusOK || w.Body.String() != "baduser" {
		t.Errorf("/public = %d %q, want 200 baduser", w.Code, w.Body.String())
	}
	_, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
	if !errors.Is(err, policy.ErrUserRejected) {
		t.Errorf("err = %v, want ErrUserRejected", err)
	}
}

func TestGroupsAreReported(t *testing.T) {
	p, _ := appPolicy(t, nil)
	app := testApp(p)
	tests := []struct {
		name   string
		userid string // "" for no token
		want   []string
	}{
		{"anonymous", "", []string{policy.Everyone}},
		{"gooduser", "gooduser", []string{"gooduser", policy.Everyone, policy.Authenticated}},
		{"test", "test", []string{"test", policy.Everyone, policy.Authenticated, "group"}},
		{"baduser", "baduser", []string{policy.Everyone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authz := ""
			if tt.userid != "" {
				authz = jwtAuth(mintHS(t, validClaims(tt.userid)))
			}
			w := do(app, "/groups", authz)
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			var got []string
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("principals = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBrokenSignature(t *testing.T) {
	tok := mintHS(t, validClaims("test@moz.com"))
	parts := strings.Split(tok, ".")
	broken := parts[0] + "." + parts[1] + ".XXX" + parts[2]
	p, _ := appPolicy(t, nil)
	app := testApp(p)
	if w := do(app, "/public", jwtAuth(broken)); w.Code != http.StatusOK || w.Body.String() != "test@moz.com" {
		t.Errorf("/public = %d %q, want 200 test@moz.com (the claimed userid)", w.Code, w.Body.String())
	}
	w := do(app, "/auth", jwtAuth(broken))
	if w.Code != http.StatusUnauthorized {
		t.Errorf("/auth = %d, want 401", w.Code)
	}
	if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q, want error=\"invalid_token\"", got)
	}
	if w := do(app, "/groups", jwtAuth(broken)); w.Code != http.StatusUnauthorized {
		t.Errorf("/groups = %d, want 401", w.Code)
	}
	_, err := p.AuthenticatedUserID(newRequest(jwtAuth(broken)))
	if !errors.Is(err, policy.ErrInvalidSignature) {
		t.Errorf("err = %v, want ErrInvalidSignature", err)
	}
}

// countingClock counts verifications: the policy reads the clock once per
// token it checks.
type countingClock struct{ n atomic.Int32 }

func (c *countingClock) now() time.Time { c.n.Add(1); return testNow }

func TestCheckingTwiceVerifiesOnce(t *testing.T) {
	tok := mintHS(t, validClaims("test"))
	type ctxKey struct{}

	t.Run("middleware and WithContext copies", func(t *testing.T) {
		clk := &countingClock{}
		p, f := appPolicy(t, func(c *policy.Config) { c.Now = clk.now })
		var principals []string
		h := p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := p.AuthenticatedUserID(r); err != nil {
				t.Errorf("AuthenticatedUserID: %v", err)
			}
			r2 := r.WithContext(context.WithValue(r.Context(), ctxKey{}, 1))
			if uid, err := p.AuthenticatedUserID(r2); err != nil || uid != "test" {
				t.Errorf("AuthenticatedUserID(copy) = %q, %v", uid, err)
			}
			principals, _ = p.EffectivePrincipals(r2)
			p.UnauthenticatedUserID(r2)
			p.Claims(r2)
		}))
		h.ServeHTTP(httptest.NewRecorder(), newRequest(jwtAuth(tok)))
		if got := f.calls.Load(); got != 1 {
			t.Errorf("group finder calls = %d, want 1", got)
		}
		if got := clk.n.Load(); got != 1 {
			t.Errorf("token verified %d times, want 1", got)
		}
		if want := []string{"test", policy.Everyone, policy.Authenticated, "group"}; !slices.Equal(principals, want) {
			t.Errorf("principals = %q, want %q", principals, want)
		}
	})

	t.Run("a request given its place by WithIdentity", func(t *testing.T) {
		clk := &countingClock{}
		p, f := appPolicy(t, func(c *policy.Config) { c.Now = clk.now })
		r := policy.WithIdentity(newRequest(jwtAuth(tok)), p)
		for range 3 {
			if uid, err := p.AuthenticatedUserID(r); err != nil || uid != "test" {
				t.Fatalf("AuthenticatedUserID = %q, %v", uid, err)
			}
			p.EffectivePrincipals(r)
			p.UnauthenticatedUserID(r)
		}
		if got := f.calls.Load(); got != 1 {
			t.Errorf("group finder calls = %d, want 1", got)
		}
		if got := clk.n.Load(); got != 1 {
			t.Errorf("token verified %d times, want 1", got)
		}
	})

	t.Run("invalid token logged once", func(t *testing.T) {
		logger, buf := bufLogger()
		p, f := appPolicy(t, func(c *policy.Config) { c.Logger = logger })
		r := policy.WithIdentity(newRequest(jwtAuth(tok+"x")), p)
		for range 3 {
			p.AuthenticatedUserID(r)
			p.EffectivePrincipals(r)
		}
		if got := strings.Count(buf.String(), "invalid credentials"); got != 1 {
			t.Errorf("failure logged %d times, want 1:\n%s", got, buf.String())
		}
		if got := f.calls.Load(); got != 0 {
			t.Errorf("group finder calls = %d, want 0 for an invalid token", got)
		}
	})

	t.Run("a request whose Authorization changed is verified again", func(t *testing.T) {
		p, _ := appPolicy(t, nil)
		r := newRequest(jwtAuth(tok))
		if uid, err := p.AuthenticatedUserID(r); err != nil || uid != "test" {
			t.Fatalf("first: %q, %v", uid, err)
		}
		r.Header.Set("Authorization", jwtAuth(mintHS(t, validClaims("gooduser"))))
		if uid, err := p.AuthenticatedUserID(r); err != nil || uid != "gooduser" {
			t.Fatalf("after the header changed: %q, %v; want gooduser", uid, err)
		}
		r.Header.Del("Authorization")
		if _, err := p.AuthenticatedUserID(r); !errors.Is(err, policy.ErrNoCredentials) {
			t.Fatalf("after the header went: %v; want ErrNoCredentials", err)
		}
	})

	t.Run("distinct requests verify separately", func(t *testing.T) {
		clk := &countingClock{}
		// Without the verified-token cache, which would answer the
		// second request from memory (and reads the clock to do so).
		p, f := appPolicy(t, func(c *policy.Config) { c.Now = clk.now; c.CacheSize = policy.NoCache })
		p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
		p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
		if f.calls.Load() != 2 || clk.n.Load() != 2 {
			t.Errorf("finder calls = %d, verifications = %d, want 2 and 2", f.calls.Load(), clk.n.Load())
		}
	})
}

func TestRSAKeys(t *testing.T) {
	priv := rsaKeyOnce()
	pub := &priv.PublicKey
	tests := []struct {
		name string
		cfg  policy.Config
	}{
		{"private key alone", policy.Config{Algorithm: "RS256", PrivateKey: priv}},
		{"public and private key", policy.Config{Algorithm: "RS256", PrivateKey: priv, PublicKey: pub}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Now, cfg.Logger = clock, discard
			p, err := policy.NewJWT(cfg)
			if err != nil {
				t.Fatalf("NewJWT: %v", err)
			}
			tok := mint(t, jose.RS256, priv, validClaims("rsauser"))
			if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); err != nil || uid != "rsauser" {
				t.Errorf("go-jose token: AuthenticatedUserID = %q, %v", uid, err)
			}
			enc, err := p.Encode(validClaims("encoded"))
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got := verifyWithJose(t, enc, jose.RS256, pub)
			if got["sub"] != "encoded" {
				t.Errorf("Encode output sub = %v", got["sub"])
			}
			other := mint(t, jose.RS256, rsaKey2Once(), validClaims("rsauser"))
			if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(other))); !errors.Is(err, policy.ErrInvalidSignature) {
				t.Errorf("token of another RSA key: err = %v, want ErrInvalidSignature", err)
			}
		})
	}

	t.Run("public key only verifies", func(t *testing.T) {
		p, err := policy.NewJWT(policy.Config{Algorithm: "RS256", PublicKey: pub, Now: clock, Logger: discard})
		if err != nil {
			t.Fatalf("NewJWT: %v", err)
		}
		tok := mint(t, jose.RS256, priv, validClaims("rsauser"))
		if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); err != nil || uid != "rsauser" {
			t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
		}
	})
}

func TestAudience(t *testing.T) {
	withAud := func(aud any) string {
		c := validClaims("u")
		if aud != nil {
			c["aud"] = aud
		}
		return mintHS(t, c)
	}
	tests := []struct {
		name    string
		mod     func(*policy.Config)
		aud     any
		wantErr error
	}{
		{"aud with no audience configured", nil, "http://other", policy.ErrInvalidAudience},
		{"aud array with no audience configured", nil, []string{"a"}, policy.ErrInvalidAudience},
		{"aud with DisableVerifyAud", func(c *policy.Config) { c.DisableVerifyAud = true }, "http://other", nil},
		{"no aud, none configured", nil, nil, nil},
		{"configured, first matches", func(c *policy.Config) { c.Audience = []string{"a", "b"} }, "a", nil},
		{"configured, second matches", func(c *policy.Config) { c.Audience = []string{"a", "b"} }, "b", nil},
		{"configured, array contains one", func(c *policy.Config) { c.Audience = []string{"a", "b"} }, []string{"x", "b"}, nil},
		{"configured, no match", func(c *policy.Config) { c.Audience = []string{"a", "b"} }, "c", policy.ErrInvalidAudience},
		{"configured, array no match", func(c *policy.Config) { c.Audience = []string{"a", "b"} }, []string{"x", "y"}, policy.ErrInvalidAudience},
		{"configured, token has none", func(c *policy.Config) { c.Audience = []string{"a"} }, nil, policy.ErrInvalidAudience},
		{"configured, prefix is no match", func(c *policy.Config) { c.Audience = []string{"abc"} }, "ab", policy.ErrInvalidAudience},
		{"aud not a string", func(c *policy.Config) { c.Audience = []string{"a"} }, 7, policy.ErrMalformedClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(t, tt.mod)
			uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(withAud(tt.aud))))
			if tt.wantErr == nil {
				if err != nil || uid != "u" {
					t.Errorf("AuthenticatedUserID = %q, %v; want u", uid, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestIssuer(t *testing.T) {
	tests := []struct {
		name    string
		iss     any
		wantErr bool
	}{
		{"matching", "https://issuer.example", false},
		{"other", "https://evil.example", true},
		{"missing", nil, true},
		{"not a string", 1, true},
	}
	p := newPolicy(t, func(c *policy.Config) { c.Issuer = "https://issuer.example" })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClaims("u")
			if tt.iss != nil {
				c["iss"] = tt.iss
			}
			_, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintHS(t, c))))
			if tt.wantErr != errors.Is(err, policy.ErrInvalidIssuer) || tt.wantErr != (err != nil) {
				t.Errorf("err = %v, want invalid issuer: %v", err, tt.wantErr)
			}
		})
	}
	t.Run("no issuer configured accepts any", func(t *testing.T) {
		c := validClaims("u")
		c["iss"] = "whoever"
		if _, err := newPolicy(t, nil).AuthenticatedUserID(newRequest(jwtAuth(mintHS(t, c)))); err != nil {
			t.Errorf("err = %v", err)
		}
	})
}

func TestRememberAndForget(t *testing.T) {
	for _, scheme := range []string{"JWT", "Bearer"} {
		t.Run(scheme, func(t *testing.T) {
			p := newPolicy(t, func(c *policy.Config) { c.Schemes = schemes(scheme) })
			r := newRequest()
			if h := p.Remember(r, "fred"); len(h) != 0 {
				t.Errorf("Remember = %v, want no headers", h)
			}
			h := p.Forget(r)
			if len(h) != 1 || len(h.Values("WWW-Authenticate")) != 1 || h.Get("WWW-Authenticate") != scheme {
				t.Errorf("Forget = %v, want exactly WWW-Authenticate: %s", h, scheme)
			}
		})
	}
}

func TestDefaultGroupFinderAcceptsWithNoGroups(t *testing.T) {
	p := newPolicy(t, nil)
	r := newRequest(jwtAuth(mintHS(t, validClaims("fred"))))
	if uid, err := p.AuthenticatedUserID(r); err != nil || uid != "fred" {
		t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
	}
	got, err := p.EffectivePrincipals(r)
	if want := []string{"fred", policy.Everyone, policy.Authenticated}; err != nil || !slices.Equal(got, want) {
		t.Errorf("EffectivePrincipals = %q, %v; want %q", got, err, want)
	}
	if groups, ok := policy.AcceptAll("x", r, nil); !ok || len(groups) != 0 {
		t.Errorf("AcceptAll = %v, %v", groups, ok)
	}
}
