package settings_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// TestWithObserver: NewPolicy gives the observer to the JWT policy alone
// and its key sets, and to a stack and the token policies it holds.
func TestWithObserver(t *testing.T) {
	a := jwk(1, "key-a")
	path := writeFile(t, "jwks.json", testkit.PublicJWKS(t, a))

	t.Run("the JWT policy and its key set", func(t *testing.T) {
		var c policy.Counters
		p, err := settings.NewPolicy(map[string]string{"jwtauth.jwks_file": path}, nil, quiet, settings.WithObserver(c.Observer()))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		h := policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = policy.UserIDFrom(r.Context()) }))
		h.ServeHTTP(httptest.NewRecorder(), request("JWT", tokenOf(t, a, "")))
		h.ServeHTTP(httptest.NewRecorder(), request("JWT", testkit.BreakSignature(t, tokenOf(t, a, ""))))
		got := c.Snapshot()
		if got.JWKSFetchSuccess != 1 || got.Allowed != 1 || got.Denied != 1 || got.DeniedByReason["invalid signature"] != 1 || got.JWTCacheMiss != 2 {
			t.Errorf("Snapshot = %+v", got)
		}
	})
	t.Run("a stack", func(t *testing.T) {
		var c policy.Counters
		p, err := settings.NewPolicy(map[string]string{
			"multiauth.policies":                 "api web",
			"multiauth.policy.api.use":           "jwt",
			"multiauth.policy.api.jwks_file":     path,
			"multiauth.policy.web.use":           "jwt_cookie",
			"multiauth.policy.web.master_secret": secret,
		}, nil, quiet, settings.WithObserver(c.Observer()))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		h := policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = policy.UserIDFrom(r.Context()) }))
		h.ServeHTTP(httptest.NewRecorder(), request("JWT", tokenOf(t, a, "")))
		got := c.Snapshot()
		if got.JWKSFetchSuccess != 1 || got.Allowed != 1 || got.AllowedByPolicy["api"] != 1 || got.JWTCacheMiss != 1 {
			t.Errorf("Snapshot = %+v", got)
		}
	})
	t.Run("none", func(t *testing.T) {
		p, err := settings.NewPolicy(map[string]string{"jwtauth.master_secret": secret}, nil, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if o := p.(policy.Observable).Observer(); o != nil {
			t.Errorf("an observer without WithObserver: %v", o)
		}
	})
}
