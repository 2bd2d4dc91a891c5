package keyset_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// multiTenant is an in-process multi-tenant provider, as Microsoft's:
// tenant T's issuer is <url>/T/v2.0, with its discovery document and its
// key set under it. A tenant without a signer answers 500 to everything.
type multiTenant struct {
	srv *httptest.Server

	mu      sync.Mutex
	signers map[string]signer
	hits    map[string]int // requests, by tenant
}

func newMultiTenant(t *testing.T, signers map[string]signer) *multiTenant {
	m := &multiTenant{signers: signers, hits: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/{tenant}/v2.0/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		m.mu.Lock()
		m.hits[tenant]++
		s, ok := m.signers[tenant]
		m.mu.Unlock()
		if !ok {
			http.Error(w, "no such tenant", http.StatusInternalServerError)
			return
		}
		switch r.PathValue("rest") {
		case ".well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{"issuer": m.issuer(tenant), "jwks_uri": m.issuer(tenant) + "/keys"})
		case "keys":
			w.Write(jwksJSON(t, s))
		default:
			http.NotFound(w, r)
		}
	})
	m.srv = httptest.NewTLSServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *multiTenant) issuer(tenant string) string { return m.srv.URL + "/" + tenant + "/v2.0" }

func (m *multiTenant) template() string { return m.srv.URL + "/{tenant}/v2.0" }

// requests is the number of requests the provider was sent, for every
// tenant but those named.
func (m *multiTenant) requests(tenants ...string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for tenant, h := range m.hits {
		if len(tenants) == 0 || slices.Contains(tenants, tenant) {
			n += h
		}
	}
	return n
}

// resolverOptions are the ResolverOptions of a test: the provider's TLS
// client, a log and a fake clock.
func resolverOptions(m *multiTenant, log *logBuffer, clock *fakeClock) keyset.ResolverOptions {
	o := keyset.ResolverOptions{Options: keyset.Options{Client: m.srv.Client(), Logger: log.logger()}}
	keyset.SetClock(&o.Options, clock.now)
	return o
}

// Two tenants verify their own tokens, each discovered once however many
// tokens come; a token of one tenant signed by the other's key is refused
// (iss is held to the issuer whose keys verify), and so is a token of a
// tenant not in the list, which costs no request at all.
func TestTenantResolver(t *testing.T) {
	a, b := ecSigner(0, "a-key"), rsaSigner(0, "b-key")
	m := newMultiTenant(t, map[string]signer{"tenant-a": a, "tenant-b": b, "tenant-c": ecSigner(1, "c-key")})
	var log logBuffer
	r, err := keyset.NewTenantResolver(m.template(), []string{"tenant-a", "tenant-b"}, resolverOptions(m, &log, newClock()))
	if err != nil {
		t.Fatal(err)
	}
	p := resolverPolicy(t, r)

	for range 3 {
		mustAccept(t, p, a.token(t, claimsFor(m.issuer("tenant-a")), nil), "tenant a")
		mustAccept(t, p, b.token(t, claimsFor(m.issuer("tenant-b")), nil), "tenant b")
	}
	if n := m.requests(); n != 4 {
		t.Errorf("%d requests for two tenants; want 4 (a discovery and a key set each)", n)
	}
	if got := r.Issuers(); !slices.Equal(got, []string{m.issuer("tenant-a"), m.issuer("tenant-b")}) {
		t.Errorf("Issuers() = %q", got)
	}

	// Tenant b's key, tenant a's iss (and the other way round, with b's
	// kid): a's set has no such key.
	mustRefuse(t, p, b.token(t, claimsFor(m.issuer("tenant-a")), nil), policy.ErrNoKey, "b's key under a's iss")
	mustRefuse(t, p, a.token(t, claimsFor(m.issuer("tenant-b")), nil), policy.ErrNoKey, "a's key under b's iss")

	c := ecSigner(1, "c-key")
	for _, iss := range []string{
		m.issuer("tenant-c"),             // a real tenant, not in the list
		m.issuer("tenant-a") + "/",       // not exactly a's issuer
		m.issuer("TENANT-A"),             // nor this
		m.issuer("tenant-a/../tenant-c"), // nor this
		"",
	} {
		mustRefuse(t, p, c.token(t, claimsFor(iss), nil), policy.ErrUnknownIssuer, fmt.Sprintf("iss %q", iss))
	}
	if n := m.requests("tenant-c", "TENANT-A"); n != 0 {
		t.Errorf("%d requests for tenants not in the list, want none", n)
	}
	if n := len(log.records("not resolved")); n != 0 {
		t.Errorf("issuers refused by the list were logged:\n%s", log.String())
	}
}

// A storm of tokens of issuers that are unknown (not in the list) or fail
// (a tenant in the list whose provider answers 500), many at once: the
// unknown ones cost no request, the failing tenant one discovery, and no
// more until its retry time, which doubles with each failure.
func TestResolverStorm(t *testing.T) {
	a := ecSigner(0, "a-key")
	m := newMultiTenant(t, map[string]signer{"tenant-a": a})
	var log logBuffer
	clock := newClock()
	o := resolverOptions(m, &log, clock)
	o.RetryMin, o.RetryMax = time.Minute, 4*time.Minute
	r, err := keyset.NewTenantResolver(m.template(), []string{"tenant-a", "down"}, o)
	if err != nil {
		t.Fatal(err)
	}
	p := resolverPolicy(t, r)
	signer := ecSigner(1, "storm")
	down := signer.token(t, claimsFor(m.issuer("down")), nil)
	storm := func() {
		var wg sync.WaitGroup
		for i := range 400 {
			wg.Go(func() {
				tok := down
				if i%2 == 0 {
					tok = signer.token(t, claimsFor(m.issuer(fmt.Sprintf("unknown-%d", i))), nil)
				}
				if err := authenticate(p, tok); !errors.Is(err, policy.ErrUnknownIssuer) {
					t.Errorf("token %d: %v, want ErrUnknownIssuer", i, err)
				}
			})
		}
		wg.Wait()
	}
	storm()
	if n, all := m.requests("down"), m.requests(); n != 1 || all != 1 {
		t.Fatalf("after the storm: %d requests for the failing tenant and %d in all; want 1 and 1", n, all)
	}
	if n := len(log.records("not resolved")); n != 1 {
		t.Errorf("%d failures logged, want 1:\n%s", n, log.String())
	}
	// The good tenant still resolves, in the middle of it all.
	mustAccept(t, p, a.token(t, claimsFor(m.issuer("tenant-a")), nil), "tenant a")

	// Within its retry time, the failing tenant is not tried again; once
	// it is over, one storm tries it once, and the next retry is twice as
	// far away.
	clock.advance(time.Minute - time.Second)
	storm()
	if n := m.requests("down"); n != 1 {
		t.Fatalf("within the retry time: %d requests, want still 1", n)
	}
	clock.advance(time.Second)
	storm()
	if n := m.requests("down"); n != 2 {
		t.Fatalf("after the retry time: %d requests, want 2", n)
	}
	clock.advance(time.Minute)
	storm()
	if n := m.requests("down"); n != 2 {
		t.Fatalf("one minute after the second failure: %d requests, want still 2 (the retry time doubled)", n)
	}
	clock.advance(time.Minute)
	storm()
	if n := m.requests("down"); n != 3 {
		t.Fatalf("two minutes after the second failure: %d requests, want 3", n)
	}
}

// With an application's own accept and find (accept takes 50 issuers of
// its own, whose provider is down), a storm of tokens of those failing
// issuers costs at most one request per issuer, and a second storm none:
// each failure is remembered.
func TestResolverStormOfNewIssuers(t *testing.T) {
	m := newMultiTenant(t, map[string]signer{})
	var log logBuffer
	clock := newClock()
	o := resolverOptions(m, &log, clock)
	so := o.Options
	so.RequiredAtStart = true
	const issuers = 50
	ours := map[string]bool{}
	for i := range issuers {
		ours[m.issuer(fmt.Sprintf("t%d", i))] = true
	}
	var finds sync.Map
	r, err := keyset.NewResolver(func(iss string) bool { return ours[iss] }, func(_ context.Context, iss string) (policy.KeySet, error) {
		if _, again := finds.LoadOrStore(iss, true); again {
			t.Errorf("find called twice for %q", iss)
		}
		return keyset.NewOIDC(iss, so)
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	p := resolverPolicy(t, r)
	signer := ecSigner(1, "storm")
	tokens := make([]string, issuers)
	for i := range tokens {
		tokens[i] = signer.token(t, claimsFor(m.issuer(fmt.Sprintf("t%d", i))), nil)
	}
	storm := func() {
		var wg sync.WaitGroup
		for i := range 20 * issuers {
			wg.Go(func() {
				if err := authenticate(p, tokens[i%issuers]); !errors.Is(err, policy.ErrUnknownIssuer) {
					t.Errorf("token %d: %v, want ErrUnknownIssuer", i, err)
				}
			})
		}
		wg.Wait()
	}
	storm()
	if n := m.requests(); n == 0 || n > issuers {
		t.Fatalf("%d requests for %d failing issuers; want at least one and at most one each", n, issuers)
	}
	// Issuers refused because MaxResolving others were being resolved are
	// tried by a later storm, still once each.
	for i := 0; m.requests() < issuers && i < 100; i++ {
		storm()
	}
	if n := m.requests(); n != issuers {
		t.Fatalf("%d requests after the storms for %d issuers; want one each", n, issuers)
	}
	storm()
	if n := m.requests(); n != issuers {
		t.Fatalf("a storm after every issuer failed made %d requests, want none", n-issuers)
	}
}

// twoIssuerResolver is a tenant resolver of the tenants t0, t1 and t2 of
// signers that keeps at most two of their sets, and a policy that uses it.
func twoIssuerResolver(t *testing.T, signers map[string]signer) (*multiTenant, *logBuffer, *fakeClock, *keyset.Resolver, *policy.JWT) {
	t.Helper()
	m := newMultiTenant(t, signers)
	log := &logBuffer{}
	clock := newClock()
	o := resolverOptions(m, log, clock)
	o.MaxIssuers = 2
	r, err := keyset.NewTenantResolver(m.template(), []string{"t0", "t1", "t2"}, o)
	if err != nil {
		t.Fatal(err)
	}
	return m, log, clock, r, resolverPolicy(t, r)
}

// The resolver keeps at most MaxIssuers sets: the one used least recently
// is closed and dropped, the tokens it verified are no longer answered
// from the verifier's cache, and its issuer is discovered again when its
// tokens come back.
func TestResolverBound(t *testing.T) {
	signers := map[string]signer{"t0": ecSigner(0, "k0"), "t1": ecSigner(1, "k1"), "t2": rsaSigner(0, "k2")}
	m, log, clock, r, p := twoIssuerResolver(t, signers)
	tok := map[string]string{}
	for _, tenant := range []string{"t0", "t1", "t2"} {
		tok[tenant] = signers[tenant].token(t, claimsFor(m.issuer(tenant)), nil)
	}
	// t0 twice: its second verification puts its token in the verifier's
	// cache. A second apart each, so that t0 is the one used least
	// recently when t2 comes.
	for _, tenant := range []string{"t0", "t0", "t1"} {
		mustAccept(t, p, tok[tenant], tenant)
		clock.advance(time.Second)
	}
	mustAccept(t, p, tok["t2"], "t2, which drops t0")
	if got := r.Issuers(); !slices.Equal(got, []string{m.issuer("t1"), m.issuer("t2")}) {
		t.Fatalf("Issuers() = %q after the bound", got)
	}
	before := m.requests("t0")
	mustAccept(t, p, tok["t0"], "t0 again")
	if n := m.requests("t0") - before; n != 2 {
		t.Errorf("t0 again: %d requests, want 2 (discovered again, not answered from the cache)", n)
	}
	if !strings.Contains(log.String(), "dropped") {
		t.Errorf("no log of the dropped issuer:\n%s", log.String())
	}
}

// staticSet is a static key set of issuer iss holding s's public key.
func staticSet(t *testing.T, iss string, s signer) policy.KeySet {
	t.Helper()
	set, err := policy.NewStaticKeySet(iss, policy.Key{ID: s.kid, Algorithm: s.alg, Material: s.priv.Public()})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// closeRecorder is a key set that records its Close.
type closeRecorder struct {
	policy.KeySet
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return c.KeySet.Close() }

// plainOptions are the ResolverOptions of a test without a provider: a
// log and a fake clock.
func plainOptions(log *logBuffer, clock *fakeClock) keyset.ResolverOptions {
	o := keyset.ResolverOptions{Options: keyset.Options{Logger: log.logger()}}
	keyset.SetClock(&o.Options, clock.now)
	return o
}

func acceptAll(string) bool { return true }

// A resolver without an accept function is refused: the issuers it would
// resolve come from tokens, so anyone's.
func TestNewResolverNeedsAccept(t *testing.T) {
	find := func(context.Context, string) (policy.KeySet, error) { return nil, errors.New("no") }
	if _, err := keyset.NewResolver(nil, find, keyset.ResolverOptions{}); err == nil {
		t.Error("NewResolver(nil accept) = nil error")
	}
}

// A token's iss is not verified when it is resolved. A resolver whose
// find discovers whatever it is given sends no request for an iss that
// accept refuses; and it never takes an http issuer, a loopback host's
// included, unless AllowHTTP says so, even one that accept takes.
func TestResolverFetchesOnlyWhatAcceptTakes(t *testing.T) {
	var hits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer internal.Close()
	target := internal.URL + "/admin/delete-everything"
	tok := ecSigner(0, "k").token(t, claimsFor(target), nil)
	var log logBuffer
	for _, c := range []struct {
		name      string
		accept    func(string) bool
		allowHTTP bool
		wantHits  int32
	}{
		{"accept refuses it", func(iss string) bool { return iss == "https://login.example/ours/v2.0" }, false, 0},
		{"accept takes it, over http without AllowHTTP", func(iss string) bool { return iss == target }, false, 0},
		{"accept takes it, AllowHTTP", func(iss string) bool { return iss == target }, true, 1},
	} {
		hits.Store(0)
		o := keyset.ResolverOptions{Options: keyset.Options{AllowHTTP: c.allowHTTP, Logger: log.logger()}}
		r, err := keyset.NewResolver(c.accept, func(_ context.Context, iss string) (policy.KeySet, error) {
			so := o.Options
			so.RequiredAtStart = true
			return keyset.NewOIDC(iss, so)
		}, o)
		if err != nil {
			t.Fatal(err)
		}
		p := resolverPolicy(t, r)
		mustRefuse(t, p, tok, policy.ErrUnknownIssuer, c.name)
		if n := hits.Load(); n != c.wantHits {
			t.Errorf("%s: %d requests to the server the iss names, want %d", c.name, n, c.wantHits)
		}
	}
}

// find may refuse an issuer itself, with an error that matches
// ErrIssuerRefused: that is not a failure, so nothing is remembered (the
// failure of an accepted issuer that is down is not pushed out by any
// number of them) and nothing is logged above Debug.
func TestResolverFindRefusalIsNotAFailure(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	down := srv.URL + "/down"
	var log logBuffer
	clock := newClock()
	o := keyset.ResolverOptions{Options: keyset.Options{Client: srv.Client(), Logger: log.logger(), RequiredAtStart: true}, MaxFailed: 50}
	keyset.SetClock(&o.Options, clock.now)
	r, err := keyset.NewResolver(acceptAll, func(_ context.Context, iss string) (policy.KeySet, error) {
		if iss != down {
			return nil, fmt.Errorf("not a tenant of ours: %w", keyset.ErrIssuerRefused) // no fetch
		}
		return keyset.NewOIDC(iss, o.Options)
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	p := resolverPolicy(t, r)
	s := ecSigner(0, "k")
	mustRefuse(t, p, s.token(t, claimsFor(down), nil), policy.ErrUnknownIssuer, "down")
	before := hits.Load()
	for i := range 100 {
		clock.advance(time.Millisecond)
		mustRefuse(t, p, s.token(t, claimsFor(fmt.Sprintf("https://junk-%d.example", i)), nil), policy.ErrUnknownIssuer, "junk")
	}
	mustRefuse(t, p, s.token(t, claimsFor(down), nil), policy.ErrUnknownIssuer, "down again, within RetryMin")
	if n := hits.Load() - before; n != 0 {
		t.Errorf("the failing issuer was fetched %d more times within its retry time, after 100 issuers find refused", n)
	}
	if n := len(log.records("not resolved")); n != 1 {
		t.Errorf("%d Warn records; want 1, the failing issuer's:\n%s", n, log.String())
	}
	if n := len(log.records("refused by the resolver's find")); n != 100 {
		t.Errorf("%d Debug records of refusals, want 100", n)
	}
	for _, rec := range log.records("refused by the resolver's find") {
		if rec["level"] != "DEBUG" {
			t.Fatalf("a refusal logged at %v", rec["level"])
		}
	}
}

// Past MaxFailed, the failure forgotten is the one longest ago: an issuer
// that fails again moves to the back.
func TestResolverForgetsTheFailureLongestAgo(t *testing.T) {
	var log logBuffer
	clock := newClock()
	o := plainOptions(&log, clock)
	o.MaxFailed, o.RetryMin, o.RetryMax = 2, time.Minute, time.Minute
	var mu sync.Mutex
	finds := map[string]int{}
	r, err := keyset.NewResolver(acceptAll, func(_ context.Context, iss string) (policy.KeySet, error) {
		mu.Lock()
		finds[iss]++
		mu.Unlock()
		return nil, errors.New("down")
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	resolve := func(iss string) {
		if _, err := r.Resolve(context.Background(), iss); !errors.Is(err, keyset.ErrIssuerRefused) {
			t.Fatalf("%s: %v, want ErrIssuerRefused", iss, err)
		}
	}
	const a, b, c = "https://a.example", "https://b.example", "https://c.example"
	resolve(a)
	resolve(b)
	clock.advance(time.Minute) // both may be tried again
	resolve(a)                 // fails again: now the latest
	resolve(c)                 // past MaxFailed: b, the failure longest ago, is forgotten
	resolve(a)
	resolve(b)
	mu.Lock()
	defer mu.Unlock()
	if finds[a] != 2 || finds[b] != 2 || finds[c] != 1 {
		t.Errorf("finds %v; want a twice (remembered), b twice (forgotten, so tried again), c once", finds)
	}
}

// hookSet wraps a KeySet; when armed, its next Version call signals
// entered and waits for release.
type hookSet struct {
	policy.KeySet
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (h *hookSet) Version() uint64 {
	if h.armed.CompareAndSwap(true, false) {
		close(h.entered)
		<-h.release
	}
	return h.KeySet.Version()
}

// A set the resolver drops while a token is being verified under it (its
// version being read) leaves nothing in the verifier's cache: once the
// issuer cannot be resolved any more, its token is refused, even one
// verified before.
func TestResolverDroppedSetNotAnsweredFromCache(t *testing.T) {
	const issA, issB = "https://a.example", "https://b.example"
	sa, sb := ecSigner(0, "ka"), ecSigner(1, "kb")
	hook := &hookSet{KeySet: staticSet(t, issA, sa), entered: make(chan struct{}), release: make(chan struct{})}
	var aGone atomic.Bool
	var log logBuffer
	o := plainOptions(&log, newClock())
	o.MaxIssuers, o.RetryMin = 1, time.Hour
	r, err := keyset.NewResolver(acceptAll, func(_ context.Context, iss string) (policy.KeySet, error) {
		switch {
		case iss == issA && !aGone.Load():
			return hook, nil
		case iss == issB:
			return staticSet(t, issB, sb), nil
		}
		return nil, errors.New("no such issuer")
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	p := resolverPolicy(t, r)
	tok := sa.token(t, claimsFor(issA), nil)
	mustAccept(t, p, tok, "first") // seen once: not cached yet

	hook.armed.Store(true)
	done := make(chan error)
	go func() { done <- authenticate(p, tok) }()
	<-hook.entered
	if _, err := r.Resolve(context.Background(), issB); err != nil { // drops A
		t.Fatal(err)
	}
	aGone.Store(true)
	close(hook.release)
	if err := <-done; err != nil {
		t.Fatalf("second, verified as A's set was dropped: %v", err)
	}
	if got := r.Issuers(); !slices.Equal(got, []string{issB}) {
		t.Fatalf("Issuers = %q", got)
	}
	if err := authenticate(p, tok); !errors.Is(err, policy.ErrUnknownIssuer) {
		t.Errorf("the token verified by A's dropped set: %v, want ErrUnknownIssuer (not answered from the cache)", err)
	}
}

// A tenant whose tokens are all answered from the verifier's cache is in
// use: it is not the one dropped past MaxIssuers.
func TestResolverCacheHitsKeepTheirIssuer(t *testing.T) {
	signers := map[string]signer{"t0": ecSigner(0, "k0"), "t1": ecSigner(1, "k1"), "t2": ecSigner(2, "k2")}
	m, _, clock, r, p := twoIssuerResolver(t, signers)
	tok := func(tenant string) string { return signers[tenant].token(t, claimsFor(m.issuer(tenant)), nil) }
	t0 := tok("t0")
	mustAccept(t, p, t0, "t0")
	mustAccept(t, p, t0, "t0, now cached")
	clock.advance(time.Second)
	mustAccept(t, p, tok("t1"), "t1")
	clock.advance(time.Second)
	before := m.requests()
	for range 100 {
		mustAccept(t, p, t0, "t0, from the cache")
	}
	if n := m.requests() - before; n != 0 {
		t.Fatalf("%d requests for t0's cached token", n)
	}
	clock.advance(time.Second)
	mustAccept(t, p, tok("t2"), "t2")
	if got := r.Issuers(); !slices.Equal(got, []string{m.issuer("t0"), m.issuer("t2")}) {
		t.Errorf("Issuers = %q: want t0 (used last, from the cache) and t2; t1 dropped", got)
	}
}

// The resolver is never asked for no issuer, and never takes a set for
// any issuer (Issuer ""), nor another issuer's: find's set is closed.
func TestResolverRefusesSetForAnyIssuer(t *testing.T) {
	s := ecSigner(0, "k")
	var asked []string
	var sets []*closeRecorder
	var log logBuffer
	r, err := keyset.NewResolver(acceptAll, func(_ context.Context, iss string) (policy.KeySet, error) {
		asked = append(asked, iss)
		set := &closeRecorder{KeySet: staticSet(t, map[string]string{"https://any.example": "", "https://other.example": "https://else.example"}[iss], s)}
		sets = append(sets, set)
		return set, nil
	}, plainOptions(&log, newClock()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, iss := range []string{"", "https://any.example", "https://other.example"} {
		if _, err := r.Resolve(context.Background(), iss); !errors.Is(err, keyset.ErrIssuerRefused) {
			t.Errorf("Resolve(%q): %v, want ErrIssuerRefused", iss, err)
		}
	}
	if !slices.Equal(asked, []string{"https://any.example", "https://other.example"}) {
		t.Errorf("find was asked for %q; want never for \"\"", asked)
	}
	for i, set := range sets {
		if !set.closed.Load() {
			t.Errorf("the set refused for %q was not closed", asked[i])
		}
	}
}

// A find that panics (say, on an iss it parses) does not end the process,
// which it would in the resolver's goroutine: the panic is an error, the
// issuer a failure refused until its retry time, and the panic logged.
func TestResolverFindPanics(t *testing.T) {
	var log logBuffer
	clock := newClock()
	var calls atomic.Int32
	r, err := keyset.NewResolver(acceptAll, func(_ context.Context, iss string) (policy.KeySet, error) {
		calls.Add(1)
		_ = strings.Split(iss, "/")[5] // an application's parse of iss
		return nil, nil
	}, plainOptions(&log, clock))
	if err != nil {
		t.Fatal(err)
	}
	p := resolverPolicy(t, r)
	tok := ecSigner(0, "k").token(t, claimsFor("https://x.example"), nil)
	mustRefuse(t, p, tok, policy.ErrUnknownIssuer, "find panics")
	mustRefuse(t, p, tok, policy.ErrUnknownIssuer, "again, within the retry time")
	if n := calls.Load(); n != 1 {
		t.Errorf("find called %d times; want 1 (the panic is a failure, remembered)", n)
	}
	if recs := log.records("panicked"); len(recs) != 1 || recs[0]["level"] != "ERROR" {
		t.Errorf("panic logs %v, want one at ERROR", recs)
	}
}

// Close waits for a find that ignores its ctx no longer than
// Options.Timeout and a second; it says so, and the set that find returns
// later is closed.
func TestResolverCloseDoesNotWaitForeverForFind(t *testing.T) {
	block := make(chan struct{})
	late := &closeRecorder{KeySet: staticSet(t, "https://x.example", ecSigner(0, "k"))}
	found := make(chan struct{})
	var log logBuffer
	o := plainOptions(&log, newClock())
	o.Options.Timeout = 10 * time.Millisecond
	r, err := keyset.NewResolver(acceptAll, func(_ context.Context, iss string) (policy.KeySet, error) {
		defer close(found)
		<-block // ignores its ctx
		return late, nil
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller does not wait
	r.Resolve(ctx, "https://x.example")
	closed := make(chan error)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err == nil || !strings.Contains(err.Error(), "still running") {
			t.Errorf("Close: %v, want an error about the find still running", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waiting for a find that ignores its ctx after 10s (Timeout 10ms)")
	}
	close(block)
	<-found
	eventually(t, "the late set closed", late.closed.Load)
}

// Each call of find makes a new set, which the resolver owns: it closes a
// set it drops past MaxIssuers, and every set it holds on Close; an
// issuer dropped is found again (a new set), keys rotated since included.
func TestResolverOwnsTheSetsFindMakes(t *testing.T) {
	signers := map[string]signer{"t0": ecSigner(0, "k0"), "t1": ecSigner(1, "k1")}
	m := newMultiTenant(t, signers)
	var log logBuffer
	clock := newClock()
	o := resolverOptions(m, &log, clock)
	o.MaxIssuers = 1
	so := o.Options
	so.RequiredAtStart = true
	var mu sync.Mutex
	var made []*closeRecorder
	r, err := keyset.NewResolver(acceptAll, func(_ context.Context, iss string) (policy.KeySet, error) {
		s, err := keyset.NewOIDC(iss, so)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		made = append(made, &closeRecorder{KeySet: s})
		return made[len(made)-1], nil
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	p := resolverPolicy(t, r)
	mustAccept(t, p, signers["t0"].token(t, claimsFor(m.issuer("t0")), nil), "t0")
	clock.advance(time.Second)
	mustAccept(t, p, signers["t1"].token(t, claimsFor(m.issuer("t1")), nil), "t1, which drops t0")
	if !made[0].closed.Load() {
		t.Error("t0's set was not closed when it was dropped")
	}
	rotated := ecSigner(2, "k0-new")
	m.mu.Lock()
	m.signers["t0"] = rotated
	m.mu.Unlock()
	clock.advance(time.Second)
	mustAccept(t, p, rotated.token(t, claimsFor(m.issuer("t0")), nil), "t0's new key, found again")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, s := range made {
		if !s.closed.Load() {
			t.Errorf("set %d (%s) not closed after Close", i, s.Issuer())
		}
	}
}

// NewTenantResolver refuses, when it is built, a template that makes
// issuers NewOIDC or a resolver would refuse (a query, http without
// AllowHTTP, a loopback host's too), and tenants that could leave their
// place in the issuer or be read otherwise by a server: only ASCII
// letters, digits, '.', '_' and '-', and not "." or "..".
func TestTenantResolverRefuses(t *testing.T) {
	for _, c := range []struct{ tmpl, tenant string }{
		{"https://idp.example/{tenant}/v2.0?x=1", "a"},
		{"https://idp.example/?tenant={tenant}", "a"},
		{"http://127.0.0.1:8080/{tenant}/v2.0", "a"},
		{"http://idp.example/{tenant}/v2.0", "a"},
		{"https://user@idp.example/{tenant}/v2.0", "a"},
		{"https://{tenant}.idp.example/v2.0", "evil.example@"},
		{"https://{tenant}.idp.example/v2.0", `evil.example\`},
		{"https://login.example/{tenant}/v2.0", ".."},
		{"https://login.example/{tenant}/v2.0", "."},
		{"https://login.example/{tenant}/v2.0", ""},
		{"https://login.example/{tenant}/v2.0", "%2e%2e%2fadmin"},
		{"https://login.example/{tenant}/v2.0", "a b"},
		{"https://login.example/{tenant}/v2.0", "a\tb"},
		{"https://login.example/{tenant}/v2.0", "a/b"},
		{"https://login.example/{tenant}/v2.0", "Ünï"},
	} {
		if _, err := keyset.NewTenantResolver(c.tmpl, []string{c.tenant}, keyset.ResolverOptions{}); err == nil {
			t.Errorf("tenant %q in %q: accepted", c.tenant, c.tmpl)
		}
	}
	for _, c := range []struct {
		tmpl, tenant string
		allowHTTP    bool
	}{
		{"https://login.microsoftonline.com/{tenant}/v2.0", "contoso.onmicrosoft.com", false},
		{"https://login.microsoftonline.com/{tenant}/v2.0", "72f988bf-86f1-41af-91ab-2d7cd011db47", false},
		{"https://{tenant}.idp.example/v2.0", "acme_1", false},
		{"http://127.0.0.1:8080/{tenant}/v2.0", "a", true},
	} {
		r, err := keyset.NewTenantResolver(c.tmpl, []string{c.tenant}, keyset.ResolverOptions{Options: keyset.Options{AllowHTTP: c.allowHTTP}})
		if err != nil {
			t.Errorf("tenant %q in %q: %v", c.tenant, c.tmpl, err)
			continue
		}
		r.Close()
	}
}
