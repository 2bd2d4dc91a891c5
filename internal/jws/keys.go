package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"

	"filippo.io/edwards25519"
	"github.com/titanous/rocacheck"
)

// MinRSABits is the smallest RSA modulus accepted, of a configured key or
// a proof's jwk.
const MinRSABits = 2048

// ErrUnusableKey is matched by the errors of keys that cannot verify: a
// key of the wrong type, size or use for its algorithm.
var ErrUnusableKey = errors.New("unusable key")

// Unusable is an error matching ErrUnusableKey, with what is wrong; the
// text must hold no key material.
func Unusable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnusableKey, fmt.Sprintf(format, args...))
}

// CheckKey tells whether the public key pub can verify the asymmetric
// algorithm alg safely: an RSA key (RS*, PS*) of at least MinRSABits, with
// an odd public exponent of at least 3, not of the ROCA family
// (CVE-2017-15361); an EC key (ES256, ES384, ES512) that is a point of the
// algorithm's curve; an Ed25519 key (EdDSA) that is a point of the curve
// of more than small order. Its errors match ErrUnusableKey.
func CheckKey(pub crypto.PublicKey, alg string) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if len(alg) < 2 || alg[:2] != "RS" && alg[:2] != "PS" {
			break
		}
		switch {
		case k == nil || k.N == nil:
			return Unusable("RSA key without a modulus")
		case k.N.BitLen() < MinRSABits:
			return Unusable("RSA key of %d bits is weaker than the %d bits required", k.N.BitLen(), MinRSABits)
		case k.E < 3 || k.E%2 == 0:
			return Unusable("RSA public exponent %d is not an odd number of at least 3", k.E)
		case rocacheck.IsWeak(k):
			return Unusable("RSA key is of the ROCA family (CVE-2017-15361) and can be factored")
		}
		return nil
	case *ecdsa.PublicKey:
		want := curveOf(alg)
		if want == nil {
			break
		}
		return checkEC(k, want, alg)
	case ed25519.PublicKey:
		if alg == "EdDSA" {
			return checkEd25519(k)
		}
	case []byte:
		return Unusable("a public-key algorithm (%s) is never verified with an HMAC secret", alg)
	default:
		return Unusable("unsupported key type %T", pub)
	}
	return Unusable("a %s key cannot verify %s", KeyKind(pub), alg)
}

// curveOf is the curve of an ECDSA algorithm, nil for any other.
func curveOf(alg string) elliptic.Curve {
	switch alg {
	case "ES256":
		return elliptic.P256()
	case "ES384":
		return elliptic.P384()
	case "ES512":
		return elliptic.P521()
	}
	return nil
}

// checkEC tells whether k is a point of the curve alg needs, want. The
// standard library's Bytes validates the point (on the curve, not the
// point at infinity, coordinates in range); a key it refuses verifies
// nothing.
func checkEC(k *ecdsa.PublicKey, want elliptic.Curve, alg string) error {
	switch {
	case k == nil || k.Curve == nil:
		return Unusable("%s needs an EC key on %s, not an EC key without a curve", alg, want.Params().Name)
	case k.Curve != want:
		name := "another curve"
		if p := k.Curve.Params(); p != nil && p.Name != "" {
			name = p.Name
		}
		return Unusable("%s needs an EC key on %s, not %s", alg, want.Params().Name, name)
	case k.X == nil || k.Y == nil:
		return Unusable("EC public key without coordinates")
	}
	if _, err := k.Bytes(); err != nil {
		return Unusable("EC public key is not a point of %s (off the curve, or the point at infinity)", want.Params().Name)
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
		return Unusable("Ed25519 public key of %d bytes, not %d", len(k), ed25519.PublicKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(k)
	if err != nil {
		return Unusable("Ed25519 public key is not a point of the curve")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return Unusable("Ed25519 public key is a point of small order, which verifies forged signatures")
	}
	return nil
}

// KeyKind names the kind of a key for an error: RSA, EC, Ed25519, HMAC, or
// its Go type.
func KeyKind(key any) string {
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
