package settings_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// secret is a 32-byte HMAC secret, long enough for HS256.
const secret = "s3cr3t-0123456789abcdef-ABCDEFGH"

// testKey is a generated key pair and the algorithm it signs with.
type testKey struct {
	name   string // "RSA", "EC", "Ed25519"
	alg    string
	signer crypto.Signer
}

var testKeys = sync.OnceValue(func() []testKey {
	return []testKey{
		{"RSA", "RS256", testkit.MustRSA(2048)},
		{"EC", "ES256", testkit.MustEC(elliptic.P256())},
		{"Ed25519", "EdDSA", testkit.MustEd25519()},
	}
})

// otherKey is a key of the same kind as k that is not k.
func otherKey(t *testing.T, k testKey) crypto.Signer {
	t.Helper()
	switch k.name {
	case "RSA":
		return testkit.MustRSA(2048)
	case "EC":
		return testkit.MustEC(elliptic.P256())
	default:
		return testkit.MustEd25519()
	}
}

// pemEncoding is one PEM form of a key.
type pemEncoding struct {
	format string
	pem    []byte
}

// privatePEMs returns every PEM form of k's private key: PKCS#8, and PKCS#1
// for RSA or SEC 1 for EC.
func privatePEMs(t *testing.T, k testKey) []pemEncoding {
	t.Helper()
	out := []pemEncoding{{"PKCS#8", testkit.PrivatePEM(t, k.signer)}}
	switch key := k.signer.(type) {
	case *rsa.PrivateKey:
		out = append(out, pemEncoding{"PKCS#1", testkit.PEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))})
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pemEncoding{"SEC1", testkit.PEM("EC PRIVATE KEY", der)})
	}
	return out
}

// publicPEMs returns every PEM form of k's public key: SPKI, PKCS#1 for RSA,
// and a self-signed X.509 certificate.
func publicPEMs(t *testing.T, k testKey) []pemEncoding {
	t.Helper()
	out := []pemEncoding{{"SPKI", testkit.PublicPEM(t, k.signer.Public())}}
	if pub, ok := k.signer.Public().(*rsa.PublicKey); ok {
		out = append(out, pemEncoding{"PKCS#1", testkit.PEM("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(pub))})
	}
	cert := testkit.SelfSigned(t, k.signer, "jwtauth test", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	return append(out, pemEncoding{"certificate", testkit.PEM("CERTIFICATE", cert)})
}

// writeFile writes data to a new file in a temporary directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mint signs a token for userid with go-jose, independently of the policy.
func mint(t *testing.T, alg string, key any, claims jwt.Claims, extra ...map[string]any) string {
	t.Helper()
	all := []any{claims}
	for _, e := range extra {
		all = append(all, e)
	}
	return testkit.Mint(t, jose.SignatureAlgorithm(alg), key, all...)
}

// fresh are the claims of a token for userid valid now.
func fresh(userid string) jwt.Claims {
	now := time.Now()
	return jwt.Claims{Subject: userid, IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
}

// request is a GET carrying token in pyramid_jwtauth's form for scheme.
func request(scheme, token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if token != "" {
		policy.SetAuthorization(r, scheme, token)
	}
	return r
}

// authenticate returns the userid p authenticates from token.
func authenticate(p *policy.JWT, token string) (string, error) {
	return p.AuthenticatedUserID(request(p.Scheme(), token))
}

// mustPolicy builds the policy of m or fails the test.
func mustPolicy(t *testing.T, m map[string]string) *policy.JWT {
	t.Helper()
	p, err := settings.NewPolicy(m, nil, nil)
	if err != nil {
		t.Fatalf("NewPolicy(%v): %v", redact(m), err)
	}
	jwt, ok := p.(*policy.JWT)
	if !ok {
		t.Fatalf("NewPolicy(%v) made a %T, not the JWT policy", redact(m), p)
	}
	return jwt
}

// redact hides values that hold key material in test logs.
func redact(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.Contains(v, "-----BEGIN") || k == settings.Prefix+"master_secret" {
			v = "<redacted>"
		}
		out[k] = v
	}
	return out
}

// settingsError checks that err is a *settings.Error for key that matches
// sentinel and policy.ErrConfig, and returns its text.
func settingsError(t *testing.T, err error, key string, sentinel error) string {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one for %s", key)
	}
	var se *settings.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %q (%T) is not a *settings.Error", err, err)
	}
	if se.Key != key {
		t.Errorf("error %q: Key = %q, want %q", err, se.Key, key)
	}
	if name := key; !strings.HasPrefix(err.Error(), name+": ") {
		if se.Env != "" {
			name = se.Env + " (" + key + ")"
		}
		if !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("error %q does not begin with %s", err, name)
		}
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %q does not match %v", err, sentinel)
	}
	if !errors.Is(err, policy.ErrConfig) {
		t.Errorf("error %q does not match policy.ErrConfig", err)
	}
	return err.Error()
}

// noKeyMaterial fails when msg holds the secret or any line of a PEM text.
func noKeyMaterial(t *testing.T, msg string, pems ...[]byte) {
	t.Helper()
	if strings.Contains(msg, secret) {
		t.Errorf("error %q holds the master secret", msg)
	}
	if strings.Contains(msg, "-----") {
		t.Errorf("error %q holds a PEM boundary", msg)
	}
	for _, p := range pems {
		for _, line := range strings.Split(string(p), "\n") {
			if len(line) >= 8 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line[:8]) {
				t.Errorf("error %q holds a line of PEM text %q", msg, line)
			}
		}
	}
}

// parseConfig is Parse's policy configuration.
func parseConfig(m map[string]string, from settings.Origins) (policy.Config, error) {
	p, err := settings.Parse(m, from)
	return p.Config, err
}
