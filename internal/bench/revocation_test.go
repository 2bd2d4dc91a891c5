package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pyramid-go/jwtauth/internal/redistest"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/redisrevocation"
)

// The revocation benchmarks run this project alone, HS256 (the cheapest
// verification, where a store's cost shows most), through the same chi
// router as BenchmarkAuth, with no revocation store, the in-memory one, and
// the Redis one on a redis-server of the benchmark's own (client-side
// cached). Its tokens carry a jti, as the policies' own do when they have
// a store, so that a check asks about both the jti and the subject.
//
//	go test -run '^$' -bench Revocation -benchmem -count 5 | go run ./cmd/benchtable
//
// Names: BenchmarkRevocation/alg=HS256/work=<revocation-warm|revocation-cold>/impl=store-<none|memory|redis>,
// which benchtable sets against store-none.

// mintJTI signs the claims of user n with a random jti, using golang-jwt.
func mintJTI(k *keyset, n int, now time.Time) token {
	sub := fmt.Sprintf("user-%07d", n)
	b := make([]byte, 16)
	rand.Read(b)
	t := jwt.NewWithClaims(k.method, jwt.MapClaims{
		"sub": sub, "iss": issuer, "aud": audience, "jti": base64.RawURLEncoding.EncodeToString(b),
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "groups": []string{"editors", "staff"},
	})
	raw, err := t.SignedString(k.sign)
	if err != nil {
		panic(err)
	}
	return token{raw: raw, header: "Bearer " + raw, sub: sub}
}

// jtiTokens mints n tokens of distinct users from base, in parallel.
func jtiTokens(k *keyset, base, n int) []token {
	out := make([]token, n)
	now := time.Now()
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				out[i] = mintJTI(k, base+i, now)
			}
		})
	}
	wg.Wait()
	return out
}

// seedRevocations revokes tokens and users that the benchmark never
// presents, so that no store is empty.
func seedRevocations(tb testing.TB, s policy.RevocationStore) {
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	for i := range 100 {
		if err := s.RevokeToken(ctx, fmt.Sprintf("seed-jti-%d", i), until); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range 10 {
		if err := s.RevokeSubject(ctx, fmt.Sprintf("seed-user-%d", i), time.Now(), until); err != nil {
			tb.Fatal(err)
		}
	}
}

// stores are the revocation stores benchmarked, each made anew for a run.
func revocationStores(tb testing.TB, srv func() *redistest.Server) []struct {
	name string
	open func() policy.RevocationStore
} {
	return []struct {
		name string
		open func() policy.RevocationStore
	}{
		{"none", func() policy.RevocationStore { return nil }},
		{"memory", func() policy.RevocationStore { return policy.NewMemoryRevocations(0, nil) }},
		{"redis", func() policy.RevocationStore {
			s, err := redisrevocation.Open(srv().URL(), redisrevocation.Options{})
			if err != nil {
				tb.Fatal(err)
			}
			return s
		}},
	}
}

func BenchmarkRevocation(b *testing.B) {
	k := keys()["HS256"]
	var once sync.Once
	var srv *redistest.Server
	server := func() *redistest.Server { once.Do(func() { srv = redistest.Start(b) }); return srv }
	warm := jtiTokens(k, 7_000_000, warmSize)
	for _, work := range []string{"warm", "cold"} {
		if work == "cold" {
			// The reference for the cold rows: the Redis store alone,
			// asked about a jti and a user it never saw, one round trip.
			b.Run("alg=HS256/work=revocation-cold/impl=redis-round-trip", func(b *testing.B) {
				store, err := redisrevocation.Open(server().URL(), redisrevocation.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer store.Close()
				ctx, iat := context.Background(), time.Now()
				keys := make([]string, b.N)
				for i := range keys {
					keys[i] = fmt.Sprintf("never-seen-%d-%d", b.N, i)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if revoked, err := store.Revoked(ctx, keys[i], keys[i], iat); err != nil || revoked {
						b.Fatalf("%v %v", revoked, err)
					}
				}
			})
		}
		for _, st := range revocationStores(b, server) {
			b.Run(fmt.Sprintf("alg=HS256/work=revocation-%s/impl=store-%s", work, st.name), func(b *testing.B) {
				store := st.open()
				if store != nil {
					defer store.Close()
					seedRevocations(b, store)
				}
				h, err := oursWith(k, func(c *policy.Config) { c.Revocation = store })
				if err != nil {
					b.Fatal(err)
				}
				toks := warm
				if work == "cold" {
					toks = jtiTokens(k, 8_000_000, b.N)
				}
				req := httptest.NewRequest(http.MethodGet, path, nil)
				auth := []string{""}
				req.Header["Authorization"] = auth
				if work == "warm" {
					for range 2 { // the verified-token cache takes a token seen twice
						for i := range toks {
							auth[0] = toks[i].header
							h.ServeHTTP(httptest.NewRecorder(), req)
						}
					}
				}
				b.ReportAllocs()
				runtime.GC()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t := &toks[i%len(toks)]
					auth[0] = t.header
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK || string(w.Body.Bytes()) != t.sub {
						b.Fatalf("got %d %q for %s", w.Code, w.Body.String(), t.sub)
					}
				}
			})
		}
	}
}

// TestRevocationContenders: the benchmarked routers with a store refuse a
// token once it is revoked, and its user's tokens once the user is.
func TestRevocationContenders(t *testing.T) {
	k := keys()["HS256"]
	var once sync.Once
	var srv *redistest.Server
	server := func() *redistest.Server { once.Do(func() { srv = redistest.Start(t) }); return srv }
	for _, st := range revocationStores(t, server)[1:] {
		t.Run(st.name, func(t *testing.T) {
			store := st.open()
			defer store.Close()
			h, err := oursWith(k, func(c *policy.Config) { c.Revocation = store })
			if err != nil {
				t.Fatal(err)
			}
			if err := check(h, k); err != nil {
				t.Fatal(err)
			}
			toks := jtiTokens(k, 9_500_000, 2)
			code := func(tok token) int {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				r.Header.Set("Authorization", tok.header)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w.Code
			}
			for _, tok := range toks {
				if c := code(tok); c != http.StatusOK {
					t.Fatalf("before the revocation: %d", c)
				}
			}
			parsed, _, err := jwt.NewParser().ParseUnverified(toks[0].raw, jwt.MapClaims{})
			if err != nil {
				t.Fatal(err)
			}
			claims := parsed.Claims.(jwt.MapClaims)
			iss, _ := claims["iss"].(string)
			jti := policy.RevocationID(iss, claims["jti"].(string))
			if err := store.RevokeToken(context.Background(), jti, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := store.RevokeSubject(context.Background(), toks[1].sub, time.Now().Add(time.Second), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Second)
			for _, tok := range toks {
				for code(tok) != http.StatusUnauthorized {
					if time.Now().After(deadline) {
						t.Fatalf("%s still accepted a second after its revocation", tok.sub)
					}
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
}
