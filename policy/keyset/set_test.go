package keyset_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// Rotation: a new kid is fetched once (when the rate limit allows) and
// accepted; a retired kid is refused once a refresh drops it.
func TestRotation(t *testing.T) {
	a, b := ecSigner(0, "key-a"), rsaSigner(0, "key-b")
	idp := newProvider(t, true, a)
	var log logBuffer
	clock := newClock()
	set := must(t)(keyset.NewOIDC(idp.issuer, options(idp, &log, clock)))
	p := newPolicy(t, set)

	mustAccept(t, p, a.token(t, claimsFor(idp.issuer), nil), "key a")
	if d, j := idp.discoveryHits.Load(), idp.jwksHits.Load(); d != 1 || j != 1 {
		t.Fatalf("start: %d discovery and %d key set fetches, want 1 and 1", d, j)
	}
	if v := set.Version(); v != 1 {
		t.Fatalf("Version = %d, want 1", v)
	}

	// The provider adds key b. Within MinRefresh of the last fetch, its
	// kid is unknown and refetches nothing.
	idp.serve(t, a, b)
	tokB := b.token(t, claimsFor(idp.issuer), nil)
	mustRefuse(t, p, tokB, policy.ErrNoKey, "key b before the rate limit allows a refetch")
	if j := idp.jwksHits.Load(); j != 1 {
		t.Fatalf("%d key set fetches within MinRefresh, want 1", j)
	}

	clock.advance(time.Minute)
	mustAccept(t, p, tokB, "key b after one refetch")
	mustAccept(t, p, a.token(t, claimsFor(idp.issuer), nil), "key a, still served")
	if d, j := idp.discoveryHits.Load(), idp.jwksHits.Load(); d != 1 || j != 2 {
		t.Fatalf("after the refetch: %d discovery and %d key set fetches, want 1 and 2", d, j)
	}
	if v := set.Version(); v != 2 {
		t.Fatalf("Version = %d, want 2", v)
	}

	// Key a is retired; the next fetch (here for an unknown kid) drops it.
	idp.serve(t, b)
	clock.advance(time.Minute)
	mustRefuse(t, p, ecSigner(1, "key-c").token(t, claimsFor(idp.issuer), nil), policy.ErrNoKey, "unknown key c")
	mustRefuse(t, p, a.token(t, claimsFor(idp.issuer), nil), policy.ErrNoKey, "retired key a")
	mustAccept(t, p, tokB, "key b")
	if v := set.Version(); v != 3 {
		t.Fatalf("Version = %d, want 3", v)
	}

	// A fetch that finds the same set keeps the version.
	clock.advance(time.Minute)
	mustRefuse(t, p, ecSigner(1, "key-c").token(t, claimsFor(idp.issuer), nil), policy.ErrNoKey, "unknown key c")
	if j, v := idp.jwksHits.Load(), set.Version(); j != 4 || v != 3 {
		t.Fatalf("%d fetches, Version %d; want 4 and 3", j, v)
	}
}

// The background refresh retires a key without any token asking.
func TestBackgroundRefresh(t *testing.T) {
	a, b := ecSigner(0, "key-a"), edSigner(0, "key-b")
	idp := newProvider(t, true, a)
	var log logBuffer
	o := options(idp, &log, nil)
	o.Refresh, o.MinRefresh = 30*time.Millisecond, 10*time.Millisecond
	set := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
	p := newPolicy(t, set)
	mustAccept(t, p, a.token(t, claimsFor(""), nil), "key a")

	idp.serve(t, b)
	eventually(t, "the refresh", func() bool { return set.Version() == 2 })
	mustAccept(t, p, b.token(t, claimsFor(""), nil), "key b")
	mustRefuse(t, p, a.token(t, claimsFor(""), nil), policy.ErrNoKey, "retired key a")
	if recs := log.records("key set updated"); len(recs) < 2 {
		t.Errorf("%d update records, want 2:\n%s", len(recs), log.String())
	}
}

// Outage: a provider that answers 500, or no longer listens, leaves the
// last good set serving; failures are logged, and retried with a growing
// delay.
func TestOutage(t *testing.T) {
	a := ecSigner(0, "key-a")
	tok := a.token(t, claimsFor(""), nil)

	t.Run("500", func(t *testing.T) {
		idp := newProvider(t, true, a)
		var log logBuffer
		o := options(idp, &log, nil)
		o.Refresh, o.MinRefresh = time.Second, 10*time.Millisecond
		set := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
		p := newPolicy(t, set)
		mustAccept(t, p, tok, "before the outage")

		idp.set("500", nil)
		// The refresh after a success is a second away; an unknown kid
		// brings the first failure forward.
		mustRefuse(t, p, ecSigner(1, "new").token(t, claimsFor(""), nil), policy.ErrNoKey, "an unknown kid during the outage")
		eventually(t, "three failures", func() bool { return len(log.records("fetch failed")) >= 3 })
		mustAccept(t, p, tok, "during the outage")

		// By each record's failure count, not by position: a failure is
		// logged after its retry is scheduled, so the next one may be
		// logged first.
		delays := make([]time.Duration, 3)
		for _, r := range log.records("fetch failed") {
			if !strings.Contains(r["error"].(string), "500") {
				t.Errorf("the log does not say why: %v", r)
			}
			n, _ := r["failures"].(float64)
			if n < 1 || n > 3 {
				continue
			}
			d, err := time.ParseDuration(r["retry_in"].(string))
			if err != nil {
				t.Fatal(err)
			}
			delays[int(n)-1] = d
		}
		if !(0 < delays[0] && delays[0] < delays[1] && delays[1] < delays[2]) {
			t.Errorf("retry delays %v do not grow", delays)
		}

		c := edSigner(0, "key-c")
		idp.serve(t, a, c)
		eventually(t, "recovery", func() bool { return set.Version() == 2 })
		mustAccept(t, p, tok, "after the outage")
		mustAccept(t, p, c.token(t, claimsFor(""), nil), "a key added during the outage")
	})

	t.Run("connection refused", func(t *testing.T) {
		idp := newProvider(t, true, a)
		var log logBuffer
		o := options(idp, &log, nil)
		o.Refresh, o.MinRefresh = 40*time.Millisecond, 10*time.Millisecond
		set := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
		p := newPolicy(t, set)
		idp.srv.Close()
		eventually(t, "a failure", func() bool { return len(log.records("fetch failed")) >= 1 })
		mustAccept(t, p, tok, "with the provider gone")
		if v := set.Version(); v != 1 {
			t.Errorf("Version = %d, want 1", v)
		}
	})
}

// A provider slower than the timeout: the start does not hang, requests
// with a known kid never wait for a fetch in progress, and a request
// waiting for one gives up when its context does.
func TestSlowProvider(t *testing.T) {
	a := ecSigner(0, "key-a")

	t.Run("at start", func(t *testing.T) {
		idp := newProvider(t, true, a)
		idp.set("block", nil)
		var log logBuffer
		o := options(idp, &log, nil)
		o.Timeout = 100 * time.Millisecond
		set := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
		if _, err := set.Keys(context.Background(), ""); !errors.Is(err, keyset.ErrNoKeySet) {
			t.Errorf("Keys: %v, want ErrNoKeySet", err)
		}
		mustRefuse(t, newPolicy(t, set), a.token(t, claimsFor(""), nil), policy.ErrNoKey, "no set yet")
		if recs := log.records("fetch failed"); len(recs) == 0 || !strings.Contains(recs[0]["error"].(string), "deadline") {
			t.Errorf("the log does not report the timeout:\n%s", log.String())
		}

		o.RequiredAtStart = true
		if _, err := keyset.NewURL(idp.srv.URL+"/jwks", "", o); err == nil {
			t.Error("RequiredAtStart: no error for a provider past the timeout")
		}
	})

	t.Run("refresh", func(t *testing.T) {
		idp := newProvider(t, true, a)
		var log logBuffer
		clock := newClock()
		set := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", options(idp, &log, clock)))
		p := newPolicy(t, set)

		idp.set("block", nil)
		clock.advance(time.Minute)
		b := ecSigner(1, "key-b")
		waiting := make(chan error, 1)
		go func() { waiting <- authenticate(p, b.token(t, claimsFor(""), nil)) }()
		eventually(t, "the fetch", func() bool { return idp.jwksHits.Load() == 2 })

		// The fetch hangs; a known kid is answered at once.
		known := make(chan error, 1)
		go func() { known <- authenticate(p, a.token(t, claimsFor(""), nil)) }()
		select {
		case err := <-known:
			if err != nil {
				t.Fatalf("known kid during a slow fetch: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a request with a known kid waits for the fetch")
		}

		// A caller waiting for the fetch leaves when its context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := set.Keys(ctx, "key-b"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Keys with an expiring context: %v", err)
		}

		idp.serve(t, a, b)
		idp.unblock()
		if err := <-waiting; err != nil {
			t.Errorf("key b after the slow fetch: %v", err)
		}
		if j := idp.jwksHits.Load(); j != 2 {
			t.Errorf("%d fetches, want 2", j)
		}
	})
}

// Bodies and answers that are no key set fail the fetch; the constructor
// reports them with RequiredAtStart, and a set that has keys keeps them.
func TestBadResponses(t *testing.T) {
	a := ecSigner(0, "key-a")
	good := jwksJSON(t, a)
	padded := func(n int) []byte {
		b := append([]byte(`{"pad":"`), strings.Repeat("x", n)...)
		b = append(b, `","keys":`...)
		var set map[string]json.RawMessage
		json.Unmarshal(good, &set)
		b = append(b, set["keys"]...)
		return append(b, '}')
	}
	base := len(padded(0))
	under, over := padded(keyset.MaxBodyBytes-base), padded(keyset.MaxBodyBytes-base+1)
	if len(under) != keyset.MaxBodyBytes || len(over) != keyset.MaxBodyBytes+1 {
		t.Fatalf("padding: %d and %d bytes", len(under), len(over))
	}

	for _, tc := range []struct {
		name, mode, path string
		body             []byte
		want             string // in the error; "" for success
	}{
		{"garbage", "garbage", "/jwks", nil, "not a JSON Web Key Set"},
		{"a JSON array", "raw", "/jwks", []byte(`[{"keys":[]}]`), "not a JSON Web Key Set"},
		{"null", "raw", "/jwks", []byte(`null`), "not a JSON Web Key Set"},
		{"keys not a list", "raw", "/jwks", []byte(`{"keys":"x"}`), "not a JSON Web Key Set"},
		{"no key", "raw", "/jwks", []byte(`{"keys":[]}`), "no usable key"},
		{"only unusable keys", "raw", "/jwks", []byte(`{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw"}]}`), "no usable key (1 skipped)"},
		{"1 MiB", "raw", "/jwks", under, ""},
		{"1 MiB and 1 byte", "raw", "/jwks", over, "more than 1048576 bytes"},
		{"500", "500", "/jwks", nil, "500"},
		{"404", "", "/nothing-here", nil, "404"},
		{"three redirects", "", "/hop/3", nil, ""},
		{"four redirects", "", "/hop/4", nil, "more than 3 redirects"},
		{"redirect loop", "", "/loop", nil, "more than 3 redirects"},
		{"redirect to http", "", "/to-http", nil, "redirect refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newProvider(t, true, a)
			idp.set(tc.mode, tc.body)
			var log logBuffer
			o := options(idp, &log, nil)
			o.RequiredAtStart = true
			set, err := keyset.NewURL(idp.srv.URL+tc.path, "", o)
			if tc.want == "" {
				must(t)(set, err)
				mustAccept(t, newPolicy(t, set), a.token(t, claimsFor(""), nil), tc.name)
				return
			}
			if err == nil {
				set.Close()
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}

			if tc.path != "/jwks" {
				return
			}
			// Served after a good set, the same answer keeps the set.
			idp.set("", good)
			clock := newClock()
			var log2 logBuffer
			set = must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", options(idp, &log2, clock)))
			p := newPolicy(t, set)
			idp.set(tc.mode, tc.body)
			clock.advance(time.Minute)
			mustRefuse(t, p, ecSigner(1, "new").token(t, claimsFor(""), nil), policy.ErrNoKey, "an unknown kid")
			mustAccept(t, p, a.token(t, claimsFor(""), nil), "the last good set")
			if recs := log2.records("fetch failed"); len(recs) != 1 {
				t.Errorf("%d failures logged, want 1:\n%s", len(recs), log2.String())
			}
		})
	}
}

// Cache-Control: max-age shortens the refresh, within MinRefresh and
// Refresh.
func TestCacheControl(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", -1},
		{"max-age=300", 300 * time.Second},
		{"public, max-age=60, must-revalidate", time.Minute},
		{`Max-Age="5"`, 5 * time.Second},
		{"no-store", -1},
		{"max-age=abc", -1},
		{"s-maxage=5", -1},
		{"max-age=0", 0},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Cache-Control", tc.header)
		}
		if got := keyset.MaxAge(h); got != tc.want {
			t.Errorf("Cache-Control %q: max-age %v, want %v", tc.header, got, tc.want)
		}
	}

	o := keyset.Options{Refresh: time.Hour, MinRefresh: time.Minute}
	for _, tc := range []struct {
		name     string
		maxAge   time.Duration
		failures int
		lo, hi   time.Duration
	}{
		{"no max-age", -1, 0, 54 * time.Minute, time.Hour},
		{"max-age under MinRefresh", 10 * time.Second, 0, time.Minute, time.Minute},
		{"max-age 0", 0, 0, time.Minute, time.Minute},
		{"max-age 10m", 10 * time.Minute, 0, 9 * time.Minute, 10 * time.Minute},
		{"max-age over Refresh", 2 * time.Hour, 0, 54 * time.Minute, time.Hour},
		{"1st failure", -1, 1, time.Minute, time.Minute},
		{"2nd failure", -1, 2, 108 * time.Second, 2 * time.Minute},
		{"3rd failure", -1, 3, 216 * time.Second, 4 * time.Minute},
		{"20th failure", -1, 20, 54 * time.Minute, time.Hour},
		{"1000th failure", -1, 1000, 54 * time.Minute, time.Hour},
	} {
		for range 20 {
			if d := keyset.NextDelay(o, tc.maxAge, tc.failures); d < tc.lo || d > tc.hi {
				t.Errorf("%s: next fetch in %v, want within [%v, %v]", tc.name, d, tc.lo, tc.hi)
				break
			}
		}
	}

	// End to end: max-age=1 brings the next fetch from an hour to a
	// second.
	a := ecSigner(0, "key-a")
	idp := newProvider(t, true, a)
	idp.update(func(p *provider) { p.cacheControl = "public, max-age=1" })
	var log logBuffer
	o = options(idp, &log, nil)
	o.MinRefresh = 10 * time.Millisecond
	must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
	eventually(t, "the refresh max-age asks for", func() bool { return idp.jwksHits.Load() >= 2 })
}

// A thousand concurrent requests with a kid the set does not know cause
// one fetch, which they all wait for; a thousand more with a kid the
// provider does not know either cause none.
func TestStorm(t *testing.T) {
	a, b := ecSigner(0, "key-a"), ecSigner(1, "key-b")
	idp := newProvider(t, true, a)
	var log logBuffer
	clock := newClock()
	set := must(t)(keyset.NewOIDC(idp.issuer, options(idp, &log, clock)))
	p := newPolicy(t, set)

	idp.serve(t, a, b)
	idp.set("block", nil) // hold the fetch until every request is in
	clock.advance(time.Minute)

	storm := func(tok string) (accepted int) {
		const n = 1000
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				if authenticate(p, tok) == nil {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			})
		}
		close(start)
		eventually(t, "the fetch", func() bool { return idp.jwksHits.Load() >= 2 })
		time.Sleep(20 * time.Millisecond) // let the stragglers pile up too
		idp.unblock()
		wg.Wait()
		return accepted
	}
	if n := storm(b.token(t, claimsFor(idp.issuer), nil)); n != 1000 {
		t.Errorf("%d of 1000 accepted", n)
	}
	if j := idp.jwksHits.Load(); j != 2 {
		t.Errorf("%d key set fetches for 1000 requests of one new kid, want 1 (2 with the first)", j)
	}

	unknown := ecSigner(2, "key-unknown").token(t, claimsFor(idp.issuer), nil)
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(func() {
			if authenticate(p, unknown) == nil {
				t.Error("a token of an unknown key is accepted")
			}
		})
	}
	wg.Wait()
	if j := idp.jwksHits.Load(); j != 2 {
		t.Errorf("%d key set fetches after 1000 more requests within MinRefresh, want 2", j)
	}
}

// Several issuers: a token's iss picks the set; an issuer not listed is
// refused before any fetch.
func TestSeveralIssuers(t *testing.T) {
	a, b := ecSigner(0, "key-a"), rsaSigner(0, "key-b")
	idpA, idpB := newProvider(t, true, a), newProvider(t, true, b)
	var log logBuffer
	clock := newClock()
	setA := must(t)(keyset.NewOIDC(idpA.issuer, options(idpA, &log, clock)))
	setB := must(t)(keyset.NewOIDC(idpB.issuer, options(idpB, &log, clock)))
	if setA.Issuer() != idpA.issuer || setB.Issuer() != idpB.issuer {
		t.Fatalf("issuers %q, %q", setA.Issuer(), setB.Issuer())
	}
	p := newPolicy(t, setA, setB)
	clock.advance(time.Minute) // an unknown kid may refetch

	mustAccept(t, p, a.token(t, claimsFor(idpA.issuer), nil), "issuer A, key A")
	mustAccept(t, p, b.token(t, claimsFor(idpB.issuer), nil), "issuer B, key B")
	mustRefuse(t, p, b.token(t, claimsFor(idpA.issuer), nil), policy.ErrNoKey, "issuer A, key B")

	hitsA, hitsB := idpA.jwksHits.Load()+idpA.discoveryHits.Load(), idpB.jwksHits.Load()+idpB.discoveryHits.Load()
	for _, iss := range []string{"https://idp.example", "", idpA.issuer + "/", strings.ToUpper(idpA.issuer)} {
		mustRefuse(t, p, a.token(t, claimsFor(iss), nil), policy.ErrUnknownIssuer, "issuer "+iss)
	}
	if idpA.jwksHits.Load()+idpA.discoveryHits.Load() != hitsA || idpB.jwksHits.Load()+idpB.discoveryHits.Load() != hitsB {
		t.Error("a token of an unknown issuer caused a fetch")
	}
}

// The keys of a set: each bound to one alg, for signatures, asymmetric and
// strong; the ones that are not are skipped and logged without their
// material.
func TestKeyRules(t *testing.T) {
	es, rs, ed := ecSigner(0, "es"), rsaSigner(0, "rs"), edSigner(0, "ed")
	noAlgEC := signer{"noalg-ec", "ES256", ecKeys()[1]}
	noAlgRSA := signer{"noalg-rsa", "PS256", rsaKeys()[1]}
	mustJWK := func(k jose.JSONWebKey) map[string]any {
		b, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	set := []map[string]any{
		mustJWK(es.jwk()),
		mustJWK(rs.jwk()),
		mustJWK(ed.jwk()),
		with(mustJWK(noAlgEC.jwk()), "alg", nil),
		with(mustJWK(noAlgRSA.jwk()), "alg", nil),
		with(mustJWK(ecSigner(2, "enc").jwk()), "use", "enc"),
		with(mustJWK(ecSigner(2, "ops").jwk()), "key_ops", []string{"encrypt"}),
		with(mustJWK(ecSigner(2, "ops-verify").jwk()), "key_ops", []string{"verify"}),
		with(mustJWK(ecSigner(3, "wrong-alg").jwk()), "alg", "RS256"),
		mustJWK(jose.JSONWebKey{Key: rsaKeys()[1].Public(), KeyID: "not-allowed", Algorithm: "RS384"}),
		mustJWK(jose.JSONWebKey{Key: secret, KeyID: "hs", Algorithm: "HS256", Use: "sig"}),
		mustJWK(jose.JSONWebKey{Key: rsaKeys()[2].Public(), KeyID: "weak", Algorithm: "RS256"}),
		mustJWK(ecSigner(4, "dup").jwk()),
		mustJWK(ecSigner(5, "dup").jwk()),
		mustJWK(jose.JSONWebKey{Key: ecKeys()[4], KeyID: "private", Algorithm: "ES256"}),
		{"kty": "XYZ", "kid": "unsupported"},
		{"kid": 7},
	}
	body, err := json.Marshal(map[string]any{"keys": set})
	if err != nil {
		t.Fatal(err)
	}
	idp := newProvider(t, true)
	idp.set("raw", body)
	var log logBuffer
	clock := newClock()
	o := options(idp, &log, clock)
	o.Algorithms = []string{"ES256", "RS256", "PS256", "EdDSA"}
	s := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
	got := kids(t, s)
	want := []string{"es/ES256", "rs/RS256", "ed/EdDSA", "noalg-ec/ES256", "ops-verify/ES256"}
	if !slices.Equal(got, want) {
		t.Errorf("keys %q, want %q", got, want)
	}
	skipped := log.records("key skipped")
	for _, kid := range []string{"noalg-rsa", "enc", "ops", "wrong-alg", "not-allowed", "hs", "weak", "dup", "private", "unsupported"} {
		if !slices.ContainsFunc(skipped, func(r map[string]any) bool { return r["kid"] == kid }) {
			t.Errorf("no log of the skipped key %q", kid)
		}
	}
	if len(skipped) != 12 {
		t.Errorf("%d keys skipped, want 12:\n%s", len(skipped), log.String())
	}

	p := newPolicy(t, s)
	clock.advance(time.Minute)
	mustAccept(t, p, es.token(t, claimsFor(""), nil), "ES256")
	mustAccept(t, p, rs.token(t, claimsFor(""), nil), "RS256")
	mustAccept(t, p, ed.token(t, claimsFor(""), nil), "EdDSA")
	mustAccept(t, p, noAlgEC.token(t, claimsFor(""), nil), "ES256 by a key without alg")
	// The JWK's alg binds the key: an RS256 key verifies no PS256 token.
	mustRefuse(t, p, signer{"rs", "PS256", rsaKeys()[0]}.token(t, claimsFor(""), nil), policy.ErrNoKey, "PS256 by an RS256 key")
	mustRefuse(t, p, noAlgRSA.token(t, claimsFor(""), nil), policy.ErrNoKey, "a key without alg that several algorithms suit")
	mustRefuse(t, p, ecSigner(3, "wrong-alg").token(t, claimsFor(""), nil), policy.ErrNoKey, "a key whose alg does not suit it")
	mustRefuse(t, p, ecSigner(2, "enc").token(t, claimsFor(""), nil), policy.ErrNoKey, "an encryption key")
	mustRefuse(t, p, ecSigner(4, "dup").token(t, claimsFor(""), nil), policy.ErrNoKey, "a duplicated kid")
	mustRefuse(t, p, ecSigner(4, "private").token(t, claimsFor(""), nil), policy.ErrNoKey, "a published private key")
	mustRefuse(t, p, signer{"hs", "HS256", nil}.hmacToken(t, secret), policy.ErrAlgorithmNotAllowed, "HS256 with the provider's oct key")
	// The kid is matched exactly: another key's kid is no help.
	mustRefuse(t, p, signer{"es", "ES256", ecKeys()[1]}.token(t, claimsFor(""), nil), policy.ErrInvalidSignature, "key noalg-ec under the kid es")
	// Without a kid, a token is tried only when one key fits its alg.
	mustAccept(t, p, signer{"", "EdDSA", edKeys()[0]}.token(t, claimsFor(""), nil), "EdDSA without a kid")
	mustRefuse(t, p, signer{"", "ES256", ecKeys()[0]}.token(t, claimsFor(""), nil), policy.ErrNoKey, "ES256 without a kid, two keys fit")

	// An allow-list of one algorithm gives an RSA key without alg its
	// algorithm.
	o.Algorithms = []string{"PS256"}
	s2 := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
	if got := kids(t, s2); !slices.Equal(got, []string{"noalg-rsa/PS256"}) {
		t.Errorf("with PS256 alone: keys %q", got)
	}
	mustAccept(t, newPolicy(t, s2), noAlgRSA.token(t, claimsFor(""), nil), "PS256 by a key without alg")

	// No key material in the log: no member of any JWK longer than a
	// few bytes (n, x, y, d, k, ...).
	text := log.String()
	for _, m := range set {
		for name, v := range m {
			if s, ok := v.(string); ok && len(s) > 16 && name != "kid" && strings.Contains(text, s) {
				t.Errorf("the log holds the %q member of a key:\n%s", name, text)
			}
		}
	}
}

// hmacToken signs an HS256 token with secret under s's kid.
func (s signer) hmacToken(t *testing.T, secret []byte) string {
	t.Helper()
	return signer{s.kid, "HS256", nil}.signWith(t, secret)
}

func (s signer) signWith(t *testing.T, key any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(s.alg), Key: jose.JSONWebKey{Key: key, KeyID: s.kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.MintSigned(t, sig, claimsFor(""))
}

// No URL is taken from a token: jku and x5u are never fetched, an
// embedded jwk is never used.
func TestNoURLFromToken(t *testing.T) {
	a := ecSigner(0, "key-a")
	idp := newProvider(t, true, a)
	var log logBuffer
	clock := newClock()
	set := must(t)(keyset.NewOIDC(idp.issuer, options(idp, &log, clock)))
	p := newPolicy(t, set)
	jku := idp.srv.URL + "/jku"
	headers := map[string]any{"jku": jku, "x5u": jku}

	mustAccept(t, p, a.token(t, claimsFor(idp.issuer), headers), "a known kid with jku and x5u")
	clock.advance(time.Minute)
	attacker := ecSigner(5, "attacker")
	mustRefuse(t, p, attacker.token(t, claimsFor(idp.issuer), headers), policy.ErrNoKey, "the attacker's kid with jku")

	embedded, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ecKeys()[5]}, (&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", "key-a"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claimsFor(idp.issuer))
	jws, err := embedded.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jws.CompactSerialize()
	if err := authenticate(p, tok); err == nil {
		t.Error("a token signed by its embedded jwk is accepted")
	}
	if n := idp.jkuHits.Load(); n != 0 {
		t.Errorf("the jku URL was fetched %d times", n)
	}
	if j := idp.jwksHits.Load(); j != 2 {
		t.Errorf("%d key set fetches, want 2", j)
	}
}

// No set was ever fetched: tokens get the 401 challenge (not a 500, not a
// panic) until one is; with RequiredAtStart the constructor fails.
func TestNoSetYet(t *testing.T) {
	a := ecSigner(0, "key-a")
	idp := newProvider(t, true, a)
	idp.set("500", nil)
	var log logBuffer
	clock := newClock()
	o := options(idp, &log, clock)

	o.RequiredAtStart = true
	if s, err := keyset.NewOIDC(idp.issuer, o); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("RequiredAtStart: %v, %v; want the error", s, err)
	}
	o.RequiredAtStart = false
	set := must(t)(keyset.NewOIDC(idp.issuer, o))
	if v := set.Version(); v != 0 {
		t.Errorf("Version = %d, want 0", v)
	}
	if recs := log.records("no key set yet"); len(recs) != 1 {
		t.Errorf("%d records of the failure, want 1 (none for the error returned):\n%s", len(recs), log.String())
	}
	p := newPolicy(t, set)
	tok := a.token(t, claimsFor(idp.issuer), nil)
	for _, kid := range []string{"key-a", ""} {
		if _, err := set.Keys(context.Background(), kid); !errors.Is(err, keyset.ErrNoKeySet) {
			t.Errorf("Keys(%q): %v, want ErrNoKeySet", kid, err)
		}
	}

	r := authRequest(tok)
	if _, err := p.AuthenticatedUserID(r); !errors.Is(err, policy.ErrNoKey) {
		t.Errorf("AuthenticatedUserID: %v, want ErrNoKey", err)
	}
	w := httptest.NewRecorder()
	p.Challenge(w, r)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("challenge: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}

	// The provider recovers: the next request after MinRefresh fetches.
	idp.set("", nil)
	clock.advance(time.Minute)
	mustAccept(t, p, tok, "after the provider recovers")
}

// The rules for URLs, checked when a set is built.
func TestURLRules(t *testing.T) {
	var log logBuffer
	o := options(nil, &log, nil)
	o.Timeout = 200 * time.Millisecond
	for _, u := range []string{
		"http://idp.example/jwks", "ftp://idp.example/jwks", "https://", "idp.example/jwks",
		"https://idp.example/jwks#frag", "http://127.0.0.1.idp.example/jwks", "http://localhost.idp.example/", "::",
	} {
		if s, err := keyset.NewURL(u, "", o); err == nil {
			s.Close()
			t.Errorf("NewURL(%q): no error", u)
		}
	}
	if s, err := keyset.NewOIDC("https://idp.example/?tenant=1", o); err == nil {
		s.Close()
		t.Error("NewOIDC with a query: no error")
	}
	// Loopback hosts over http are accepted; nothing listens there.
	for _, u := range []string{"http://localhost:1/jwks", "http://127.0.0.1:1/jwks", "http://127.1.2.3:1/", "http://[::1]:1/jwks"} {
		s, err := keyset.NewURL(u, "", o)
		if err != nil {
			t.Errorf("NewURL(%q): %v", u, err)
			continue
		}
		s.Close()
	}
	o.AllowHTTP = true
	s, err := keyset.NewURL("http://192.0.2.1:1/jwks", "", o)
	if err != nil {
		t.Errorf("AllowHTTP: %v", err)
	} else {
		s.Close()
	}

	o = options(nil, &log, nil)
	for _, bad := range []keyset.Options{
		{Algorithms: []string{"HS256"}},
		{Algorithms: []string{"none"}},
		{Algorithms: []string{}},
		{Refresh: time.Minute, MinRefresh: time.Hour},
	} {
		if s, err := keyset.NewURL("https://idp.example/jwks", "", bad); err == nil {
			s.Close()
			t.Errorf("Options %+v: no error", bad)
		}
	}
}

// Discovery: the issuer must match exactly, jwks_uri follows the https
// rule, and the algorithms it lists narrow the set's.
func TestDiscovery(t *testing.T) {
	es, rs := ecSigner(0, "es"), rsaSigner(0, "rs")
	var log logBuffer

	idp := newProvider(t, true, es, rs)
	// A trailing slash on the issuer is not doubled in the discovery URL;
	// the iss must then carry it too.
	idp.update(func(p *provider) {
		p.discoveryAlgs = []string{"RS256", "none", "HS256"}
		p.issuer += "/"
	})
	set := must(t)(keyset.NewOIDC(idp.issuer, options(idp, &log, nil)))
	if got := kids(t, set); !slices.Equal(got, []string{"rs/RS256"}) {
		t.Errorf("keys %q, want only rs", got)
	}
	p := newPolicy(t, set)
	mustAccept(t, p, rs.token(t, claimsFor(idp.issuer), nil), "RS256")
	mustRefuse(t, p, es.token(t, claimsFor(idp.issuer), nil), policy.ErrNoKey, "ES256, not in the discovery's list")

	for _, tc := range []struct {
		name   string
		change func(*provider)
		issuer string
		want   string
	}{
		{"another issuer", func(p *provider) { p.issuer = "https://other.example" }, "", "names the issuer"},
		{"jwks_uri over http", func(p *provider) { p.jwksURI = "http://idp.example/jwks" }, "", "not https"},
		{"jwks_uri not a URL", func(p *provider) { p.jwksURI = "::" }, "", "not a valid URL"},
		{"no jwks_uri", func(p *provider) { p.jwksURI = "-" }, "", "names no jwks_uri"},
		{"no allowed algorithm", func(p *provider) { p.discoveryAlgs = []string{"HS256"} }, "", "none of the allowed algorithms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newProvider(t, true, es)
			issuer := idp.issuer
			idp.update(tc.change)
			if tc.issuer != "" {
				issuer = tc.issuer
			}
			o := options(idp, &log, nil)
			o.RequiredAtStart = true
			s, err := keyset.NewOIDC(issuer, o)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// jwks_file: read at the start, read again when it changes; a broken
// change keeps the keys.
func TestFile(t *testing.T) {
	a, b := ecSigner(0, "key-a"), edSigner(0, "key-b")
	dir := t.TempDir()
	path := filepath.Join(dir, "jwks.json")
	write := func(data []byte) {
		t.Helper()
		tmp := filepath.Join(dir, "tmp")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	var log logBuffer
	o := options(nil, &log, nil)
	o.FilePoll = 5 * time.Millisecond

	if _, err := keyset.NewFile(path, "", o); err == nil {
		t.Error("a missing file: no error")
	}
	write([]byte("not json"))
	if _, err := keyset.NewFile(path, "", o); err == nil {
		t.Error("a broken file: no error")
	}
	write(jwksJSON(t, a))
	var setLog logBuffer
	o.Logger = setLog.logger()
	set := must(t)(keyset.NewFile(path, "https://idp.example", o))
	if set.Issuer() != "https://idp.example" {
		t.Errorf("Issuer = %q", set.Issuer())
	}
	p := newPolicy(t, set)
	mustAccept(t, p, a.token(t, claimsFor("https://idp.example"), nil), "key a")

	write(jwksJSON(t, b))
	eventually(t, "the reload", func() bool { return set.Version() == 2 })
	mustAccept(t, p, b.token(t, claimsFor("https://idp.example"), nil), "key b")
	mustRefuse(t, p, a.token(t, claimsFor("https://idp.example"), nil), policy.ErrNoKey, "key a, gone from the file")

	write([]byte(`{"keys": [`))
	eventually(t, "the failure", func() bool { return len(setLog.records("fetch failed")) == 1 })
	mustAccept(t, p, b.token(t, claimsFor("https://idp.example"), nil), "key b, after a broken change")
	time.Sleep(50 * time.Millisecond) // ten more polls of the same broken file
	if n := len(setLog.records("fetch failed")); n != 1 {
		t.Errorf("the broken file is reported %d times, want once", n)
	}

	// A key without a kid answers only tokens without one.
	noKid := edSigner(1, "")
	write(jwksJSON(t, noKid))
	eventually(t, "the reload", func() bool { return set.Version() == 3 })
	mustAccept(t, p, noKid.token(t, claimsFor("https://idp.example"), nil), "no kid, one key")
	mustRefuse(t, p, signer{"some-kid", "EdDSA", edKeys()[1]}.token(t, claimsFor("https://idp.example"), nil), policy.ErrNoKey, "a kid, and only a key without one")

	// A private JWK in a file gives its public half; an HMAC key is
	// refused there too.
	priv, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: ecKeys()[2], KeyID: "private", Algorithm: "ES256"},
		{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hs", Algorithm: "HS256"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	write(priv)
	eventually(t, "the reload", func() bool { return set.Version() == 4 })
	if got := kids(t, set); !slices.Equal(got, []string{"private/ES256"}) {
		t.Errorf("keys %q", got)
	}
	mustAccept(t, p, ecSigner(2, "private").token(t, claimsFor("https://idp.example"), nil), "a private JWK's public half")
}

// Close is idempotent and leaves the keys answering.
func TestClose(t *testing.T) {
	a := ecSigner(0, "key-a")
	idp := newProvider(t, true, a)
	var log logBuffer
	o := options(idp, &log, nil)
	o.Refresh, o.MinRefresh = 10*time.Millisecond, time.Millisecond
	// Fetches are counted where the set makes them, not where the
	// provider serves them: a request on the wire when Close cancels it
	// may still reach the handler afterwards.
	var fetches atomic.Int64
	client := *o.Client
	client.Transport = countingTransport{client.Transport, &fetches}
	o.Client = &client
	set, err := keyset.NewURL(idp.srv.URL+"/jwks", "", o)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "background fetches", func() bool { return fetches.Load() >= 3 })
	for range 2 {
		if err := set.Close(); err != nil {
			t.Fatal(err)
		}
	}
	hits := fetches.Load()
	if keys, err := set.Keys(context.Background(), "unknown"); err != nil || keys != nil {
		t.Errorf("Keys after Close: %v, %v", keys, err)
	}
	if keys, err := set.Keys(context.Background(), "key-a"); err != nil || len(keys) != 1 {
		t.Errorf("Keys after Close: %v, %v", keys, err)
	}
	if fetches.Load() != hits {
		t.Error("a fetch after Close")
	}
}

// countingTransport counts the requests a client makes.
type countingTransport struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// An issuer comes from a token when a resolver discovers it, and may be
// as long as the token: NewOIDC's errors show its first bytes and its
// length, never all of it, whether it is refused before any fetch or its
// fetch fails.
func TestNewOIDCShortensLongIssuer(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	gone := httptest.NewTLSServer(http.NotFoundHandler())
	gone.Close()
	long := strings.Repeat("a", 8000)
	var log logBuffer
	o := keyset.Options{Client: srv.Client(), RequiredAtStart: true, Logger: log.logger()}
	for name, iss := range map[string]string{
		"not http(s)":       "ftp://idp.example/" + long,
		"a query":           "https://idp.example/?" + long,
		"a 404":             srv.URL + "/" + long,
		"a refused connect": gone.URL + "/" + long,
	} {
		_, err := keyset.NewOIDC(iss, o)
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if msg := err.Error(); len(msg) > 600 || !strings.Contains(msg, "bytes)") {
			t.Errorf("%s: an error of %d bytes: %.300s", name, len(msg), msg)
		}
	}
}
