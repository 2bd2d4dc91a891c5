package policy_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// Test fixtures shared by the policy tests. Every token the tests present is
// minted here with go-jose directly, never with the policy under test.

// testNow is the fixed clock of every policy built by the tests.
var testNow = time.Unix(1_700_000_000, 0)

func clock() time.Time { return testNow }

// testSecret is long enough for HS512 (64 bytes).
var testSecret = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")

var (
	rsaKeyOnce   = sync.OnceValue(func() *rsa.PrivateKey { return testkit.MustRSA(2048) })
	rsaKey2Once  = sync.OnceValue(func() *rsa.PrivateKey { return testkit.MustRSA(2048) })
	rsa1024Once  = sync.OnceValue(func() *rsa.PrivateKey { return testkit.MustRSA(1024) })
	p256Once     = sync.OnceValue(func() *ecdsa.PrivateKey { return testkit.MustEC(elliptic.P256()) })
	p384Once     = sync.OnceValue(func() *ecdsa.PrivateKey { return testkit.MustEC(elliptic.P384()) })
	p521Once     = sync.OnceValue(func() *ecdsa.PrivateKey { return testkit.MustEC(elliptic.P521()) })
	ed25519Once  = sync.OnceValue(func() ed25519.PrivateKey { return testkit.MustEd25519() })
	ed25519Once2 = sync.OnceValue(func() ed25519.PrivateKey { return testkit.MustEd25519() })
)

// mint signs claims (a map or struct) with go-jose's jwt builder.
func mint(t testing.TB, alg jose.SignatureAlgorithm, key any, claims any) string {
	t.Helper()
	return testkit.Mint(t, alg, key, claims)
}

// mintRaw signs a hand-made JSON payload with go-jose.
func mintRaw(t testing.TB, alg jose.SignatureAlgorithm, key any, payload string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	if err != nil {
		t.Fatalf("jose.NewSigner(%s): %v", alg, err)
	}
	jws, err := signer.Sign([]byte(payload))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatalf("CompactSerialize: %v", err)
	}
	return tok
}

// mintHS mints an HS256 token with testSecret.
func mintHS(t testing.TB, claims any) string {
	t.Helper()
	return mint(t, jose.HS256, testSecret, claims)
}

// validClaims returns sub plus iat/exp around testNow.
func validClaims(sub string) map[string]any {
	return map[string]any{"sub": sub, "iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix()}
}

// b64 is unpadded base64url.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// noneToken builds an unsigned token by hand.
func noneToken(header, payload string) string { return b64(header) + "." + b64(payload) + "." }

// discard is a logger that drops everything.
var discard = slog.New(slog.DiscardHandler)

// bufLogger returns a logger writing text records to a buffer.
func bufLogger() (*slog.Logger, *testkit.SyncBuffer) {
	b := &testkit.SyncBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// newPolicy builds an HS256 policy with testSecret and the fixed clock, then
// applies mod.
func newPolicy(t testing.TB, mod func(*policy.Config)) *policy.JWT {
	t.Helper()
	cfg := policy.Config{MasterSecret: testSecret, Now: clock, Logger: discard}
	if mod != nil {
		mod(&cfg)
	}
	p, err := policy.NewJWT(cfg)
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return p
}

// newRequest returns a GET request with the given Authorization headers.
func newRequest(authz ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, a := range authz {
		r.Header.Add("Authorization", a)
	}
	return r
}

// jwtAuth is the pyramid_jwtauth header form.
func jwtAuth(tok string) string { return "JWT token=" + tok }

// verifyWithJose checks tok's signature with go-jose and returns its claims.
func verifyWithJose(t testing.TB, tok string, alg jose.SignatureAlgorithm, key any) map[string]any {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("jwt.ParseSigned: %v", err)
	}
	out := map[string]any{}
	if err := parsed.Claims(key, &out); err != nil {
		t.Fatalf("go-jose cannot verify the token: %v", err)
	}
	return out
}

// schemes is the Config.Schemes of one scheme: nil, the default, for "".
func schemes(scheme string) []string {
	if scheme == "" {
		return nil
	}
	return []string{scheme}
}
