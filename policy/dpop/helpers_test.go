package dpop

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The tests' proofs are minted here with go-jose directly, never with the
// Prover under test.

// t0 is the tests' clock's start.
var t0 = time.Unix(1_700_000_000, 0)

// clock is a settable clock for the tests.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) {
	c.ns.Add(int64(d))
}

// Test keys, made once.
var (
	keysOnce                           sync.Once
	ecKey, ec384Key, ec521Key, ecOther *ecdsa.PrivateKey
	edKey                              ed25519.PrivateKey
	rsaKey, rsaWeak                    *rsa.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		must := func(k *ecdsa.PrivateKey, err error) *ecdsa.PrivateKey {
			if err != nil {
				panic(err)
			}
			return k
		}
		ecKey = must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
		ecOther = must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
		ec384Key = must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
		ec521Key = must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader))
		var err error
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsaWeak, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			panic(err)
		}
	})
}

const (
	testURI    = "https://api.example.com/resource"
	testMethod = http.MethodGet
	testToken  = "the-access-token.of.the-test"
)

// defaultClaims are the claims of a valid proof for a GET of testURI with
// testToken at t0.
func defaultClaims() map[string]any {
	return map[string]any{
		"jti": "jti-" + randomString(),
		"htm": testMethod,
		"htu": testURI,
		"iat": t0.Unix(),
		"ath": AccessTokenHash(testToken),
	}
}

func randomString() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// spec describes a proof to mint.
type spec struct {
	alg    jose.SignatureAlgorithm
	key    any            // the signing key
	jwk    any            // the jwk header (default: key's public JWK); noJWK for none
	header map[string]any // extra or replaced header members; a nil value deletes
	claims map[string]any // replaced claims; a nil value deletes
	raw    []byte         // the payload as is, instead of claims
}

type noJWKType struct{}

var noJWK = noJWKType{}

func publicJWK(key any) jose.JSONWebKey {
	k := jose.JSONWebKey{Key: key}
	return k.Public()
}

// mint signs a proof of s with go-jose.
func mint(t testing.TB, s spec) string {
	t.Helper()
	if s.alg == "" {
		s.alg = jose.ES256
	}
	if s.key == nil {
		s.key = ecKey
	}
	opts := &jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{}}
	opts.WithType("dpop+jwt")
	switch j := s.jwk.(type) {
	case nil:
		opts.WithHeader("jwk", publicJWK(s.key))
	case noJWKType:
	default:
		opts.WithHeader("jwk", j)
	}
	for k, v := range s.header {
		if v == nil {
			delete(opts.ExtraHeaders, jose.HeaderKey(k))
		} else {
			opts.ExtraHeaders[jose.HeaderKey(k)] = v
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	payload := s.raw
	if payload == nil {
		c := defaultClaims()
		for k, v := range s.claims {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		if payload, err = json.Marshal(c); err != nil {
			t.Fatal(err)
		}
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsigned builds a compact JWS of header and payload JSON texts with the
// signature segment sig (no signing: for the checks that come before the
// signature's).
func unsigned(header, payload, sig string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + sig
}

// newTestVerifier is a verifier on clock c (t0 when nil), with cfg's other
// fields.
func newTestVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	keys(t)
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// request is a GET of testURI, over TLS, with the proofs as DPoP headers.
func request(proofs ...string) *http.Request {
	r := httptest.NewRequest(testMethod, testURI, nil)
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return r
}

// verifyOne verifies proof on a fresh request to testURI with testToken.
func verifyOne(t testing.TB, v *Verifier, proof string) (Proof, error) {
	t.Helper()
	return v.Verify(context.Background(), request(proof), testToken)
}

// wantReason fails t unless err matches ErrInvalidProof and reason.
func wantReason(t testing.TB, err, reason error) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %v", reason)
	}
	if !errors.Is(err, ErrInvalidProof) || !errors.Is(err, reason) {
		t.Fatalf("error %v; want one matching ErrInvalidProof and %q", err, reason)
	}
}

var _ crypto.Signer = (*ecdsa.PrivateKey)(nil)
