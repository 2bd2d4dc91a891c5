package main

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
	"github.com/pyramid-go/jwtauth/settings"
)

// GroupFinderName is the name the example's group finder is registered
// under; settings select it with jwtauth.find_groups = example:groupfinder
// for the JWT policy alone, or multiauth.groupfinder = example:groupfinder
// for a stack.
const GroupFinderName = "example:groupfinder"

// BasicCheckName is the name the example's password check is registered
// under; a basic policy of a stack selects it with
// multiauth.policy.NAME.check = example:basiccheck. It takes one argument,
// check_users: "demo" gives the demo users (demoCheck); without it the
// check knows no users and refuses every password. run sets check_users
// itself (withDemoUsers), from the -demo-users flag, and refuses a
// configuration that sets it: the demo users' well-known passwords are
// never turned on by a settings file or an environment variable alone.
const BasicCheckName = "example:basiccheck"

// checkUsersArg is the argument of example:basiccheck that selects its
// users (multiauth.policy.NAME.check_users), and demoUsersValue its only
// value, the demo users.
const (
	checkUsersArg  = "users"
	demoUsersValue = "demo"
)

func init() {
	settings.RegisterGroupFinder(GroupFinderName, func(map[string]string) (policy.GroupFinder, error) {
		return findGroups, nil
	})
	settings.RegisterBasicCheck(BasicCheckName, newBasicCheck)
}

// newBasicCheck is the factory of example:basiccheck: check_users = demo
// gives the demo users' check, no check_users a check without users.
func newBasicCheck(args map[string]string) (basic.Check, error) {
	for _, k := range slices.Sorted(maps.Keys(args)) {
		if k != checkUsersArg {
			return nil, fmt.Errorf("takes no argument but check_%s (check_%s is set)", checkUsersArg, k)
		}
	}
	switch users, set := args[checkUsersArg]; {
	case !set:
		return basic.Passwords(nil, nil), nil
	case users == demoUsersValue:
		return demoCheck(), nil
	default:
		return nil, fmt.Errorf("check_%s must be %q (the demo users) or absent (no users)", checkUsersArg, demoUsersValue)
	}
}

// findGroups rejects any userid containing "bad"; anyone else gets the
// group "group:<name>" for each string in the token's "groups" claim. A
// Basic user has no claims: their groups are those of the password check,
// and the finder only accepts or rejects them.
func findGroups(userid string, _ *http.Request, claims policy.Claims) ([]string, bool) {
	if strings.Contains(userid, "bad") {
		return nil, false
	}
	names, _ := claims.Strings("groups")
	groups := make([]string, 0, len(names))
	for _, n := range names {
		groups = append(groups, "group:"+n)
	}
	return groups, true
}

// user is a demo account of the embedded default configuration.
type user struct {
	Password string
	Groups   []string
}

// The example's ACLs: the root's, which every article inherits, and the
// article "secret"'s own.
var (
	rootACL = authorizer.ACL{
		{Action: authorizer.Allow, Principal: policy.Everyone, Permissions: authorizer.Perms("view")},
		{Action: authorizer.Allow, Principal: "group:editors", Permissions: authorizer.Perms("edit")},
		{Action: authorizer.Allow, Principal: "group:admins", Permissions: authorizer.AllPermissions},
	}
	secretACL = authorizer.ACL{
		{Action: authorizer.Allow, Principal: "group:admins", Permissions: authorizer.AllPermissions},
		authorizer.DenyAll,
	}
	// scopeACL is added to the root's when the policy's scopes are
	// principals (jwtauth.scope_principals = true): an OAuth 2 client
	// with the scope articles:read may view, with articles:write edit.
	scopeACL = authorizer.ACL{
		{Action: authorizer.Allow, Principal: policy.ScopePrefix + "articles:read", Permissions: authorizer.Perms("view")},
		{Action: authorizer.Allow, Principal: policy.ScopePrefix + "articles:write", Permissions: authorizer.Perms("edit")},
	}
)

// rootACLOf is the root's ACL for p: rootACL, and scopeACL after it when
// p, or a policy it stacks, makes scopes principals.
func rootACLOf(p policy.AuthenticationPolicy) authorizer.ACL {
	if !scopesArePrincipals(p) {
		return rootACL
	}
	return append(slices.Clone(rootACL), scopeACL...)
}

// scopesArePrincipals tells whether p, or a policy it stacks, makes the
// scopes of its tokens principals.
func scopesArePrincipals(p policy.AuthenticationPolicy) bool {
	if s, ok := p.(policy.Stack); ok {
		return slices.ContainsFunc(s.Stacked(), scopesArePrincipals)
	}
	sp, ok := p.(interface{ ScopePrincipals() bool })
	return ok && sp.ScopePrincipals()
}

// article is the root factory of /articles/{id}: the article "secret" has
// its own ACL; every other article has none and inherits the root's. The
// name is decoded exactly once (chiadapter.URLParam): /articles/%73ecret
// is the article "secret", /articles/%2573ecret the article "%73ecret".
func article(r *http.Request, root authorizer.Resource) (authorizer.Resource, error) {
	id, err := chiadapter.URLParam(r, "id")
	if err != nil {
		return nil, err // a name that does not decode: 404
	}
	if id == "secret" {
		return authorizer.NewNode(id, root, secretACL), nil
	}
	return authorizer.NewNodeWithoutACL(id, root), nil
}

// newApp wires the example's routes to p, the JWT policy alone or a stack
// (settings.NewPolicy): every route answers any policy's user alike, a
// cookie's as a header's. GET / serves the page (routePage). POST /login
// with JSON signs its tokens with p's JWT policy (tokenMaker), and answers
// 501 without one or when it cannot sign; with a form it signs the browser
// in through p's Remember, and answers 501 without a cookie policy. POST
// /logout answers with p's Forget, which, with a revocation store
// (jwtauth.revocation), revokes the request's token, header or cookie.
// Both are for the site's own pages only (sameOrigin). POST
// /users/{id}/revoke signs a user out everywhere (policy.RevokeUser), for
// the holders of the permission revoke on the root (the admins). GET
// /debug/vars is the standard library's expvar page, with the policies'
// counters as "jwtauth" (policy.Counters, published by run), for the
// holders of the permission debug on the root (the admins): it tells how
// many requests are refused and why, which is no one else's business.
// users may be empty: POST /login then refuses every login. debug logs
// every authorization decision.
func newApp(p policy.AuthenticationPolicy, users map[string]user, debug bool, logger *slog.Logger) http.Handler {
	guard := &chiadapter.Guard{Policy: p, Debug: debug, Logger: logger}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p), chiadapter.StaticACL("root", rootACLOf(p)))
	routePage(r)
	r.With(sameOrigin()).Post("/login", login(p, users))
	r.With(sameOrigin()).Post("/logout", logout(p))
	r.Get("/public", func(w http.ResponseWriter, r *http.Request) {
		var userid *string
		if u, ok := p.UnauthenticatedUserID(r); ok {
			userid = &u
		}
		writeJSON(w, http.StatusOK, map[string]any{"userid": userid})
	})
	r.Get("/auth", func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		switch {
		case errors.Is(id.Err, policy.ErrUserRejected):
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden"})
		case id.Err != nil:
			p.Challenge(w, r)
		case id.Policy != "":
			// A stack names the policy that authenticated the user.
			writeJSON(w, http.StatusOK, map[string]any{"userid": id.UserID, "policy": id.Policy})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"userid": id.UserID})
		}
	})
	r.Get("/groups", func(w http.ResponseWriter, r *http.Request) {
		principals, err := p.EffectivePrincipals(r)
		if err != nil {
			p.Challenge(w, r)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"principals": principals})
	})
	// Sign a user out everywhere: every token of theirs issued until now
	// is revoked (the permission revoke on the root: the admins').
	r.With(guard.Require("revoke")).Post("/users/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		userid, err := chiadapter.URLParam(r, "id")
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
			return
		}
		switch err := policy.RevokeUser(r.Context(), p, userid); {
		case errors.Is(err, policy.ErrNoRevocationStore):
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "no revocation store is configured (jwtauth.revocation)"})
		case err != nil:
			logger.Error("example: cannot revoke the user's tokens", "error", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the revocation store cannot be reached"})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"revoked": userid})
		}
	})
	// The counters (and expvar's memstats and cmdline): the admins' only.
	r.With(guard.Require("debug")).Get("/debug/vars", expvar.Handler().ServeHTTP)
	r.Route("/articles/{id}", func(r chi.Router) {
		r.Use(chiadapter.Context(article))
		for method, permission := range map[string]string{http.MethodGet: "view", http.MethodPut: "edit", http.MethodDelete: "delete"} {
			r.With(guard.Require(permission)).Method(method, "/", articleHandler(permission))
		}
	})
	return r
}

// articleHandler answers a request that the guard let through.
func articleHandler(permission string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var userid *string
		if u, ok := policy.UserIDFrom(r.Context()); ok {
			userid = &u
		}
		id := authorizer.ResourceName(chiadapter.Resource(r))
		writeJSON(w, http.StatusOK, map[string]any{"article": id, "permission": permission, "userid": userid})
	}
}

// signer returns the JWT policy of p (tokenMaker) when it can sign
// tokens, nil when p has no JWT policy or only a key that verifies (a
// public key, a JSON Web Key Set).
func signer(p policy.AuthenticationPolicy) *policy.JWT {
	j := tokenMaker(p)
	if j == nil {
		return nil
	}
	if !j.CanSign() {
		return nil
	}
	return j
}

// cookieSigner returns the cookie policy of p: p itself, or the first of
// p's stack; nil when there is none.
func cookieSigner(p policy.AuthenticationPolicy) *policy.Cookie {
	switch p := p.(type) {
	case *policy.Cookie:
		return p
	case *multiauth.Policy:
		for _, n := range p.Policies() {
			if c := cookieSigner(n.Policy); c != nil {
				return c
			}
		}
	}
	return nil
}

// sameOrigin returns middleware that refuses a browser's cross-origin
// request (http.CrossOriginProtection: Sec-Fetch-Site, else Origin against
// Host) with 403 and {"error":"csrf"}, the cookie policy's answer. POST
// /login and /logout need it although the cookie policy refuses
// cross-origin requests its cookie authenticates: a browser without the
// cookie is not refused there, and another site's form could sign it in as
// the attacker's user (login CSRF); the cookie policy's Remember refuses
// such a request too, but a JSON login and a logout do not reach it. It
// trusts no other origin (the example sets no cookie_trusted_origins).
// Clients outside a browser send neither header and pass.
func sameOrigin() func(http.Handler) http.Handler {
	c := http.NewCrossOriginProtection()
	c.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusForbidden, map[string]string{
			"error":             "csrf",
			"error_description": "cross-origin request refused: sign in and out from this site's own pages (CSRF protection)",
		})
	}))
	return c.Handler
}

// isForm tells whether r's body is an HTML form's
// (application/x-www-form-urlencoded).
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// maxLoginBody bounds the body of POST /login.
const maxLoginBody = 4096

// login answers POST /login. A form (application/x-www-form-urlencoded,
// the page's form: fields username and password) signs the browser in
// (formLogin); any other body, JSON {"username","password"}, is answered
// {"token": ...} (jsonLogin). A body labelled as a form that begins with
// "{" is JSON: curl -d sends that label by default, and POST /login has
// always read its body as JSON whatever the label (no form's body begins
// so, since a form encodes "{").
func login(p policy.AuthenticationPolicy, users map[string]user) http.HandlerFunc {
	fromForm, fromJSON := formLogin(p, cookieSigner(p) != nil, users), jsonLogin(signer(p), users)
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLoginBody))
		if isForm(r) && !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			fromForm(w, r, body, err)
			return
		}
		fromJSON(w, r, body, err)
	}
}

// loginHandler answers a POST /login whose body (at most maxLoginBody
// bytes) login has read: readErr is the error of that reading, such as a
// body too large.
type loginHandler func(w http.ResponseWriter, r *http.Request, body []byte, readErr error)

// checkUser returns the user of users named username whose password is
// password (compared in constant time); ok is false for an unknown user
// or a wrong password.
func checkUser(users map[string]user, username, password string) (u user, ok bool) {
	u, known := users[username]
	if !known || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return user{}, false
	}
	return u, true
}

// formLogin signs one of users in: p's Remember (the cookie policy's
// Set-Cookie) with the user's groups as the token's claims, and 303 See
// Other to the page. An unknown user or a wrong password is answered 401
// (loginFailed), with no cookie. Without a cookie policy (hasCookie false)
// it answers 501 to every request, before it reads the credentials, as
// jsonLogin does without a signer.
func formLogin(p policy.AuthenticationPolicy, hasCookie bool, users map[string]user) loginHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte, readErr error) {
		if !hasCookie {
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this server sets no cookies: it has no jwt_cookie policy"})
			return
		}
		form, err := url.ParseQuery(string(body))
		if readErr != nil || err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expected a form with the fields username and password"})
			return
		}
		username := form.Get("username")
		u, ok := checkUser(users, username, form.Get("password"))
		if !ok {
			loginFailed(w, r)
			return
		}
		h := p.Remember(policy.WithTokenClaims(r, map[string]any{"groups": u.Groups}), username)
		if len(h.Values("Set-Cookie")) == 0 {
			// Remember logged why (a reserved userid, claims that make
			// too large a cookie, a signer that failed; a cross-origin
			// request is refused above, by sameOrigin).
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot sign you in"})
			return
		}
		addHeaders(w.Header(), h)
		seeOther(w)
	}
}

// exampleClientID is the client_id of the tokens POST /login makes.
const exampleClientID = "jwtauth-example"

// jsonLogin answers POST /login {"username","password"} with {"token":
// ...} for one of users, signed by p, and sets no cookie. With no p (a
// server without a JWT policy that signs) it answers 501 to every request,
// before it reads the credentials: a route that makes no tokens is no
// password oracle either.
func jsonLogin(p *policy.JWT, users map[string]user) loginHandler {
	return func(w http.ResponseWriter, r *http.Request, raw []byte, readErr error) {
		if p == nil {
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this server makes no tokens: it has no JWT policy that signs"})
			return
		}
		var body struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&body); readErr != nil || err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expected JSON {\"username\", \"password\"}"})
			return
		}
		u, ok := checkUser(users, body.Username, body.Password)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown user or wrong password"})
			return
		}
		// client_id: RFC 9068's profile (jwtauth.profile = rfc9068)
		// requires it of access tokens; the example's own tokens are
		// issued to the example itself.
		token, err := p.NewToken(body.Username, map[string]any{"groups": u.Groups, "client_id": exampleClientID})
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot make a token"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": token})
	}
}

// logout answers POST /logout with the Forget headers of p (of each policy
// of a stack: the cookie policy's Set-Cookie that deletes its cookie, the
// header policies' WWW-Authenticate), and 303 See Other to the page for a
// form (the page's sign-out button), 204 No Content otherwise. It needs no
// credentials: signing out twice is no error.
func logout(p policy.AuthenticationPolicy) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h, err := policy.SignOut(r, p)
		addHeaders(w.Header(), h)
		if err != nil && !errors.Is(err, policy.ErrNoJTI) {
			// The client drops its copy (the headers went out), but the
			// token may still serve: say so, so that it tries again.
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{
				"error":             "temporarily_unavailable",
				"error_description": "signed out here, but the token could not be revoked: try again",
			})
			return
		}
		if isForm(r) {
			seeOther(w)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

// addHeaders adds every value of src to dst.
func addHeaders(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

// seeOther answers 303 See Other to the page, GET /.
func seeOther(w http.ResponseWriter) {
	w.Header().Set("Location", "/")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
