package settings_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// TestRevocationSettings: jwtauth.revocation = memory gives every token
// policy of a stack one shared store (a token the cookie policy's Forget
// revokes is revoked for the header policy too, and the tokens carry a
// jti), and revocation_failure is read.
func TestRevocationSettings(t *testing.T) {
	p, err := settings.NewPolicy(cookieStack("jwtauth.revocation", "memory"), nil, quiet)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	defer p.Close()
	r := httptest.NewRequest("POST", "/login", nil)
	c := p.Remember(r, "alice").Get("Set-Cookie")
	tok := strings.TrimPrefix(strings.SplitN(c, ";", 2)[0], "jwt=")
	parsed, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(parsed.UnsafePayloadWithoutVerification()), `"jti":`) {
		t.Error("the remembered token has no jti")
	}
	// Sign out through the cookie, with a token go-jose made...
	tok = testkit.Mint(t, jose.HS256, []byte(secret), map[string]any{"sub": "alice", "jti": "shared-jti", "iat": 1, "exp": 4_000_000_000})
	out := httptest.NewRequest("POST", "/logout", nil)
	out.Header.Set("Cookie", "jwt="+tok)
	p.Forget(out)
	// ...and the same token is refused as a header too.
	h := httptest.NewRequest("GET", "/", nil)
	h.Header.Set("Authorization", "JWT "+tok)
	if _, err := p.AuthenticatedUserID(h); !errors.Is(err, policy.ErrTokenRevoked) {
		t.Errorf("the signed-out token, as a header: %v; want ErrTokenRevoked", err)
	}
	// Sign out everywhere, through the stack.
	tok2 := testkit.Mint(t, jose.HS256, []byte(secret), map[string]any{"sub": "bob", "iat": 1, "exp": 4_000_000_000})
	if err := policy.RevokeUser(context.Background(), p, "bob"); err != nil {
		t.Fatal(err)
	}
	h.Header.Set("Authorization", "JWT "+tok2)
	if _, err := p.AuthenticatedUserID(h); !errors.Is(err, policy.ErrTokenRevoked) {
		t.Errorf("bob's token after RevokeUser: %v; want ErrTokenRevoked", err)
	}

	for _, tt := range []struct {
		k, v, says string
	}{
		{"jwtauth.revocation", "memcache", "neither memory nor a redis://"},
		{"jwtauth.revocation", "http://127.0.0.1:6379", "neither memory nor a redis://"},
		{"jwtauth.revocation", "redis://:s3cret-password@127.0.0.1:6379/x", "is not a number"},
		{"jwtauth.revocation", "redis://:s3cret-password@/0", "names no host"},
		{"jwtauth.revocation_failure", "maybe", "is not closed"},
		{"jwtauth.revocation", "redis:user:s3cret-password@127.0.0.1:6379", "needs // before its host"},
		{"jwtauth.revocation", "redis://default:1234#s3cret-password@127.0.0.1:6379/0", "query or a fragment"},
		{"jwtauth.revocation", "redis://default:1234?s3cret-password@127.0.0.1:6379/0", "query or a fragment"},
		{"jwtauth.revocation", "redis://default:s3cret/password@127.0.0.1:6379/0", "redis://"},
		{"multiauth.policy.web.revocation", "memcache", "neither memory"},
	} {
		_, err := settings.NewPolicy(cookieStack(tt.k, tt.v), nil, quiet)
		if err == nil || !strings.Contains(err.Error(), tt.says) || !strings.HasPrefix(err.Error(), tt.k+":") {
			t.Errorf("%s = %s: %v; want an error naming the key that says %q", tt.k, tt.v, err, tt.says)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-password") {
			t.Errorf("%s = %s: the error shows the password: %v", tt.k, tt.v, err)
		}
	}
	open, err := settings.Parse(map[string]string{"jwtauth.revocation": "memory", "jwtauth.revocation_failure": "open"}, nil)
	if err != nil || !open.Config.RevocationFailOpen {
		t.Errorf("revocation_failure = open: %v, %v", open.Config.RevocationFailOpen, err)
	}
	if _, err := settings.Parse(map[string]string{"jwtauth.revocation_failure": "open"}, nil); err == nil || !strings.HasPrefix(err.Error(), "jwtauth.revocation_failure:") {
		t.Errorf("revocation_failure without revocation: %v; want an error naming it", err)
	}
	same, err := settings.Parse(map[string]string{"jwtauth.revocation": "REDIS://:pw@Cache.Example:6379/2"}, nil)
	if err != nil || same.Revocation != "redis://:pw@cache.example:6379/2" {
		t.Errorf("a URL's spelling: %q, %v; want the scheme and host in lowercase", same.Revocation, err)
	}
}
