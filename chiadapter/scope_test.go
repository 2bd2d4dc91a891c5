package chiadapter_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// scopeACL grants view to Everyone and to the scope articles:read, edit
// to the scopes articles:write and admin and to editors, and every
// permission to admins and the scope root; it also names scope principals no token can hold (no
// scope token by RFC 6749), which a 403 must never list.
var scopeACL = authorizer.ACL{
	allowACE(policy.Everyone, "view"),
	allowACE("scope:articles:read", "view"),
	allowACE("scope:articles:write", "edit"),
	allowACE("scope:admin", "edit"),
	allowACE("group:editors", "edit"),
	allowACE(`scope:a"b`, "edit"),
	allowACE(`scope:a\b`, "edit"),
	allowACE("scope:a b", "edit"),
	allowACE("scope:", "edit"),
	allowACE("scope:caf\u00e9", "edit"),
	allowACE("scoped:x", "edit"),
	allowAllACE("group:admins"),
	allowAllACE("scope:root"),
}

// newScopePolicy is the tests' JWT policy with scopes as principals (or
// not), for scheme.
func newScopePolicy(t testing.TB, scopes bool, scheme string) *policy.JWT {
	t.Helper()
	p, err := policy.NewJWT(policy.Config{
		MasterSecret:    testSecret,
		ScopePrincipals: scopes,
		Schemes:         []string{scheme},
		GroupFinder:     groupFinder,
		Logger:          slog.New(slog.DiscardHandler),
		Now:             func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// scopeApp is a chi router over p with scopeACL at the root, the
// article "secret" with secretACL, and a guard g (with p as its policy
// when g is nil).
func scopeApp(p policy.AuthenticationPolicy, g *chiadapter.Guard) http.Handler {
	if g == nil {
		g = &chiadapter.Guard{Policy: p}
	}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p), chiadapter.StaticACL("root", scopeACL))
	r.Route("/articles/{id}", func(r chi.Router) {
		r.Use(chiadapter.Context(findArticle))
		r.With(g.Require("view")).Get("/", okHandler)
		r.With(g.Require("edit")).Put("/", okHandler)
		r.With(g.Require("delete")).Delete("/", okHandler)
	})
	r.With(g.Authenticated).Get("/me", okHandler)
	return r
}

// scopedToken is a valid token of sub with the scope claim scope (none
// when empty) and groups.
func scopedToken(t testing.TB, sub, scope string, groups ...string) string {
	c := userClaims(sub, groups...)
	if scope != "" {
		c["scope"] = scope
	}
	return mint(t, testSecret, c)
}

// serve sends one request through a real server and returns its status
// and WWW-Authenticate headers.
func serve(t *testing.T, srv *httptest.Server, method, path, authz string) (int, []string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Values("WWW-Authenticate")
}

// TestForbiddenScopeAttribute: a guard's 403 for a refused permission
// names, in RFC 6750's scope attribute, the scopes that would grant it on
// the resource, when the policy's scopes are principals; never otherwise.
func TestForbiddenScopeAttribute(t *testing.T) {
	on := httptest.NewServer(scopeApp(newScopePolicy(t, true, "Bearer"), nil))
	defer on.Close()
	off := httptest.NewServer(scopeApp(newScopePolicy(t, false, "Bearer"), nil))
	defer off.Close()

	reader := "Bearer " + scopedToken(t, "rita", "articles:read")
	writer := "Bearer " + scopedToken(t, "will", "articles:write")
	tests := []struct {
		name         string
		srv          *httptest.Server
		method, path string
		authz        string
		code         int
		challenge    []string
	}{
		{"the scopes that grant edit, sorted, but root, which grants everything", on, http.MethodPut, "/articles/1", reader, http.StatusForbidden,
			[]string{`Bearer error="insufficient_scope", scope="admin articles:write"`}},
		{"a scope that grants edit lets the writer in", on, http.MethodPut, "/articles/1", writer, http.StatusOK, nil},
		{"a scope grants view", on, http.MethodGet, "/articles/1", reader, http.StatusOK, nil},
		{"only root grants delete, and root is never a hint", on, http.MethodDelete, "/articles/1", writer, http.StatusForbidden,
			[]string{`Bearer error="insufficient_scope"`}},
		{"the root scope may delete", on, http.MethodDelete, "/articles/1", "Bearer " + scopedToken(t, "ron", "root"), http.StatusOK, nil},
		{"the resource's own ACL counts: the secret grants no scope: no scope attribute", on, http.MethodGet, "/articles/secret", reader, http.StatusForbidden,
			[]string{`Bearer error="insufficient_scope"`}},
		{"a user without scopes gets the list too", on, http.MethodPut, "/articles/1", "Bearer " + scopedToken(t, "paul", ""), http.StatusForbidden,
			[]string{`Bearer error="insufficient_scope", scope="admin articles:write"`}},
		{"scopes off: no scope attribute", off, http.MethodPut, "/articles/1", reader, http.StatusForbidden,
			[]string{`Bearer error="insufficient_scope"`}},
		{"scopes off: a scope grants nothing", off, http.MethodPut, "/articles/1", writer, http.StatusForbidden,
			[]string{`Bearer error="insufficient_scope"`}},
		{"anonymous: the challenge, no scope", on, http.MethodPut, "/articles/1", "", http.StatusUnauthorized, []string{"Bearer"}},
		{"the Authenticated guard: no permission, no scope", on, http.MethodGet, "/me", "Bearer " + scopedToken(t, "baduser", "articles:write"), http.StatusForbidden,
			[]string{`Bearer error="insufficient_scope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := serve(t, tt.srv, tt.method, tt.path, tt.authz)
			if code != tt.code || !slices.Equal(got, tt.challenge) {
				t.Errorf("%s %s: %d %q; want %d %q", tt.method, tt.path, code, got, tt.code, tt.challenge)
			}
		})
	}
}

// TestForbiddenScopeAttributeStack: in a stack, the scope attribute goes
// with the challenge of each token policy whose scopes are principals,
// and a Basic policy gets no insufficient_scope at all.
func TestForbiddenScopeAttributeStack(t *testing.T) {
	stack := newStackOf(t, newScopePolicy(t, true, "Bearer"), newScopePolicy(t, false, "JWT"), newBasic(t))
	app := scopeApp(stack, &chiadapter.Guard{})
	rec := do(app, http.MethodPut, "/articles/1", scopedToken(t, "rita", "articles:read")) // JWT token=...
	want := []string{`Bearer error="insufficient_scope", scope="admin articles:write"`, `JWT error="insufficient_scope"`}
	if got := rec.Header().Values("WWW-Authenticate"); rec.Code != http.StatusForbidden || !slices.Equal(got, want) {
		t.Errorf("%d %q; want 403 %q", rec.Code, got, want)
	}
	// Two policies of one scheme: the scope attribute when either's
	// scopes are principals, in either order (the one without scopes
	// coming second does not take it away).
	for _, order := range [][2]bool{{false, true}, {true, false}} {
		stack = newStackOf(t, newScopePolicy(t, order[0], "JWT"), newScopePolicy(t, order[1], "JWT"))
		rec = do(scopeApp(stack, &chiadapter.Guard{}), http.MethodPut, "/articles/1", scopedToken(t, "rita", "articles:read"))
		want = []string{`JWT error="insufficient_scope", scope="admin articles:write"`}
		if got := rec.Header().Values("WWW-Authenticate"); rec.Code != http.StatusForbidden || !slices.Equal(got, want) {
			t.Errorf("same scheme, scopes %v: %d %q; want 403 %q", order, rec.Code, got, want)
		}
	}
}

// permitsOnly is an Authorizer that cannot tell which principals a
// permission is allowed to.
type permitsOnly struct{}

func (permitsOnly) Permits(context authorizer.Resource, principals []string, permission string) authorizer.Decision {
	return authorizer.Permits(context, principals, permission)
}

// unsortedAllowed is an Authorizer whose PrincipalsAllowedByPermission
// answers out of order, with a duplicate, and whose Permits allows the
// principals scope:a, scope:b and scope:c (which it does not name) and
// nothing else.
type unsortedAllowed struct{}

func (unsortedAllowed) Permits(context authorizer.Resource, principals []string, permission string) authorizer.Decision {
	return authorizer.Decision{Allowed: slices.ContainsFunc(principals, func(p string) bool { return p == "scope:a" || p == "scope:b" || p == "scope:c" })}
}

func (unsortedAllowed) PrincipalsAllowedByPermission(authorizer.Resource, string) []string {
	return []string{"scope:b", "group:x", "scope:a", "scope:b", policy.Everyone}
}

// TestForbiddenScopeAttributeAuthorizer: an Authorizer without
// PrincipalsAllowedByPermission gives no scope attribute, one with it is
// asked (its answer sorted, each scope once); a custom Forbidden handler
// answers alone.
func TestForbiddenScopeAttributeAuthorizer(t *testing.T) {
	p := newScopePolicy(t, true, "JWT")
	tok := scopedToken(t, "rita", "articles:read")
	rec := do(scopeApp(p, &chiadapter.Guard{Policy: p, Authorizer: permitsOnly{}}), http.MethodPut, "/articles/1", tok)
	if got := rec.Header().Values("WWW-Authenticate"); rec.Code != http.StatusForbidden || !slices.Equal(got, []string{`JWT error="insufficient_scope"`}) {
		t.Errorf("%d %q; want 403 without scope", rec.Code, got)
	}
	rec = do(scopeApp(p, &chiadapter.Guard{Policy: p, Authorizer: authorizer.ACLAuthorizer{}}), http.MethodPut, "/articles/1", tok)
	if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, []string{`JWT error="insufficient_scope", scope="admin articles:write"`}) {
		t.Errorf("ACLAuthorizer given: %q", got)
	}
	rec = do(scopeApp(p, &chiadapter.Guard{Policy: p, Authorizer: unsortedAllowed{}}), http.MethodPut, "/articles/1", tok)
	if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, []string{`JWT error="insufficient_scope", scope="a b"`}) {
		t.Errorf("an authorizer of its own: %q", got)
	}
	forbidden := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	rec = do(scopeApp(p, &chiadapter.Guard{Policy: p, Forbidden: forbidden}), http.MethodPut, "/articles/1", tok)
	if got := rec.Header().Values("WWW-Authenticate"); rec.Code != http.StatusTeapot || len(got) != 0 {
		t.Errorf("custom Forbidden: %d %q", rec.Code, got)
	}
}

// TestREADMEScopes serves the README's "OAuth 2 scopes and RFC 9068"
// router (its ACL and routes, with a master secret for the identity
// provider's keys) and checks that the 403 the README shows is the one
// served, byte for byte.
func TestREADMEScopes(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## OAuth 2 scopes and RFC 9068")
	if !ok {
		t.Fatal(`README.md has no section "OAuth 2 scopes and RFC 9068"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	const shown = `< WWW-Authenticate: Bearer error="insufficient_scope", scope="articles:write"`
	if !strings.Contains(section, shown) {
		t.Fatalf("the README's section no longer shows %s; keep this test in step with it", shown)
	}

	api, err := policy.NewJWT(policy.Config{
		MasterSecret:    testSecret,
		Schemes:         []string{"Bearer"},
		Audience:        []string{"https://api.example.com"},
		Issuer:          "https://id.example.com/realms/main",
		Profile:         policy.ProfileRFC9068,
		ScopePrincipals: true,
		Logger:          slog.New(slog.DiscardHandler),
		Now:             func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	acl := authorizer.ACL{
		{Action: authorizer.Allow, Principal: "scope:articles:read", Permissions: authorizer.Perms("view")},
		{Action: authorizer.Allow, Principal: "scope:articles:write", Permissions: authorizer.Perms("view", "edit")},
		{Action: authorizer.Allow, Principal: "group:admins", Permissions: authorizer.AllPermissions},
	}
	guard := &chiadapter.Guard{Policy: api}
	router := chi.NewRouter()
	router.Use(chiadapter.Authenticate(api), chiadapter.StaticACL("root", acl))
	router.With(guard.Require("view")).Get("/articles/{id}", okHandler)
	router.With(guard.Require("edit")).Put("/articles/{id}", okHandler)
	srv := httptest.NewServer(router)
	defer srv.Close()

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: testSecret}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	claims := userClaims("rita")
	for k, v := range map[string]any{"iss": "https://id.example.com/realms/main", "aud": "https://api.example.com", "client_id": "c1", "jti": "j1", "scope": "articles:read"} {
		claims[k] = v
	}
	authz := "Bearer " + testkit.MintSigned(t, signer, claims)
	if code, _ := serve(t, srv, http.MethodGet, "/articles/1", authz); code != http.StatusOK {
		t.Errorf("GET: %d; want 200", code)
	}
	code, got := serve(t, srv, http.MethodPut, "/articles/1", authz)
	if want := strings.TrimPrefix(shown, "< WWW-Authenticate: "); code != http.StatusForbidden || !slices.Equal(got, []string{want}) {
		t.Errorf("PUT: %d %q; want 403 %q", code, got, want)
	}
}

// hintACL is the root ACL of TestForbiddenScopeHint: interns may never
// edit, whatever their scopes; articles:write and admin grant edit, root
// and su every permission; drafts:write is denied everything here (a
// Deny of every permission is no grant of it).
var hintACL = authorizer.ACL{
	allowACE(policy.Everyone, "view"),
	{Action: authorizer.Deny, Principal: "group:interns", Permissions: authorizer.Perms("edit")},
	allowACE("scope:articles:write", "edit"),
	allowACE("scope:admin", "edit"),
	allowAllACE("scope:root"),
	allowACE("scope:su", "view"),
	allowAllACE("scope:su"),
	{Action: authorizer.Deny, Principal: "scope:drafts:write", Permissions: authorizer.AllPermissions},
}

// hintArticle is the resource of TestForbiddenScopeHint's articles:
// "draft" grants edit to drafts:write and denies it to admin, "locked"
// denies it to contractors, "su" grants su edit by name (su has every
// permission at the root), and the others have no ACL.
func hintArticle(r *http.Request, parent authorizer.Resource) (authorizer.Resource, error) {
	id, err := chiadapter.URLParam(r, "id")
	if err != nil {
		return nil, err
	}
	switch id {
	case "draft":
		return authorizer.NewNode(id, parent, authorizer.ACL{
			allowACE("scope:drafts:write", "edit"),
			{Action: authorizer.Deny, Principal: "scope:admin", Permissions: authorizer.Perms("edit")},
		}), nil
	case "locked":
		return authorizer.NewNode(id, parent, authorizer.ACL{
			{Action: authorizer.Deny, Principal: "group:contractors", Permissions: authorizer.AllPermissions},
		}), nil
	case "su":
		return authorizer.NewNode(id, parent, authorizer.ACL{allowACE("scope:su", "edit"), allowACE("scope:editor", "edit")}), nil
	}
	return authorizer.NewNodeWithoutACL(id, parent), nil
}

// TestForbiddenScopeHint: the scope attribute lists only the scopes that
// would each grant the permission to this user (a Deny of another of the
// user's principals, here or up the lineage, counts), never one the user
// holds, never one granted every permission anywhere in the lineage, and
// nothing for a user the group finder rejected.
func TestForbiddenScopeHint(t *testing.T) {
	p := newScopePolicy(t, true, "Bearer")
	r := chi.NewRouter()
	g := &chiadapter.Guard{Policy: p}
	r.Use(chiadapter.Authenticate(p), chiadapter.StaticACL("root", hintACL))
	r.Route("/articles/{id}", func(r chi.Router) {
		r.Use(chiadapter.Context(hintArticle))
		r.With(g.Require("edit")).Put("/", okHandler)
		r.With(g.Require("delete")).Delete("/", okHandler)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	bearer := func(sub, scope string, groups ...string) string {
		return "Bearer " + scopedToken(t, sub, scope, groups...)
	}
	const none = `Bearer error="insufficient_scope"`
	tests := []struct {
		name         string
		method, path string
		authz        string
		want         string
	}{
		{"a reader is told both scopes short of root and su", http.MethodPut, "/articles/1", bearer("rita", "articles:read"),
			none + `, scope="admin articles:write"`},
		{"an intern is denied edit whatever the scope: no hint", http.MethodPut, "/articles/1", bearer("ian", "articles:read", "interns"),
			none},
		{"an intern holding articles:write: a held scope is no hint", http.MethodPut, "/articles/1", bearer("ian", "articles:write", "interns"),
			none},
		{"only all-powerful scopes grant delete: no hint", http.MethodDelete, "/articles/1", bearer("rita", "articles:read"),
			none},
		{"a user the group finder rejected: no hint", http.MethodPut, "/articles/1", bearer("baduser", "articles:read"),
			none},
		{"lineage: the draft's own grant, and its Deny of admin", http.MethodPut, "/articles/draft", bearer("rita", "articles:read"),
			none + `, scope="articles:write drafts:write"`},
		{"lineage: the draft under the root's Deny of interns", http.MethodPut, "/articles/draft", bearer("ian", "", "interns"),
			none + `, scope="drafts:write"`},
		{"lineage: a Deny of contractors on the resource", http.MethodPut, "/articles/locked", bearer("carl", "articles:read", "contractors"),
			none},
		{"lineage: the Deny of contractors is theirs alone", http.MethodPut, "/articles/locked", bearer("rita", "articles:read"),
			none + `, scope="admin articles:write"`},
		{"lineage: su, granted edit by name here and everything at the root, is no hint", http.MethodPut, "/articles/su", bearer("rita", "articles:read"),
			none + `, scope="admin articles:write editor"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := serve(t, srv, tt.method, tt.path, tt.authz)
			if code != http.StatusForbidden || !slices.Equal(got, []string{tt.want}) {
				t.Errorf("%s %s: %d %q; want 403 %q", tt.method, tt.path, code, got, tt.want)
			}
		})
	}
}
