package dpop

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// ReplayCache remembers the proofs accepted, so that none is accepted
// twice (RFC 9449 section 11.1). The Verifier asks it once per proof that
// passed every other check.
//
// A store shared by every instance of a service makes the check hold
// across them; on Redis, FirstUse is one command:
//
//	SET <prefix><key> 1 NX PXAT <until in Unix milliseconds>
//
// true when it answers OK, false when it answers nil.
type ReplayCache interface {
	// FirstUse records key until the time until and tells whether it was
	// not recorded before (true: first use; false: a replay). An error
	// means it cannot tell (the store is down or full): the Verifier then
	// refuses the proof with ErrReplayUnavailable.
	FirstUse(ctx context.Context, key string, until time.Time) (bool, error)
}

// ReplayKey is the key under which the Verifier records a proof of the
// key of thumbprint jkt (base64url, as Proof.Thumbprint) and of jti: the
// thumbprint, a colon and base64url(SHA-256(jti)), 87 bytes of the
// base64url alphabet and the colon, whatever the jti holds. The same jti
// under another key is another proof.
func ReplayKey(jkt, jti string) string {
	sum := sha256.Sum256([]byte(jti))
	return jkt + ":" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// DefaultMemoryReplayEntries bounds a MemoryReplayCache made with max 0.
const DefaultMemoryReplayEntries = 100_000

// ErrReplayCacheFull is the error of a MemoryReplayCache that holds as
// many unexpired proofs as it may. It refuses a new proof rather than
// forget one that may be replayed; the Verifier's error then matches
// ErrReplayUnavailable too (503: the client may try again later).
var ErrReplayCacheFull = errors.New("dpop: the in-memory replay cache is full")

// MemoryReplayCache is a ReplayCache in the memory of one process, for a
// service of one instance and for tests. It keeps at most max entries,
// each until its time, and drops expired entries as it goes (in order of
// expiry: no scan of the whole cache). It is safe for concurrent use.
type MemoryReplayCache struct {
	mu      sync.Mutex
	entries map[string]time.Time
	expiry  expiryHeap
	max     int
	now     func() time.Time
}

// NewMemoryReplayCache returns an empty cache of at most max entries
// (DefaultMemoryReplayEntries when max <= 0), on the clock now (nil:
// time.Now).
func NewMemoryReplayCache(max int, now func() time.Time) *MemoryReplayCache {
	if max <= 0 {
		max = DefaultMemoryReplayEntries
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryReplayCache{entries: map[string]time.Time{}, max: max, now: now}
}

// FirstUse records key until until (see ReplayCache). When the cache is
// full of unexpired entries, it returns ErrReplayCacheFull.
func (m *MemoryReplayCache) FirstUse(ctx context.Context, key string, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropExpired(now)
	if _, seen := m.entries[key]; seen {
		return false, nil
	}
	if !until.After(now) {
		return true, nil // expired already: nothing to remember
	}
	if len(m.entries) >= m.max {
		return false, ErrReplayCacheFull
	}
	m.entries[key] = until
	heap.Push(&m.expiry, expiryEntry{key: key, until: until})
	return true, nil
}

// dropExpired removes the entries whose time is at or before now; m.mu is
// held.
func (m *MemoryReplayCache) dropExpired(now time.Time) {
	for len(m.expiry) > 0 && !m.expiry[0].until.After(now) {
		e := heap.Pop(&m.expiry).(expiryEntry)
		delete(m.entries, e.key)
	}
}

// Len returns the number of entries kept, expired ones not yet dropped
// included.
func (m *MemoryReplayCache) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

type expiryEntry struct {
	key   string
	until time.Time
}

// expiryHeap is a min-heap of entries by expiry (container/heap).
type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = expiryEntry{}
	*h = old[:len(old)-1]
	return e
}
