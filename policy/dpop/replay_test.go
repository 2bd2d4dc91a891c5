package dpop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReplay(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	p := mint(t, spec{claims: map[string]any{"jti": "once"}})
	if _, err := verifyOne(t, v, p); err != nil {
		t.Fatal(err)
	}
	_, err := verifyOne(t, v, p)
	wantReason(t, err, ErrProofReplayed)
	// Another proof of the same key and jti is a replay too.
	_, err = verifyOne(t, v, mint(t, spec{claims: map[string]any{"jti": "once", "iat": t0.Unix() - 10}}))
	wantReason(t, err, ErrProofReplayed)
	// The same jti under another key is another proof.
	if _, err := verifyOne(t, v, mint(t, spec{key: ecOther, claims: map[string]any{"jti": "once"}})); err != nil {
		t.Fatalf("the same jti of another key: %v", err)
	}
	// A proof that fails another check is not remembered.
	bad := mint(t, spec{claims: map[string]any{"jti": "failed", "htm": "POST"}})
	_, err = verifyOne(t, v, bad)
	wantReason(t, err, ErrMethodMismatch)
	if _, err := verifyOne(t, v, mint(t, spec{claims: map[string]any{"jti": "failed"}})); err != nil {
		t.Fatalf("a jti of a failed proof: %v", err)
	}
}

func TestReplayRememberedForTheWindow(t *testing.T) {
	keys(t)
	c := newClock(t0)
	cache := NewMemoryReplayCache(0, c.Now)
	v := newTestVerifier(t, Config{Now: c.Now, Replay: cache, Leeway: 5 * time.Second})
	p := mint(t, spec{claims: map[string]any{"jti": "window"}})
	if _, err := verifyOne(t, v, p); err != nil {
		t.Fatal(err)
	}
	// Up to the end of the window, a replay; then too old anyway.
	c.Add(DefaultMaxAge + 5*time.Second)
	_, err := verifyOne(t, v, p)
	wantReason(t, err, ErrProofReplayed)
	c.Add(time.Second)
	_, err = verifyOne(t, v, p)
	wantReason(t, err, ErrProofExpired)
	c.Add(time.Second)
	if _, err := cache.FirstUse(context.Background(), "other", c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if cache.Len() != 1 {
		t.Fatalf("the expired entry is kept: %d entries", cache.Len())
	}
}

func TestReplayKey(t *testing.T) {
	jkt, _ := Thumbprint(&ecKey.PublicKey)
	k := ReplayKey(jkt, "a:b\x00c")
	if len(k) != 87 || !strings.HasPrefix(k, jkt+":") || strings.ContainsAny(k[44:], ":\x00") {
		t.Fatalf("key %q", k)
	}
	if ReplayKey(jkt, "a") == ReplayKey(jkt, "b") || ReplayKey("x", "a") == ReplayKey("y", "a") {
		t.Fatal("keys collide")
	}
}

type failingCache struct{ err error }

func (f failingCache) FirstUse(context.Context, string, time.Time) (bool, error) {
	return false, f.err
}

func TestReplayUnavailable(t *testing.T) {
	keys(t)
	down := errors.New("connection refused")
	v := newTestVerifier(t, Config{Replay: failingCache{down}})
	_, err := verifyOne(t, v, mint(t, spec{}))
	wantReason(t, err, ErrReplayUnavailable)
	if !errors.Is(err, down) || errors.Is(err, ErrProofReplayed) {
		t.Fatalf("error %v", err)
	}
}

func TestMemoryReplayCacheFull(t *testing.T) {
	keys(t)
	c := newClock(t0)
	cache := NewMemoryReplayCache(3, c.Now)
	v := newTestVerifier(t, Config{Now: c.Now, Replay: cache})
	for i := range 3 {
		if _, err := verifyOne(t, v, mint(t, spec{})); err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
	}
	// Full: a new proof is refused, none forgotten.
	_, err := verifyOne(t, v, mint(t, spec{}))
	wantReason(t, err, ErrReplayUnavailable)
	if !errors.Is(err, ErrReplayCacheFull) {
		t.Fatalf("error %v", err)
	}
	// Once the entries expire, there is room again.
	c.Add(DefaultMaxAge + 2*time.Second)
	if _, err := verifyOne(t, v, mint(t, spec{claims: map[string]any{"iat": c.Now().Unix()}})); err != nil {
		t.Fatal(err)
	}
	if cache.Len() != 1 {
		t.Fatalf("%d entries", cache.Len())
	}
}

func TestMemoryReplayCache(t *testing.T) {
	c := newClock(t0)
	m := NewMemoryReplayCache(0, c.Now)
	ctx := context.Background()
	for _, tc := range []struct {
		key   string
		until time.Duration
		first bool
	}{
		{"a", time.Minute, true},
		{"a", time.Minute, false},
		{"a", time.Hour, false},
		{"b", time.Second, true},
		{"past", -time.Second, true},
		{"past", -time.Second, true}, // never remembered
	} {
		first, err := m.FirstUse(ctx, tc.key, c.Now().Add(tc.until))
		if err != nil || first != tc.first {
			t.Fatalf("%s: %v, %v", tc.key, first, err)
		}
	}
	c.Add(2 * time.Second)
	if first, _ := m.FirstUse(ctx, "b", c.Now().Add(time.Second)); !first {
		t.Fatal("b is remembered after its time")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.FirstUse(cancelled, "c", c.Now().Add(time.Second)); err == nil {
		t.Fatal("a cancelled context: no error")
	}
}

func TestMemoryReplayCacheConcurrent(t *testing.T) {
	m := NewMemoryReplayCache(0, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := map[string]int{}
	for range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprint(i % 50)
				first, err := m.FirstUse(context.Background(), key, time.Now().Add(time.Minute))
				if err != nil {
					t.Error(err)
					return
				}
				if first {
					mu.Lock()
					firsts[key]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for k, n := range firsts {
		if n != 1 {
			t.Errorf("key %s first used %d times", k, n)
		}
	}
	if len(firsts) != 50 {
		t.Errorf("%d keys", len(firsts))
	}
}

// TestConcurrentReplay: of many requests replaying one proof at once,
// exactly one is accepted.
func TestConcurrentReplay(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	p := mint(t, spec{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 16 {
		wg.Go(func() {
			if _, err := verifyOne(t, v, p); err == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			} else if !errors.Is(err, ErrProofReplayed) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Fatalf("accepted %d times", accepted)
	}
}
