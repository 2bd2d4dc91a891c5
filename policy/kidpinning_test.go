package policy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// mintNoKid signs claims with ES256 under a header without kid.
func mintNoKid(t *testing.T, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	return testkit.Mint(t, jose.ES256, key, claims)
}

// TestKidPinning: of a key set with one key without kid and one of kid
// "B", a token of kid "A" signed by key B is refused, by a static set and
// by a JWKS one, although they pick keys differently: a static set lets
// the keys without kid verify a token whose kid no key has (and only them),
// a JWKS set answers a kid with the keys of that kid alone.
func TestKidPinning(t *testing.T) {
	noKid, keyB := testkit.MustEC(elliptic.P256()), testkit.MustEC(elliptic.P256())
	static, err := policy.NewStaticKeySet("",
		policy.Key{Algorithm: "ES256", Material: &noKid.PublicKey},
		policy.Key{ID: "B", Algorithm: "ES256", Material: &keyB.PublicKey},
	)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	jwks := testkit.PublicJWKS(t,
		jose.JSONWebKey{Key: noKid, Algorithm: "ES256", Use: "sig"},
		jose.JSONWebKey{Key: keyB, KeyID: "B", Algorithm: "ES256", Use: "sig"},
	)
	if err := os.WriteFile(path, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := keyset.NewFile(path, "", keyset.Options{Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	claims := validClaims("alice")
	for _, c := range []struct {
		name string
		set  policy.KeySet
		// noKidForA: whether the key without kid verifies a token of kid A.
		noKidForA bool
	}{
		{"static", static, true},
		{"JWKS file", file, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPolicy(t, func(cfg *policy.Config) {
				cfg.MasterSecret, cfg.KeySets, cfg.Algorithm = nil, []policy.KeySet{c.set}, "ES256"
			})
			defer p.Close()
			check := func(what, tok string, ok bool) {
				t.Helper()
				uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
				switch {
				case ok && (err != nil || uid != "alice"):
					t.Errorf("%s: %q, %v; want alice", what, uid, err)
				case !ok && err == nil:
					t.Errorf("%s: authenticated %q; want it refused", what, uid)
				case !ok && !errors.Is(err, policy.ErrInvalidSignature) && !errors.Is(err, policy.ErrNoKey):
					t.Errorf("%s: %v; want ErrInvalidSignature or ErrNoKey", what, err)
				}
			}
			check(`kid "A", signed by key B`, mintKid(t, keyB, "A", claims), false)
			check(`kid "B", signed by key B`, mintKid(t, keyB, "B", claims), true)
			check(`kid "B", signed by the key without kid`, mintKid(t, noKid, "B", claims), false)
			check(`kid "A", signed by the key without kid`, mintKid(t, noKid, "A", claims), c.noKidForA)
			// Without a kid, two keys of its alg fit: neither is picked.
			check(`no kid, signed by the key without kid`, mintNoKid(t, noKid, claims), false)
		})
	}
}
