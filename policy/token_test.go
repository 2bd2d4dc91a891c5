package policy_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

func TestNewToken(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*policy.Config)
		extra map[string]any
		want  map[string]any // claims as go-jose decodes them; absent means must be absent
	}{
		{
			name: "defaults",
			want: map[string]any{"sub": "fred", "iat": float64(tnow), "exp": float64(tnow + 3600)},
		},
		{
			name: "expiration, one audience, issuer, extra",
			mod: func(c *policy.Config) {
				c.Expiration = 30 * time.Minute
				c.Audience = []string{"https://api.example"}
				c.Issuer = "https://issuer.example"
			},
			extra: map[string]any{"role": "admin", "n": 3},
			want: map[string]any{
				"sub": "fred", "iat": float64(tnow), "exp": float64(tnow + 1800),
				"aud": "https://api.example", "iss": "https://issuer.example", "role": "admin", "n": float64(3),
			},
		},
		{
			name: "several audiences",
			mod:  func(c *policy.Config) { c.Audience = []string{"a", "b"} },
			want: map[string]any{"sub": "fred", "iat": float64(tnow), "exp": float64(tnow + 3600), "aud": []any{"a", "b"}},
		},
		{
			name: "negative expiration: no exp",
			mod:  func(c *policy.Config) { c.Expiration = policy.NoExpiration },
			want: map[string]any{"sub": "fred", "iat": float64(tnow)},
		},
		{
			name:  "extra replaces exp and adds iss",
			extra: map[string]any{"exp": tnow + 10, "iss": "other"},
			want:  map[string]any{"sub": "fred", "iat": float64(tnow), "exp": float64(tnow + 10), "iss": "other"},
		},
		{
			name:  "custom userid claim",
			mod:   func(c *policy.Config) { c.UserIDClaim = "email" },
			extra: map[string]any{"sub": "subject"},
			want:  map[string]any{"email": "fred", "sub": "subject", "iat": float64(tnow), "exp": float64(tnow + 3600)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(t, tt.mod)
			tok, err := p.NewToken("fred", tt.extra)
			if err != nil {
				t.Fatalf("NewToken: %v", err)
			}
			got := verifyWithJose(t, tok, jose.HS256, testSecret)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("claims = %#v\nwant %#v", got, tt.want)
			}
			// The policy accepts what it made.
			if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); err != nil || uid != "fred" {
				t.Errorf("AuthenticatedUserID(own token) = %q, %v", uid, err)
			}
		})
	}
}

func TestNewTokenRefusesUserIDInExtra(t *testing.T) {
	tests := []struct {
		name  string
		claim string
		extra map[string]any
	}{
		{"sub", "", map[string]any{"sub": "admin"}},
		{"sub set to the same userid", "", map[string]any{"sub": "fred"}},
		{"custom claim", "email", map[string]any{"email": "admin@example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(t, func(c *policy.Config) { c.UserIDClaim = tt.claim })
			if tok, err := p.NewToken("fred", tt.extra); err == nil {
				t.Errorf("NewToken = %q, want an error", tok)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	p := newPolicy(t, nil)
	t.Run("header", func(t *testing.T) {
		tok, err := p.Encode(map[string]any{"sub": "x"})
		if err != nil {
			t.Fatal(err)
		}
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			t.Fatal(err)
		}
		h := jws.Signatures[0].Header
		if h.Algorithm != "HS256" || h.ExtraHeaders["typ"] != "JWT" {
			t.Errorf("header = %+v", h)
		}
		if got := verifyWithJose(t, tok, jose.HS256, testSecret); got["sub"] != "x" {
			t.Errorf("claims = %v", got)
		}
	})
	t.Run("struct claims", func(t *testing.T) {
		tok, err := p.Encode(struct {
			Sub string `json:"sub"`
		}{"s"})
		if err != nil {
			t.Fatal(err)
		}
		if got := verifyWithJose(t, tok, jose.HS256, testSecret); got["sub"] != "s" {
			t.Errorf("claims = %v", got)
		}
	})
	for name, claims := range map[string]any{"string": "x", "array": []int{1}, "nil": nil, "number": 3, "unencodable": map[string]any{"f": func() {}}} {
		t.Run("not an object: "+name, func(t *testing.T) {
			if tok, err := p.Encode(claims); err == nil {
				t.Errorf("Encode = %q, want an error", tok)
			}
		})
	}
}

func TestNoSigningKey(t *testing.T) {
	tests := []struct {
		name string
		cfg  policy.Config
	}{
		{"RSA public key only", policy.Config{Algorithm: "RS256", PublicKey: &rsaKeyOnce().PublicKey}},
		{"EdDSA public key only", policy.Config{Algorithm: "EdDSA", PublicKey: ed25519Once().Public()}},
		{"signatures off, no secret", policy.Config{DisableVerifySignature: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Logger = discard
			p, err := policy.NewJWT(cfg)
			if err != nil {
				t.Fatalf("NewJWT: %v", err)
			}
			if _, err := p.Encode(map[string]any{"sub": "x"}); !errors.Is(err, policy.ErrNoSigningKey) {
				t.Errorf("Encode err = %v, want ErrNoSigningKey", err)
			}
			if _, err := p.NewToken("x", nil); !errors.Is(err, policy.ErrNoSigningKey) {
				t.Errorf("NewToken err = %v, want ErrNoSigningKey", err)
			}
		})
	}
}

func TestSetAuthorization(t *testing.T) {
	for _, scheme := range []string{"JWT", "Bearer"} {
		t.Run(scheme, func(t *testing.T) {
			p := newPolicy(t, func(c *policy.Config) { c.Schemes = schemes(scheme) })
			tok := mintHS(t, validClaims("fred"))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			policy.SetAuthorization(r, scheme, tok)
			if got, want := r.Header.Get("Authorization"), scheme+" token="+tok; got != want {
				t.Errorf("Authorization = %q, want %q", got, want)
			}
			if uid, err := p.AuthenticatedUserID(r); err != nil || uid != "fred" {
				t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
			}
		})
	}
	t.Run("replaces an existing header", func(t *testing.T) {
		r := newRequest("Basic dTpw")
		policy.SetAuthorization(r, "JWT", "a.b.c")
		if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != "JWT token=a.b.c" {
			t.Errorf("Authorization = %q", got)
		}
	})
}

func TestUnverifiedClaims(t *testing.T) {
	p := newPolicy(t, nil)
	c := validClaims("u")
	c["exp"] = tnow - 1
	bad := mint(t, jose.HS256, []byte("wrong-secret-wrong-secret-wrong-secret!!"), c)
	got, ok := p.UnverifiedClaims(newRequest(jwtAuth(bad)))
	if sub, _ := got.String("sub"); !ok || sub != "u" {
		t.Errorf("UnverifiedClaims = %v, %v", got, ok)
	}
	for name, authz := range map[string][]string{"none": nil, "other scheme": {"Basic x"}, "garbage": {"JWT a.b.c"}, "two headers": {jwtAuth(bad), jwtAuth(bad)}} {
		t.Run(name, func(t *testing.T) {
			if got, ok := p.UnverifiedClaims(newRequest(authz...)); ok {
				t.Errorf("UnverifiedClaims = %v, true", got)
			}
		})
	}
}
