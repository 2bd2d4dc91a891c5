package policy_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// movingClock is a clock the tests move by hand.
type movingClock struct{ ns atomic.Int64 }

func newMovingClock() *movingClock {
	c := &movingClock{}
	c.ns.Store(testNow.UnixNano())
	return c
}

func (c *movingClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *movingClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// revocable is a policy with an in-memory revocation store, on clk.
func revocable(t *testing.T, clk *movingClock, mod func(*policy.Config)) (*policy.JWT, *policy.MemoryRevocations) {
	t.Helper()
	store := policy.NewMemoryRevocations(0, clk.Now)
	p := newPolicy(t, func(c *policy.Config) {
		c.Now, c.Revocation = clk.Now, store
		if mod != nil {
			mod(c)
		}
	})
	return p, store
}

// jtiToken is a token of sub with jti, valid an hour from clk's now,
// minted with go-jose.
func jtiToken(t *testing.T, clk *movingClock, sub, jti string) string {
	t.Helper()
	return mintHS(t, map[string]any{"sub": sub, "jti": jti, "iat": clk.Now().Unix(), "exp": clk.Now().Add(time.Hour).Unix()})
}

func authOf(t *testing.T, p policy.AuthenticationPolicy, tok string) error {
	t.Helper()
	_, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
	return err
}

// TestRevokeToken: a token revoked by its jti is invalid credentials
// ("token revoked"), from the cache too, and stays so until it expires;
// other tokens of the user are not touched.
func TestRevokeToken(t *testing.T) {
	clk := newMovingClock()
	p, store := revocable(t, clk, nil)
	claims := func(jti string) map[string]any {
		c := map[string]any{"sub": "alice", "iat": clk.Now().Unix(), "exp": clk.Now().Add(time.Hour).Unix()}
		if jti != "" {
			c["jti"] = jti
		}
		return c
	}
	tok, other := mintHS(t, claims("jti-1")), mintHS(t, claims("jti-2"))
	for range 3 { // verified, then cached
		if err := authOf(t, p, tok); err != nil {
			t.Fatalf("before its revocation: %v", err)
		}
	}
	v := p.Verifier().Verify(context.Background(), tok)
	if err := p.Verifier().RevokeToken(context.Background(), v); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if err := authOf(t, p, tok); !errors.Is(err, policy.ErrTokenRevoked) || !errors.Is(err, policy.ErrInvalidCredentials) {
		t.Errorf("the revoked token: %v; want ErrTokenRevoked", err)
	}
	if err := authOf(t, p, other); err != nil {
		t.Errorf("another token of the user: %v", err)
	}
	rec := httptest.NewRecorder()
	r := newRequest(jwtAuth(tok))
	p.Challenge(rec, r)
	if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error_description="token revoked"`) {
		t.Errorf("the challenge of a revoked token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	// The entry lives as long as the token, and not a second longer.
	if store.Len() != 1 {
		t.Errorf("%d entries; want 1", store.Len())
	}
	clk.advance(time.Hour + 2*time.Second)
	if revoked, _ := store.Revoked(context.Background(), "jti-1", "alice", testNow); revoked {
		t.Error("the jti is still revoked after its token expired")
	}
	// A token without jti cannot be revoked alone.
	noJTI := p.Verifier().Verify(context.Background(), mintHS(t, claims("")))
	if err := p.Verifier().RevokeToken(context.Background(), noJTI); !errors.Is(err, policy.ErrNoJTI) {
		t.Errorf("RevokeToken without jti: %v; want ErrNoJTI", err)
	}
}

// TestRevokeUser: "sign out everywhere" refuses every token of the user
// issued until then (those without iat too), not those issued after, nor
// other users'.
func TestRevokeUser(t *testing.T) {
	clk := newMovingClock()
	p, _ := revocable(t, clk, nil)
	at := func(sub string, iat time.Time) string {
		return mintHS(t, map[string]any{"sub": sub, "iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix()})
	}
	earlier, sameSecond := at("alice", clk.Now().Add(-time.Minute)), at("alice", clk.Now())
	noIat := mintHS(t, map[string]any{"sub": "alice", "exp": clk.Now().Add(time.Hour).Unix()})
	bob := at("bob", clk.Now().Add(-time.Minute))
	authOf(t, p, earlier) // cached
	authOf(t, p, earlier)
	if err := policy.RevokeUser(context.Background(), p, "alice"); err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	for name, tok := range map[string]string{"earlier": earlier, "the same second": sameSecond, "without iat": noIat} {
		if err := authOf(t, p, tok); !errors.Is(err, policy.ErrTokenRevoked) {
			t.Errorf("alice's token issued %s: %v; want ErrTokenRevoked", name, err)
		}
	}
	if err := authOf(t, p, bob); err != nil {
		t.Errorf("bob's token: %v", err)
	}
	clk.advance(time.Second)
	if err := authOf(t, p, at("alice", clk.Now())); err != nil {
		t.Errorf("alice's token issued a second later: %v", err)
	}
}

// TestForgetRevokes: with a store, Forget revokes the request's token (the
// header's, the cookie's, and both through a stack), and the tokens the
// policies make carry a random 128-bit jti.
func TestForgetRevokes(t *testing.T) {
	clk := newMovingClock()
	store := policy.NewMemoryRevocations(0, clk.Now)
	header := newPolicy(t, func(c *policy.Config) { c.Now, c.Revocation = clk.Now, store })
	cookie := newCookie(t, func(c *policy.CookieConfig) { c.Now, c.Revocation = clk.Now, store })
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "api", Policy: header}, {Name: "web", Policy: cookie}}})
	if err != nil {
		t.Fatal(err)
	}
	made, err := header.NewToken("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	jti, _ := verifyWithJose(t, made, jose.HS256, testSecret)["jti"].(string)
	if raw, err := base64.RawURLEncoding.DecodeString(jti); err != nil || len(raw) != policy.JTIBytes {
		t.Errorf("NewToken's jti %q: %d random bytes, %v; want %d", jti, len(raw), err, policy.JTIBytes)
	}
	madeAgain, _ := header.NewToken("alice", nil)
	if verifyWithJose(t, madeAgain, jose.HS256, testSecret)["jti"] == jti {
		t.Error("two tokens share a jti")
	}
	// The tokens presented are go-jose's.
	tok, other := jtiToken(t, clk, "alice", "header-jti"), jtiToken(t, clk, "alice", "other-jti")
	c := &http.Cookie{Name: "jwt", Value: jtiToken(t, clk, "alice", "cookie-jti")}
	r := httptest.NewRequest("POST", "/logout", nil)
	r.Header.Set("Authorization", jwtAuth(tok))
	r.AddCookie(c)
	rr := policy.WithIdentity(r, stack)
	stack.Forget(rr)
	if err := authOf(t, header, tok); !errors.Is(err, policy.ErrTokenRevoked) {
		t.Errorf("the header's token after Forget: %v; want revoked", err)
	}
	r2 := httptest.NewRequest("GET", "/", nil)
	r2.AddCookie(c)
	if _, err := cookie.AuthenticatedUserID(r2); !errors.Is(err, policy.ErrTokenRevoked) {
		t.Errorf("the cookie's token after Forget: %v; want revoked", err)
	}
	if err := authOf(t, header, other); err != nil {
		t.Errorf("another token of the user: %v", err)
	}
	// Without a store, no jti.
	plain := newPolicy(t, nil)
	tok, _ = plain.NewToken("alice", nil)
	if _, ok := verifyWithJose(t, tok, jose.HS256, testSecret)["jti"]; ok {
		t.Error("a policy without a revocation store put a jti in its token")
	}
}

// TestRevocationStoreDown: a store that cannot be asked makes a verified
// token answered 503 with Retry-After (closed, the default) or accepted
// with a warning (open), alone and in a stack.
func TestRevocationStoreDown(t *testing.T) {
	clk := newMovingClock()
	log, buf := bufLogger()
	closed, store := revocable(t, clk, func(c *policy.Config) { c.Logger = log })
	open := newPolicy(t, func(c *policy.Config) {
		c.Now, c.Revocation, c.RevocationFailOpen, c.Logger = clk.Now, store, true, log
	})
	tok := mintHS(t, validClaims("alice"))
	store.Close()
	if err := authOf(t, closed, tok); !errors.Is(err, policy.ErrRevocationUnavailable) {
		t.Errorf("closed: %v; want ErrRevocationUnavailable", err)
	}
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "api", Policy: closed}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []policy.AuthenticationPolicy{closed, stack} {
		rec := httptest.NewRecorder()
		p.Challenge(rec, newRequest(jwtAuth(tok)))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "temporarily_unavailable") {
			t.Errorf("%T's challenge: %d, Retry-After %q, %s; want 503", p, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	if err := authOf(t, open, tok); err != nil {
		t.Errorf("open: %v; want the token accepted", err)
	}
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "revocation store cannot be reached") {
		t.Errorf("no warning logged:\n%s", buf)
	}
	if strings.Contains(buf.String(), tok[:20]) {
		t.Error("the log holds the token")
	}
}

// TestMemoryRevocationsBounded: the store keeps at most its bound of
// unexpired tokens, dropping expired ones to make room (at most once a
// second), and refuses a token's revocation rather than forget one; the
// users whose tokens were all revoked have a bound of their own, so that
// sign-outs never keep a user from being signed out everywhere; a closed
// store refuses reads and writes.
func TestMemoryRevocationsBounded(t *testing.T) {
	clk := newMovingClock()
	m := policy.NewMemoryRevocations(3, clk.Now)
	ctx := context.Background()
	for i, jti := range []string{"a", "b", "c"} {
		if err := m.RevokeToken(ctx, jti, clk.Now().Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.RevokeToken(ctx, "d", clk.Now().Add(time.Hour)); !errors.Is(err, policy.ErrRevocationsFull) {
		t.Errorf("a fourth token: %v; want ErrRevocationsFull", err)
	}
	if err := m.RevokeToken(ctx, "b", clk.Now().Add(time.Hour)); err != nil {
		t.Errorf("a token kept already, again: %v", err)
	}
	if revoked, _ := m.Revoked(ctx, "a", "", time.Time{}); !revoked {
		t.Error("a full store forgot a revocation")
	}
	if err := m.RevokeSubject(ctx, "alice", clk.Now(), clk.Now().Add(time.Hour)); err != nil {
		t.Errorf("a user's tokens in a store full of tokens: %v", err)
	}
	clk.advance(90 * time.Second) // a expires
	if err := m.RevokeToken(ctx, "d", clk.Now().Add(time.Hour)); err != nil {
		t.Errorf("after one expired: %v", err)
	}
	if m.Len() != 4 {
		t.Errorf("%d entries; want 4 (3 tokens, 1 user)", m.Len())
	}
	m.Close()
	if _, err := m.Revoked(ctx, "x", "", time.Time{}); err == nil {
		t.Error("a closed store answered")
	}
	if err := m.RevokeToken(ctx, "e", clk.Now().Add(time.Hour)); err == nil {
		t.Error("a closed store took a revocation")
	}
}

// TestForgetWhenFull: a user who fills the store with sign-outs only
// signs themselves out everywhere.
func TestForgetWhenFull(t *testing.T) {
	clk := newMovingClock()
	store := policy.NewMemoryRevocations(2, clk.Now)
	p := newPolicy(t, func(c *policy.Config) { c.Now, c.Revocation = clk.Now, store })
	var toks []string
	for i := range 3 {
		toks = append(toks, jtiToken(t, clk, "mallory", fmt.Sprint("jti-", i)))
	}
	later := jtiToken(t, clk, "mallory", "later")
	for _, tok := range toks {
		r := policy.WithIdentity(newRequest(jwtAuth(tok)), p)
		p.Forget(r)
	}
	clk.advance(time.Second) // past the second of the sign-out everywhere
	fresh := jtiToken(t, clk, "mallory", "fresh")
	for i, tok := range append(toks, later) {
		if err := authOf(t, p, tok); !errors.Is(err, policy.ErrTokenRevoked) {
			t.Errorf("mallory's token %d after the store filled: %v; want revoked", i, err)
		}
	}
	if err := authOf(t, p, fresh); err != nil {
		t.Errorf("a token issued after: %v", err)
	}
	if err := policy.RevokeUser(context.Background(), p, "alice"); err != nil {
		t.Errorf("signing alice out everywhere in a full store: %v", err)
	}
}

// TestRevocationRetention: a revoked jti is kept as long as any copy of
// its session may live (a cookie re-issued up to now lives an expiration
// more), and a huge exp neither wraps nor is lost.
func TestRevocationRetention(t *testing.T) {
	clk := newMovingClock()
	p, store := revocable(t, clk, nil)
	soon := mintHS(t, map[string]any{"sub": "alice", "jti": "s", "iat": clk.Now().Unix(), "exp": clk.Now().Add(time.Minute).Unix()})
	huge := mintHS(t, map[string]any{"sub": "alice", "jti": "h", "iat": clk.Now().Unix(), "exp": 1e19})
	for _, tok := range []string{soon, huge} {
		if err := p.Verifier().RevokeToken(context.Background(), p.Verifier().Verify(context.Background(), tok)); err != nil {
			t.Fatal(err)
		}
	}
	clk.advance(59 * time.Minute) // past soon's exp, within an expiration of the sign-out
	if revoked, _ := store.Revoked(context.Background(), "s", "alice", testNow); !revoked {
		t.Error("the jti was forgotten at its token's exp: a re-issued copy would come back")
	}
	clk.advance(2 * time.Minute)
	if revoked, _ := store.Revoked(context.Background(), "s", "alice", testNow); revoked {
		t.Error("the jti is kept past any copy's life")
	}
	if revoked, _ := store.Revoked(context.Background(), "h", "alice", testNow); !revoked {
		t.Error("the revocation of a token with a huge exp was lost")
	}
	if _, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, Revocation: store, Expiration: policy.NoExpiration}); err == nil {
		t.Error("a store with tokens that never expire was accepted")
	}
}

// TestRevokeUserMixedStack: a stack one token policy of which has no
// store says so when a user is signed out everywhere, and the others'
// tokens are revoked all the same.
func TestRevokeUserMixedStack(t *testing.T) {
	clk := newMovingClock()
	with, _ := revocable(t, clk, nil)
	without := newCookie(t, nil)
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "api", Policy: with}, {Name: "web", Policy: without}}})
	if err != nil {
		t.Fatal(err)
	}
	tok := mintHS(t, validClaims("alice"))
	if err := policy.RevokeUser(context.Background(), stack, "alice"); !errors.Is(err, policy.ErrNoRevocationStore) {
		t.Errorf("RevokeUser on a mixed stack: %v; want ErrNoRevocationStore", err)
	}
	if err := authOf(t, with, tok); !errors.Is(err, policy.ErrTokenRevoked) {
		t.Errorf("the policy with a store: %v; want revoked", err)
	}
}

// TestSlidingAndRevocation: a cookie re-issued while a user is signed out
// everywhere is revoked too (its iat is the request's), and a token whose
// revocation could not be checked is never re-issued.
func TestSlidingAndRevocation(t *testing.T) {
	clk := newMovingClock()
	store := policy.NewMemoryRevocations(0, clk.Now)
	mk := func(open bool) *policy.Cookie {
		return newCookie(t, func(c *policy.CookieConfig) {
			c.Now, c.Revocation, c.RevocationFailOpen, c.ReissueAfter = clk.Now, store, open, 10*time.Minute
		})
	}
	p := mk(false)
	old := mintHS(t, map[string]any{"sub": "alice", "jti": "j", "iat": clk.Now().Add(-20 * time.Minute).Unix(), "exp": clk.Now().Add(40 * time.Minute).Unix()})
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "jwt", Value: old})
	rec := httptest.NewRecorder()
	policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A slow handler: the user is signed out everywhere meanwhile.
		clk.advance(2 * time.Second)
		if err := p.Verifier().RevokeUser(r.Context(), "alice"); err != nil {
			t.Error(err)
		}
		clk.advance(2 * time.Second)
		w.WriteHeader(200)
	})).ServeHTTP(rec, r)
	c, err := http.ParseSetCookie(rec.Header().Get("Set-Cookie"))
	if err != nil {
		t.Fatalf("no re-issued cookie: %v", err)
	}
	r2 := httptest.NewRequest("GET", "/", nil)
	r2.AddCookie(c)
	if _, err := p.AuthenticatedUserID(r2); !errors.Is(err, policy.ErrTokenRevoked) {
		t.Errorf("the cookie re-issued while its user was signed out everywhere: %v; want revoked", err)
	}

	open := mk(true)
	store.Close()
	rec = httptest.NewRecorder()
	policy.Authenticate(open)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })).ServeHTTP(rec, r)
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("a token whose revocation could not be checked was re-issued: %d cookies", len(got))
	}
}

// TestSignOut: SignOut returns Forget's headers and why the request's
// token could not be revoked.
func TestSignOut(t *testing.T) {
	clk := newMovingClock()
	p, store := revocable(t, clk, nil)
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "api", Policy: p}}})
	if err != nil {
		t.Fatal(err)
	}
	tok := jtiToken(t, clk, "alice", "a")
	h, err := policy.SignOut(newRequest(jwtAuth(tok)), stack)
	if err != nil || h.Get("WWW-Authenticate") != "JWT" {
		t.Errorf("SignOut: %q, %v; want Forget's header and no error", h, err)
	}
	if err := authOf(t, p, tok); !errors.Is(err, policy.ErrTokenRevoked) {
		t.Errorf("the signed-out token: %v", err)
	}
	if _, err := policy.SignOut(newRequest(jwtAuth(mintHS(t, validClaims("alice")))), p); !errors.Is(err, policy.ErrNoJTI) {
		t.Errorf("SignOut of a token without jti: %v; want ErrNoJTI", err)
	}
	store.Close()
	tok = jtiToken(t, clk, "alice", "b")
	if _, err := policy.SignOut(newRequest(jwtAuth(tok)), stack); !errors.Is(err, policy.ErrRevocationUnavailable) {
		t.Errorf("SignOut with the store down: %v; want ErrRevocationUnavailable", err)
	}
}

// TestRevocationScopedByIssuer: a jti is revoked for its issuer only.
func TestRevocationScopedByIssuer(t *testing.T) {
	clk := newMovingClock()
	p, _ := revocable(t, clk, nil)
	claims := func(iss string) map[string]any {
		return map[string]any{"sub": "alice", "iss": iss, "jti": "same", "iat": clk.Now().Unix(), "exp": clk.Now().Add(time.Hour).Unix()}
	}
	a, b := mintHS(t, claims("https://a.example")), mintHS(t, claims("https://b.example"))
	if err := p.Verifier().RevokeToken(context.Background(), p.Verifier().Verify(context.Background(), a)); err != nil {
		t.Fatal(err)
	}
	if err := authOf(t, p, a); !errors.Is(err, policy.ErrTokenRevoked) {
		t.Errorf("issuer a's revoked token: %v", err)
	}
	if err := authOf(t, p, b); err != nil {
		t.Errorf("issuer b's token of the same jti: %v; want accepted", err)
	}
}

// countingStore is a RevocationStore that counts the questions it is
// asked, and can hide its version (0: it cannot tell).
type countingStore struct {
	*policy.MemoryRevocations
	asked       atomic.Int64
	noVersion   bool
	fixVersion  bool   // a version that never moves, whatever is revoked
	afterAnswer func() // run after Revoked found its answer (not concurrently)
}

func (s *countingStore) Revoked(ctx context.Context, jti, subject string, iat time.Time) (bool, error) {
	s.asked.Add(1)
	revoked, err := s.MemoryRevocations.Revoked(ctx, jti, subject, iat)
	if s.afterAnswer != nil {
		s.afterAnswer()
	}
	return revoked, err
}

func (s *countingStore) Version() uint64 {
	switch {
	case s.noVersion:
		return 0
	case s.fixVersion:
		return 7
	}
	return s.MemoryRevocations.Version()
}

// TestRevocationVersion: a cached token the store cleared is not asked
// about again while the store's version stays; any revocation, of another
// token too, moves it, and the next request asks again; a store of
// version 0 is asked every time. A store that failed to move its version
// would leave a revoked token accepted, which the last case shows.
func TestRevocationVersion(t *testing.T) {
	clk := newMovingClock()
	tok := jtiToken(t, clk, "alice", "j-1")
	ask := func(t *testing.T, p policy.AuthenticationPolicy, times int) {
		t.Helper()
		for range times {
			if err := authOf(t, p, tok); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := context.Background()

	t.Run("kept while the version stays", func(t *testing.T) {
		store := &countingStore{MemoryRevocations: policy.NewMemoryRevocations(0, clk.Now)}
		p := newPolicy(t, func(c *policy.Config) { c.Now, c.Revocation = clk.Now, store })
		ask(t, p, 2) // verified twice: cached, and cleared at the store's version
		before := store.asked.Load()
		ask(t, p, 10)
		if got := store.asked.Load() - before; got != 0 {
			t.Fatalf("asked %d times about a cleared cached token", got)
		}
		if err := store.RevokeToken(ctx, "someone else's", clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ask(t, p, 3)
		if got := store.asked.Load() - before; got != 1 {
			t.Fatalf("after another revocation: asked %d times, want 1", got)
		}
		if err := store.RevokeToken(ctx, "j-1", clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := authOf(t, p, tok); !errors.Is(err, policy.ErrTokenRevoked) {
			t.Fatalf("revoked in the store: %v", err)
		}
	})

	t.Run("a revocation while the store answers", func(t *testing.T) {
		// The store says "not revoked", then the token is revoked before
		// the verifier records the answer: the record must be of the
		// version read before asking, which the revocation moved past.
		store := &countingStore{MemoryRevocations: policy.NewMemoryRevocations(0, clk.Now)}
		p := newPolicy(t, func(c *policy.Config) { c.Now, c.Revocation = clk.Now, store })
		ask(t, p, 2)
		store.afterAnswer = func() {
			store.afterAnswer = nil
			if err := store.MemoryRevocations.RevokeToken(ctx, "j-1", clk.Now().Add(time.Hour)); err != nil {
				t.Error(err)
			}
		}
		if err := store.MemoryRevocations.RevokeToken(ctx, "other", clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err) // moves the version, so that the next request asks
		}
		ask(t, p, 1) // answered "not revoked"; revoked right after
		if err := authOf(t, p, tok); !errors.Is(err, policy.ErrTokenRevoked) {
			t.Fatalf("revoked while the store answered: %v", err)
		}
	})

	t.Run("a user's revocation", func(t *testing.T) {
		store := &countingStore{MemoryRevocations: policy.NewMemoryRevocations(0, clk.Now)}
		p := newPolicy(t, func(c *policy.Config) { c.Now, c.Revocation = clk.Now, store })
		ask(t, p, 5)
		if err := store.RevokeSubject(ctx, "alice", clk.Now().Add(time.Second), clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := authOf(t, p, tok); !errors.Is(err, policy.ErrTokenRevoked) {
			t.Fatalf("the user's tokens revoked: %v", err)
		}
	})

	t.Run("version 0 is asked every time", func(t *testing.T) {
		store := &countingStore{MemoryRevocations: policy.NewMemoryRevocations(0, clk.Now), noVersion: true}
		p := newPolicy(t, func(c *policy.Config) { c.Now, c.Revocation = clk.Now, store })
		ask(t, p, 2)
		before := store.asked.Load()
		ask(t, p, 10)
		if got := store.asked.Load() - before; got != 10 {
			t.Fatalf("asked %d times in 10 requests", got)
		}
	})

	t.Run("a closed store is asked", func(t *testing.T) {
		store := &countingStore{MemoryRevocations: policy.NewMemoryRevocations(0, clk.Now)}
		p := newPolicy(t, func(c *policy.Config) { c.Now, c.Revocation = clk.Now, store })
		ask(t, p, 3)
		store.Close()
		if err := authOf(t, p, tok); !errors.Is(err, policy.ErrRevocationUnavailable) {
			t.Fatalf("after the store closed: %v", err)
		}
	})

	t.Run("the version is the store's promise", func(t *testing.T) {
		// A store whose version does not move: the verifier trusts it,
		// so the revocation is not seen. This is why a store must move
		// its version with every revocation.
		store := &countingStore{MemoryRevocations: policy.NewMemoryRevocations(0, clk.Now), fixVersion: true}
		p := newPolicy(t, func(c *policy.Config) { c.Now, c.Revocation = clk.Now, store })
		ask(t, p, 3)
		if err := store.RevokeToken(ctx, "j-1", clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := authOf(t, p, tok); err != nil {
			t.Fatalf("a fixed version: want the cleared answer kept, got %v", err)
		}
	})
}
