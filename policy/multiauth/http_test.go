package multiauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// stackACL: admins edit, authenticated users view, everyone reads /public.
var stackACL = authorizer.ACL{
	{Action: authorizer.Allow, Principal: "group:admins", Permissions: authorizer.Perms("edit")},
	{Action: authorizer.Allow, Principal: policy.Authenticated, Permissions: authorizer.Perms("view")},
	{Action: authorizer.Allow, Principal: policy.Everyone, Permissions: authorizer.Perms("public")},
}

// meHandler answers the identity the handlers see: the userid, the policy
// that chose it and a claim of the chosen JWT (policy.ClaimsFrom).
func meHandler(w http.ResponseWriter, r *http.Request) {
	id, _ := policy.IdentityFrom(r.Context())
	tenant, _ := policy.ClaimsFrom(r.Context()).String("tenant")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"userid": id.UserID, "policy": id.Policy, "tenant": tenant})
}

// stackServer serves the stack on chi: Authenticate with it, a root ACL,
// /me behind Guard.Authenticated and /view, /edit, /public behind
// Guard.Require. Each handler may run extra before it answers.
func stackServer(t *testing.T, f *fixture, extra func(r *http.Request)) *httptest.Server {
	t.Helper()
	g := &chiadapter.Guard{Policy: f.stack, Logger: discard}
	h := func(w http.ResponseWriter, r *http.Request) {
		if extra != nil {
			extra(r)
		}
		meHandler(w, r)
	}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(f.stack), chiadapter.StaticACL("root", stackACL))
	r.With(g.Authenticated).Get("/me", h)
	for _, perm := range []string{"view", "edit", "public"} {
		r.With(g.Require(perm)).Get("/"+perm, h)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// get requests path of srv with c and returns the response, its body read.
func get(t *testing.T, srv *httptest.Server, path string, c creds) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.apply(req)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestStackOverHTTP: behind chiadapter.Guard, over real HTTP, the stack's
// challenge has one WWW-Authenticate per policy, the failed one's with its
// own attributes, and the failed policy's body when one failed; 400 only
// when every presented credential was malformed; a user rejected, or one
// whose credentials are not enough, is 403; an authenticated request
// reaches the handler with the chosen policy's name and claims.
func TestStackOverHTTP(t *testing.T) {
	f := newFixture(t)
	srv := stackServer(t, f, nil)
	alice := mintJWT(t, claims("alice", "tenant", "acme"))
	brokenAlice := testkit.BreakSignature(t, alice)
	bob := mintBearer(t, claims("bob"))
	mallory := mintJWT(t, claims("mallory"))

	const (
		jwtInvalid      = `JWT error="invalid_token", error_description="invalid signature"`
		jwtMalformed    = `JWT error="invalid_request", error_description="malformed Authorization header"`
		bearerMalformed = `Bearer error="invalid_request", error_description="malformed Authorization header"`
		apiKey          = `ApiKey realm="test"`
		apiKeyInvalid   = `ApiKey realm="test", error="invalid_key"`
	)
	plain := []string{"JWT", "Bearer", apiKey}
	insufficient := []string{`JWT error="insufficient_scope"`, `Bearer error="insufficient_scope"`, `ApiKey error="insufficient_scope"`}
	tests := []struct {
		name, path string
		creds      creds
		status     int
		challenges []string          // the WWW-Authenticate values, in order
		body       map[string]string // the JSON body
	}{
		{"anonymous", "/me", creds{}, 401, plain, map[string]string{"error": "unauthorized"}},
		{"anonymous may not view", "/view", creds{}, 401, plain, map[string]string{"error": "unauthorized"}},
		{"anonymous reads public", "/public", creds{}, 200, nil, map[string]string{"userid": "", "policy": "", "tenant": ""}},
		{"broken JWT", "/me", creds{authorization: []string{"JWT " + brokenAlice}}, 401,
			[]string{jwtInvalid, "Bearer", apiKey}, map[string]string{"error": "invalid_token", "error_description": "invalid signature"}},
		{"broken JWT is refused where everyone may read", "/public", creds{authorization: []string{"JWT " + brokenAlice}}, 401,
			[]string{jwtInvalid, "Bearer", apiKey}, map[string]string{"error": "invalid_token", "error_description": "invalid signature"}},
		{"broken JWT and an unknown API key", "/me", creds{authorization: []string{"JWT " + brokenAlice}, apiKey: "k-nobody"}, 401,
			[]string{jwtInvalid, "Bearer", apiKeyInvalid}, map[string]string{"error": "unauthorized"}},
		{"broken JWT beside a good API key", "/public", creds{authorization: []string{"JWT " + brokenAlice}, apiKey: "k-svc"}, 200,
			nil, map[string]string{"userid": "svc", "policy": "apikey", "tenant": ""}},
		{"unknown API key beside a good Bearer token", "/view", creds{authorization: []string{"Bearer " + bob}, apiKey: "k-nobody"}, 200,
			nil, map[string]string{"userid": "bob", "policy": "bearer", "tenant": ""}},
		{"malformed JWT header alone", "/me", creds{authorization: []string{"JWT token="}}, 400,
			[]string{jwtMalformed, "Bearer", apiKey}, map[string]string{"error": "invalid_request", "error_description": "malformed Authorization header"}},
		{"two Authorization headers: both malformed", "/me", creds{authorization: []string{"JWT " + alice, "Bearer " + bob}}, 400,
			[]string{jwtMalformed, bearerMalformed, apiKey}, map[string]string{"error": "invalid_request"}},
		{"malformed JWT header and an unknown API key", "/me", creds{authorization: []string{"JWT token="}, apiKey: "k-nobody"}, 401,
			[]string{jwtMalformed, "Bearer", apiKeyInvalid}, map[string]string{"error": "unauthorized"}},
		{"malformed JWT header beside a good API key", "/me", creds{authorization: []string{"JWT token="}, apiKey: "k-svc"}, 200,
			nil, map[string]string{"userid": "svc", "policy": "apikey", "tenant": ""}},
		{"user rejected by the stack's finder", "/me", creds{authorization: []string{"JWT " + mallory}}, 403,
			insufficient, map[string]string{"error": "forbidden"}},
		{"Bearer user may not edit", "/edit", creds{authorization: []string{"Bearer " + bob}}, 403,
			insufficient, map[string]string{"error": "forbidden"}},
		{"admin edits, with the JWT's claims", "/edit", creds{authorization: []string{"JWT " + alice}}, 200,
			nil, map[string]string{"userid": "alice", "policy": "jwt", "tenant": "acme"}},
		{"API key user views", "/view", creds{apiKey: "k-svc"}, 200,
			nil, map[string]string{"userid": "svc", "policy": "apikey", "tenant": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv, tt.path, tt.creds)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Values("WWW-Authenticate"); !slices.Equal(got, tt.challenges) {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenges)
			}
			var got map[string]string
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if len(got) != len(tt.body) {
				t.Errorf("body %s, want %v", body, tt.body)
			}
			for k, v := range tt.body {
				if got[k] != v {
					t.Errorf("body %s: %s = %q, want %q", body, k, got[k], v)
				}
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if resp.StatusCode == 401 || resp.StatusCode == 400 {
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q on a challenge", cc)
				}
			}
		})
	}
}

// TestStackIdentifiesOncePerRequest: under Authenticate with the stack,
// each policy identifies a request once (each JWT policy's own group
// finder is asked once for its verified token; the API key policy once) and
// OnSelected fires once, however many times the guard, the stack's methods
// and the context accessors ask, the challenge of a request nobody
// authenticated included (Authenticate gives each policy of the stack its
// place: policy.Stack).
func TestStackIdentifiesOncePerRequest(t *testing.T) {
	f := newFixture(t)
	srv := stackServer(t, f, func(r *http.Request) {
		for range 3 {
			_, _ = f.stack.AuthenticatedUserID(r)
			_, _ = f.stack.UnauthenticatedUserID(r)
			_, _ = f.stack.EffectivePrincipals(r)
			_, _ = f.stack.Claims(r)
			_ = policy.ClaimsFrom(r.Context())
			_, _ = policy.IdentityFrom(r.Context())
		}
	})
	alice := mintJWT(t, claims("alice", "tenant", "acme"))
	bob := mintBearer(t, claims("bob"))
	mallory := mintJWT(t, claims("mallory"))

	tests := []struct {
		name                string
		path                string
		creds               creds
		status              int
		jwt, bearer, apikey int64 // identities per policy
		selected            []string
	}{
		{"JWT and API key", "/view", creds{authorization: []string{"JWT " + alice}, apiKey: "k-svc"}, 200, 1, 0, 1, []string{"jwt"}},
		{"the same again (the verified-token cache)", "/view", creds{authorization: []string{"JWT " + alice}, apiKey: "k-svc"}, 200, 1, 0, 1, []string{"jwt"}},
		{"Bearer and API key", "/me", creds{authorization: []string{"Bearer " + bob}, apiKey: "k-svc"}, 200, 0, 1, 1, []string{"bearer"}},
		{"rejected user falls through", "/me", creds{authorization: []string{"JWT " + mallory}, apiKey: "k-svc"}, 200, 1, 0, 1, []string{"jwt", "apikey"}},
		{"forbidden", "/edit", creds{authorization: []string{"Bearer " + bob}}, 403, 0, 1, 1, []string{"bearer"}},
		{"challenged: the challenge reads the same identities", "/view", creds{authorization: []string{"JWT " + mallory}, apiKey: "k-nobody"}, 401, 1, 0, 1, []string{"jwt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j0, b0, a0 := f.jwtCount.n.Load(), f.bearerCount.n.Load(), f.apikey.calls.Load()
			f.takeSelected()
			resp, body := get(t, srv, tt.path, tt.creds)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if d := f.jwtCount.n.Load() - j0; d != tt.jwt {
				t.Errorf("JWT policy identified a token %d times, want %d", d, tt.jwt)
			}
			if d := f.bearerCount.n.Load() - b0; d != tt.bearer {
				t.Errorf("Bearer policy identified a token %d times, want %d", d, tt.bearer)
			}
			if d := f.apikey.calls.Load() - a0; d != tt.apikey {
				t.Errorf("API key policy asked %d times, want %d", d, tt.apikey)
			}
			if got := f.takeSelected(); !slices.Equal(got, tt.selected) {
				t.Errorf("OnSelected names = %q, want %q", got, tt.selected)
			}
		})
	}
}
