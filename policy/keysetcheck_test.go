package policy_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// The keys of a key set written by the application are checked as the
// configured keys are: an Ed25519 key of small order (which verifies a
// forged signature for any userid) and one of the wrong length (on which
// ed25519.Verify panics) are skipped with a warning naming their kid, and
// the set's sound key still verifies. The check is made once per version
// of the set's keys, and again for a new version.
func TestKeySetKeysChecked(t *testing.T) {
	identity := testkit.IdentityEd25519()
	good := ed25519Once()
	set := &countingKeySet{}
	set.set(
		policy.Key{ID: "identity", Algorithm: "EdDSA", Material: identity},
		policy.Key{ID: "short", Algorithm: "EdDSA", Material: ed25519.PublicKey(good.Public().(ed25519.PublicKey)[:31])},
		policy.Key{ID: "good", Algorithm: "EdDSA", Material: good.Public()},
	)
	logger, logs := bufLogger()
	p := newPolicy(t, func(c *policy.Config) {
		c.MasterSecret, c.KeySets, c.Logger, c.CacheSize = nil, []policy.KeySet{set}, logger, policy.NoCache
	})
	defer p.Close()
	now := testNow.Unix()
	payload := fmt.Sprintf(`{"sub":"admin","iat":%d,"exp":%d}`, now, now+60)
	forged := map[string]string{
		"identity": testkit.ForgedEdDSA(`{"alg":"EdDSA","kid":"identity"}`, payload),
		"short":    testkit.ForgedEdDSA(`{"alg":"EdDSA","kid":"short"}`, payload),
	}
	if !ed25519.Verify(identity, []byte(forged["identity"][:strings.LastIndexByte(forged["identity"], '.')]), testkit.IdentitySignature()) {
		t.Fatal("ed25519.Verify refuses the forged signature under the identity key; the attack this test guards against is gone")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: good}, (&jose.SignerOptions{}).WithHeader("kid", "good"))
	if err != nil {
		t.Fatal(err)
	}
	goodToken := testkit.MintSigned(t, signer, validClaims("alice"))
	for range 3 {
		for kid, tok := range forged {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("the token for the key %q panicked: %v", kid, r)
					}
				}()
				uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
				if !errors.Is(err, policy.ErrInvalidCredentials) {
					t.Fatalf("the forged token for the key %q: AuthenticatedUserID = %q, %v", kid, uid, err)
				}
			}()
		}
		if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(goodToken))); err != nil || uid != "alice" {
			t.Fatalf("the good key's token: %q, %v", uid, err)
		}
	}
	for _, kid := range []string{"identity", "short"} {
		if n := strings.Count(logs.String(), "kid="+kid); n != 1 {
			t.Errorf("the key %q was reported %d times, want once (a slice is checked once):\n%s", kid, n, logs)
		}
	}
	if strings.Contains(logs.String(), "kid=good") {
		t.Errorf("the good key was reported:\n%s", logs)
	}
	// The keys of a new version are checked again.
	set.set(policy.Key{ID: "identity", Algorithm: "EdDSA", Material: identity}, policy.Key{ID: "good", Algorithm: "EdDSA", Material: good.Public()})
	if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(forged["identity"]))); !errors.Is(err, policy.ErrInvalidCredentials) {
		t.Fatalf("after the keys changed, the forged token: %v", err)
	}
	if n := strings.Count(logs.String(), "kid=identity"); n != 2 {
		t.Errorf("after the keys changed, the key was reported %d times in all, want 2", n)
	}
}

// copyingKeySet is a key set written as a value with a slice in it (so not
// comparable) that hands out a copy of its keys on every call.
type copyingKeySet struct{ keys []policy.Key }

func (s copyingKeySet) Issuer() string  { return "" }
func (s copyingKeySet) Version() uint64 { return 1 }
func (s copyingKeySet) Close() error    { return nil }
func (s copyingKeySet) Keys(context.Context, string) ([]policy.Key, error) {
	return slices.Clone(s.keys), nil
}

// A key set of any shape has its keys checked, once per version: every
// small-order encoding, the non-canonical ones included (go-jose's JWK
// reader refuses those fourteen itself, but a key set of the
// application's own never goes through it), is skipped, and reported once
// however many tokens come.
func TestKeySetOfAnyShapeChecked(t *testing.T) {
	good := ed25519Once()
	set := copyingKeySet{}
	for i, e := range testkit.SmallOrderEd25519(t) {
		set.keys = append(set.keys, policy.Key{ID: fmt.Sprintf("small-%d", i), Algorithm: "EdDSA", Material: ed25519.PublicKey(e.Bytes)})
	}
	set.keys = append(set.keys, policy.Key{ID: "good", Algorithm: "EdDSA", Material: good.Public()})
	logger, logs := bufLogger()
	p := newPolicy(t, func(c *policy.Config) {
		c.MasterSecret, c.KeySets, c.Logger, c.CacheSize = nil, []policy.KeySet{set}, logger, policy.NoCache
	})
	defer p.Close()
	now := testNow.Unix()
	payload := fmt.Sprintf(`{"sub":"admin","iat":%d,"exp":%d}`, now, now+60)
	for range 5 {
		for _, k := range set.keys[:len(set.keys)-1] {
			tok := testkit.ForgedEdDSA(`{"alg":"EdDSA","kid":"`+k.ID+`"}`, payload)
			if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); !errors.Is(err, policy.ErrInvalidCredentials) {
				t.Fatalf("the forged token for %s: %q, %v", k.ID, uid, err)
			}
		}
	}
	for _, k := range set.keys[:len(set.keys)-1] {
		if n := strings.Count(logs.String(), "kid="+k.ID+" "); n != 1 {
			t.Errorf("%s was reported %d times, want once", k.ID, n)
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: good}, (&jose.SignerOptions{}).WithHeader("kid", "good"))
	if err != nil {
		t.Fatal(err)
	}
	if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(testkit.MintSigned(t, signer, validClaims("alice"))))); err != nil || uid != "alice" {
		t.Fatalf("the good key's token: %q, %v", uid, err)
	}
}

// byKidKeySet answers with the keys of the kid asked for, as a JWKS set
// does, all in one version.
type byKidKeySet struct{ keys []policy.Key }

func (s byKidKeySet) Issuer() string  { return "" }
func (s byKidKeySet) Version() uint64 { return 7 }
func (s byKidKeySet) Close() error    { return nil }
func (s byKidKeySet) Keys(_ context.Context, kid string) ([]policy.Key, error) {
	return slices.DeleteFunc(slices.Clone(s.keys), func(k policy.Key) bool { return kid != "" && k.ID != kid }), nil
}

// What a set answers for one kid is not what it answers for another, in
// one version: each kid's keys are checked and kept apart, and tokens
// naming hundreds of kids neither break verification nor repeat the
// warning.
func TestKeySetCheckedByKid(t *testing.T) {
	good, other := ed25519Once(), ed25519Once2()
	set := byKidKeySet{keys: []policy.Key{
		{ID: "bad", Algorithm: "EdDSA", Material: testkit.IdentityEd25519()},
		{ID: "good", Algorithm: "EdDSA", Material: good.Public()},
		{ID: "other", Algorithm: "EdDSA", Material: other.Public()},
	}}
	logger, logs := bufLogger()
	p := newPolicy(t, func(c *policy.Config) {
		c.MasterSecret, c.KeySets, c.Logger, c.CacheSize = nil, []policy.KeySet{set}, logger, policy.NoCache
	})
	defer p.Close()
	now := testNow.Unix()
	payload := fmt.Sprintf(`{"sub":"admin","iat":%d,"exp":%d}`, now, now+60)
	mintKid := func(key ed25519.PrivateKey, kid string) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid))
		if err != nil {
			t.Fatal(err)
		}
		return testkit.MintSigned(t, signer, validClaims("alice"))
	}
	for i := range 300 {
		for _, tok := range []string{
			testkit.ForgedEdDSA(`{"alg":"EdDSA","kid":"bad"}`, payload),
			testkit.ForgedEdDSA(fmt.Sprintf(`{"alg":"EdDSA","kid":"k%d"}`, i), payload),
		} {
			if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); !errors.Is(err, policy.ErrInvalidCredentials) {
				t.Fatalf("a forged token: %q, %v", uid, err)
			}
		}
		if i%50 == 0 {
			for key, kid := range map[*ed25519.PrivateKey]string{&good: "good", &other: "other"} {
				if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintKid(*key, kid)))); err != nil || uid != "alice" {
					t.Fatalf("pass %d, the key %s: %q, %v", i, kid, uid, err)
				}
			}
		}
	}
	if n := strings.Count(logs.String(), "kid=bad "); n != 1 {
		t.Errorf("the bad key was reported %d times, want once:\n%.2000s", n, logs)
	}
}
