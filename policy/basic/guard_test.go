package basic_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestGuard puts the policy on chi routes with chiadapter's guards, over
// HTTP: no or failed credentials are answered 401 with the Basic
// challenge (400 for a header that cannot be read), valid credentials
// that are not enough and a reserved username 403 without any
// WWW-Authenticate (chiadapter adds error="insufficient_scope" for token
// schemes only: Basic has no such attribute).
func TestGuard(t *testing.T) {
	p, _ := newPolicy(t)
	g := &chiadapter.Guard{Policy: p}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userid, _ := p.AuthenticatedUserID(r)
		io.WriteString(w, "ok "+userid)
	})
	rt := chi.NewRouter()
	rt.Use(chiadapter.Authenticate(p))
	rt.Use(chiadapter.StaticACL("root", authorizer.ACL{
		{Action: authorizer.Allow, Principal: policy.Everyone, Permissions: authorizer.Perms("view")},
		{Action: authorizer.Allow, Principal: "group:editors", Permissions: authorizer.Perms("edit")},
	}))
	rt.With(g.Authenticated).Get("/private", ok)
	rt.With(g.Require("view")).Get("/public", ok)
	rt.With(g.Require("edit")).Get("/edit", ok)
	srv := httptest.NewServer(rt)
	defer srv.Close()

	const (
		unauthorized = `{"error":"unauthorized"}`
		badPassword  = `{"error":"unauthorized","error_description":"invalid username or password"}`
		malformed    = `{"error":"invalid_request","error_description":"malformed Authorization header"}`
		forbidden    = `{"error":"forbidden"}`
	)
	tests := []struct {
		name, path, authorization string
		wantStatus                int
		wantBody                  string
	}{
		{"an editor edits", "/edit", basicHeader("alice", "alice-secret"), 200, "ok alice"},
		{"a user in", "/private", basicHeader("bob", "bob-secret"), 200, "ok bob"},
		{"anyone views", "/public", "", 200, "ok"},
		{"a user views", "/public", basicHeader("bob", "bob-secret"), 200, "ok bob"},

		{"anonymous, private", "/private", "", 401, unauthorized},
		{"anonymous, edit", "/edit", "", 401, unauthorized},
		{"a JWT header is no credentials", "/private", "JWT token=abc", 401, unauthorized},
		{"wrong password, private", "/private", basicHeader("alice", "wrong"), 401, badPassword},
		{"wrong password, edit", "/edit", basicHeader("alice", "wrong"), 401, badPassword},
		// Failed credentials are refused even where Everyone may.
		{"wrong password, public", "/public", basicHeader("alice", "wrong"), 401, badPassword},
		{"unknown user", "/private", basicHeader("mallory", "x"), 401, badPassword},
		{"malformed, private", "/private", "Basic !!!", 400, malformed},
		{"malformed, public", "/public", "Basic " + b64("no colon"), 400, malformed},

		{"a user without the permission", "/edit", basicHeader("bob", "bob-secret"), 403, forbidden},
		{"a reserved username, private", "/private", basicHeader("system.admin", "system-secret"), 403, forbidden},
		{"a reserved username, edit", "/edit", basicHeader(policy.Authenticated, "x"), 403, forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || strings.TrimSpace(string(body)) != tt.wantBody {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			var want []string
			if tt.wantStatus == 401 || tt.wantStatus == 400 {
				want = []string{challenge}
			}
			if got := resp.Header.Values("WWW-Authenticate"); !slices.Equal(got, want) {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
		})
	}
}
