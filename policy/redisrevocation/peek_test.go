package redisrevocation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/pyramid-go/jwtauth/internal/redistest"
)

// serverStats reads counters of the server over conn (a connection of the
// test's own, opened before what it measures): the calls of each command,
// and the connections received.
func serverStats(t *testing.T, conn *redistest.Conn) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, section := range []string{"commandstats", "stats"} {
		r, err := conn.Do("INFO", section)
		if err != nil {
			t.Fatalf("INFO %s: %v", section, err)
		}
		for l := range strings.SplitSeq(r.Str, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(l), ":")
			if !ok {
				continue
			}
			if cmd, ok := strings.CutPrefix(k, "cmdstat_"); ok { // calls=3,usec=...
				calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
				out[cmd], _ = strconv.Atoi(calls)
			} else if k == "total_connections_received" {
				out[k], _ = strconv.Atoi(v)
			}
		}
	}
	return out
}

// TestPeek pins the behaviour of rueidis the warm path rests on, which its
// documentation does not promise: DoCache under a context already
// cancelled answers a cached reply (a missing key's too) from memory, and
// a key not cached with the context's error, without writing to the server
// nor dialling it when the connection is down. An upgrade of rueidis that
// changes it fails here.
func TestPeek(t *testing.T) {
	srv := redistest.Start(t)
	s, err := Open(srv.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mon, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()

	srv.Do("SET", s.jtiPre+"revoked", "1", "PX", "60000")
	ctx := context.Background()
	if _, err := s.Revoked(ctx, "revoked", "alice", time.Now()); err != nil { // fetches and caches both keys
		t.Fatal(err)
	}
	if _, err := s.Revoked(ctx, "fresh", "alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	before := serverStats(t, mon)
	for range 100 {
		if r := s.peek([]byte(s.jtiPre + "revoked")); !r.IsCacheHit() || r.Error() != nil {
			t.Fatalf("a cached key: hit=%v err=%v; want a hit", r.IsCacheHit(), r.Error())
		}
		if r := s.peek([]byte(s.jtiPre + "fresh")); !r.IsCacheHit() || !rueidis.IsRedisNil(r.Error()) {
			t.Fatalf("a cached missing key: hit=%v err=%v; want a cached nil", r.IsCacheHit(), r.Error())
		}
		if r := s.peek([]byte(s.jtiPre + "never-asked")); r.IsCacheHit() || !errors.Is(r.Error(), context.Canceled) {
			t.Fatalf("a key not cached: hit=%v err=%v; want context.Canceled", r.IsCacheHit(), r.Error())
		}
	}
	after := serverStats(t, mon)
	for _, cmd := range []string{"get", "pttl", "multi", "exec", "mget"} {
		if after[cmd] != before[cmd] {
			t.Errorf("%s calls went from %d to %d over the peeks; want no command sent", cmd, before[cmd], after[cmd])
		}
	}

	// The connection down: a peek neither dials nor waits.
	srv.Kill()
	srv.Restart()
	mon2, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer mon2.Close()
	before = serverStats(t, mon2)
	start := time.Now()
	for range 100 {
		if r := s.peek([]byte(s.jtiPre + "revoked")); r.IsCacheHit() {
			t.Fatal("a hit after the connection was lost: the cache was not flushed")
		}
	}
	took := time.Since(start)
	after = serverStats(t, mon2)
	if n := after["total_connections_received"] - before["total_connections_received"]; n != 0 {
		t.Errorf("%d connections made by peeks; want none", n)
	}
	if took > 100*time.Millisecond {
		t.Errorf("100 peeks took %v with the connection down", took)
	}
	t.Logf("100 peeks with the connection down: %v, no connection made", took)
}

// TestKeys: the key layout the README documents; long subjects hashed,
// keys bounded.
func TestKeys(t *testing.T) {
	s := &Store{jtiPre: "p:jti:", subPre: "p:sub:", subHPre: "p:subh:"}
	if k := s.jtiKey("abc"); k != "p:jti:abc" {
		t.Errorf("jti key %q", k)
	}
	if k := s.subKey("alice"); k != "p:sub:alice" {
		t.Errorf("subject key %q", k)
	}
	long := strings.Repeat("x", MaxSubjectLen+1)
	sum := sha256.Sum256([]byte(long))
	if k := s.subKey(long); k != "p:subh:"+hex.EncodeToString(sum[:]) {
		t.Errorf("long subject key %q", k)
	}
	if s.subKey(long) == s.subKey(long+"y") {
		t.Error("two long subjects share a key")
	}
	if k := s.subKey(strings.Repeat("x", MaxSubjectLen)); k != "p:sub:"+strings.Repeat("x", MaxSubjectLen) {
		t.Error("a subject of MaxSubjectLen bytes is not kept as it is")
	}
}

// TestVersion: with the ticker slowed to an hour, nothing but Redis's
// invalidations, this instance's revocations and a lost connection move
// a store's version; with its ticker, it moves by itself every CacheTTL/8.
func TestVersion(t *testing.T) {
	srv := redistest.Start(t)
	slow := func(time.Duration) *time.Ticker { return time.NewTicker(time.Hour) }
	openWith := func(o Options) *Store {
		s, err := Open(srv.URL(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	newTicker = slow
	t.Cleanup(func() { newTicker = time.NewTicker })
	a, b := openWith(Options{}), openWith(Options{})
	newTicker = time.NewTicker
	ctx := context.Background()
	iat := time.Now().Add(-time.Minute)
	for range 2 { // fetched, then from a's cache
		if revoked, err := a.Revoked(ctx, "j-1", "alice", iat); err != nil || revoked {
			t.Fatalf("before: %v %v", revoked, err)
		}
	}
	moved := func(s *Store, from uint64, within time.Duration) bool {
		for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if s.Version() != from {
				return true
			}
		}
		return false
	}
	v := a.Version()
	if moved(a, v, 100*time.Millisecond) {
		t.Fatalf("the version moved with nothing revoked: %d -> %d", v, a.Version())
	}
	// Another instance revokes a key a cached: Redis's invalidation.
	if err := b.RevokeToken(ctx, "j-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !moved(a, v, time.Second) {
		t.Fatal("the version did not move when another instance revoked a cached key")
	}
	if revoked, err := a.Revoked(ctx, "j-1", "alice", iat); err != nil || !revoked {
		t.Fatalf("after: %v %v", revoked, err)
	}
	// This instance's own revocation, of a key it never read.
	v = a.Version()
	if err := a.RevokeSubject(ctx, "bob", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if a.Version() == v {
		t.Fatal("the version did not move with a revocation of this instance")
	}
	// The connection lost: rueidis drops the cache, and tells.
	v = a.Version()
	if r := srv.Do("CLIENT", "KILL", "TYPE", "normal"); r.Int == 0 {
		t.Fatal("CLIENT KILL killed no connection")
	}
	if !moved(a, v, time.Second) {
		t.Fatal("the version did not move when the connection was lost")
	}
	// Closed: 0, so that the verifier asks (and is told it is closed).
	a.Close()
	if got := a.Version(); got != 0 {
		t.Fatalf("closed: version %d", got)
	}

	// The ticker: every CacheTTL/8, with nothing else happening.
	c := openWith(Options{CacheTTL: 400 * time.Millisecond})
	v = c.Version()
	if !moved(c, v, 200*time.Millisecond) {
		t.Fatal("the version did not move by itself within two ticks")
	}
}
