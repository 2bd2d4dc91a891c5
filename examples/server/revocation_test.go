package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/redistest"
	"github.com/pyramid-go/jwtauth/settings"
)

// loginToken signs username in with JSON and returns the token.
func loginToken(t *testing.T, base, username string) string {
	t.Helper()
	got := postLogin(t, base, `{"username":"`+username+`","password":"`+username+`"}`)
	tok, _ := got.body.(map[string]any)["token"].(string)
	if got.status != http.StatusOK || tok == "" {
		t.Fatalf("login as %s: %d %s", username, got.status, got.raw)
	}
	return tok
}

// TestLogoutRevokes: in the embedded default (jwtauth.revocation =
// memory), POST /logout revokes the token it is sent with, and POST
// /users/{id}/revoke, for admins only, revokes every token of a user.
func TestLogoutRevokes(t *testing.T) {
	p, _ := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()

	tok, kept := loginToken(t, srv.URL, "alice"), loginToken(t, srv.URL, "alice")
	if got := do(t, http.MethodGet, srv.URL+"/auth", tok, ""); got.status != http.StatusOK {
		t.Fatalf("GET /auth before logout: %d", got.status)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/logout", nil)
	req.Header.Set("Authorization", "JWT token="+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /logout: %d", res.StatusCode)
	}
	got := do(t, http.MethodGet, srv.URL+"/auth", tok, "")
	if got.status != http.StatusUnauthorized || got.header.Get("WWW-Authenticate") == "" || !contains(got.header.Values("WWW-Authenticate"), `JWT error="invalid_token", error_description="token revoked"`) {
		t.Errorf("GET /auth with the signed-out token: %d %q; want 401 token revoked", got.status, got.header.Values("WWW-Authenticate"))
	}
	if got := do(t, http.MethodGet, srv.URL+"/auth", kept, ""); got.status != http.StatusOK {
		t.Errorf("alice's other token after one logout: %d", got.status)
	}

	admin := loginToken(t, srv.URL, "admin")
	if got := do(t, http.MethodPost, srv.URL+"/users/alice/revoke", kept, ""); got.status != http.StatusForbidden {
		t.Errorf("alice revoking herself everywhere: %d; want 403 (admins only)", got.status)
	}
	if got := do(t, http.MethodPost, srv.URL+"/users/alice/revoke", admin, ""); got.status != http.StatusOK {
		t.Fatalf("admin revoking alice: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodGet, srv.URL+"/auth", kept, ""); got.status != http.StatusUnauthorized {
		t.Errorf("alice's other token after the admin revoked her: %d; want 401", got.status)
	}
	if got := do(t, http.MethodGet, srv.URL+"/auth", admin, ""); got.status != http.StatusOK {
		t.Errorf("the admin's own token: %d", got.status)
	}
	if got := doBasic(t, http.MethodGet, srv.URL+"/auth", "alice", "alice"); got.status != http.StatusOK {
		t.Errorf("alice's password after her tokens were revoked: %d (a password is no token)", got.status)
	}
}

// TestRevokeWithoutStore: without jwtauth.revocation, the route says so.
func TestRevokeWithoutStore(t *testing.T) {
	m := defaultSettings()
	delete(m, "jwtauth.revocation")
	p, err := settings.NewPolicy(m, nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	if got := do(t, http.MethodPost, srv.URL+"/users/alice/revoke", loginToken(t, srv.URL, "admin"), ""); got.status != http.StatusNotImplemented {
		t.Errorf("revoke without a store: %d; want 501", got.status)
	}
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// TestRunRedisRevocation runs two instances of the example, as a load
// balancer would, on one configuration file that names a real
// redis-server (jwtauth.revocation = redis://...): a token signed out on
// one is refused by the other within a second, and so is a user signed
// out everywhere.
func TestRunRedisRevocation(t *testing.T) {
	redis := redistest.Start(t)
	path := writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
		"jwtauth.revocation = "+redis.URL(),
	)
	a := startRun(t, "-config", path, "-addr", "127.0.0.1:0", "-demo-users")
	b := startRun(t, "-config", path, "-addr", "127.0.0.1:0", "-demo-users")
	tok := loginToken(t, a.base, "alice")
	if got := do(t, http.MethodGet, b.base+"/auth", tok, ""); got.status != http.StatusOK {
		t.Fatalf("instance b, before the sign-out: %d %s", got.status, got.raw)
	}
	req, _ := http.NewRequest(http.MethodPost, a.base+"/logout", nil)
	req.Header.Set("Authorization", "JWT token="+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	signedOut := time.Now()
	refusedWithin(t, b.base, tok, signedOut)

	other := loginToken(t, b.base, "alice")
	admin := loginToken(t, b.base, "admin")
	if got := do(t, http.MethodPost, a.base+"/users/alice/revoke", admin, ""); got.status != http.StatusOK {
		t.Fatalf("admin revoking alice on instance a: %d %s", got.status, got.raw)
	}
	refusedWithin(t, b.base, other, time.Now())

	// With Redis down, a sign-out cannot revoke: it says so (503), and
	// the token is refused for want of a check rather than accepted.
	last := loginToken(t, a.base, "bob")
	redis.Kill()
	got := doWith(t, http.MethodPost, a.base+"/logout", func(r *http.Request) { r.Header.Set("Authorization", "JWT token="+last) }, "")
	if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" {
		t.Errorf("a sign-out with Redis down: %d %q; want 503 with Retry-After", got.status, got.header.Get("Retry-After"))
	}
}

// refusedWithin polls base/auth with tok until it is refused as revoked,
// failing the test past a second after since.
func refusedWithin(t *testing.T, base, tok string, since time.Time) {
	t.Helper()
	for {
		got := do(t, http.MethodGet, base+"/auth", tok, "")
		if got.status == http.StatusUnauthorized && contains(got.header.Values("WWW-Authenticate"), `JWT error="invalid_token", error_description="token revoked"`) {
			t.Logf("refused by the other instance %v after the revocation", time.Since(since).Round(time.Millisecond))
			return
		}
		if time.Since(since) > time.Second {
			t.Fatalf("the other instance still answers %d a second after the revocation", got.status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
