package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pyramid-go/jwtauth/policy"
)

// The scale benchmarks run this project alone, through the same chi router
// as BenchmarkAuth, at sizes a real deployment reaches:
//
//   - work=cycle (HS256, where the cache's own cost shows most): a working
//     set of cycleSize distinct tokens cycled through a policy with
//     cache_size cycleCache, so that most requests miss (impl=jwtauth-cycle-50k),
//     against the cold path of the same policy, a new token on every
//     request (impl=jwtauth-cold). Target: no more than cold.
//
//   - work=keys (ES256 and EdDSA; RSA keys are too slow to generate by the
//     thousand): cold tokens that name a kid, verified with a static key
//     set of one key (impl=keys-1) and of manyKeys keys whose last one signs
//     them (impl=keys-1000). Target: within 1.05× of one key, no allocation
//     for key selection (allocs/op no more than one key's).
//
//   - work=heap (HS256): the heap of the verified-token cache filled with
//     heapEntries tokens of heapTokenBytes bytes, reported as B/entry
//     (HeapAlloc after minus before, after a GC, over the entries cached).
//     Target: at most 700 B.
//
// They run alone with
//
//	go test -run '^$' -bench Scale -benchmem -count 5 | go run ./cmd/benchtable
const (
	cycleSize      = 50_000
	cycleCache     = 10_000
	manyKeys       = 1000
	heapEntries    = 10_000
	heapTokenBytes = 500
)

// BenchmarkScale runs the three scale workloads.
func BenchmarkScale(b *testing.B) {
	b.Run("alg=HS256/work=cycle/impl=jwtauth-cold", func(b *testing.B) {
		c := contender{"jwtauth", func(k *keyset) (http.Handler, error) {
			return oursWith(k, func(c *policy.Config) { c.CacheSize = cycleCache })
		}}
		benchRouter(b, "HS256", "cold", c)
	})
	b.Run("alg=HS256/work=cycle/impl=jwtauth-cycle-50k", benchCycle)
	for _, alg := range []string{"ES256", "EdDSA"} {
		for _, n := range []int{1, manyKeys} {
			b.Run(fmt.Sprintf("alg=%s/work=keys/impl=keys-%d", alg, n), func(b *testing.B) {
				benchKeys(b, alg, n)
			})
		}
	}
	b.Run(fmt.Sprintf("alg=HS256/work=heap/impl=cache-%d", heapEntries), benchHeap)
}

// cycleState is the cycle workload's policy and where in its working set
// the last run stopped: a run continues the cycle, so that every run sees
// the cache as it is in the long run (the set was cycled twice before the
// first), not as it is filling.
var cycleState struct {
	sync.Mutex
	h    http.Handler
	toks []token
	next int
}

func benchCycle(b *testing.B) {
	s := &cycleState
	s.Lock()
	defer s.Unlock()
	k := keys()["HS256"]
	req := httptest.NewRequest(http.MethodGet, path, nil)
	auth := []string{""}
	req.Header["Authorization"] = auth
	if s.h == nil {
		h, err := oursWith(k, func(c *policy.Config) { c.CacheSize = cycleCache })
		if err != nil {
			b.Fatal(err)
		}
		if err := check(h, k); err != nil {
			b.Fatal(err)
		}
		s.h, s.toks = h, poolOf(cycleTokens, "HS256", 6_000_000).take(cycleSize)
		for range 2 {
			for i := range s.toks {
				auth[0] = s.toks[i].header
				s.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		}
	}
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := &s.toks[s.next]
		s.next = (s.next + 1) % len(s.toks)
		auth[0] = t.header
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || string(w.Body.Bytes()) != t.sub {
			b.Fatalf("got %d %q for %s", w.Code, w.Body.String(), t.sub)
		}
	}
}

var cycleTokens = map[string]*pool{}

// signingKid is the kid of the key that signs the key workload's tokens,
// the last of the many keys' set.
const signingKid = "key-signing"

// manyKeySets holds, per algorithm, manyKeys-1 public keys of its own, the
// other keys of the large set.
var (
	manyKeysMu sync.Mutex
	decoyKeys  = map[string][]policy.Key{}
)

func decoysOf(alg string) []policy.Key {
	manyKeysMu.Lock()
	defer manyKeysMu.Unlock()
	if d, ok := decoyKeys[alg]; ok {
		return d
	}
	d := make([]policy.Key, manyKeys-1)
	for i := range d {
		var pub crypto.PublicKey
		switch alg {
		case "ES256":
			priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic(err)
			}
			pub = &priv.PublicKey
		case "EdDSA":
			p, _, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				panic(err)
			}
			pub = p
		default:
			panic("no decoy keys for " + alg)
		}
		d[i] = policy.Key{ID: fmt.Sprintf("key-%04d", i), Algorithm: alg, Material: pub}
	}
	decoyKeys[alg] = d
	return d
}

// keySetRouter is ours with a static key set of n keys, the signing key
// last (the others are decoysOf(alg)), in place of the public key.
func keySetRouter(k *keyset, n int) (http.Handler, error) {
	keys := append(append([]policy.Key(nil), decoysOf(k.alg)[:n-1]...), policy.Key{ID: signingKid, Algorithm: k.alg, Material: k.verify})
	set, err := policy.NewStaticKeySet(issuer, keys...)
	if err != nil {
		return nil, err
	}
	return oursWith(k, func(c *policy.Config) {
		c.PublicKey = nil
		c.KeySets = []policy.KeySet{set}
	})
}

var kidCold = map[string]*pool{}

// kidTokens returns n distinct tokens that name signingKid.
func kidTokens(alg string, n int) []token {
	return poolOfWith(kidCold, alg, 0, func(t *jwt.Token) { t.Header["kid"] = signingKid }).take(n)
}

// checkKeySet asserts that a key set router authenticates by kid: a good
// token is 200, and refused are a token signed by another key under the
// signing kid, one of the signing key that names another key's kid, an
// expired one and one for another audience.
func checkKeySet(h http.Handler, k *keyset, decoyKid string) error {
	now := time.Now()
	kid := func(id string) func(*jwt.Token) { return func(t *jwt.Token) { t.Header["kid"] = id } }
	good := mintWith(k, k.sign, 9_100_000, now, kid(signingKid))
	bad := map[string]token{
		"another key":      mintWith(k, k.other, 9_100_001, now, kid(signingKid)),
		"another kid":      mintWith(k, k.sign, 9_100_002, now, kid(decoyKid)),
		"expired":          mintWith(k, k.sign, 9_100_003, now.Add(-2*time.Hour), kid(signingKid)),
		"another audience": mintWith(k, k.sign, 9_100_004, now, func(t *jwt.Token) { kid(signingKid)(t); t.Claims.(jwt.MapClaims)["aud"] = "another-api" }),
	}
	do := func(t token) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", t.header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := do(good); w.Code != http.StatusOK || w.Body.String() != good.sub {
		return fmt.Errorf("good token: got %d %q, want 200 %q", w.Code, w.Body.String(), good.sub)
	}
	for name, t := range bad {
		if w := do(t); w.Code != http.StatusUnauthorized {
			return fmt.Errorf("%s: got %d %q, want 401", name, w.Code, w.Body.String())
		}
	}
	return nil
}

func benchKeys(b *testing.B, alg string, n int) {
	k := keys()[alg]
	h, err := keySetRouter(k, n)
	if err != nil {
		b.Fatal(err)
	}
	if err := checkKeySet(h, k, "key-0000"); err != nil {
		b.Fatal(err)
	}
	toks := kidTokens(alg, b.N)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	auth := []string{""}
	req.Header["Authorization"] = auth
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := &toks[i]
		auth[0] = t.header
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || string(w.Body.Bytes()) != t.sub {
			b.Fatalf("got %d %q for %s", w.Code, w.Body.String(), t.sub)
		}
	}
}

// heapTokens are heapEntries HS256 tokens of heapTokenBytes bytes each (a
// pad claim makes up the length), minted once.
var heapTokens = sync.OnceValue(func() []string {
	k := keys()["HS256"]
	now := time.Now()
	padded := func(n, pad int) token {
		return mintWith(k, k.sign, n, now, func(t *jwt.Token) { t.Claims.(jwt.MapClaims)["pad"] = strings.Repeat("x", pad) })
	}
	pad := 0
	for len(padded(0, pad).raw) < heapTokenBytes {
		pad++
	}
	out := make([]string, heapEntries)
	for i := range out {
		out[i] = padded(3_000_000+i, pad).raw
	}
	return out
})

// heapPerEntry fills a new policy's cache (cache_size heapEntries and a
// tenth) with the heap tokens, presenting them until each is cached (a
// token is cached the second time it verifies), and returns the growth of
// the live heap over the entries cached. The headers presented are fresh copies, dropped
// before the heap is read, so that what the cache keeps of them counts.
func heapPerEntry(tb testing.TB) (perEntry float64, entries int) {
	k := keys()["HS256"]
	raws := heapTokens()
	// Room for a tenth more: at exactly its size, otter's admission may
	// turn a few newcomers away for the entries it holds.
	p, h, err := oursPolicy(k, func(c *policy.Config) { c.CacheSize = heapEntries + heapEntries/10 })
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	headers := make([]string, len(raws))
	for i, raw := range raws {
		headers[i] = "Bearer " + raw
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	ctx := context.Background()
	cached := 0
	for pass := 0; pass < 8 && cached < len(raws); pass++ {
		for i := range headers {
			req.Header.Set("Authorization", headers[i])
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				tb.Fatalf("a heap token got %d", w.Code)
			}
		}
		cached = 0
		for _, raw := range raws {
			if _, ok := p.Verifier().Known(ctx, raw); ok {
				cached++
			}
		}
	}
	if cached == 0 {
		tb.Fatal("no token was cached")
	}
	headers, req = nil, nil
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(h)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(cached), cached
}

func benchHeap(b *testing.B) {
	heapTokens() // minted outside the timer
	sum, entries := 0.0, 0
	b.ResetTimer()
	for b.Loop() {
		per, n := heapPerEntry(b)
		sum += per
		entries = n
	}
	b.ReportMetric(sum/float64(b.N), "B/entry")
	b.ReportMetric(float64(entries), "entries")
}

// TestScaleContenders: the key set routers verify by kid, with one key and
// with many, and the heap measure fills the cache with tokens of the size
// it names.
func TestScaleContenders(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		for _, n := range []int{1, manyKeys} {
			t.Run(fmt.Sprintf("%s/keys-%d", alg, n), func(t *testing.T) {
				h, err := keySetRouter(keys()[alg], n)
				if err != nil {
					t.Fatal(err)
				}
				if err := checkKeySet(h, keys()[alg], "key-0000"); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	t.Run("heap", func(t *testing.T) {
		for _, raw := range heapTokens()[:3] {
			if len(raw) != heapTokenBytes {
				t.Fatalf("a heap token has %d bytes, not %d", len(raw), heapTokenBytes)
			}
		}
		per, n := heapPerEntry(t)
		if n != heapEntries {
			t.Errorf("%d of %d tokens cached", n, heapEntries)
		}
		t.Logf("%.0f B per cached entry, %d entries", per, n)
	})
}
