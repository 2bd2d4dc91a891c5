package chiadapter_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/redistest"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/dpop"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
	"github.com/pyramid-go/jwtauth/policy/redisrevocation"
)

// The DPoP tests mint their tokens and proofs with go-jose directly, and
// compute thumbprints and ath with it (testkit's DPoPKey): nothing of the
// code under test makes what it checks.

const dpopAlgs = `algs="ES256 EdDSA RS256 PS256"`

// proofSpec is one proof: its typ and claims over the defaults of
// testkit's DPoPKey.ProofWith.
type proofSpec struct {
	typ    string         // default dpop+jwt
	claims map[string]any // nil values delete a default
}

// boundClaims are userClaims bound to the key of thumbprint jkt.
func boundClaims(sub, jkt string, groups ...string) map[string]any {
	c := userClaims(sub, groups...)
	c["cnf"] = map[string]any{"jkt": jkt}
	return c
}

// dpopServer is a real HTTP server over scopeApp with p.
func dpopServer(t testing.TB, p policy.AuthenticationPolicy) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(scopeApp(p, nil))
	t.Cleanup(srv.Close)
	return srv
}

// newDPoPPolicy is the tests' JWT policy with DPoP mode, and cfg's proof
// settings.
func newDPoPPolicy(t testing.TB, mode policy.DPoPMode, proofs dpop.Config, logger *slog.Logger) *policy.JWT {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p, err := policy.NewJWT(policy.Config{
		MasterSecret: testSecret,
		GroupFinder:  groupFinder,
		Logger:       logger,
		Now:          func() time.Time { return testNow },
		DPoP:         mode,
		DPoPProofs:   proofs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// answer is what a request got.
type answer struct {
	status    int
	challenge []string // the WWW-Authenticate values
	nonce     string   // DPoP-Nonce
	body      string
}

// send sends method target with Authorization (scheme and token, when
// token is not "") and the DPoP header (when proof is not "").
func send(t testing.TB, method, url, scheme, token, proof string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", scheme+" "+token)
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Values("WWW-Authenticate"), resp.Header.Get("DPoP-Nonce"), string(body)}
}

func (a answer) want(t *testing.T, status int, challenges ...string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status %d, want %d (body %s)", a.status, status, a.body)
	}
	if strings.Join(a.challenge, " | ") != strings.Join(challenges, " | ") {
		t.Errorf("WWW-Authenticate\n%q\nwant\n%q", a.challenge, challenges)
	}
}

func TestDPoPBoundTokenOverHTTP(t *testing.T) {
	logs := &testkit.SyncBuffer{}
	p := newDPoPPolicy(t, policy.DPoPAllowed, dpop.Config{}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	srv := dpopServer(t, p)
	alice := testkit.NewDPoPKey(t)
	other := testkit.NewDPoPKey(t)
	me := srv.URL + "/me"
	token := mint(t, testSecret, boundClaims("alice", alice.JKT, "editors"))
	unbound := mint(t, testSecret, userClaims("alice", "editors"))
	var sent []string // every token and proof, none of which may be logged
	pr := func(k testkit.DPoPKey, method, url, tok string, s proofSpec) string {
		proof := k.ProofWith(t, method, url, tok, "", testNow, s.typ, s.claims)
		sent = append(sent, proof)
		return proof
	}
	sent = append(sent, token, unbound)

	t.Run("good proof", func(t *testing.T) {
		send(t, "GET", me, "DPoP", token, pr(alice, "GET", me, token, proofSpec{})).want(t, 200)
		// The scheme is case-insensitive, and htu ignores the query.
		send(t, "GET", me+"?x=1", "dpop", token, pr(alice, "GET", me, token, proofSpec{})).want(t, 200)
	})
	bad := func(desc string) string {
		return `DPoP ` + dpopAlgs + `, error="invalid_dpop_proof", error_description="` + desc + `"`
	}
	t.Run("bad proofs", func(t *testing.T) {
		for _, tc := range []struct {
			name, proof, desc string
		}{
			{"no proof", "", "no DPoP proof"},
			{"typ JWT", pr(alice, "GET", me, token, proofSpec{typ: "JWT"}), "DPoP proof typ is not dpop+jwt"},
			{"wrong ath", pr(alice, "GET", me, token, proofSpec{claims: map[string]any{"ath": "AAAA"}}), "DPoP proof ath does not match the access token"},
			{"no ath", pr(alice, "GET", me, token, proofSpec{claims: map[string]any{"ath": nil}}), "DPoP proof claim missing"},
			{"wrong method", pr(alice, "POST", me, token, proofSpec{}), "DPoP proof htm does not match the request method"},
			{"wrong htu", pr(alice, "GET", srv.URL+"/other", token, proofSpec{}), "DPoP proof htu does not match the request URI"},
			{"too old", alice.ProofWith(t, "GET", me, token, "", testNow.Add(-time.Hour), "", nil), "DPoP proof too old"},
			{"garbage", "not.a.proof", "malformed DPoP proof"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := send(t, "GET", me, "DPoP", token, tc.proof)
				a.want(t, 401, "JWT", bad(tc.desc))
				if !strings.Contains(a.body, `"error":"invalid_dpop_proof"`) {
					t.Errorf("body %s", a.body)
				}
			})
		}
	})
	t.Run("replayed proof", func(t *testing.T) {
		proof := pr(alice, "GET", me, token, proofSpec{})
		send(t, "GET", me, "DPoP", token, proof).want(t, 200)
		send(t, "GET", me, "DPoP", token, proof).want(t, 401, "JWT", bad("DPoP proof replayed"))
	})
	t.Run("thumbprint mismatch", func(t *testing.T) {
		send(t, "GET", me, "DPoP", token, pr(other, "GET", me, token, proofSpec{})).
			want(t, 401, "JWT", `DPoP `+dpopAlgs+`, error="invalid_token", error_description="DPoP proof key does not match the token binding"`)
	})
	t.Run("bound token under the policy's scheme", func(t *testing.T) {
		a := send(t, "GET", me, "JWT", token, pr(alice, "GET", me, token, proofSpec{}))
		a.want(t, 401, `JWT error="invalid_token", error_description="token bound to a DPoP key presented without DPoP"`, "DPoP "+dpopAlgs)
	})
	t.Run("unbound token under DPoP", func(t *testing.T) {
		send(t, "GET", me, "DPoP", unbound, pr(alice, "GET", me, unbound, proofSpec{})).
			want(t, 401, "JWT", `DPoP `+dpopAlgs+`, error="invalid_token", error_description="token not bound to a DPoP key"`)
	})
	t.Run("unbound token under the policy's scheme", func(t *testing.T) {
		send(t, "GET", me, "JWT", unbound, "").want(t, 200) // allowed, not required
	})
	t.Run("bad token under DPoP", func(t *testing.T) {
		broken := testkit.BreakSignature(t, token)
		send(t, "GET", me, "DPoP", broken, pr(alice, "GET", me, broken, proofSpec{})).
			want(t, 401, "JWT", `DPoP `+dpopAlgs+`, error="invalid_token", error_description="invalid signature"`)
	})
	t.Run("malformed cnf", func(t *testing.T) {
		for _, cnf := range []any{"x", map[string]any{"jkt": 1}, map[string]any{"jkt": ""}, map[string]any{"x5t#S256": "abc"}, []any{alice.JKT}} {
			c := userClaims("alice")
			c["cnf"] = cnf
			tok := mint(t, testSecret, c)
			for _, scheme := range []string{"DPoP", "JWT"} {
				send(t, "GET", me, scheme, tok, pr(alice, "GET", me, tok, proofSpec{})).
					want(t, 401, challengeFor(scheme, `error="invalid_token", error_description="invalid claim cnf"`)...)
			}
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		send(t, "GET", me, "", "", "").want(t, 401, "JWT", "DPoP "+dpopAlgs)
	})
	t.Run("403 under DPoP", func(t *testing.T) {
		bob := mint(t, testSecret, boundClaims("bob", alice.JKT))
		url := srv.URL + "/articles/1"
		send(t, "PUT", url, "DPoP", bob, pr(alice, "PUT", url, bob, proofSpec{})).
			want(t, 403, `JWT error="insufficient_scope"`, `DPoP `+dpopAlgs+`, error="insufficient_scope"`)
	})
	for _, s := range sent {
		if strings.Contains(logs.String(), s) || strings.Contains(logs.String(), strings.Split(s, ".")[2]) {
			t.Fatal("the logs hold a token or a proof")
		}
	}
	if !strings.Contains(logs.String(), "DPoP proof replayed") {
		t.Errorf("the logs do not say why a proof failed:\n%s", logs.String())
	}
}

// challengeFor is the challenges of an error attribute list attrs for a
// token presented under scheme.
func challengeFor(scheme, attrs string) []string {
	if scheme == "DPoP" {
		return []string{"JWT", "DPoP " + dpopAlgs + ", " + attrs}
	}
	return []string{"JWT " + attrs, "DPoP " + dpopAlgs}
}

func TestDPoPRequiredAndDisabled(t *testing.T) {
	alice := testkit.NewDPoPKey(t)
	unbound := mint(t, testSecret, userClaims("alice", "editors"))
	bound := mint(t, testSecret, boundClaims("alice", alice.JKT, "editors"))

	srv := dpopServer(t, newDPoPPolicy(t, policy.DPoPRequired, dpop.Config{}, nil))
	me := srv.URL + "/me"
	send(t, "GET", me, "JWT", unbound, "").
		want(t, 401, `JWT error="invalid_token", error_description="DPoP-bound token required"`, "DPoP "+dpopAlgs)
	send(t, "GET", me, "DPoP", bound, alice.ProofWith(t, "GET", me, bound, "", testNow, "", nil)).want(t, 200)

	off := dpopServer(t, newDPoPPolicy(t, policy.DPoPDisabled, dpop.Config{}, nil))
	me = off.URL + "/me"
	// A bound token is never a bearer token, DPoP or not.
	send(t, "GET", me, "JWT", bound, alice.ProofWith(t, "GET", me, bound, "", testNow, "", nil)).
		want(t, 401, `JWT error="invalid_token", error_description="token bound to a DPoP key presented without DPoP"`)
	// Without DPoP its scheme is not read: no credentials.
	send(t, "GET", me, "DPoP", bound, alice.ProofWith(t, "GET", me, bound, "", testNow, "", nil)).want(t, 401, "JWT")
	send(t, "GET", me, "JWT", unbound, "").want(t, 200)
}

// TestDPoPCachedToken: the verified-token cache serves a DPoP-bound token,
// and the proof is still checked on every request.
func TestDPoPCachedToken(t *testing.T) {
	p := newDPoPPolicy(t, policy.DPoPAllowed, dpop.Config{}, nil)
	srv := dpopServer(t, p)
	me := srv.URL + "/me"
	alice := testkit.NewDPoPKey(t)
	token := mint(t, testSecret, boundClaims("alice", alice.JKT, "editors"))
	var last string
	for range 3 {
		last = alice.ProofWith(t, "GET", me, token, "", testNow, "", nil)
		send(t, "GET", me, "DPoP", token, last).want(t, 200)
	}
	if _, ok := p.Verifier().Known(context.Background(), token); !ok {
		t.Fatal("the token is not cached")
	}
	send(t, "GET", me, "DPoP", token, last).want(t, 401, "JWT", `DPoP `+dpopAlgs+`, error="invalid_dpop_proof", error_description="DPoP proof replayed"`)
	send(t, "GET", me, "DPoP", token, "").want(t, 401, "JWT", `DPoP `+dpopAlgs+`, error="invalid_dpop_proof", error_description="no DPoP proof"`)
	send(t, "GET", me, "JWT", token, "").want(t, 401, `JWT error="invalid_token", error_description="token bound to a DPoP key presented without DPoP"`, "DPoP "+dpopAlgs)
	send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, "", testNow, "", nil)).want(t, 200)
}

// nonceServer is a real server whose policy requires DPoP nonces of
// one-minute windows on a clock the test moves (now, in Unix seconds),
// and alice's key and token bound to it.
type nonceServer struct {
	now   *atomic.Int64
	clock func() time.Time
	me    string // the server's /me
	alice testkit.DPoPKey
	token string
}

func newNonceServer(t *testing.T) nonceServer {
	t.Helper()
	n := nonceServer{now: new(atomic.Int64)}
	n.now.Store(testNow.Unix())
	n.clock = func() time.Time { return time.Unix(n.now.Load(), 0) }
	nonces, err := dpop.NewNonceSource([]byte("a-nonce-secret-of-at-least-32-bytes!!"), time.Minute, n.clock)
	if err != nil {
		t.Fatal(err)
	}
	p := newDPoPPolicy(t, policy.DPoPAllowed, dpop.Config{Nonces: nonces, Now: n.clock}, nil)
	n.me = dpopServer(t, p).URL + "/me"
	n.alice = testkit.NewDPoPKey(t)
	n.token = mint(t, testSecret, boundClaims("alice", n.alice.JKT, "editors"))
	return n
}

func TestDPoPNonces(t *testing.T) {
	n := newNonceServer(t)
	now, clock, me, alice, token := n.now, n.clock, n.me, n.alice, n.token
	useNonce := `DPoP ` + dpopAlgs + `, error="use_dpop_nonce", error_description="DPoP proof needs a current server nonce"`

	a := send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, "", clock(), "", nil))
	a.want(t, 401, "JWT", useNonce)
	if a.nonce == "" || !strings.Contains(a.body, `"error":"use_dpop_nonce"`) {
		t.Fatalf("no DPoP-Nonce, or body %s", a.body)
	}
	first := a.nonce
	send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, first, clock(), "", nil)).want(t, 200)

	// Two windows on, the nonce has rolled over: a new one is handed out.
	now.Add(120)
	b := send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, first, clock(), "", nil))
	b.want(t, 401, "JWT", useNonce)
	if b.nonce == "" || b.nonce == first {
		t.Fatalf("DPoP-Nonce %q after the rotation (was %q)", b.nonce, first)
	}
	send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, b.nonce, clock(), "", nil)).want(t, 200)
	// Any 401 carries the current nonce.
	if c := send(t, "GET", me, "", "", ""); c.nonce != b.nonce {
		t.Errorf("DPoP-Nonce %q on a plain 401, want %q", c.nonce, b.nonce)
	}
}

// downCache is a replay cache that cannot be reached.
type downCache struct{}

func (downCache) FirstUse(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}

func TestDPoPReplayCacheDown(t *testing.T) {
	srv := dpopServer(t, newDPoPPolicy(t, policy.DPoPAllowed, dpop.Config{Replay: downCache{}}, nil))
	me := srv.URL + "/me"
	alice := testkit.NewDPoPKey(t)
	token := mint(t, testSecret, boundClaims("alice", alice.JKT, "editors"))
	req, _ := http.NewRequest("GET", me, nil)
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", alice.ProofWith(t, "GET", me, token, "", testNow, "", nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestDPoPReplayAcrossInstances: two instances whose revocation store is
// the same Redis share the replay check: a proof one accepted, the other
// refuses; with Redis down, both answer 503.
func TestDPoPReplayAcrossInstances(t *testing.T) {
	redis := redistest.Start(t)
	instance := func() *httptest.Server {
		store, err := redisrevocation.Open(redis.URL(), redisrevocation.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := policy.NewJWT(policy.Config{
			MasterSecret: testSecret, GroupFinder: groupFinder, Logger: slog.New(slog.DiscardHandler),
			Now: func() time.Time { return testNow }, Revocation: store, DPoP: policy.DPoPAllowed,
			// The proofs' clock is the real one: Redis expires the
			// entries on its own.
			DPoPProofs: dpop.Config{Now: time.Now},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		srv := httptest.NewServer(scopeApp(p, nil))
		t.Cleanup(srv.Close)
		return srv
	}
	a, b := instance(), instance()
	alice := testkit.NewDPoPKey(t)
	token := mint(t, testSecret, boundClaims("alice", alice.JKT, "editors"))
	// One proof for both: the instances are behind one name, as a load
	// balancer's; here the htu is a's and b's request is sent with a's Host.
	proof := alice.ProofWith(t, "GET", a.URL+"/me", token, "", time.Now(), "", nil)
	send(t, "GET", a.URL+"/me", "DPoP", token, proof).want(t, 200)
	req, _ := http.NewRequest("GET", b.URL+"/me", nil)
	req.Host = strings.TrimPrefix(a.URL, "http://")
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), "DPoP proof replayed") {
		t.Fatalf("the other instance: %d %s; want 401, replayed", resp.StatusCode, body)
	}
	redis.Stop()
	c := send(t, "GET", b.URL+"/me", "DPoP", token, alice.ProofWith(t, "GET", b.URL+"/me", token, "", time.Now(), "", nil))
	if c.status != 503 {
		t.Fatalf("Redis down: %d %s; want 503", c.status, c.body)
	}
}

// TestDPoPConfig: the settings of DPoP are checked when the policy is
// built, each error naming its key; the cookie policy refuses them.
func TestDPoPConfig(t *testing.T) {
	base := func() policy.Config { return policy.Config{MasterSecret: testSecret} }
	for _, tc := range []struct {
		edit func(*policy.Config)
		key  string
	}{
		{func(c *policy.Config) { c.DPoP = 7 }, "dpop"},
		{func(c *policy.Config) { c.DPoPProofs.Algorithms = []string{"ES256"} }, "dpop_algorithms"},
		{func(c *policy.Config) { c.DPoP = policy.DPoPAllowed; c.DPoPProofs.Algorithms = []string{"HS256"} }, "dpop_algorithms"},
		{func(c *policy.Config) { c.DPoP = policy.DPoPAllowed; c.DPoPProofs.Algorithms = []string{"none"} }, "dpop_algorithms"},
		{func(c *policy.Config) { c.DPoP = policy.DPoPAllowed; c.DPoPProofs.MaxAge = -time.Second }, "dpop_max_age"},
		{func(c *policy.Config) { c.DPoP = policy.DPoPAllowed; c.Schemes = []string{"Bearer", "dpop"} }, "scheme"},
	} {
		cfg := base()
		tc.edit(&cfg)
		_, err := policy.NewJWT(cfg)
		var ce *policy.ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%+v: error %v; want one naming %s", cfg, err, tc.key)
		}
	}
	cc := policy.CookieConfig{Config: base()}
	cc.DPoP = policy.DPoPAllowed
	var ce *policy.ConfigError
	if _, err := policy.NewCookie(cc); !errors.As(err, &ce) || ce.Key != "dpop" {
		t.Errorf("cookie policy with DPoP: %v", err)
	}
	// A cookie never carries a proof: a bound token in one is refused.
	alice := testkit.NewDPoPKey(t)
	c, err := policy.NewCookie(policy.CookieConfig{Config: policy.Config{MasterSecret: testSecret, Now: func() time.Time { return testNow }, Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "jwt", Value: mint(t, testSecret, boundClaims("alice", alice.JKT))})
	if id := c.Identify(req); !errors.Is(id.Err, policy.ErrTokenBound) || !errors.Is(id.Err, policy.ErrInvalidCredentials) {
		t.Errorf("a bound token in a cookie: %v", id.Err)
	}
}

// TestDPoPRequiredAnonymous: with DPoP required, a request without
// credentials is no credentials (a challenge, nothing logged as invalid).
func TestDPoPRequiredAnonymous(t *testing.T) {
	logs := &testkit.SyncBuffer{}
	p := newDPoPPolicy(t, policy.DPoPRequired, dpop.Config{}, slog.New(slog.NewTextHandler(logs, nil)))
	r := httptest.NewRequest("GET", "/me", nil)
	if id := p.Identify(r); !errors.Is(id.Err, policy.ErrNoCredentials) {
		t.Errorf("no credentials: %v", id.Err)
	}
	if strings.Contains(logs.String(), "invalid credentials") {
		t.Errorf("an anonymous request is logged as invalid credentials:\n%s", logs.String())
	}
}

// TestDPoPNonceOnSuccess: with nonces, every response to a request that
// carries a DPoP proof hands out the current nonce, a 200 included, so a
// client whose nonce is a window old (still accepted) learns the new one
// without a 401; a request without a proof gets none on a success.
func TestDPoPNonceOnSuccess(t *testing.T) {
	n := newNonceServer(t)
	now, clock, me, alice, token := n.now, n.clock, n.me, n.alice, n.token

	first := send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, "", clock(), "", nil)).nonce
	ok := send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, first, clock(), "", nil))
	ok.want(t, 200)
	if ok.nonce != first {
		t.Errorf("DPoP-Nonce %q on a 200 in the same window, want %q", ok.nonce, first)
	}
	// One window on, the first nonce is still accepted, and the 200 hands
	// out the next.
	now.Add(60)
	rolled := send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, first, clock(), "", nil))
	rolled.want(t, 200)
	if rolled.nonce == "" || rolled.nonce == first {
		t.Fatalf("DPoP-Nonce %q on a 200 a window on (the first was %q)", rolled.nonce, first)
	}
	send(t, "GET", me, "DPoP", token, alice.ProofWith(t, "GET", me, token, rolled.nonce, clock(), "", nil)).want(t, 200)
	// A bearer client, which sends no proof, is handed no nonce.
	bearer := mint(t, testSecret, userClaims("bob"))
	if b := send(t, "GET", me, "JWT", bearer, ""); b.status != 200 || b.nonce != "" {
		t.Errorf("a request without a proof: %d, DPoP-Nonce %q; want 200 and none", b.status, b.nonce)
	}
}

// TestDPoPNonceInStack: in a stack of two JWT policies with nonce sources
// of their own, a response hands a client the nonce of the policy that
// authenticated it, never the other's (a client that took it would get
// 401 after 401), and a 401 lists the policies' nonces in stack order.
func TestDPoPNonceInStack(t *testing.T) {
	newPolicy := func(secret, nonceSecret string) (*policy.JWT, *dpop.NonceSource) {
		nonces, err := dpop.NewNonceSource([]byte(nonceSecret), time.Minute, func() time.Time { return testNow })
		if err != nil {
			t.Fatal(err)
		}
		p, err := policy.NewJWT(policy.Config{
			MasterSecret: []byte(secret), Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return testNow },
			DPoP: policy.DPoPAllowed, DPoPProofs: dpop.Config{Nonces: nonces, Now: func() time.Time { return testNow }},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p, nonces
	}
	a, nonceA := newPolicy(string(testSecret), "the first nonce secret, of 32 bytes!")
	b, nonceB := newPolicy("the second policy's secret, 32 bytes", "the second nonce secret, of 32 bytes")
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "a", Policy: a}, {Name: "b", Policy: b}}})
	if err != nil {
		t.Fatal(err)
	}
	me := dpopServer(t, stack).URL + "/me"
	nonces := func(scheme, token, proof string) (int, []string) {
		req, _ := http.NewRequest("GET", me, nil)
		req.Header.Set("Authorization", scheme+" "+token)
		req.Header.Set("DPoP", proof)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Values("DPoP-Nonce")
	}
	for _, c := range []struct {
		name          string
		secret        []byte
		own           *dpop.NonceSource
		wantRefused   []string
		wantSucceeded []string
	}{
		{"the first policy's client", testSecret, nonceA, []string{nonceA.Current(), nonceB.Current()}, []string{nonceA.Current()}},
		{"the second policy's client", []byte("the second policy's secret, 32 bytes"), nonceB, []string{nonceA.Current(), nonceB.Current()}, []string{nonceB.Current()}},
	} {
		key := testkit.NewDPoPKey(t)
		token := mint(t, c.secret, boundClaims("alice", key.JKT))
		status, got := nonces("DPoP", token, key.ProofWith(t, "GET", me, token, "", testNow, "", nil))
		if status != 401 || strings.Join(got, " ") != strings.Join(c.wantRefused, " ") {
			t.Errorf("%s without a nonce: %d, DPoP-Nonce %q; want 401 and %q", c.name, status, got, c.wantRefused)
		}
		status, got = nonces("DPoP", token, key.ProofWith(t, "GET", me, token, c.own.Current(), testNow, "", nil))
		if status != 200 || strings.Join(got, " ") != strings.Join(c.wantSucceeded, " ") {
			t.Errorf("%s with its nonce: %d, DPoP-Nonce %q; want 200 and %q", c.name, status, got, c.wantSucceeded)
		}
	}
}
