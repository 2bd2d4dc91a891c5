package policy_test

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"math/big"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// countingKeySet is a KeySet whose keys the test swaps, counting how often
// the policy asks for them: once per token it really verifies.
type countingKeySet struct {
	mu      sync.Mutex
	keys    []policy.Key
	version atomic.Uint64
	calls   atomic.Int64
	// bumpOnKeys changes the version on every Keys call, as a rotation
	// landing in the middle of a verification would.
	bumpOnKeys atomic.Bool
}

func (s *countingKeySet) Issuer() string  { return "" }
func (s *countingKeySet) Version() uint64 { return s.version.Load() }
func (s *countingKeySet) Close() error    { return nil }
func (s *countingKeySet) Keys(context.Context, string) ([]policy.Key, error) {
	s.calls.Add(1)
	if s.bumpOnKeys.Load() {
		s.version.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys, nil
}

func (s *countingKeySet) set(keys ...policy.Key) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
	s.version.Add(1)
}

func es256Key(id string) policy.Key {
	return policy.Key{ID: id, Algorithm: "ES256", Material: &p256Once().PublicKey}
}

func TestVerifiedTokenCache(t *testing.T) {
	now := testNow
	var mu sync.Mutex
	clockNow := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	newSetPolicy := func(t *testing.T, cacheSize int) (*policy.JWT, *countingKeySet) {
		set := &countingKeySet{}
		set.set(es256Key("k1"))
		p, err := policy.NewJWT(policy.Config{KeySets: []policy.KeySet{set}, CacheSize: cacheSize, Now: clockNow, Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		return p, set
	}
	tokenOf := func(t *testing.T, claims map[string]any) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p256Once()},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		return testkit.MintSigned(t, signer, claims)
	}
	token := func(t *testing.T, exp time.Time) string {
		return tokenOf(t, map[string]any{"sub": "alice", "exp": exp.Unix(), "role": "reader"})
	}
	auth := func(p *policy.JWT, tok string) (string, error) {
		return p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
	}

	t.Run("a token presented again skips the signature", func(t *testing.T) {
		p, set := newSetPolicy(t, 0)
		tok := token(t, now.Add(time.Hour))
		for i := range 5 {
			if u, err := auth(p, tok); err != nil || u != "alice" {
				t.Fatalf("request %d: %q, %v", i, u, err)
			}
		}
		// Cached when it verifies the second time, so that a token seen
		// once costs no entry; every later presentation is a hit.
		if n := set.calls.Load(); n != 2 {
			t.Fatalf("the keys were asked for %d times; want 2", n)
		}
	})
	t.Run("nothing is cached or answered under version 0", func(t *testing.T) {
		// Version 0 is a set that vouches for no keys (a resolver's set
		// once dropped): a token it verifies is verified every time, and
		// an entry cached under a version before it is not answered.
		p, set := newSetPolicy(t, 0)
		tok := token(t, now.Add(time.Hour))
		set.version.Store(0)
		for i := range 3 {
			if u, err := auth(p, tok); err != nil || u != "alice" {
				t.Fatalf("request %d at version 0: %q, %v", i, u, err)
			}
		}
		if n := set.calls.Load(); n != 3 {
			t.Fatalf("at version 0 the keys were asked for %d times in 3 requests; want 3 (nothing cached)", n)
		}
		set.version.Store(5)
		for range 3 {
			if _, err := auth(p, tok); err != nil {
				t.Fatal(err)
			}
		}
		before := set.calls.Load() // cached under version 5
		set.version.Store(0)
		if _, err := auth(p, tok); err != nil {
			t.Fatal(err)
		}
		if n := set.calls.Load() - before; n != 1 {
			t.Errorf("after the version fell to 0 the token was verified %d times; want 1 (not answered from the cache)", n)
		}
	})
	t.Run("an entry answers for its exact bytes only", func(t *testing.T) {
		// ECDSA signatures have two valid values, (r, s) and (r, n-s),
		// so one token has two spellings that verify. The cache is keyed
		// by the whole token: the other spelling is verified on its own,
		// and another signature under the same header and payload is
		// never answered from the entry.
		p, set := newSetPolicy(t, 0)
		tok := token(t, now.Add(time.Hour))
		for range 3 {
			if u, err := auth(p, tok); err != nil || u != "alice" {
				t.Fatalf("%q, %v", u, err)
			}
		}
		cut := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[cut+1:])
		if err != nil || len(sig) != 64 {
			t.Fatalf("an ES256 signature of %d bytes: %v", len(sig), err)
		}
		s := new(big.Int).SetBytes(sig[32:])
		s.Sub(p256Once().Curve.Params().N, s).FillBytes(sig[32:])
		twin := tok[:cut+1] + base64.RawURLEncoding.EncodeToString(sig)
		before := set.calls.Load()
		if u, err := auth(p, twin); err != nil || u != "alice" {
			t.Fatalf("the (r, n-s) twin: %q, %v", u, err)
		}
		if n := set.calls.Load() - before; n != 1 {
			t.Errorf("the twin was verified %d times; want 1 (its own verification, not the entry of the other spelling)", n)
		}
		if u, err := auth(p, testkit.BreakSignature(t, tok)); !errors.Is(err, policy.ErrInvalidSignature) {
			t.Errorf("a broken signature of a cached token: %q, %v", u, err)
		}
	})
	t.Run("a pool of a thousand tokens is cached whole", func(t *testing.T) {
		// Each token verifies twice, then hits. The doorkeeper is lossy:
		// a bucket of four slots that five of the tokens share (in about
		// one run in ninety) costs a token a third verification, and a
		// crowded one a few more. In 20,000 simulated runs, passes 3 on
		// cost at most 6 verifications, none after pass 4; even with half
		// the slots, at most 17, none after pass 6.
		p, set := newSetPolicy(t, 0)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p256Once()},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		toks := make([]string, 1000)
		for i := range toks {
			toks[i] = testkit.MintSigned(t, signer, map[string]any{"sub": "u" + strconv.Itoa(i), "exp": now.Add(time.Hour).Unix()})
		}
		var perPass [8]int64
		for pass := range perPass {
			before := set.calls.Load()
			for _, tok := range toks {
				if _, err := auth(p, tok); err != nil {
					t.Fatal(err)
				}
			}
			perPass[pass] = set.calls.Load() - before
		}
		var later int64
		for _, n := range perPass[2:] {
			later += n
		}
		if perPass[0] != 1000 || perPass[1] != 1000 || later > 50 || perPass[6]+perPass[7] != 0 {
			t.Fatalf("the keys were asked for %v times in 8 passes over 1000 tokens; want 1000, 1000, a few, then none", perPass)
		}
	})
	t.Run("keys that change during a verification leave no fresh entry", func(t *testing.T) {
		p, set := newSetPolicy(t, 0)
		tok := token(t, now.Add(time.Hour))
		if _, err := auth(p, tok); err != nil { // seen once
			t.Fatal(err)
		}
		set.bumpOnKeys.Store(true) // the set rotates while the policy verifies
		if _, err := auth(p, tok); err != nil {
			t.Fatal(err)
		}
		set.bumpOnKeys.Store(false)
		calls := set.calls.Load()
		if _, err := auth(p, tok); err != nil {
			t.Fatal(err)
		}
		if set.calls.Load() != calls+1 {
			t.Fatal("an entry recorded under keys that changed during its verification was used")
		}
	})
	t.Run("NoCache verifies every time", func(t *testing.T) {
		p, set := newSetPolicy(t, policy.NoCache)
		tok := token(t, now.Add(time.Hour))
		for range 3 {
			if _, err := auth(p, tok); err != nil {
				t.Fatal(err)
			}
		}
		if n := set.calls.Load(); n != 3 {
			t.Fatalf("the keys were asked for %d times; want 3", n)
		}
	})
	t.Run("times are held against the clock on every use", func(t *testing.T) {
		p, _ := newSetPolicy(t, 0)
		tok := token(t, now.Add(time.Minute))
		for range 3 {
			if _, err := auth(p, tok); err != nil {
				t.Fatal(err)
			}
		}
		advance(2 * time.Minute)
		if _, err := auth(p, tok); !errors.Is(err, policy.ErrTokenExpired) {
			t.Fatalf("a cached token past its exp: err = %v; want ErrTokenExpired", err)
		}
	})
	t.Run("a cached token's nbf is held against a clock set back", func(t *testing.T) {
		// nbf is kept beside the rarer fields of an entry; a clock set
		// back before it (past the leeway) must refuse the cached token
		// as the full verification would, and iat and exp still count.
		p, set := newSetPolicy(t, 0)
		tok := tokenOf(t, map[string]any{"sub": "alice", "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		for range 3 {
			if _, err := auth(p, tok); err != nil {
				t.Fatal(err)
			}
		}
		calls := set.calls.Load()
		advance(-10 * time.Minute)
		_, err := auth(p, tok)
		advance(10 * time.Minute)
		if !errors.Is(err, policy.ErrTokenNotYetValid) {
			t.Fatalf("a cached token before its nbf: err = %v; want ErrTokenNotYetValid", err)
		}
		if _, err := auth(p, tok); err != nil { // the entry answers again
			t.Fatal(err)
		}
		if n := set.calls.Load(); n != calls+1 {
			t.Errorf("the keys were asked %d times since the token was cached; want 1 (the refusal's full verification)", n-calls)
		}
	})
	t.Run("new keys empty the cache", func(t *testing.T) {
		p, set := newSetPolicy(t, 0)
		tok := token(t, now.Add(time.Hour))
		if _, err := auth(p, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := auth(p, tok); err != nil { // now cached
			t.Fatal(err)
		}
		set.set(es256Key("k2")) // k1 retired
		if _, err := auth(p, tok); !errors.Is(err, policy.ErrNoKey) {
			t.Fatalf("a token of a retired key: err = %v; want ErrNoKey", err)
		}
		if n := set.calls.Load(); n != 3 {
			t.Fatalf("the keys were asked for %d times; want 3", n)
		}
	})
	t.Run("changing the claims handed out changes no later request", func(t *testing.T) {
		p, _ := newSetPolicy(t, 0)
		tok := token(t, now.Add(time.Hour))
		if _, err := p.Claims(newRequest(jwtAuth(tok))); err != nil {
			t.Fatal(err)
		}
		c, err := p.Claims(newRequest(jwtAuth(tok))) // verified again, and cached
		if err != nil {
			t.Fatal(err)
		}
		c["role"] = "admin"
		c2, err := p.Claims(newRequest(jwtAuth(tok)))
		if err != nil {
			t.Fatal(err)
		}
		if c2["role"] != "reader" {
			t.Fatalf("role = %v after a caller changed its copy; want reader", c2["role"])
		}
	})
	t.Run("failed tokens are not cached", func(t *testing.T) {
		p, set := newSetPolicy(t, 0)
		tok := token(t, now.Add(time.Hour))
		bad := testkit.BreakSignature(t, tok)
		for range 2 {
			if _, err := auth(p, bad); !errors.Is(err, policy.ErrInvalidSignature) {
				t.Fatalf("err = %v; want ErrInvalidSignature", err)
			}
		}
		if n := set.calls.Load(); n != 2 {
			t.Fatalf("the keys were asked for %d times; want 2", n)
		}
	})
	t.Run("a cached token is read from every header as without a cache", func(t *testing.T) {
		// The fast path reads a known token without parsing the header:
		// each header must get the answer of a policy with no cache.
		cached, _ := newSetPolicy(t, 0)
		uncached, _ := newSetPolicy(t, policy.NoCache)
		tok := token(t, now.Add(time.Hour))
		for range 2 { // verified twice: cached
			if _, err := auth(cached, tok); err != nil {
				t.Fatal(err)
			}
		}
		for _, headers := range [][]string{
			{"JWT token=" + tok},
			{"jwt TOKEN=" + tok},
			{"JWT " + tok},
			{`JWT token="` + tok + `"`},
			{"JWT token=" + tok + " "},
			{"JWT  token=" + tok},
			{"JWT\ttoken=" + tok},
			{"JWT token=\t" + tok},
			{"JWT token=" + tok, "JWT token=" + tok},
			{"JWT token=" + tok, "Basic dXNlcjpwYXNz"},
			{"JWT token=" + tok + ", token=" + tok},
			{"JWT token=" + tok + `, realm="api"`},
			{"JWT token"},
			{"JWTtoken=" + tok},
			{"Bearer " + tok},
			{"JWT token=" + tok + "x"},
			{"KWT token=" + tok},
		} {
			gotUser, gotErr := cached.AuthenticatedUserID(newRequest(headers...))
			wantUser, wantErr := uncached.AuthenticatedUserID(newRequest(headers...))
			if gotUser != wantUser || reasonOf(gotErr) != reasonOf(wantErr) {
				t.Errorf("%q: with the cache %q, %v; without %q, %v", headers, gotUser, gotErr, wantUser, wantErr)
			}
		}
	})
	t.Run("a cached token's claims are the verified ones, decoded when asked", func(t *testing.T) {
		// The cache keeps the payload and decodes it on first use: the
		// claims a later request gets, and those its group finder sees,
		// equal those of the first verification, whoever asks first.
		var seen sync.Map // request number -> claims given to the finder
		var n atomic.Int64
		set := &countingKeySet{}
		set.set(es256Key("k1"))
		p, err := policy.NewJWT(policy.Config{KeySets: []policy.KeySet{set}, Now: clockNow, Logger: discard,
			GroupFinder: func(userid string, r *http.Request, c policy.Claims) ([]string, bool) {
				seen.Store(n.Add(1), maps.Clone(c))
				return []string{"g"}, true
			}})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := policy.NewJWT(policy.Config{KeySets: []policy.KeySet{set}, Now: clockNow, Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		tok := token(t, now.Add(time.Hour))
		want, err := policy.NewJWT(policy.Config{KeySets: []policy.KeySet{set}, CacheSize: policy.NoCache, Now: clockNow, Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		wantClaims, err := want.Claims(newRequest(jwtAuth(tok)))
		if err != nil || wantClaims["role"] != "reader" {
			t.Fatalf("claims without cache: %v, %v", wantClaims, err)
		}
		for _, q := range []*policy.JWT{p, plain} {
			for range 2 { // verified twice: cached, its claims not decoded
				if _, err := q.AuthenticatedUserID(newRequest(jwtAuth(tok))); err != nil {
					t.Fatal(err)
				}
			}
		}
		var wg sync.WaitGroup
		for range 8 { // hits, asking at once
			wg.Go(func() {
				for _, q := range []*policy.JWT{p, plain} {
					r := policy.WithIdentity(newRequest(jwtAuth(tok)), q)
					if _, err := q.AuthenticatedUserID(r); err != nil {
						t.Error(err)
					}
					if c, err := q.Claims(r); err != nil || !reflect.DeepEqual(c, wantClaims) {
						t.Errorf("claims of a cached token: %v, %v; want %v", c, err, wantClaims)
					}
				}
			})
		}
		wg.Wait()
		seen.Range(func(k, v any) bool {
			if !reflect.DeepEqual(v, wantClaims) {
				t.Errorf("request %v: the group finder saw %v; want %v", k, v, wantClaims)
			}
			return true
		})
		if n.Load() != 10 {
			t.Errorf("the group finder was asked %d times; want 10 (once a request)", n.Load())
		}
	})
	t.Run("a negative size other than NoCache is refused", func(t *testing.T) {
		_, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, CacheSize: -5, Logger: discard})
		var ce *policy.ConfigError
		if !errors.As(err, &ce) || ce.Key != "cache_size" {
			t.Fatalf("err = %v; want a ConfigError for cache_size", err)
		}
	})
}

// reasonOf is err's reason (its *InvalidTokenError's), or err itself.
func reasonOf(err error) error {
	if ite, ok := errors.AsType[*policy.InvalidTokenError](err); ok {
		return ite.Reason
	}
	return err
}
