package policy

import (
	"context"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// DefaultCacheSize is the default number of verified tokens the policy
// remembers; NoCache, as Config.CacheSize, turns the cache off.
const (
	DefaultCacheSize = 10_000
	NoCache          = -1
)

// cachedToken is what a verified token's check found that holds until its
// times run out: its claims (decoded when first asked for) and userid, its
// times, and the key set that verified it, with its version then. It is
// kept small, since the cache holds one per token (64 bytes: otter's node
// of header, key and value is then 128): what most tokens lack is behind
// extra, nil when they lack all of it.
type cachedToken struct {
	claims *claimSet
	userid string
	// exp and iat; NaN for one the token lacks.
	exp, iat float64
	keys     keysUsed
	extra    *cachedExtra
}

// cachedExtra is what a cached token has beyond its userid and times.
type cachedExtra struct {
	nbf    float64 // NaN when the token has none
	jti    string
	scopes []string // the principals of its scopes (Config.ScopePrincipals)
	jkt    string   // its cnf.jkt
	// notRevoked is the revocation store's version when it last said the
	// token was not revoked (0: never); nil without a store.
	notRevoked *atomic.Uint64
}

// times are the entry's token times.
func (e *cachedToken) times() tokenTimes {
	nbf := math.NaN()
	if e.extra != nil {
		nbf = e.extra.nbf
	}
	return tokenTimes{
		exp: e.exp, nbf: nbf, iat: e.iat,
		hasExp: !math.IsNaN(e.exp), hasNbf: !math.IsNaN(nbf), hasIat: !math.IsNaN(e.iat),
	}
}

// orNaN is t, or NaN when the token lacks it.
func orNaN(t float64, has bool) float64 {
	if !has {
		return math.NaN()
	}
	return t
}

// The verified-token cache skips the signature and the decoding of a token
// presented again, byte for byte, under the same keys. It is safe because
// nothing else that verification depends on can differ between two
// presentations of the same bytes: the signature covers the header and the
// claims, and aud and iss were checked against a configuration that does
// not change. What does change is the clock, so exp, nbf and iat are held
// against it on every use, and the keys, so an entry verified under other
// keys than the current ones is not used. Failed tokens are not cached.
// Entries leave the cache when their token expires, and it holds at most
// CacheSize of them (each a copy of the token, no longer than
// MaxTokenBytes, an entry of about 250 bytes, and its claims once someone
// has asked for them).
func newTokenCache(size int, now func() time.Time) (*otter.Cache[string, cachedToken], error) {
	return otter.New(&otter.Options[string, cachedToken]{
		MaximumSize: size,
		// The maintenance that reads and writes leave to do (draining
		// otter's buffers, evicting) runs on the goroutine that left it,
		// which otter allows when the cache is never called from its
		// callbacks (the expiry calculator only reads the entry and the
		// clock): a goroutine started for it on every drain cost the warm
		// path more than the drain itself.
		Executor: func(fn func()) { fn() },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, cachedToken]) time.Duration {
			return cacheLifetime(e.Value.times(), now())
		}),
	})
}

// cacheLifetime keeps an entry until its token's exp by the policy's
// clock, or for a day when it has none (the size bound and the keys'
// version still apply).
func cacheLifetime(t tokenTimes, now time.Time) time.Duration {
	if !t.hasExp {
		return 24 * time.Hour
	}
	left := min(max(t.exp-float64(now.UnixNano())/1e9, 1), 24*60*60) // seconds
	return time.Duration(left * float64(time.Second))
}

// cached returns the verdict for a token verified before under the current
// keys, after holding its times against the clock; ok is false when the
// full verification must run (a miss, other keys, or times that now fail,
// whose error the full run reports). An entry records the version its key
// set had before its keys were read: keys that change during a
// verification make the entry stale at once, never the other way round.
func (v *Verifier) cached(raw string) (VerifiedToken, bool) {
	if v.cache == nil {
		return VerifiedToken{}, false
	}
	e, ok := v.cache.GetIfPresent(raw)
	if !ok || !e.keys.current() {
		v.cfg.Observer.cacheLookup(false) // the one place of a cache miss
		return VerifiedToken{}, false
	}
	times := e.times()
	if v.checkTimes(times) != nil {
		v.cfg.Observer.cacheLookup(false) // a miss too: the full run reports why
		return VerifiedToken{}, false
	}
	v.cfg.Observer.cacheLookup(true) // the one place of a cache hit
	t := VerifiedToken{claims: e.claims, UserID: e.userid, HasUserID: true, times: times}
	if x := e.extra; x != nil {
		t.jti, t.scopes, t.jkt, t.notRevoked = x.jti, x.scopes, x.jkt, x.notRevoked
	}
	return t, true
}

// Known answers a token verified before from the cache, as Verify would
// (its revocation checked again); ok is false when it must be verified. A
// transport whose fast path found a token this way passes a miss to
// verify with lookUp false.
func (v *Verifier) Known(ctx context.Context, raw string) (VerifiedToken, bool) {
	if len(raw) > v.cfg.MaxTokenBytes {
		return VerifiedToken{}, false
	}
	t, ok := v.cached(raw)
	if !ok {
		return t, false
	}
	return v.notRevoked(ctx, t), true
}

// remember caches a verified token's verdict, the second time the token
// verifies: a token presented once (most tokens of a flood, or of a
// client that makes one call) never pays for a cache entry. A token whose
// key set was at version 0 is never cached (see KeySet.Version). It
// returns the entry's record of the revocation check (see
// Verifier.notRevoked); nil when there is none.
func (v *Verifier) remember(raw string, t VerifiedToken, times tokenTimes, used keysUsed) *atomic.Uint64 {
	if v.cache == nil || v.cfg.DisableVerifySignature || used.version == 0 || !v.seen.again(raw) {
		return nil
	}
	// The token may be part of a larger string (a Cookie header holds
	// every cookie of the request): the cache keeps a copy of its bytes
	// alone, as its key and its claim set's.
	raw = strings.Clone(raw)
	e := cachedToken{
		claims: &claimSet{raw: raw}, userid: t.UserID, keys: used,
		exp: orNaN(times.exp, times.hasExp), iat: orNaN(times.iat, times.hasIat),
	}
	var notRevoked *atomic.Uint64
	if v.cfg.Revocation != nil {
		notRevoked = new(atomic.Uint64)
	}
	if times.hasNbf || t.jti != "" || t.scopes != nil || t.jkt != "" || notRevoked != nil {
		e.extra = &cachedExtra{nbf: orNaN(times.nbf, times.hasNbf), jti: t.jti, scopes: t.scopes, jkt: t.jkt, notRevoked: notRevoked}
	}
	v.cache.Set(raw, e)
	return notRevoked
}

// doorkeeper remembers, lossily and without locks, which tokens were
// verified once and are not cached yet: hashes in buckets of four slots, so
// that tokens whose hashes share a bucket do not keep pushing each other
// out, and a token seen again leaves its slot as it goes into the cache. A
// lost hash only delays a token's caching; it never lets a token skip
// verification, since the cache itself is keyed by the whole token.
type doorkeeper struct {
	seed  maphash.Seed
	slots []atomic.Uint64 // len is a multiple of doorkeeperWays
}

const doorkeeperWays = 4

func newDoorkeeper(size int) doorkeeper {
	n := max(size, 1024)
	n -= n % doorkeeperWays
	return doorkeeper{seed: maphash.MakeSeed(), slots: make([]atomic.Uint64, n)}
}

// again reports whether raw was seen before. If it was, its slot is freed,
// since the caller caches it; if not, it is marked seen.
func (d *doorkeeper) again(raw string) bool {
	sum := maphash.String(d.seed, raw)
	h := sum | 1 // never 0, the empty slot
	buckets := uint64(len(d.slots) / doorkeeperWays)
	bucket := d.slots[(sum>>1)%buckets*doorkeeperWays:][:doorkeeperWays]
	for i := range bucket {
		if bucket[i].Load() == h {
			// Left in place, the hash of a cached token would hold the
			// slot for good, and tokens arriving later would fight over
			// the slots that remain.
			bucket[i].CompareAndSwap(h, 0)
			return true
		}
	}
	// Into an empty slot, else over one picked at random: a victim fixed
	// by the hash would let two tokens that come in turn push each other
	// out on every pass.
	for i := range bucket {
		if bucket[i].CompareAndSwap(0, h) {
			return false
		}
	}
	bucket[rand.N(doorkeeperWays)].Store(h)
	return false
}
