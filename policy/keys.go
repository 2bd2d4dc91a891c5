package policy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"filippo.io/edwards25519"
	"github.com/go-jose/go-jose/v4"
	"github.com/titanous/rocacheck"
)

// Key is a verification key bound to exactly one algorithm: the policy
// verifies a token with a key only when the token's alg is the key's.
type Key struct {
	// ID is the key's kid. A token that names a kid is verified only by
	// the key of that ID (or, when the set has none of that ID, by keys
	// without an ID).
	ID string
	// Algorithm is the one JWS algorithm this key verifies.
	Algorithm string
	// Material is the HMAC secret ([]byte) or the public key
	// (*rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey).
	Material any
}

// ErrUnusableKey is matched by the errors of keys that cannot verify: a
// key of the wrong type, size or use for its algorithm.
var ErrUnusableKey = errors.New("unusable key")

func unusable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnusableKey, fmt.Sprintf(format, args...))
}

// Check tells whether k can verify its algorithm safely (see checkKey;
// no short HMAC secret is accepted here).
func (k Key) Check() error { return checkKey(k, false) }

// checkKey tells whether k can verify its algorithm safely. Weak HMAC
// secrets are refused unless allowWeakSecret; RSA keys under MinRSABits,
// with a public exponent below 3 or even, or of the ROCA family
// (CVE-2017-15361) are always refused, and so are EC keys that are not a
// point of their curve and Ed25519 keys that are not a point of small
// order (see keySuits).
func checkKey(k Key, allowWeakSecret bool) error {
	if !slices.Contains(algorithms, k.Algorithm) {
		return unusable("unsupported algorithm %q", k.Algorithm)
	}
	if isHMAC(k.Algorithm) {
		secret, ok := k.Material.([]byte)
		if !ok {
			return unusable("%s needs an HMAC secret, not a %s key", k.Algorithm, keyKind(k.Material))
		}
		if len(secret) == 0 {
			return unusable("empty HMAC secret")
		}
		if need := hashBytes(k.Algorithm); len(secret) < need && !allowWeakSecret {
			return unusable("%d-byte HMAC secret is shorter than the %d bytes %s needs (RFC 7518 section 3.2)", len(secret), need, k.Algorithm)
		}
		return nil
	}
	return keySuits(k.Material, k.Algorithm)
}

// keySuits tells whether a public key can verify alg.
func keySuits(pub crypto.PublicKey, alg string) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg[:2] != "RS" && alg[:2] != "PS" {
			break
		}
		switch {
		case k == nil || k.N == nil:
			return unusable("RSA key without a modulus")
		case k.N.BitLen() < MinRSABits:
			return unusable("RSA key of %d bits is weaker than the %d bits required", k.N.BitLen(), MinRSABits)
		case k.E < 3 || k.E%2 == 0:
			return unusable("RSA public exponent %d is not an odd number of at least 3", k.E)
		case rocacheck.IsWeak(k):
			return unusable("RSA key is of the ROCA family (CVE-2017-15361) and can be factored")
		}
		return nil
	case *ecdsa.PublicKey:
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if want == nil {
			break
		}
		return checkEC(k, want, alg)
	case ed25519.PublicKey:
		if alg == "EdDSA" {
			return checkEd25519(k)
		}
	case []byte:
		return unusable("a public-key algorithm (%s) is never verified with an HMAC secret", alg)
	default:
		return unusable("unsupported key type %T", pub)
	}
	return unusable("a %s key cannot verify %s", keyKind(pub), alg)
}

// checkEC tells whether k is a point of the curve alg needs, want. The
// standard library's Bytes validates the point (on the curve, not the
// point at infinity, coordinates in range); a key it refuses verifies
// nothing, and is better refused when the policy is built.
func checkEC(k *ecdsa.PublicKey, want elliptic.Curve, alg string) error {
	switch {
	case k == nil || k.Curve == nil:
		return unusable("%s needs an EC key on %s, not an EC key without a curve", alg, want.Params().Name)
	case k.Curve != want:
		name := "another curve"
		if p := k.Curve.Params(); p != nil && p.Name != "" {
			name = p.Name
		}
		return unusable("%s needs an EC key on %s, not %s", alg, want.Params().Name, name)
	case k.X == nil || k.Y == nil:
		return unusable("EC public key without coordinates")
	}
	if _, err := k.Bytes(); err != nil {
		return unusable("EC public key is not a point of %s (off the curve, or the point at infinity)", want.Params().Name)
	}
	return nil
}

// checkEd25519 tells whether k is an Ed25519 public key that verifies
// only what its private key signed: 32 bytes (ed25519.Verify panics on
// another length) that encode a point of the curve (as Go's verifier
// decodes it, non-canonical encodings included) of more than small order.
// A point of small order (one of the eight of order dividing 8) verifies
// forged signatures: with the identity, R = identity and S = 0 verify any
// message.
func checkEd25519(k ed25519.PublicKey) error {
	if len(k) != ed25519.PublicKeySize {
		return unusable("Ed25519 public key of %d bytes, not %d", len(k), ed25519.PublicKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(k)
	if err != nil {
		return unusable("Ed25519 public key is not a point of the curve")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return unusable("Ed25519 public key is a point of small order, which verifies forged signatures")
	}
	return nil
}

// publicOf returns the public half of a signing key. An Ed25519 private
// key of the wrong length is refused: its Public panics (under 32 bytes)
// or returns bytes that are not its public key, and ed25519.Sign panics.
// A signer whose Public panics otherwise (a nil *rsa.PrivateKey, a
// half-built key) is refused too.
func publicOf(s crypto.Signer) (pub crypto.PublicKey, err error) {
	k, ok := s.(ed25519.PrivateKey)
	if p, isPtr := s.(*ed25519.PrivateKey); isPtr && p != nil {
		k, ok = *p, true
	}
	if ok && len(k) != ed25519.PrivateKeySize {
		return nil, unusable("Ed25519 private key of %d bytes, not %d", len(k), ed25519.PrivateKeySize)
	}
	defer func() {
		if recover() != nil {
			pub, err = nil, unusable("a %T whose Public fails", s)
		}
	}()
	return s.Public(), nil
}

func keyKind(key any) string {
	switch key.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "Ed25519"
	case []byte:
		return "HMAC"
	}
	return fmt.Sprintf("%T", key)
}

// jwkAlgAliases maps JWK alg values seen in the wild to the JWS algorithm
// they mean: RFC 7520's examples write ES521 for ES512 (P-521, SHA-512).
var jwkAlgAliases = map[string]string{"ES521": "ES512"}

// KeyFromJWK turns one JSON Web Key (its JSON text) into a verification
// Key, enforcing what the JWK says of itself: its "use", if any, is "sig";
// its "key_ops", if any, include "verify"; its "alg" names one supported
// algorithm that suits the key. A JWK without "alg" gets defaultAlg (an
// error when that is empty too). Of a private JWK the public half is kept.
// HMAC ("oct") keys are accepted only when allowHMAC is true, and never
// shorter than the hash. Errors never hold key material.
func KeyFromJWK(data []byte, defaultAlg string, allowHMAC bool) (Key, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return Key{}, unusable("invalid JWK")
	}
	var ops struct {
		KeyOps *[]string `json:"key_ops"`
	}
	if err := json.Unmarshal(data, &ops); err != nil {
		return Key{}, unusable("JWK %q: key_ops is not a list of strings", jwk.KeyID)
	}
	if _, symmetric := jwk.Key.([]byte); !symmetric && !jwk.Valid() {
		return Key{}, unusable("invalid JWK %q", jwk.KeyID)
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return Key{}, unusable("JWK %q is for use %q, not sig", jwk.KeyID, jwk.Use)
	}
	if ops.KeyOps != nil && !slices.Contains(*ops.KeyOps, "verify") {
		return Key{}, unusable("JWK %q has key_ops %q, without verify", jwk.KeyID, *ops.KeyOps)
	}
	alg := jwk.Algorithm
	if a, ok := jwkAlgAliases[alg]; ok {
		alg = a
	}
	if alg == "" {
		alg = defaultAlg
	}
	if alg == "" {
		return Key{}, unusable("JWK %q names no alg", jwk.KeyID)
	}
	k := Key{ID: jwk.KeyID, Algorithm: alg}
	switch m := jwk.Key.(type) {
	case []byte:
		if !allowHMAC {
			return Key{}, unusable("JWK %q is a symmetric key, not accepted here", jwk.KeyID)
		}
		k.Material = m
	default:
		if !jwk.IsPublic() {
			jwk = jwk.Public()
		}
		k.Material = jwk.Key
	}
	if err := checkKey(k, false); err != nil {
		return Key{}, fmt.Errorf("JWK %q: %w", jwk.KeyID, err)
	}
	return k, nil
}
