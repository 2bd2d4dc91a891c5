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
	p := newPolicy(t, r)

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
	p := newPolicy(t, r)
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

// With an application's find that accepts every issuer (the worst case),
// a storm of tokens of many failing issuers costs at most one request per
// issuer, and a second storm none: each failure is remembered.
func TestResolverStormOfNewIssuers(t *testing.T) {
	m := newMultiTenant(t, map[string]signer{})
	var log logBuffer
	clock := newClock()
	o := resolverOptions(m, &log, clock)
	so := o.Options
	so.RequiredAtStart = true
	var finds sync.Map
	r, err := keyset.NewResolver(func(_ context.Context, iss string) (policy.KeySet, error) {
		if _, again := finds.LoadOrStore(iss, true); again {
			t.Errorf("find called twice for %q", iss)
		}
		return keyset.NewOIDC(iss, so)
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	p := newPolicy(t, r)
	const issuers = 50
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

// The resolver keeps at most MaxIssuers sets: the one used least recently
// is closed and dropped, the tokens it verified are no longer answered
// from the verifier's cache, and its issuer is discovered again when its
// tokens come back.
func TestResolverBound(t *testing.T) {
	signers := map[string]signer{"t0": ecSigner(0, "k0"), "t1": ecSigner(1, "k1"), "t2": rsaSigner(0, "k2")}
	m := newMultiTenant(t, signers)
	var log logBuffer
	clock := newClock()
	o := resolverOptions(m, &log, clock)
	o.MaxIssuers = 2
	r, err := keyset.NewTenantResolver(m.template(), []string{"t0", "t1", "t2"}, o)
	if err != nil {
		t.Fatal(err)
	}
	p := newPolicy(t, r)
	tok := map[string]string{}
	for _, tenant := range []string{"t0", "t1", "t2"} {
		tok[tenant] = signers[tenant].token(t, claimsFor(m.issuer(tenant)), nil)
	}
	for _, tenant := range []string{"t0", "t0", "t1"} { // t0 twice: cached
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
