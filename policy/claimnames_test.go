package policy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
)

// TestClaimNamesExact: the registered claims are read by their exact
// names. A token whose only userid is "SUB" names no user, "EXP" in the
// past does not expire a token, and "AUD" and "ISS" are not its audience
// and issuer.
func TestClaimNamesExact(t *testing.T) {
	past := testNow.Add(-time.Hour).Unix()
	v, err := policy.NewVerifier(policy.Config{MasterSecret: testSecret, Now: clock, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	tok := v.Verify(ctx, mintHS(t, map[string]any{"SUB": "alice", "iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix()}))
	if !errors.Is(tok.Err, policy.ErrMissingUserID) || tok.HasUserID || tok.UserID != "" {
		t.Errorf(`only "SUB": %q %v %v; want ErrMissingUserID`, tok.UserID, tok.HasUserID, tok.Err)
	}

	tok = v.Verify(ctx, mintHS(t, map[string]any{"sub": "alice", "EXP": past, "NBF": testNow.Add(time.Hour).Unix(), "IAT": testNow.Add(time.Hour).Unix(), "AUD": "api", "ISS": 1}))
	if tok.Err != nil || tok.UserID != "alice" {
		t.Errorf(`"EXP" in the past, "NBF" and "IAT" ahead, "AUD" without an audience, "ISS" a number: %q %v; want alice verified`, tok.UserID, tok.Err)
	}

	// With an audience and an issuer configured, "AUD" and "ISS" are
	// not theirs.
	v2, err := policy.NewVerifier(policy.Config{MasterSecret: testSecret, Now: clock, Logger: discard, Audience: []string{"api"}, Issuer: "https://issuer.example"})
	if err != nil {
		t.Fatal(err)
	}
	claims := validClaims("alice")
	claims["AUD"], claims["iss"] = "api", "https://issuer.example"
	if tok := v2.Verify(ctx, mintHS(t, claims)); !errors.Is(tok.Err, policy.ErrInvalidAudience) {
		t.Errorf(`"AUD" alone: %v; want ErrInvalidAudience`, tok.Err)
	}
	claims = validClaims("alice")
	claims["aud"], claims["ISS"] = "api", "https://issuer.example"
	if tok := v2.Verify(ctx, mintHS(t, claims)); !errors.Is(tok.Err, policy.ErrInvalidIssuer) {
		t.Errorf(`"ISS" alone: %v; want ErrInvalidIssuer`, tok.Err)
	}
}
