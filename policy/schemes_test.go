package policy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
)

// TestSchemesList: a policy configured with two schemes reads a token
// under either, on the full path and on the cache's fast path, and
// challenges with the first.
func TestSchemesList(t *testing.T) {
	p := newPolicy(t, func(c *policy.Config) { c.Schemes = []string{"JWT", "Bearer"} })
	if p.Scheme() != "JWT" || strings.Join(p.Schemes(), " ") != "JWT Bearer" {
		t.Errorf("Scheme() = %q, Schemes() = %q", p.Scheme(), p.Schemes())
	}
	tok := mintHS(t, validClaims("alice"))
	for _, h := range []string{"JWT " + tok, "JWT token=" + tok, "Bearer " + tok, "bearer token=" + tok, "Bearer " + tok} {
		for range 2 { // the second time from the cache
			if id, err := p.AuthenticatedUserID(newRequest(h)); id != "alice" || err != nil {
				t.Errorf("%.12s...: %q, %v", h, id, err)
			}
		}
	}
	if id, err := p.AuthenticatedUserID(newRequest("Token " + tok)); err == nil {
		t.Errorf("another scheme authenticated %q", id)
	}
	if _, err := p.AuthenticatedUserID(newRequest("JWT "+tok, "Bearer "+tok)); err == nil {
		t.Error("two Authorization headers authenticated")
	}
	w := httptest.NewRecorder()
	p.Challenge(w, newRequest())
	if got := w.Header().Values("WWW-Authenticate"); len(got) != 1 || got[0] != "JWT" {
		t.Errorf("challenge %q, want JWT", got)
	}
	w = httptest.NewRecorder()
	p.Challenge(w, newRequest("Bearer not-a-token"))
	if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, `JWT error="invalid_token"`) {
		t.Errorf("challenge %q, want the JWT scheme", got)
	}
	if got := p.Forget(newRequest()).Get("WWW-Authenticate"); got != "JWT" {
		t.Errorf("Forget %q", got)
	}
}

// TestOtherSchemeLoggedOnce: a JWT-only policy that challenges a request
// of a Bearer token (or a Bearer-only policy one of a JWT) says so once,
// at Info, without the token; other schemes are not told of, and neither
// is a request that is not challenged (another policy of a stack may
// have authenticated it).
func TestOtherSchemeLoggedOnce(t *testing.T) {
	tok := mintHS(t, validClaims("alice"))
	for _, tc := range []struct{ schemes, sent, other string }{
		{"JWT", "Bearer", "Bearer"},
		{"JWT", "BEARER", "Bearer"},
		{"Bearer", "JWT", "JWT"},
		{"Token", "Bearer", "Bearer"},
	} {
		t.Run(tc.schemes+"/"+tc.sent, func(t *testing.T) {
			logger, buf := bufLogger()
			p := newPolicy(t, func(c *policy.Config) { c.Schemes = strings.Fields(tc.schemes); c.Logger = logger })
			challenge := func(authz string) {
				r := newRequest(authz)
				policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.Challenge(w, r) })).ServeHTTP(httptest.NewRecorder(), r)
			}
			challenge("Basic dXNlcjpwYXNz")
			challenge("Other " + tok)
			if buf.String() != "" {
				t.Fatalf("logged for other schemes: %s", buf.String())
			}
			for range 3 {
				if _, err := p.AuthenticatedUserID(newRequest(tc.sent + " " + tok)); err == nil {
					t.Fatal("authenticated")
				}
			}
			if buf.String() != "" {
				t.Fatalf("logged for a request not challenged: %s", buf.String())
			}
			for range 3 {
				challenge(tc.sent + " " + tok)
			}
			out := buf.String()
			if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, "level=INFO") || !strings.Contains(out, "scheme="+tc.other) || !strings.Contains(out, "schemes="+tc.schemes) {
				t.Errorf("want one Info line naming %s and %s: %s", tc.other, tc.schemes, out)
			}
			if strings.Contains(out, tok) || strings.Contains(out, strings.Split(tok, ".")[1]) {
				t.Errorf("the log shows the token: %s", out)
			}
		})
	}
}
