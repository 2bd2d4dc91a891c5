package chiadapter_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
)

// TestREADMEChiRoutes serves the router of the README's "Permissions on
// chi routes", its finder as written there: the article "secret" keeps
// its ACL however its name is escaped. The finder is a copy of the
// README's: the test checks only that the README still reads the
// parameter with chiadapter.URLParam (and never chi.URLParam), not that
// the rest of the snippet is unchanged.
func TestREADMEChiRoutes(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	if _, after, ok := strings.Cut(section, "### Permissions on chi routes"); ok {
		section, _, _ = strings.Cut(after, "\n#")
	} else {
		t.Fatal(`README.md has no section "Permissions on chi routes"`)
	}
	if !strings.Contains(section, `id, err := chiadapter.URLParam(r, "id")`) || strings.Contains(section, "chi.URLParam(") {
		t.Error("the README's chi snippet does not read {id} with chiadapter.URLParam alone; keep this test's finder in step with it")
	}

	p := newPolicy(t, nil, nil)
	guard := &chiadapter.Guard{Policy: p}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p), chiadapter.StaticACL("root", rootACL))
	r.Route("/articles/{id}", func(r chi.Router) {
		// As in the README.
		r.Use(chiadapter.Context(func(r *http.Request, root authorizer.Resource) (authorizer.Resource, error) {
			id, err := chiadapter.URLParam(r, "id")
			if err != nil {
				return nil, err // a name that does not decode: 404
			}
			if id == "secret" {
				return authorizer.NewNode(id, root, authorizer.ACL{
					{Action: authorizer.Allow, Principal: "group:admins", Permissions: authorizer.AllPermissions},
					authorizer.DenyAll,
				}), nil
			}
			return authorizer.NewNodeWithoutACL(id, root), nil // inherits the root's ACL
		}))
		r.With(guard.Require("view")).Get("/", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "article "+authorizer.ResourceName(chiadapter.Resource(r)))
		})
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	admin := requesters(t)["admin"].token

	for _, tc := range []struct {
		target, token string
		code          int
		body          string
	}{
		{"/articles/%73ecret", "", http.StatusUnauthorized, ""},
		{"/articles/secre%74", "", http.StatusUnauthorized, ""},
		{"/articles/%73ecret", admin, http.StatusOK, "article secret"},
		{"/articles/%2573ecret", "", http.StatusOK, "article %73ecret"},
		{"/articles/secret%2F..", "", http.StatusOK, "article secret/.."},
	} {
		code, body := rawGet(t, srv, tc.target, tc.token)
		if code != tc.code || (tc.body != "" && body != tc.body) {
			t.Errorf("GET %s (token %t): %d %q; want %d %q", tc.target, tc.token != "", code, body, tc.code, tc.body)
		}
	}
}
