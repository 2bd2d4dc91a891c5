package policy

import (
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/jws"
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

	// mac is Material ready to verify many tokens, for the HMAC keys of a
	// verifier's static key set (newStaticKeySet); nil for the others.
	mac *jws.MAC
}

// verifying is what the signature step verifies with: the prepared MAC of
// an HMAC key when it has one, else Material.
func (k *Key) verifying() any {
	if k.mac != nil {
		return k.mac
	}
	return k.Material
}

// ErrUnusableKey is matched by the errors of keys that cannot verify: a
// key of the wrong type, size or use for its algorithm.
var ErrUnusableKey = jws.ErrUnusableKey

// unusable is an error matching ErrUnusableKey (jws.Unusable).
func unusable(format string, args ...any) error { return jws.Unusable(format, args...) }

// Check tells whether k can verify its algorithm safely (see checkKey).
func (k Key) Check() error { return checkKey(k) }

// checkKey tells whether k can verify its algorithm safely. An HMAC secret
// shorter than the hash's output is refused (RFC 7518 section 3.2 requires
// at least that length, and go-jose and the signature step refuse a
// shorter one: there is no escape hatch); RSA keys under MinRSABits,
// with a public exponent below 3 or even, or of the ROCA family
// (CVE-2017-15361) are always refused, and so are EC keys that are not a
// point of their curve and Ed25519 keys that are points of small order
// (see jws.CheckKey).
func checkKey(k Key) error {
	if !slices.Contains(algorithms, k.Algorithm) {
		return unusable("unsupported algorithm %q", k.Algorithm)
	}
	if isHMAC(k.Algorithm) {
		secret, ok := k.Material.([]byte)
		if !ok {
			return unusable("%s needs an HMAC secret, not a %s key", k.Algorithm, jws.KeyKind(k.Material))
		}
		if len(secret) == 0 {
			return unusable("empty HMAC secret")
		}
		if need := hashBytes(k.Algorithm); len(secret) < need {
			return unusable("%d-byte HMAC secret is shorter than the %d bytes %s needs: RFC 7518 section 3.2 requires a secret at least as long as the hash's output; use a longer one", len(secret), need, k.Algorithm)
		}
		return nil
	}
	return jws.CheckKey(k.Material, k.Algorithm)
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
	if err := checkKey(k); err != nil {
		return Key{}, fmt.Errorf("JWK %q: %w", jwk.KeyID, err)
	}
	return k, nil
}
