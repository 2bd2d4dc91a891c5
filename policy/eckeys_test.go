package policy_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
)

// onP256 is a P-256 public key of the coordinates x, y (the curve P-256 is
// assumed).
func onP256(x, y *big.Int) *ecdsa.PublicKey {
	return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
}

// otherP256 is a curve that computes as P-256 but is not the standard
// library's P-256.
type otherP256 struct{ elliptic.Curve }

// EC public keys that are no point of their curve, the point at infinity,
// a point of another curve, or half-built are refused (not a panic), as
// Config.PublicKey and as the public half of Config.PrivateKey.
func TestECKeysRefused(t *testing.T) {
	good := &p256Once().PublicKey
	bumpedY := new(big.Int).Add(good.Y, big.NewInt(1))
	p := elliptic.P256().Params().P
	tests := []struct {
		name string
		pub  *ecdsa.PublicKey
	}{
		{"off the curve", onP256(good.X, bumpedY)},
		{"point at infinity", onP256(new(big.Int), new(big.Int))},
		{"x not reduced", onP256(new(big.Int).Add(good.X, p), good.Y)},
		{"negative y", onP256(good.X, new(big.Int).Neg(good.Y))},
		{"P-384 key", &p384Once().PublicKey},
		{"a curve other than the standard P-256", &ecdsa.PublicKey{Curve: otherP256{elliptic.P256()}, X: good.X, Y: good.Y}},
		{"no curve", &ecdsa.PublicKey{X: good.X, Y: good.Y}},
		{"no coordinates", &ecdsa.PublicKey{Curve: elliptic.P256()}},
		{"no y", &ecdsa.PublicKey{Curve: elliptic.P256(), X: good.X}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var secrets []string
			for _, c := range []*big.Int{tt.pub.X, tt.pub.Y} {
				if c != nil && c.Sign() != 0 {
					secrets = append(secrets, c.String(), c.Text(16))
				}
			}
			_, err := newJWT(t, policy.Config{Algorithm: "ES256", PublicKey: tt.pub})
			wantKeyRefused(t, err, "public_key", secrets...)
			_, err = newJWT(t, policy.Config{Algorithm: "ES256", PrivateKey: signerOf{tt.pub}})
			wantKeyRefused(t, err, "private_key", secrets...)
			_, err = newJWT(t, policy.Config{Algorithm: "ES256", PrivateKey: &ecdsa.PrivateKey{PublicKey: *tt.pub, D: big.NewInt(7)}})
			wantKeyRefused(t, err, "private_key", secrets...)
			if err := (policy.Key{Algorithm: "ES256", Material: tt.pub}).Check(); !errors.Is(err, policy.ErrUnusableKey) {
				t.Errorf("Key.Check: %v", err)
			}
		})
	}
	// go-jose refuses an EC JWK off its curve; KeyFromJWK does too.
	pad := func(b *big.Int) string { return base64.RawURLEncoding.EncodeToString(b.FillBytes(make([]byte, 32))) }
	for name, y := range map[string]*big.Int{"off the curve": bumpedY, "infinity": new(big.Int)} {
		x := good.X
		if name == "infinity" {
			x = new(big.Int)
		}
		jwk := fmt.Sprintf(`{"kty":"EC","crv":"P-256","alg":"ES256","x":%q,"y":%q}`, pad(x), pad(y))
		if _, err := policy.KeyFromJWK([]byte(jwk), "", false); !errors.Is(err, policy.ErrUnusableKey) {
			t.Errorf("JWK %s: %v, want ErrUnusableKey", name, err)
		}
	}
	// The sound key still works.
	if _, err := newJWT(t, policy.Config{Algorithm: "ES256", PublicKey: good}); err != nil {
		t.Errorf("a sound P-256 key: %v", err)
	}
}

// RSA public keys without a modulus are refused, not a panic.
func TestHalfBuiltRSAKeysRefused(t *testing.T) {
	for name, pub := range map[string]*rsa.PublicKey{"nil": nil, "no modulus": {E: 65537}} {
		t.Run(name, func(t *testing.T) {
			_, err := newJWT(t, policy.Config{Algorithm: "RS256", PublicKey: pub})
			wantKeyRefused(t, err, "public_key")
			_, err = newJWT(t, policy.Config{Algorithm: "RS256", PrivateKey: signerOf{pub}})
			wantKeyRefused(t, err, "private_key")
		})
	}
}

// A private key whose Public panics (nil, half-built, an Ed25519 key of
// the wrong length behind a pointer) is refused, not a panic.
func TestBrokenPrivateKeysRefused(t *testing.T) {
	short := make(ed25519.PrivateKey, 31)
	var nilEd *ed25519.PrivateKey
	for name, tt := range map[string]struct {
		alg string
		key crypto.Signer
	}{
		"nil RSA":                        {"RS256", (*rsa.PrivateKey)(nil)},
		"nil EC":                         {"ES256", (*ecdsa.PrivateKey)(nil)},
		"EC without a curve":             {"ES256", &ecdsa.PrivateKey{D: big.NewInt(7)}},
		"short Ed25519 behind a pointer": {"EdDSA", &short},
		"nil Ed25519 pointer":            {"EdDSA", nilEd},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := newJWT(t, policy.Config{Algorithm: tt.alg, PrivateKey: tt.key})
			wantKeyRefused(t, err, "private_key")
		})
	}
}
