package policy_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// Keys that verify forged signatures, or that make the verifier panic, are
// refused wherever a key enters the policy: Config.PublicKey, the public
// half of Config.PrivateKey, a JWK, a JWK Set. The keys are made here, with
// the standard library and internal/testkit, never with the policy.

// signerOf is a crypto.Signer whose Public is pub and that cannot sign: the
// shape of an HSM or KMS key given as Config.PrivateKey.
type signerOf struct{ pub crypto.PublicKey }

func (s signerOf) Public() crypto.PublicKey { return s.pub }
func (s signerOf) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("this signer does not sign")
}

// newJWT is policy.NewJWT, with a panic turned into a test failure.
func newJWT(t *testing.T, cfg policy.Config) (p *policy.JWT, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("NewJWT panicked: %v", r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	cfg.Now = clock
	return policy.NewJWT(cfg)
}

// wantKeyRefused checks that err is the ConfigError of setting key, for an
// unusable key, and that its text holds none of the secrets (the key's
// bytes, in hex or base64).
func wantKeyRefused(t *testing.T, err error, key string, secrets ...string) {
	t.Helper()
	var ce *policy.ConfigError
	switch {
	case err == nil:
		t.Fatalf("the policy was built; want a ConfigError for %s", key)
	case !errors.As(err, &ce):
		t.Fatalf("error %q (%T) is not a *policy.ConfigError", err, err)
	case ce.Key != key:
		t.Errorf("error %q: Key = %q, want %q", err, ce.Key, key)
	}
	if !errors.Is(err, policy.ErrUnusableKey) || !errors.Is(err, policy.ErrConfig) {
		t.Errorf("error %q does not match ErrUnusableKey and ErrConfig", err)
	}
	if !strings.Contains(err.Error(), "jwtauth."+key) {
		t.Errorf("error %q does not name jwtauth.%s", err, key)
	}
	noSecrets(t, err.Error(), secrets...)
}

func noSecrets(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(strings.ToLower(msg), strings.ToLower(s)) {
			t.Errorf("error %q holds key material %q", msg, s)
		}
	}
}

// forms are the texts of a key's bytes an error might leak.
func forms(b []byte) []string {
	return []string{hex.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), base64.StdEncoding.EncodeToString(b)}
}

// okpJWK is a public Ed25519 JWK of x, written by hand (go-jose would
// refuse to marshal some of the keys tested).
func okpJWK(kid string, x []byte) string {
	return fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":%q,"alg":"EdDSA","use":"sig","x":%q}`, kid, base64.RawURLEncoding.EncodeToString(x))
}

// edRefusedEverywhere checks that the Ed25519 public key pub is refused on
// every path into the policy.
func edRefusedEverywhere(t *testing.T, pub []byte) {
	t.Helper()
	secrets := forms(pub)
	_, err := newJWT(t, policy.Config{Algorithm: "EdDSA", PublicKey: ed25519.PublicKey(pub)})
	wantKeyRefused(t, err, "public_key", secrets...)
	_, err = newJWT(t, policy.Config{Algorithm: "EdDSA", PrivateKey: signerOf{ed25519.PublicKey(pub)}})
	wantKeyRefused(t, err, "private_key", secrets...)
	// With an allow-list, the key is checked for the signing algorithm
	// first: the error still names the key.
	_, err = newJWT(t, policy.Config{Algorithm: "EdDSA", Algorithms: []string{"EdDSA"}, PublicKey: ed25519.PublicKey(pub)})
	wantKeyRefused(t, err, "public_key", secrets...)
	if err := (policy.Key{Algorithm: "EdDSA", Material: ed25519.PublicKey(pub)}).Check(); !errors.Is(err, policy.ErrUnusableKey) {
		t.Errorf("Key.Check: %v, want ErrUnusableKey", err)
	}
	jwk := okpJWK("bad", pub)
	if _, err := policy.KeyFromJWK([]byte(jwk), "", false); !errors.Is(err, policy.ErrUnusableKey) {
		t.Errorf("KeyFromJWK: %v, want ErrUnusableKey", err)
	} else {
		noSecrets(t, err.Error(), secrets...)
	}
}

// The eight points of small order, in each of the fourteen encodings Go's
// verifier decodes, are refused on every path. (go-jose already refuses
// these fourteen in a JWK; the JWK checks guard that.)
func TestSmallOrderEd25519KeysRefused(t *testing.T) {
	for _, e := range testkit.SmallOrderEd25519(t) {
		t.Run(e.Name, func(t *testing.T) { edRefusedEverywhere(t, e.Bytes) })
	}
}

// An encoding that is no point of the curve verifies nothing; it is a
// mistake, refused when the policy is built. go-jose takes it in a JWK.
func TestEd25519KeyOffTheCurveRefused(t *testing.T) {
	edRefusedEverywhere(t, testkit.NotOnCurveEd25519(t))
}

// The forgery: with the identity as public key, the signature R =
// identity, S = 0 verifies any token, for any userid. Such a policy must
// not be built.
func TestEd25519IdentityKeyForgery(t *testing.T) {
	identity := testkit.IdentityEd25519()
	payload := fmt.Sprintf(`{"sub":"anyone-at-all","iat":%d,"exp":%d}`, testNow.Unix(), testNow.Unix()+3600)
	tok := testkit.ForgedEdDSA(`{"alg":"EdDSA","typ":"JWT"}`, payload)

	// The attack is real: Go's verifier accepts the forged signature.
	i := strings.LastIndexByte(tok, '.')
	if !ed25519.Verify(identity, []byte(tok[:i]), testkit.IdentitySignature()) {
		t.Fatal("ed25519.Verify refuses R = identity, S = 0 under the identity key; the attack this test guards against is gone")
	}

	p, err := newJWT(t, policy.Config{Algorithm: "EdDSA", PublicKey: identity})
	if err == nil {
		id, aerr := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
		t.Fatalf("a policy was built with the identity key; it authenticates a forged token as %q (%v)", id, aerr)
	}
	wantKeyRefused(t, err, "public_key", forms(identity)...)
}

// An Ed25519 key of the wrong length is refused; ed25519.Verify would
// panic on it, and an ed25519.PrivateKey under 32 bytes panics in Public.
func TestEd25519KeyLengthRefused(t *testing.T) {
	good := testkit.MustEd25519()
	for _, n := range []int{0, 1, 31, 33, 64} {
		pub := make(ed25519.PublicKey, n)
		copy(pub, good.Public().(ed25519.PublicKey))
		t.Run(fmt.Sprintf("public key of %d bytes", n), func(t *testing.T) {
			_, err := newJWT(t, policy.Config{Algorithm: "EdDSA", PublicKey: pub})
			wantKeyRefused(t, err, "public_key", forms(pub)...)
			_, err = newJWT(t, policy.Config{Algorithm: "EdDSA", PrivateKey: signerOf{pub}})
			wantKeyRefused(t, err, "private_key", forms(pub)...)
			if err := (policy.Key{Algorithm: "EdDSA", Material: pub}).Check(); !errors.Is(err, policy.ErrUnusableKey) {
				t.Errorf("Key.Check: %v", err)
			}
		})
	}
	for _, n := range []int{0, 31, 32, 63, 65} {
		priv := make(ed25519.PrivateKey, n)
		copy(priv, good)
		t.Run(fmt.Sprintf("private key of %d bytes", n), func(t *testing.T) {
			_, err := newJWT(t, policy.Config{Algorithm: "EdDSA", PrivateKey: priv})
			wantKeyRefused(t, err, "private_key", forms(priv)...)
		})
	}
}

// A sound Ed25519 key still works, on every path.
func TestEd25519KeyAccepted(t *testing.T) {
	k := testkit.MustEd25519()
	tok := mint(t, jose.EdDSA, k, validClaims("alice"))
	for name, cfg := range map[string]policy.Config{
		"public key":  {Algorithm: "EdDSA", PublicKey: k.Public()},
		"private key": {Algorithm: "EdDSA", PrivateKey: k},
		"signer":      {Algorithm: "EdDSA", PrivateKey: signerOf{k.Public()}},
	} {
		p, err := newJWT(t, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if id, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); id != "alice" || err != nil {
			t.Errorf("%s: %q, %v", name, id, err)
		}
	}
	jwk := okpJWK("good", k.Public().(ed25519.PublicKey))
	if key, err := policy.KeyFromJWK([]byte(jwk), "", false); err != nil || key.Algorithm != "EdDSA" {
		t.Errorf("KeyFromJWK: %+v, %v", key, err)
	}
}

// TestMasterSecretCopied changes the MasterSecret slice after the
// verifier is made: the verifier keeps the secret it was given, so tokens
// of that secret still verify (each one, with the cache off, and after
// the GCs that drop the keyed hashes the first token left) and tokens of
// the bytes written into the caller's slice do not.
func TestMasterSecretCopied(t *testing.T) {
	secret := bytes.Clone(testSecret)
	v, err := policy.NewVerifier(policy.Config{MasterSecret: secret, Now: clock, Logger: discard, CacheSize: policy.NoCache})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	good := mintHS(t, validClaims("alice"))
	if tok := v.Verify(ctx, good); tok.Err != nil {
		t.Fatal(tok.Err)
	}
	copy(secret, bytes.Repeat([]byte("z"), len(secret)))
	runtime.GC() // twice: the keyed hashes kept from the first token go
	runtime.GC()
	for range 3 {
		if tok := v.Verify(ctx, good); tok.Err != nil {
			t.Fatalf("a token of the configured secret, after the caller's slice changed: %v", tok.Err)
		}
	}
	if tok := v.Verify(ctx, mint(t, jose.HS256, secret, validClaims("mallory"))); tok.Err == nil {
		t.Fatal("a token of the bytes written into the caller's slice verified")
	}
}
