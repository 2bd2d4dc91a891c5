package chiadapter_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
)

// A chi app: every route knows its user (Authenticate) and sits under a
// root ACL (StaticACL); each article is found from its URL (Context) and
// each method requires a permission on it (Require).
func Example() {
	secret := []byte("an-example-secret-of-at-least-32-bytes")
	p, err := policy.NewJWT(policy.Config{
		MasterSecret: secret,
		GroupFinder: func(userid string, r *http.Request, c policy.Claims) ([]string, bool) {
			roles, _ := c.Strings("groups")
			groups := make([]string, len(roles))
			for i, g := range roles {
				groups[i] = "group:" + g
			}
			return groups, true
		},
	})
	if err != nil {
		panic(err)
	}
	guard := &chiadapter.Guard{Policy: p}

	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p))
	r.Use(chiadapter.StaticACL("root", authorizer.ACL{
		{Action: authorizer.Allow, Principal: policy.Everyone, Permissions: authorizer.Perms("view")},
		{Action: authorizer.Allow, Principal: "group:editors", Permissions: authorizer.Perms("edit")},
	}))
	r.Route("/articles/{id}", func(r chi.Router) {
		r.Use(chiadapter.Context(func(r *http.Request, parent authorizer.Resource) (authorizer.Resource, error) {
			id, err := chiadapter.URLParam(r, "id")
			if err != nil {
				return nil, err
			}
			if id == "missing" {
				return nil, chiadapter.ErrNotFound
			}
			return authorizer.NewNodeWithoutACL(id, parent), nil
		}))
		r.With(guard.Require("view")).Get("/", func(w http.ResponseWriter, r *http.Request) {})
		r.With(guard.Require("edit")).Put("/", func(w http.ResponseWriter, r *http.Request) {})
	})

	// A client's token, signed elsewhere with the shared secret.
	token := func(secret []byte, sub string, groups ...string) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
		if err != nil {
			panic(err)
		}
		t, err := jwt.Signed(signer).Claims(map[string]any{"sub": sub, "groups": groups}).Serialize()
		if err != nil {
			panic(err)
		}
		return t
	}
	editor := token(secret, "eddie", "editors")
	reader := token(secret, "rita")
	forged := token([]byte("someone-elses-secret-of-32-bytes-or-more"), "eddie", "editors")

	for _, c := range []struct{ who, method, path, token string }{
		{"anonymous", "GET", "/articles/1", ""},
		{"anonymous", "PUT", "/articles/1", ""},
		{"reader", "PUT", "/articles/1", reader},
		{"editor", "PUT", "/articles/1", editor},
		{"forged", "GET", "/articles/1", forged},
		{"editor", "GET", "/articles/missing", editor},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "JWT token="+c.token)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Printf("%-9s %-3s %s: %d", c.who, c.method, c.path, rec.Code)
		if challenge := rec.Header().Get("WWW-Authenticate"); challenge != "" {
			fmt.Print(" ", challenge)
		}
		fmt.Println()
	}
	// Output:
	// anonymous GET /articles/1: 200
	// anonymous PUT /articles/1: 401 JWT
	// reader    PUT /articles/1: 403 JWT error="insufficient_scope"
	// editor    PUT /articles/1: 200
	// forged    GET /articles/1: 401 JWT error="invalid_token", error_description="invalid signature"
	// editor    GET /articles/missing: 404
}

// chi routes on the path as the client escaped it when that is not the
// default escaping, so chi.URLParam can be escaped or not; URLParam
// decodes it exactly once.
func ExampleURLParam() {
	r := chi.NewRouter()
	r.Get("/articles/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := chiadapter.URLParam(r, "id")
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		fmt.Printf("%-21s chi.URLParam %-11q chiadapter.URLParam %q\n", r.URL.EscapedPath(), chi.URLParam(r, "id"), id)
	})
	for _, path := range []string{"/articles/secret", "/articles/%73ecret", "/articles/%2573ecret", "/articles/a%2Fb"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	// Output:
	// /articles/secret      chi.URLParam "secret"    chiadapter.URLParam "secret"
	// /articles/%73ecret    chi.URLParam "%73ecret"  chiadapter.URLParam "secret"
	// /articles/%2573ecret  chi.URLParam "%73ecret"  chiadapter.URLParam "%73ecret"
	// /articles/a%2Fb       chi.URLParam "a%2Fb"     chiadapter.URLParam "a/b"
}
