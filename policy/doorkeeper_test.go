package policy

import (
	"hash/maphash"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestDoorkeeperAdmitsEveryToken plays the cache's use of the doorkeeper: a
// token it has seen before is cached and never asks again. Eight tokens
// come in turn to one bucket of four slots, twice as many as it holds;
// every token must be admitted within a few passes, however their hashes
// fall. (A victim slot fixed by the hash, or slots kept by tokens already
// cached, let latecomers push each other out for ever: 0 of 8 admitted in
// some trials. With random victims and freed slots, 100,000 trials needed
// 4 to 10 passes; a trial needing more than 30 has a chance far below
// 1e-12.)
func TestDoorkeeperAdmitsEveryToken(t *testing.T) {
	const tokens, passes = 8, 30
	for trial := range 100 {
		d := doorkeeper{seed: maphash.MakeSeed(), slots: make([]atomic.Uint64, doorkeeperWays)}
		cached := map[string]bool{}
		for range passes {
			for i := range tokens {
				tok := "token-" + strconv.Itoa(i)
				if !cached[tok] && d.again(tok) {
					cached[tok] = true
				}
			}
		}
		if len(cached) != tokens {
			t.Fatalf("trial %d: %d of %d tokens admitted after %d passes: %v", trial, len(cached), tokens, passes, cached)
		}
	}
}

// TestDoorkeeperFirstSight: a token is never "seen before" the first time,
// is the second time, and then leaves its slot to others.
func TestDoorkeeperFirstSight(t *testing.T) {
	d := doorkeeper{seed: maphash.MakeSeed(), slots: make([]atomic.Uint64, doorkeeperWays)}
	for i := range 100 {
		tok := "token-" + strconv.Itoa(i)
		if d.again(tok) {
			t.Fatalf("%s seen before its first time", tok)
		}
		if !d.again(tok) {
			t.Fatalf("%s not seen the second time", tok)
		}
		for j := range d.slots {
			if d.slots[j].Load() != 0 {
				t.Fatalf("%s, admitted, still holds slot %d", tok, j)
			}
		}
	}
}
