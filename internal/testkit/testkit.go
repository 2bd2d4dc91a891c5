// Package testkit holds the helpers that several packages' tests share: key
// generation, PEM encoding, token minting and a log buffer. Only _test.go
// files import it.
//
// Tokens are minted with go-jose directly, never with this module's own
// code, so that the tests stay independent of the code they test.
package testkit

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// MustRSA generates an RSA key of bits bits; it panics on failure, so that
// it can fill package-level fixtures.
func MustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// MustEC generates an ECDSA key on curve c; it panics on failure.
func MustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// MustEd25519 generates an Ed25519 key; it panics on failure.
func MustEd25519() ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// PEM armours der as a PEM block of type typ.
func PEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// PrivatePEM is key as a PKCS #8 "PRIVATE KEY" PEM block.
func PrivatePEM(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("x509.MarshalPKCS8PrivateKey(%T): %v", key, err)
	}
	return PEM("PRIVATE KEY", der)
}

// PublicPEM is pub as an SPKI "PUBLIC KEY" PEM block.
func PublicPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("x509.MarshalPKIXPublicKey(%T): %v", pub, err)
	}
	return PEM("PUBLIC KEY", der)
}

// SelfSigned is the DER of a certificate for key, signed by key, with
// serial number 1, common name cn and the validity notBefore to notAfter.
func SelfSigned(t testing.TB, key crypto.Signer, cn string, notBefore, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("x509.CreateCertificate: %v", err)
	}
	return der
}

// Mint signs claims (maps or structs, merged in order) with alg and key,
// with the header "typ": "JWT", using go-jose's jwt builder.
func Mint(t testing.TB, alg jose.SignatureAlgorithm, key any, claims ...any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("jose.NewSigner(%s): %v", alg, err)
	}
	return MintSigned(t, signer, claims...)
}

// MintSigned signs claims (maps or structs, merged in order) with a ready
// signer, for the headers Mint does not set or sets otherwise.
func MintSigned(t testing.TB, signer jose.Signer, claims ...any) string {
	t.Helper()
	b := jwt.Signed(signer)
	for _, c := range claims {
		b = b.Claims(c)
	}
	tok, err := b.Serialize()
	if err != nil {
		t.Fatalf("jwt.Signed(...).Serialize: %v", err)
	}
	return tok
}

// PublicJWKS is the JSON key set of the public halves of keys.
func PublicJWKS(t testing.TB, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatalf("marshalling a key set: %v", err)
	}
	return b
}

// BreakSignature returns tok with one bit of its signature's first byte
// flipped: always a different signature, in canonical base64url. (Changing
// the last characters instead is not always a change: the last character
// carries only a few of the signature's bits, and they may already be the
// ones written.)
func BreakSignature(t testing.TB, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if i < 0 || err != nil || len(sig) == 0 {
		t.Fatalf("BreakSignature: %q is not a compact JWS with a signature (%v)", tok, err)
	}
	sig[0] ^= 1
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// SyncBuffer is a bytes.Buffer safe for the concurrent writes of a logger
// and the reads of a test. Its zero value is ready to use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// UnverifiedClaims decodes the claims of a compact token with go-jose,
// without verifying it, for tests that look at what a token says.
func UnverifiedClaims(t testing.TB, tok string) map[string]any {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512, jose.RS256, jose.PS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("jwt.ParseSigned: %v", err)
	}
	var claims map[string]any
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil {
		t.Fatalf("claims: %v", err)
	}
	return claims
}
