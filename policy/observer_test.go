package policy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// events records what an Observer is told, one string an event, with
// the reasons as they came (for errors.Is against the sentinels).
type events struct {
	mu      sync.Mutex
	got     []string
	reasons []error
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, s)
}

// observer is an Observer that records into e.
func (e *events) observer() *policy.Observer {
	return &policy.Observer{
		Authenticated: func(p string) { e.add("allowed(" + p + ")") },
		Refused: func(p string, reason error) {
			e.mu.Lock()
			e.reasons = append(e.reasons, reason)
			e.mu.Unlock()
			e.add("denied(" + p + "): " + reason.Error())
		},
		CacheHit:              func() { e.add("hit") },
		CacheMiss:             func() { e.add("miss") },
		KeySetFetched:         func(source string, ok bool) { e.add(fmt.Sprintf("fetch %s %v", source, ok)) },
		Revoked:               func() { e.add("revoked") },
		RevocationUnavailable: func() { e.add("revocation unavailable") },
		DPoPReplay:            func() { e.add("dpop replay") },
	}
}

// take returns the events so far and forgets them.
func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.got
	e.got = nil
	return got
}

// lastReason is the reason of the last refusal.
func (e *events) lastReason() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.reasons) == 0 {
		return nil
	}
	return e.reasons[len(e.reasons)-1]
}

// want checks the events of one request: exactly these, in this order.
func (e *events) want(t *testing.T, what string, want ...string) {
	t.Helper()
	if got := e.take(); !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Errorf("%s: events %q, want %q", what, got, want)
	}
}

// observedServer serves p under chiadapter.Authenticate, over real HTTP:
// GET /whoami asks for the identity several ways (a guard, the context
// accessors, the policy's own method), and answers the userid or the
// challenge.
func observedServer(t *testing.T, p policy.AuthenticationPolicy) *httptest.Server {
	t.Helper()
	g := &chiadapter.Guard{Policy: p, Logger: discard}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p))
	whoami := func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		_, _ = policy.UserIDFrom(r.Context())
		_, _ = p.EffectivePrincipals(r)
		if _, err := p.AuthenticatedUserID(r); err != nil || id.Err != nil {
			p.Challenge(w, r)
			return
		}
		io.WriteString(w, id.UserID)
	}
	r.Get("/whoami", whoami)
	r.With(g.Authenticated).Get("/guarded", whoami)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// call makes one request with the Authorization header authz ("" for
// none) and the DPoP proof ("" for none), and returns the status.
func call(t *testing.T, url, authz, proof string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func observedJWT(t *testing.T, e *events, cfg policy.Config) *policy.JWT {
	t.Helper()
	if cfg.MasterSecret == nil && cfg.PublicKey == nil {
		cfg.MasterSecret = testSecret
	}
	if cfg.Now == nil {
		cfg.Now = clock
	}
	cfg.Logger, cfg.Observer = discard, e.observer()
	p, err := policy.NewJWT(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestObserverTokens: each event of a token's way through the JWT policy
// fires once, for its situation, however many times the request's
// identity is asked for (the guard, the accessors, the policy's methods).
func TestObserverTokens(t *testing.T) {
	t.Run("good token: allowed, a miss, then a hit", func(t *testing.T) {
		var e events
		srv := observedServer(t, observedJWT(t, &e, policy.Config{}))
		tok := mintHS(t, validClaims("alice"))
		call(t, srv.URL+"/guarded", "", "")
		e.want(t, "no credentials")
		// The cache takes a token the second time it verifies.
		for i, want := range []string{"miss", "miss", "hit", "hit"} {
			if s := call(t, srv.URL+"/guarded", "JWT "+tok, ""); s != http.StatusOK {
				t.Fatalf("request %d: %d", i, s)
			}
			e.want(t, fmt.Sprintf("request %d", i), want, "allowed()")
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		var e events
		srv := observedServer(t, observedJWT(t, &e, policy.Config{}))
		bad := testkit.BreakSignature(t, mintHS(t, validClaims("alice")))
		if s := call(t, srv.URL+"/whoami", "JWT "+bad, ""); s != http.StatusUnauthorized {
			t.Fatalf("status %d", s)
		}
		e.want(t, "a broken signature", "miss", "denied(): invalid signature")
		if r := e.lastReason(); r != policy.ErrInvalidSignature {
			t.Errorf("reason %v, want the sentinel ErrInvalidSignature", r)
		}
	})
	t.Run("expired", func(t *testing.T) {
		var e events
		srv := observedServer(t, observedJWT(t, &e, policy.Config{}))
		tok := mintHS(t, map[string]any{"sub": "alice", "exp": testNow.Add(-time.Hour).Unix()})
		call(t, srv.URL+"/guarded", "JWT "+tok, "")
		e.want(t, "an expired token", "miss", "denied(): token expired")
		if r := e.lastReason(); r != policy.ErrTokenExpired {
			t.Errorf("reason %v, want ErrTokenExpired", r)
		}
	})
	t.Run("a claim's reason is its sentinel", func(t *testing.T) {
		var e events
		srv := observedServer(t, observedJWT(t, &e, policy.Config{ScopePrincipals: true}))
		claims := validClaims("alice")
		claims["scope"] = 5
		call(t, srv.URL+"/whoami", "JWT "+mintHS(t, claims), "")
		e.want(t, "a malformed scope", "miss", "denied(): invalid scope claim")
		if r := e.lastReason(); r != policy.ErrInvalidScope {
			t.Errorf("reason %v (%T), want the sentinel ErrInvalidScope, not the *ClaimError", r, r)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		var e events
		store := policy.NewMemoryRevocations(0, clock)
		srv := observedServer(t, observedJWT(t, &e, policy.Config{Revocation: store}))
		claims := validClaims("alice")
		claims["jti"] = "j-1"
		tok := mintHS(t, claims)
		call(t, srv.URL+"/whoami", "JWT "+tok, "")
		e.want(t, "before the revocation", "miss", "allowed()")
		if err := store.RevokeToken(context.Background(), "j-1", testNow.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		call(t, srv.URL+"/whoami", "JWT "+tok, "")
		e.want(t, "revoked", "miss", "revoked", "denied(): token revoked")
		call(t, srv.URL+"/whoami", "JWT "+tok, "")
		e.want(t, "revoked and cached", "hit", "revoked", "denied(): token revoked")
	})
	t.Run("revocation store unavailable", func(t *testing.T) {
		for _, open := range []bool{false, true} {
			var e events
			srv := observedServer(t, observedJWT(t, &e, policy.Config{Revocation: downStore{}, RevocationFailOpen: open}))
			tok := mintHS(t, validClaims("alice"))
			status := call(t, srv.URL+"/whoami", "JWT "+tok, "")
			if open {
				e.want(t, "fail open", "miss", "revocation unavailable", "allowed()")
			} else {
				e.want(t, "fail closed", "miss", "revocation unavailable", "denied(): revocation store unavailable")
				if status != http.StatusServiceUnavailable {
					t.Errorf("status %d, want 503", status)
				}
			}
		}
	})
	t.Run("DPoP replay", func(t *testing.T) {
		var e events
		srv := observedServer(t, observedJWT(t, &e, policy.Config{DPoP: policy.DPoPAllowed, Now: time.Now}))
		key := testkit.NewDPoPKey(t)
		now := time.Now()
		tok := mintHS(t, map[string]any{"sub": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "cnf": map[string]any{"jkt": key.JKT}})
		proof := key.Proof(t, http.MethodGet, srv.URL+"/whoami", tok, "")
		if s := call(t, srv.URL+"/whoami", "DPoP "+tok, proof); s != http.StatusOK {
			t.Fatalf("first use of the proof: %d", s)
		}
		e.want(t, "a fresh proof", "miss", "allowed()")
		if s := call(t, srv.URL+"/whoami", "DPoP "+tok, proof); s != http.StatusUnauthorized {
			t.Fatalf("the proof again: %d", s)
		}
		e.want(t, "the proof replayed", "miss", "dpop replay", "denied(): invalid DPoP proof")
		// Another bad proof is no replay.
		other := testkit.NewDPoPKey(t).Proof(t, http.MethodGet, srv.URL+"/whoami", tok, "")
		call(t, srv.URL+"/whoami", "DPoP "+tok, other)
		e.want(t, "a proof of another key", "hit", "denied(): invalid DPoP proof")
	})
	t.Run("no cache, no cache events", func(t *testing.T) {
		var e events
		srv := observedServer(t, observedJWT(t, &e, policy.Config{CacheSize: policy.NoCache}))
		call(t, srv.URL+"/whoami", "JWT "+mintHS(t, validClaims("alice")), "")
		e.want(t, "without a cache", "allowed()")
	})
}

// downStore is a revocation store that cannot be reached.
type downStore struct{}

func (downStore) Revoked(context.Context, string, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}
func (downStore) RevokeToken(context.Context, string, time.Time) error { return nil }
func (downStore) RevokeSubject(context.Context, string, time.Time, time.Time) error {
	return nil
}
func (downStore) Version() uint64 { return 0 }
func (downStore) Close() error    { return nil }

// TestObserverStack: a stack reports each request once, to its own
// observer, naming the policy that decided; its policies report their
// cache events, not their identities.
func TestObserverStack(t *testing.T) {
	var e events
	jwtp := observedJWT(t, &e, policy.Config{})
	bp, err := basic.New(basic.Config{Check: basic.Passwords(map[string]string{"bob": "secret"}, nil), Logger: discard, Observer: e.observer()})
	if err != nil {
		t.Fatal(err)
	}
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "api", Policy: jwtp}, {Name: "svc", Policy: bp}}, Observer: e.observer()})
	if err != nil {
		t.Fatal(err)
	}
	srv := observedServer(t, stack)
	call(t, srv.URL+"/guarded", "JWT "+mintHS(t, validClaims("alice")), "")
	e.want(t, "a token", "miss", "allowed(api)")
	call(t, srv.URL+"/guarded", "Basic "+basicAuth("bob", "secret"), "")
	e.want(t, "a password", "allowed(svc)")
	call(t, srv.URL+"/guarded", "Basic "+basicAuth("bob", "wrong"), "")
	e.want(t, "a wrong password", "denied(svc): invalid username or password")
	if r := e.lastReason(); r != basic.ErrBadPassword {
		t.Errorf("reason %v, want basic.ErrBadPassword", r)
	}
	call(t, srv.URL+"/guarded", "JWT "+testkit.BreakSignature(t, mintHS(t, validClaims("alice"))), "")
	e.want(t, "a broken token", "miss", "denied(api): invalid signature")
	call(t, srv.URL+"/guarded", "", "")
	e.want(t, "no credentials")

	// The Basic policy alone reports to its own observer.
	srv = observedServer(t, bp)
	call(t, srv.URL+"/whoami", "Basic "+basicAuth("bob", "wrong"), "")
	e.want(t, "Basic alone, a wrong password", "denied(): invalid username or password")
	call(t, srv.URL+"/whoami", "Basic "+basicAuth("system.Everyone", "x"), "")
	e.want(t, "Basic alone, a reserved username", "denied(): jwtauth: user rejected")
}

func basicAuth(user, password string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, password)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestObserverOutsideAuthenticate: without Authenticate, no identity is
// reported (there is no once per request to report it at), and two
// nested Authenticates of one policy report it once.
func TestObserverOutsideAuthenticate(t *testing.T) {
	var e events
	p := observedJWT(t, &e, policy.Config{CacheSize: policy.NoCache})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "JWT "+mintHS(t, validClaims("alice")))
	if _, err := p.AuthenticatedUserID(r); err != nil {
		t.Fatal(err)
	}
	e.want(t, "a method without Authenticate")

	h := p.Middleware(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = policy.UserIDFrom(r.Context())
		_, _ = p.AuthenticatedUserID(r)
	})))
	h.ServeHTTP(httptest.NewRecorder(), r)
	e.want(t, "Authenticate twice", "allowed()")
}

// TestReason: the reason of each kind of identity error.
func TestReason(t *testing.T) {
	for _, c := range []struct {
		err, want error
	}{
		{nil, nil},
		{policy.ErrNoCredentials, policy.ErrNoCredentials},
		{&policy.InvalidTokenError{Reason: policy.ErrTokenExpired, Cause: errors.New("by 3s")}, policy.ErrTokenExpired},
		{&policy.InvalidTokenError{Reason: &policy.ClaimError{Claim: "client_id", Err: policy.ErrMissingClaim}}, policy.ErrMissingClaim},
		{fmt.Errorf("%w: %w", policy.ErrInvalidCredentials, errors.New("an application's")), policy.ErrInvalidCredentials},
		{policy.ErrUserRejected, policy.ErrUserRejected},
		{fmt.Errorf("%w: %w", policy.ErrUserRejected, policy.ErrCrossOrigin), policy.ErrCrossOrigin},
	} {
		if got := policy.Reason(c.err); got != c.want {
			t.Errorf("Reason(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestCounters: the counters count each event, concurrently, and bound
// their labels.
func TestCounters(t *testing.T) {
	var c policy.Counters
	o := c.Observer()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				o.Authenticated("")
				o.Authenticated("api")
				o.Refused("api", policy.ErrInvalidSignature)
				o.Refused("", policy.ErrTokenExpired)
				o.CacheHit()
				o.CacheMiss()
				o.KeySetFetched("https://idp/jwks", true)
				o.KeySetFetched("https://idp/jwks", false)
				o.Revoked()
				o.RevocationUnavailable()
				o.DPoPReplay()
			}
		})
	}
	wg.Wait()
	want := policy.CountersSnapshot{
		Allowed: 1600, AllowedByPolicy: map[string]uint64{"api": 800},
		Denied: 1600, DeniedByReason: map[string]uint64{"invalid signature": 800, "token expired": 800},
		JWTCacheHit: 800, JWTCacheMiss: 800, JWKSFetchSuccess: 800, JWKSFetchFailed: 800,
		Revoked: 800, RevocationUnavailable: 800, DPoPReplay: 800,
	}
	if got := c.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("Snapshot = %+v\nwant %+v", got, want)
	}

	var d policy.Counters
	od := d.Observer()
	for i := range 2 * policy.MaxCounterLabels {
		od.Refused("", fmt.Errorf("reason %d", i))
	}
	s := d.Snapshot()
	if len(s.DeniedByReason) != policy.MaxCounterLabels+1 || s.DeniedByReason[policy.OtherLabel] != policy.MaxCounterLabels || s.Denied != 2*policy.MaxCounterLabels {
		t.Errorf("%d labels, %d other, %d denied; want %d, %d, %d", len(s.DeniedByReason), s.DeniedByReason[policy.OtherLabel], s.Denied, policy.MaxCounterLabels+1, policy.MaxCounterLabels, 2*policy.MaxCounterLabels)
	}
}

// TestCountersOverHTTP: the Counters' observer, given to a policy, counts
// real requests.
func TestCountersOverHTTP(t *testing.T) {
	var c policy.Counters
	p, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, Now: clock, Logger: discard, Observer: c.Observer()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	srv := observedServer(t, p)
	tok := mintHS(t, validClaims("alice"))
	for range 3 {
		call(t, srv.URL+"/guarded", "JWT "+tok, "")
	}
	call(t, srv.URL+"/guarded", "JWT "+testkit.BreakSignature(t, tok), "")
	call(t, srv.URL+"/guarded", "", "")
	got := c.Snapshot()
	if got.Allowed != 3 || got.Denied != 1 || got.DeniedByReason["invalid signature"] != 1 || got.JWTCacheHit != 1 || got.JWTCacheMiss != 3 {
		t.Errorf("Snapshot = %+v", got)
	}
}

// The warm path (a cached HS256 token through Authenticate and a handler
// that reads the identity) without an observer and with Counters'.
func BenchmarkObserver(b *testing.B) {
	for _, c := range []struct {
		name     string
		observer func() *policy.Observer
	}{
		{"unset", func() *policy.Observer { return nil }},
		{"counters", func() *policy.Observer { return new(policy.Counters).Observer() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, r := warmPath(b, c.observer())
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

// warmPath is a handler under Authenticate whose token is cached, and a
// request that presents it.
func warmPath(tb testing.TB, o *policy.Observer) (http.Handler, *http.Request) {
	tb.Helper()
	p, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, Now: clock, Logger: discard, Observer: o})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	h := policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := policy.UserIDFrom(r.Context()); !ok {
			panic("not authenticated")
		}
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "JWT "+testkit.Mint(tb, jose.HS256, testSecret, validClaims("alice")))
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), r) // into the cache
	}
	return h, r
}

// TestObserverCostsNoAllocation: on the warm path, an observer, unset or
// counting, allocates nothing.
func TestObserverCostsNoAllocation(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations")
	}
	allocs := func(o *policy.Observer) float64 {
		h, r := warmPath(t, o)
		w := httptest.NewRecorder()
		return testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) })
	}
	unset, counting := allocs(nil), allocs(new(policy.Counters).Observer())
	if counting != unset {
		t.Errorf("the warm path allocates %.0f times with Counters' observer, %.0f without", counting, unset)
	}
	t.Logf("warm path: %.0f allocations, with or without an observer", unset)
}
