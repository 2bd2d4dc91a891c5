package policy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// TestVerifier: the verifier on its own, a raw token in and a
// VerifiedToken out, without any transport: the typed reasons, the claimed
// userid of a token that fails, the claims of one that verifies, and the
// cache (Known) answering a token verified twice, until its exp.
func TestVerifier(t *testing.T) {
	now := testNow
	v, err := policy.NewVerifier(policy.Config{MasterSecret: testSecret, Logger: discard, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	claims := validClaims("alice")
	claims["role"] = "editor"
	good := mintHS(t, claims)
	expiredClaims := validClaims("bob")
	expiredClaims["exp"] = testNow.Add(-time.Minute).Unix()
	for _, tt := range []struct {
		name      string
		raw       string
		reason    error
		userid    string
		hasUserID bool
	}{
		{"good", good, nil, "alice", true},
		{"expired", mintHS(t, expiredClaims), policy.ErrTokenExpired, "bob", true},
		{"another key's", mint(t, jose.HS256, []byte(strings.Repeat("k", 32)), validClaims("mallory")), policy.ErrInvalidSignature, "mallory", true},
		{"not a JWS", "not.a.token", policy.ErrMalformedToken, "", false},
		{"too long", strings.Repeat("a", policy.DefaultMaxTokenBytes+1), policy.ErrTokenTooLarge, "", false},
		{"no userid", mintHS(t, map[string]any{"exp": testNow.Add(time.Hour).Unix()}), policy.ErrMissingUserID, "", false},
	} {
		got := v.Verify(ctx, tt.raw)
		if got.UserID != tt.userid || got.HasUserID != tt.hasUserID {
			t.Errorf("%s: userid %q, %v; want %q, %v", tt.name, got.UserID, got.HasUserID, tt.userid, tt.hasUserID)
		}
		if tt.reason == nil {
			if got.Err != nil || got.Claims()["role"] != "editor" {
				t.Errorf("%s: %v, claims %v", tt.name, got.Err, got.Claims())
			}
			continue
		}
		var ite *policy.InvalidTokenError
		if !errors.As(got.Err, &ite) || !errors.Is(got.Err, policy.ErrInvalidCredentials) || ite.Reason != tt.reason {
			t.Errorf("%s: %v; want the reason %v", tt.name, got.Err, tt.reason)
		}
		if got.Claims() != nil {
			t.Errorf("%s: claims %v handed out for a token that failed", tt.name, got.Claims())
		}
	}

	fresh := mintHS(t, validClaims("carol"))
	if _, ok := v.Known(context.Background(), fresh); ok {
		t.Fatal("Known answered a token never verified")
	}
	for range 2 { // cached from its second verification
		if got := v.Verify(ctx, fresh); got.Err != nil {
			t.Fatal(got.Err)
		}
	}
	if got, ok := v.Known(context.Background(), fresh); !ok || got.UserID != "carol" || got.Err != nil || got.Claims()["sub"] != "carol" {
		t.Errorf("Known = %+v, %v; want carol", got, ok)
	}
	now = testNow.Add(2 * time.Hour) // past its exp
	if _, ok := v.Known(context.Background(), fresh); ok {
		t.Error("Known answered a token past its exp")
	}
	if got := v.Verify(ctx, fresh); !errors.Is(got.Err, policy.ErrTokenExpired) {
		t.Errorf("Verify past exp: %v", got.Err)
	}
}

// TestNewVerifierErrors: the verifier's configuration errors name the
// setting, as the policy's do.
func TestNewVerifierErrors(t *testing.T) {
	for key, cfg := range map[string]policy.Config{
		"master_secret":   {Logger: discard},
		"algorithm":       {Algorithm: "none", MasterSecret: testSecret, Logger: discard},
		"max_token_bytes": {MasterSecret: testSecret, MaxTokenBytes: -1, Logger: discard},
	} {
		_, err := policy.NewVerifier(cfg)
		var ce *policy.ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("NewVerifier: %v; want a ConfigError for %s", err, key)
		}
	}
}

// TestCanSign: a verifier with a master secret or a private key can sign;
// one with only a public key cannot, and Encode says so.
func TestCanSign(t *testing.T) {
	for name, tt := range map[string]struct {
		cfg  policy.Config
		want bool
	}{
		"master secret": {policy.Config{MasterSecret: testSecret}, true},
		"private key":   {policy.Config{Algorithm: "ES256", PrivateKey: p256Once()}, true},
		"public key":    {policy.Config{Algorithm: "ES256", PublicKey: p256Once().Public()}, false},
	} {
		tt.cfg.Logger = discard
		p, err := policy.NewJWT(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, encErr := p.Encode(map[string]any{"sub": "x"})
		if p.CanSign() != tt.want || p.Verifier().CanSign() != tt.want || (encErr == nil) != tt.want {
			t.Errorf("%s: CanSign %v, Encode %v; want %v", name, p.CanSign(), encErr, tt.want)
		}
		if !tt.want && !errors.Is(encErr, policy.ErrNoSigningKey) {
			t.Errorf("%s: Encode %v; want ErrNoSigningKey", name, encErr)
		}
	}
}
