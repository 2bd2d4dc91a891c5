package policy_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// configSecret is a distinctive secret that no error or log may repeat.
var configSecret = []byte("S3CRET-do-not-print-me-S3CRET-do-not-print-me-S3CRET-do-not-prnt")

func TestConfigErrors(t *testing.T) {
	rsa2048, rsa1024 := rsaKeyOnce(), rsa1024Once()
	p256, p384 := p256Once(), p384Once()
	ed := ed25519Once()
	tests := []struct {
		name    string
		cfg     policy.Config
		wantKey string
	}{
		{"unsupported algorithm", policy.Config{Algorithm: "HS999", MasterSecret: configSecret}, "algorithm"},
		{"alg none", policy.Config{Algorithm: "none", MasterSecret: configSecret}, "algorithm"},
		{"algorithm is case-sensitive", policy.Config{Algorithm: "hs256", MasterSecret: configSecret}, "algorithm"},
		{"none in the allow-list", policy.Config{Algorithms: []string{"HS256", "none"}, MasterSecret: configSecret}, "algorithms"},
		{"HMAC with a public key", policy.Config{Algorithm: "HS256", MasterSecret: configSecret, PublicKey: &rsa2048.PublicKey}, "algorithm"},
		{"HMAC with only a public key", policy.Config{Algorithm: "HS256", PublicKey: &rsa2048.PublicKey}, "algorithm"},
		{"HMAC with a private key", policy.Config{Algorithm: "HS256", MasterSecret: configSecret, PrivateKey: rsa2048}, "algorithm"},
		{"missing master_secret", policy.Config{}, "master_secret"},
		{"HS256 secret of 31 bytes", policy.Config{Algorithm: "HS256", MasterSecret: configSecret[:31]}, "master_secret"},
		{"HS384 secret of 47 bytes", policy.Config{Algorithm: "HS384", MasterSecret: configSecret[:47]}, "master_secret"},
		{"HS512 secret of 63 bytes", policy.Config{Algorithm: "HS512", MasterSecret: configSecret[:63]}, "master_secret"},
		{"allow-list HS512 with a 32-byte secret", policy.Config{Algorithm: "HS256", Algorithms: []string{"HS256", "HS512"}, MasterSecret: configSecret[:32]}, "master_secret"},
		{"HMAC and RSA in one allow-list", policy.Config{Algorithm: "HS256", Algorithms: []string{"HS256", "RS256"}, MasterSecret: configSecret}, "algorithms"},
		{"RSA 1024-bit private key", policy.Config{Algorithm: "RS256", PrivateKey: rsa1024}, "private_key"},
		{"RSA 1024-bit public key", policy.Config{Algorithm: "PS256", PublicKey: &rsa1024.PublicKey}, "public_key"},
		{"ES256 with a P-384 public key", policy.Config{Algorithm: "ES256", PublicKey: &p384.PublicKey}, "public_key"},
		{"ES384 with a P-256 private key", policy.Config{Algorithm: "ES384", PrivateKey: p256}, "private_key"},
		{"ES512 with a P-384 key", policy.Config{Algorithm: "ES512", PublicKey: &p384.PublicKey}, "public_key"},
		{"allow-list ES256+ES384 on a P-256 key", policy.Config{Algorithm: "ES256", Algorithms: []string{"ES256", "ES384"}, PublicKey: &p256.PublicKey}, "algorithms"},
		{"Ed25519 public key for RS256", policy.Config{Algorithm: "RS256", PublicKey: ed.Public()}, "public_key"},
		{"Ed25519 private key for RS256", policy.Config{Algorithm: "RS256", PrivateKey: ed}, "private_key"},
		{"RSA key for EdDSA", policy.Config{Algorithm: "EdDSA", PublicKey: &rsa2048.PublicKey}, "public_key"},
		{"RSA key for ES256", policy.Config{Algorithm: "ES256", PrivateKey: rsa2048}, "private_key"},
		{"EC key for PS256", policy.Config{Algorithm: "PS256", PublicKey: &p256.PublicKey}, "public_key"},
		{"mismatched public and private key", policy.Config{Algorithm: "RS256", PrivateKey: rsa2048, PublicKey: &rsaKey2Once().PublicKey}, "public_key"},
		{"master_secret with RS256", policy.Config{Algorithm: "RS256", MasterSecret: configSecret, PrivateKey: rsa2048}, "master_secret"},
		{"RS256 with no key", policy.Config{Algorithm: "RS256"}, "public_key"},
		{"public key of an unsupported type", policy.Config{Algorithm: "RS256", PublicKey: "not a key"}, "public_key"},
		{"scheme with a space", policy.Config{MasterSecret: configSecret, Schemes: []string{"JWT Bearer"}}, "scheme"},
		{"scheme with a colon", policy.Config{MasterSecret: configSecret, Schemes: []string{"JWT:"}}, "scheme"},
		{"scheme with a quote", policy.Config{MasterSecret: configSecret, Schemes: []string{`"JWT"`}}, "scheme"},
		{"a scheme named twice", policy.Config{MasterSecret: configSecret, Schemes: []string{"JWT", "jwt"}}, "scheme"},
		{"an empty scheme in the list", policy.Config{MasterSecret: configSecret, Schemes: []string{"JWT", ""}}, "scheme"},
		{"token_type with a parameter", policy.Config{MasterSecret: configSecret, TokenType: "at+jwt; charset=utf-8"}, "token_type"},
		{"token_type of another top-level type", policy.Config{MasterSecret: configSecret, TokenType: "text/plain"}, "token_type"},
		{"token_type with a space", policy.Config{MasterSecret: configSecret, TokenType: "at jwt"}, "token_type"},
		{"token_type application/ alone", policy.Config{MasterSecret: configSecret, TokenType: "application/"}, "token_type"},
		{"userid_in_claim with a control character", policy.Config{MasterSecret: configSecret, UserIDClaim: "su\nb"}, "userid_in_claim"},
		{"userid_in_claim of invalid UTF-8", policy.Config{MasterSecret: configSecret, UserIDClaim: "\xc3"}, "userid_in_claim"},
		{"userid_in_claim too long", policy.Config{MasterSecret: configSecret, UserIDClaim: strings.Repeat("s", policy.MaxClaimNameBytes+1)}, "userid_in_claim"},
		{"negative leeway", policy.Config{MasterSecret: configSecret, Leeway: -1}, "leeway"},
		{"negative max token bytes", policy.Config{MasterSecret: configSecret, MaxTokenBytes: -1}, "max_token_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := bufLogger()
			cfg := tt.cfg
			cfg.Logger = logger
			p, err := policy.NewJWT(cfg)
			if err == nil {
				t.Fatalf("NewJWT succeeded (%v), want a ConfigError for %s", p != nil, tt.wantKey)
			}
			if !errors.Is(err, policy.ErrConfig) {
				t.Errorf("err %v does not match ErrConfig", err)
			}
			var ce *policy.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err %T is not a *ConfigError", err)
			}
			if ce.Key != tt.wantKey {
				t.Errorf("Key = %q, want %q (%v)", ce.Key, tt.wantKey, err)
			}
			if !strings.Contains(err.Error(), "jwtauth."+tt.wantKey) {
				t.Errorf("message %q does not name the setting", err)
			}
			for _, leak := range []string{string(configSecret[:16]), "BEGIN", "PRIVATE"} {
				if strings.Contains(err.Error(), leak) || strings.Contains(logs.String(), leak) {
					t.Errorf("error or log holds %q: %v / %s", leak, err, logs)
				}
			}
		})
	}
}

func TestConfigAccepted(t *testing.T) {
	tests := []struct {
		name string
		cfg  policy.Config
	}{
		{"default algorithm HS256 with 32 bytes", policy.Config{MasterSecret: configSecret[:32]}},
		{"HS384 with 48 bytes", policy.Config{Algorithm: "HS384", MasterSecret: configSecret[:48]}},
		{"HS512 with 64 bytes", policy.Config{Algorithm: "HS512", MasterSecret: configSecret[:64]}},
		{"Bearer scheme", policy.Config{MasterSecret: configSecret, Schemes: []string{"Bearer"}}},
		{"JWT and Bearer schemes", policy.Config{MasterSecret: configSecret, Schemes: []string{"JWT", "Bearer"}}},
		{"token_type application/at+jwt", policy.Config{MasterSecret: configSecret, TokenType: "application/at+jwt"}},
		{"userid_in_claim with a space and an accent", policy.Config{MasterSecret: configSecret, UserIDClaim: "nom d'utilisateur é"}},
		{"ES512 on P-521", policy.Config{Algorithm: "ES512", PrivateKey: p521Once()}},
		{"EdDSA public key", policy.Config{Algorithm: "EdDSA", PublicKey: ed25519Once().Public()}},
		{"RS256 private and matching public", policy.Config{Algorithm: "RS256", PrivateKey: rsaKeyOnce(), PublicKey: &rsaKeyOnce().PublicKey}},
		{"no HMAC secret when signatures are off", policy.Config{DisableVerifySignature: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Logger = discard
			p, err := policy.NewJWT(cfg)
			if err != nil {
				t.Fatalf("NewJWT: %v", err)
			}
			if want := cfg.Schemes; len(want) != 0 && !slices.Equal(p.Schemes(), want) {
				t.Errorf("Schemes() = %q, want %q", p.Schemes(), want)
			}
		})
	}
}

// TestShortSecretRefused: an HMAC secret shorter than the hash's output
// is a ConfigError of master_secret that says RFC 7518 section 3.2 requires
// the hash's length, without the secret and without an escape hatch (go-jose
// and the signature step refuse such a secret: a policy built with one would
// fail every token).
func TestShortSecretRefused(t *testing.T) {
	for _, c := range []struct {
		alg  string
		size int
	}{{"HS256", 32}, {"HS384", 48}, {"HS512", 64}} {
		logger, logs := bufLogger()
		secret := configSecret[:c.size-1]
		_, err := policy.NewJWT(policy.Config{Algorithm: c.alg, MasterSecret: secret, Logger: logger})
		var ce *policy.ConfigError
		if !errors.As(err, &ce) || ce.Key != "master_secret" {
			t.Fatalf("%s with %d bytes: %v, want a ConfigError of master_secret", c.alg, len(secret), err)
		}
		msg := err.Error()
		want := fmt.Sprintf("%d-byte HMAC secret is shorter than the %d bytes %s needs: RFC 7518 section 3.2 requires a secret at least as long as the hash's output", len(secret), c.size, c.alg)
		if !strings.Contains(msg, want) || strings.Contains(msg, "allow_weak_secret") || strings.Contains(msg, string(secret)) {
			t.Errorf("%s: error %q", c.alg, msg)
		}
		if strings.Contains(logs.String(), string(secret)) {
			t.Errorf("%s: log holds the secret:\n%s", c.alg, logs)
		}
		if _, err := policy.NewJWT(policy.Config{Algorithm: c.alg, MasterSecret: configSecret[:c.size], Logger: discard}); err != nil {
			t.Errorf("%s with %d bytes: %v", c.alg, c.size, err)
		}
	}
}

func TestDisableVerifySignature(t *testing.T) {
	logger, logs := bufLogger()
	p, err := policy.NewJWT(policy.Config{MasterSecret: configSecret, DisableVerifySignature: true, Logger: logger, Now: clock})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "disable_verify_signature") {
		t.Errorf("no warning logged:\n%s", logs)
	}
	if strings.Contains(logs.String(), string(configSecret[:16])) {
		t.Errorf("log holds the secret:\n%s", logs)
	}

	t.Run("no warning when verifying", func(t *testing.T) {
		logger, logs := bufLogger()
		if _, err := policy.NewJWT(policy.Config{MasterSecret: configSecret, Logger: logger}); err != nil {
			t.Fatal(err)
		}
		if logs.String() != "" {
			t.Errorf("unexpected log:\n%s", logs)
		}
	})
	t.Run("a token of another key is accepted", func(t *testing.T) {
		tok := mint(t, jose.HS256, []byte("another-secret-another-secret-another-secret"), validClaims("u"))
		if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); err != nil || uid != "u" {
			t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
		}
	})
	t.Run("alg none is still refused", func(t *testing.T) {
		tok := noneToken(`{"alg":"none"}`, `{"sub":"admin"}`)
		if _, err := p.AuthenticatedUserID(newRequest("JWT " + tok)); !errors.Is(err, policy.ErrAlgorithmNotAllowed) {
			t.Errorf("err = %v, want ErrAlgorithmNotAllowed", err)
		}
	})
	t.Run("claims are still checked", func(t *testing.T) {
		c := validClaims("u")
		c["exp"] = testNow.Unix() - 10
		tok := mintHS(t, c)
		if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); !errors.Is(err, policy.ErrTokenExpired) {
			t.Errorf("err = %v, want ErrTokenExpired", err)
		}
	})
}

// TestConfigErrorsHoldNoKeyMaterial: NewJWT errors about keys name the key,
// never print it.
func TestConfigErrorsHoldNoKeyMaterial(t *testing.T) {
	k := rsa1024Once()
	der := x509.MarshalPKCS1PrivateKey(k)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
	_, err := policy.NewJWT(policy.Config{Algorithm: "RS256", PrivateKey: k, Logger: discard})
	if err == nil {
		t.Fatal("1024-bit key accepted")
	}
	msg := err.Error()
	if strings.Contains(msg, k.N.String()) || strings.Contains(msg, k.N.Text(16)) || strings.Contains(msg, pemText[40:80]) {
		t.Errorf("error holds key material: %s", msg)
	}
}
