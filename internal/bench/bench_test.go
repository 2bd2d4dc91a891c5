package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// floorColdMax bounds the distinct tokens of the cold floor and of the
// router without authentication, which keep no state: past it, their
// tokens are cycled, and minting stays short.
const floorColdMax = 1 << 15

// BenchmarkAuth is the whole comparison: one row per algorithm, workload
// and contender, each op one GET through the contender's chi router (the
// floor: the signature check alone).
func BenchmarkAuth(b *testing.B) {
	for _, alg := range algs {
		for _, work := range []string{"cold", "warm"} {
			for _, c := range contenders {
				b.Run(fmt.Sprintf("alg=%s/work=%s/impl=%s", alg, work, c.name), func(b *testing.B) {
					benchRouter(b, alg, work, c)
				})
			}
			b.Run(fmt.Sprintf("alg=%s/work=%s/impl=floor", alg, work), func(b *testing.B) {
				benchFloor(b, alg, work)
			})
		}
	}
}

// benchRouter builds the contender's router anew (so that any cache starts
// empty), checks that it authenticates, then times b.N requests: in cold,
// b.N distinct tokens; in warm, the warm pool cycled, after one pass over
// it. Every contender is given the same request, whose Authorization
// header alone changes.
func benchRouter(b *testing.B, alg, work string, c contender) {
	k := keys()[alg]
	h, err := c.router(k)
	if err != nil {
		b.Fatal(err)
	}
	if h == nil {
		b.Skipf("%s does not support %s", c.name, alg)
	}
	if c.name != "none" {
		if err := check(h, k); err != nil {
			b.Fatalf("%s with %s: %v", c.name, alg, err)
		}
	}
	var toks []token
	switch {
	case work == "cold" && c.name == "none":
		toks = coldTokens(alg, min(b.N, floorColdMax)) // it reads no token
	case work == "cold":
		toks = coldTokens(alg, b.N)
	default:
		toks = warmTokens(alg)
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	auth := []string{""}
	req.Header["Authorization"] = auth
	if work == "warm" {
		for i := range toks {
			auth[0] = toks[i].header
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	body := c.name != "none"
	b.ReportAllocs()
	runtime.GC() // the garbage of minting the tokens is not the contender's
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := &toks[i%len(toks)]
		auth[0] = t.header
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || body && string(w.Body.Bytes()) != t.sub {
			b.Fatalf("%s: got %d %q for %s", c.name, w.Code, w.Body.String(), t.sub)
		}
	}
}

// benchFloor times the standard library's check of the same tokens.
func benchFloor(b *testing.B, alg, work string) {
	k := keys()[alg]
	var toks []token
	if work == "cold" {
		toks = coldTokens(alg, min(b.N, floorColdMax))
	} else {
		toks = warmTokens(alg)
	}
	in := make([]floorInput, len(toks))
	for i, t := range toks {
		in[i] = floorInputOf(k, t)
	}
	verify := floor(k)
	b.ReportAllocs()
	runtime.GC() // the garbage of minting the tokens is not the contender's
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !verify(&in[i%len(in)]) {
			b.Fatal("the floor refused a good token")
		}
	}
}

// checkTokens are a good token and three that must be refused, per
// algorithm: signed with another key, expired, and for another audience.
type checkTokens struct{ good, wrongKey, expired, wrongAud token }

var (
	checksMu sync.Mutex
	checks   = map[string]checkTokens{}
)

func checkTokensOf(k *keyset) checkTokens {
	checksMu.Lock()
	defer checksMu.Unlock()
	c, ok := checks[k.alg]
	if !ok {
		now := time.Now()
		c = checkTokens{
			good:     mint(k, k.sign, 9_000_000, now),
			wrongKey: mint(k, k.other, 9_000_001, now),
			expired:  mint(k, k.sign, 9_000_002, now.Add(-2*time.Hour)),
			wrongAud: mintWith(k, k.sign, 9_000_003, now, func(t *jwt.Token) {
				t.Claims.(jwt.MapClaims)["aud"] = "another-api"
			}),
		}
		checks[k.alg] = c
	}
	return c
}

// check asserts that h authenticates: a good token gets 200 and its userid,
// one signed with another key, an expired one and one for another audience
// get 401, and so does a request without a token.
func check(h http.Handler, k *keyset) error {
	c := checkTokensOf(k)
	do := func(t *token) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if t != nil {
			req.Header.Set("Authorization", t.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := do(&c.good); w.Code != http.StatusOK || w.Body.String() != c.good.sub {
		return fmt.Errorf("good token: got %d %q, want 200 %q", w.Code, w.Body.String(), c.good.sub)
	}
	for name, t := range map[string]*token{"wrong key": &c.wrongKey, "expired": &c.expired, "wrong aud": &c.wrongAud, "no token": nil} {
		if w := do(t); w.Code != http.StatusUnauthorized {
			return fmt.Errorf("%s: got %d %q, want 401", name, w.Code, w.Body.String())
		}
	}
	return nil
}

// TestContenders runs check for every contender and algorithm, and the
// floor on a good token and a forged one.
func TestContenders(t *testing.T) {
	for _, alg := range algs {
		k := keys()[alg]
		for _, c := range contenders {
			if c.name == "none" {
				continue
			}
			t.Run(alg+"/"+c.name, func(t *testing.T) {
				h, err := c.router(k)
				if err != nil {
					t.Fatal(err)
				}
				if h == nil {
					t.Skipf("%s does not support %s", c.name, alg)
				}
				if err := check(h, k); err != nil {
					t.Fatal(err)
				}
			})
		}
		t.Run(alg+"/floor", func(t *testing.T) {
			ct := checkTokensOf(k)
			verify := floor(k)
			good, bad := floorInputOf(k, ct.good), floorInputOf(k, ct.wrongKey)
			if !verify(&good) || verify(&bad) {
				t.Fatal("the floor does not tell a good signature from a bad one")
			}
		})
	}
}
