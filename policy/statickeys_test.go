package policy_test

import (
	"context"
	"crypto/elliptic"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// mintKid mints an ES256 token of claims under kid with key.
func mintKid(t *testing.T, key any, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	return testkit.MintSigned(t, signer, claims)
}

// A static key set of two keys, one per kid: a token is verified by the
// key of its kid only, and the set's issuer is held to its tokens' iss.
func TestStaticKeySet(t *testing.T) {
	k1, k2 := testkit.MustEC(elliptic.P256()), testkit.MustEC(elliptic.P256())
	set, err := policy.NewStaticKeySet("https://id.example",
		policy.Key{ID: "one", Algorithm: "ES256", Material: &k1.PublicKey},
		policy.Key{ID: "two", Algorithm: "ES256", Material: &k2.PublicKey},
	)
	if err != nil {
		t.Fatal(err)
	}
	p := newPolicy(t, func(c *policy.Config) { c.MasterSecret, c.KeySets = nil, []policy.KeySet{set} })
	defer p.Close()
	claims := validClaims("alice")
	claims["iss"] = "https://id.example"
	wantAlice(t, p, []aliceCase{
		{"key one", mintKid(t, k1, "one", claims), nil},
		{"key two", mintKid(t, k2, "two", claims), nil},
		{"key one under kid two", mintKid(t, k1, "two", claims), policy.ErrInvalidSignature},
		{"an unknown kid", mintKid(t, k1, "three", claims), policy.ErrNoKey},
		{"another issuer", mintKid(t, k1, "one", validClaims("alice")), policy.ErrUnknownIssuer},
	})
}

// aliceCase is a token and what a policy must answer it: alice, or the
// error want.
type aliceCase struct {
	name string
	tok  string
	want error
}

// wantAlice asks p about each case's token.
func wantAlice(t *testing.T, p policy.AuthenticationPolicy, cases []aliceCase) {
	t.Helper()
	for _, tc := range cases {
		uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tc.tok)))
		switch {
		case tc.want == nil && (err != nil || uid != "alice"):
			t.Errorf("%s: %q, %v", tc.name, uid, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// A static key set indexed by kid picks the same keys as a look at every
// key: among many keys, a token's kid picks its own; a kid whose key is of
// another alg falls back to the keys without a kid (of the token's alg); a
// kid no key has, too.
func TestStaticKeySetByKid(t *testing.T) {
	noKid := testkit.MustEC(elliptic.P256())
	keys := []policy.Key{{Algorithm: "ES256", Material: &noKid.PublicKey}}
	ecKeys := map[string]any{}
	for _, kid := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		k := testkit.MustEC(elliptic.P256())
		ecKeys[kid] = k
		keys = append(keys, policy.Key{ID: kid, Algorithm: "ES256", Material: &k.PublicKey})
	}
	rsaKey := testkit.MustRSA(2048)
	keys = append(keys, policy.Key{ID: "rsa", Algorithm: "RS256", Material: &rsaKey.PublicKey})
	set, err := policy.NewStaticKeySet("", keys...)
	if err != nil {
		t.Fatal(err)
	}
	p := newPolicy(t, func(c *policy.Config) {
		c.MasterSecret, c.KeySets, c.Algorithms = nil, []policy.KeySet{set}, []string{"ES256", "RS256"}
	})
	defer p.Close()
	claims := validClaims("alice")
	wantAlice(t, p, []aliceCase{
		{"the last kid's key", mintKid(t, ecKeys["h"], "h", claims), nil},
		{"another kid's key under kid h", mintKid(t, ecKeys["a"], "h", claims), policy.ErrInvalidSignature},
		{"the kid-less key under kid h", mintKid(t, noKid, "h", claims), policy.ErrInvalidSignature},
		{"an ES256 token under the RS256 key's kid: the kid-less key", mintKid(t, noKid, "rsa", claims), nil},
		{"an unknown kid: the kid-less key", mintKid(t, noKid, "zzz", claims), nil},
		{"an unknown kid, another key", mintKid(t, ecKeys["a"], "zzz", claims), policy.ErrInvalidSignature},
	})
}

// What a static key set refuses: no key, an HMAC secret (which is
// Config.MasterSecret), a key that fails Key.Check, and a kid twice.
func TestStaticKeySetRefuses(t *testing.T) {
	ec := testkit.MustEC(elliptic.P256())
	for name, keys := range map[string][]policy.Key{
		"none":      nil,
		"hmac":      {{Algorithm: "HS256", Material: []byte("a secret of thirty-two bytes....")}},
		"weak rsa":  {{Algorithm: "RS256", Material: &testkit.MustRSA(1024).PublicKey}},
		"wrong alg": {{Algorithm: "ES384", Material: &ec.PublicKey}},
		"kid twice": {{ID: "a", Algorithm: "ES256", Material: &ec.PublicKey}, {ID: "a", Algorithm: "ES256", Material: &testkit.MustEC(elliptic.P256()).PublicKey}},
	} {
		if _, err := policy.NewStaticKeySet("", keys...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// resolverFunc is an IssuerResolver of the application's own.
type resolverFunc func(ctx context.Context, iss string) (policy.KeySet, error)

func (f resolverFunc) Resolve(ctx context.Context, iss string) (policy.KeySet, error) {
	return f(ctx, iss)
}
func (resolverFunc) Close() error { return nil }

// A resolver's set verifies the tokens of the issuer it was resolved for
// only: a resolver that answers with the set of another issuer (a bug of
// the application's) is refused, and so is the issuer it refuses.
func TestResolverIssuerChecked(t *testing.T) {
	k := testkit.MustEC(elliptic.P256())
	mk := func(iss string) policy.KeySet {
		s, err := policy.NewStaticKeySet(iss, policy.Key{ID: "k", Algorithm: "ES256", Material: &k.PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good, other := mk("https://good.example"), mk("https://other.example")
	r := resolverFunc(func(_ context.Context, iss string) (policy.KeySet, error) {
		switch iss {
		case "https://good.example":
			return good, nil
		case "https://liar.example":
			return other, nil
		}
		return nil, errors.New("refused")
	})
	p := newPolicy(t, func(c *policy.Config) { c.MasterSecret, c.IssuerResolver = nil, r })
	defer p.Close()
	tok := func(iss string) string {
		c := validClaims("alice")
		c["iss"] = iss
		return mintKid(t, k, "k", c)
	}
	if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok("https://good.example")))); err != nil || uid != "alice" {
		t.Fatalf("the good issuer: %q, %v", uid, err)
	}
	for _, iss := range []string{"https://liar.example", "https://unknown.example", ""} {
		if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok(iss)))); !errors.Is(err, policy.ErrUnknownIssuer) {
			t.Errorf("iss %q: %v, want ErrUnknownIssuer", iss, err)
		}
	}
}

// A token without iss never reaches the resolver: a resolver that
// answered "" with a set for any issuer (Issuer "") would otherwise have
// it verified, since "" is that set's issuer exactly.
func TestResolverNotAskedWithoutIss(t *testing.T) {
	k := testkit.MustEC(elliptic.P256())
	anyIssuer, err := policy.NewStaticKeySet("", policy.Key{ID: "k", Algorithm: "ES256", Material: &k.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	r := resolverFunc(func(_ context.Context, iss string) (policy.KeySet, error) {
		asked.Add(1)
		return anyIssuer, nil // careless: the same set for every iss
	})
	p := newPolicy(t, func(c *policy.Config) { c.MasterSecret, c.IssuerResolver = nil, r })
	defer p.Close()
	tok := mintKid(t, k, "k", validClaims("alice")) // no iss
	if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); !errors.Is(err, policy.ErrUnknownIssuer) {
		t.Errorf("a token without iss: %v, want ErrUnknownIssuer", err)
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the resolver was asked %d times for a token without iss", n)
	}
}

// valueKeySet is a KeySet held by value, of a comparable struct type
// whose interface field holds a slice: its type is comparable, but
// hashing the value (as a map key) panics.
type valueKeySet struct {
	iss  string
	keys any // []policy.Key
}

func (s valueKeySet) Issuer() string { return s.iss }
func (s valueKeySet) Keys(context.Context, string) ([]policy.Key, error) {
	return s.keys.([]policy.Key), nil
}
func (s valueKeySet) Version() uint64 { return 1 }
func (s valueKeySet) Close() error    { return nil }

// A resolver may answer with a set that cannot be a map key: the
// verifier checks its keys on each use rather than panic hashing it.
func TestResolvedSetNotHashable(t *testing.T) {
	k := testkit.MustEC(elliptic.P256())
	keys := []policy.Key{{ID: "k", Algorithm: "ES256", Material: &k.PublicKey}}
	r := resolverFunc(func(_ context.Context, iss string) (policy.KeySet, error) {
		return valueKeySet{iss: iss, keys: keys}, nil
	})
	p := newPolicy(t, func(c *policy.Config) { c.MasterSecret, c.IssuerResolver = nil, r })
	defer p.Close()
	c := validClaims("alice")
	c["iss"] = "https://a.example"
	tok := mintKid(t, k, "k", c)
	for i := range 3 {
		if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); err != nil || uid != "alice" {
			t.Fatalf("request %d: %q, %v", i, uid, err)
		}
	}
}

// A resolver stands for every issuer no other set names: not beside a
// set for any issuer, or the issuer setting; and it is no nil pointer.
func TestResolverConfig(t *testing.T) {
	r := resolverFunc(func(context.Context, string) (policy.KeySet, error) { return nil, errors.New("no") })
	k := testkit.MustEC(elliptic.P256())
	anyIssuer, err := policy.NewStaticKeySet("", policy.Key{Algorithm: "ES256", Material: &k.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]policy.Config{
		"a set for any issuer":    {IssuerResolver: r, KeySets: []policy.KeySet{anyIssuer}},
		"with the issuer setting": {IssuerResolver: r, Issuer: "https://id.example"},
		"a nil resolver":          {IssuerResolver: (*keyset.Resolver)(nil)},
		"a nil key set":           {KeySets: []policy.KeySet{nil}},
	} {
		cfg.Logger = discard
		if _, err := policy.NewJWT(cfg); !errors.Is(err, policy.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}
