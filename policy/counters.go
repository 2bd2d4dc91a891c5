package policy

import (
	"sync"
	"sync/atomic"
)

// Counters counts the events of an Observer, for an application to read
// (Snapshot) and export: to expvar, Prometheus or OpenTelemetry (see the
// README). Their names are those of Envoy's jwt_authn filter where they
// match. Its zero value is ready to use, and it is safe for concurrent
// use; give its Observer to the policies.
type Counters struct {
	allowed, denied           atomic.Uint64
	cacheHit, cacheMiss       atomic.Uint64
	fetchSuccess, fetchFailed atomic.Uint64
	revoked, revocationDown   atomic.Uint64
	dpopReplay                atomic.Uint64

	deniedBy, allowedBy labels
}

// MaxCounterLabels bounds the reasons (and the policy names) Counters
// counts apart: the reasons are the module's sentinels and the names a
// stack's configured ones, far fewer; past the bound, they are counted
// under OtherLabel.
const MaxCounterLabels = 64

// OtherLabel is the reason or policy name under which Counters counts
// those past MaxCounterLabels.
const OtherLabel = "other"

// Observer returns an Observer that counts into c.
func (c *Counters) Observer() *Observer {
	return &Observer{
		Authenticated: func(policy string) {
			c.allowed.Add(1)
			if policy != "" {
				c.allowedBy.add(policy)
			}
		},
		Refused: func(_ string, reason error) {
			c.denied.Add(1)
			if reason != nil {
				c.deniedBy.add(reason.Error())
			}
		},
		CacheHit:  func() { c.cacheHit.Add(1) },
		CacheMiss: func() { c.cacheMiss.Add(1) },
		KeySetFetched: func(_ string, ok bool) {
			if ok {
				c.fetchSuccess.Add(1)
			} else {
				c.fetchFailed.Add(1)
			}
		},
		Revoked:               func() { c.revoked.Add(1) },
		RevocationUnavailable: func() { c.revocationDown.Add(1) },
		DPoPReplay:            func() { c.dpopReplay.Add(1) },
	}
}

// CountersSnapshot is what Counters counted, at one moment; its JSON names
// are the counters' names.
type CountersSnapshot struct {
	// Allowed counts the requests authenticated.
	Allowed uint64 `json:"allowed"`
	// AllowedByPolicy counts them by the name of the policy of a stack
	// that authenticated them (a policy alone has none).
	AllowedByPolicy map[string]uint64 `json:"allowed_by_policy"`
	// Denied counts the requests refused: credentials that failed, or a
	// user rejected (not the requests without credentials).
	Denied uint64 `json:"denied"`
	// DeniedByReason counts them by the text of their reason (Reason),
	// such as "invalid signature" or "token expired".
	DeniedByReason map[string]uint64 `json:"denied_by_reason"`
	// JWTCacheHit and JWTCacheMiss count the look-ups in the
	// verified-token cache.
	JWTCacheHit  uint64 `json:"jwt_cache_hit"`
	JWTCacheMiss uint64 `json:"jwt_cache_miss"`
	// JWKSFetchSuccess and JWKSFetchFailed count the key-set fetches.
	JWKSFetchSuccess uint64 `json:"jwks_fetch_success"`
	JWKSFetchFailed  uint64 `json:"jwks_fetch_failed"`
	// Revoked counts the tokens the revocation store refused.
	Revoked uint64 `json:"revoked"`
	// RevocationUnavailable counts the times the store could not be
	// asked.
	RevocationUnavailable uint64 `json:"revocation_unavailable"`
	// DPoPReplay counts the DPoP proofs refused as replayed.
	DPoPReplay uint64 `json:"dpop_replay"`
}

// Snapshot returns the counts; each is read atomically, the whole not at
// one instant.
func (c *Counters) Snapshot() CountersSnapshot {
	return CountersSnapshot{
		Allowed:               c.allowed.Load(),
		AllowedByPolicy:       c.allowedBy.snapshot(),
		Denied:                c.denied.Load(),
		DeniedByReason:        c.deniedBy.snapshot(),
		JWTCacheHit:           c.cacheHit.Load(),
		JWTCacheMiss:          c.cacheMiss.Load(),
		JWKSFetchSuccess:      c.fetchSuccess.Load(),
		JWKSFetchFailed:       c.fetchFailed.Load(),
		Revoked:               c.revoked.Load(),
		RevocationUnavailable: c.revocationDown.Load(),
		DPoPReplay:            c.dpopReplay.Load(),
	}
}

// labels counts by a label, at most MaxCounterLabels of them (then
// OtherLabel).
type labels struct {
	m sync.Map // string → *atomic.Uint64
	n atomic.Int32
}

func (l *labels) add(label string) {
	if v, ok := l.m.Load(label); ok {
		v.(*atomic.Uint64).Add(1)
		return
	}
	if l.n.Add(1) > MaxCounterLabels {
		l.n.Add(-1)
		label = OtherLabel
	}
	v, loaded := l.m.LoadOrStore(label, new(atomic.Uint64))
	if loaded && label != OtherLabel {
		l.n.Add(-1) // stored by another goroutine meanwhile
	}
	v.(*atomic.Uint64).Add(1)
}

func (l *labels) snapshot() map[string]uint64 {
	out := map[string]uint64{}
	l.m.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return out
}
