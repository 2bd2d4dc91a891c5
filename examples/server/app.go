package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
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
)

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
// (settings.NewPolicy): every route answers any policy's user alike. GET /
// serves the page (routePage). POST
// /login signs its tokens with p's JWT policy (tokenMaker), and answers 501
// without one or when it cannot sign. users may be empty: POST /login then
// refuses every login. debug logs every authorization decision.
func newApp(p policy.AuthenticationPolicy, users map[string]user, debug bool, logger *slog.Logger) http.Handler {
	guard := &chiadapter.Guard{Policy: p, Debug: debug, Logger: logger}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p), chiadapter.StaticACL("root", rootACL))
	routePage(r)
	r.Post("/login", login(signer(p), users))
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

// login answers POST /login {"username","password"} with {"token": ...}
// for one of users, signed by p. With no p (a server without a JWT policy
// that signs) it answers 501 to every request, before it reads the
// credentials: a route that makes no tokens is no password oracle either.
func login(p *policy.JWT, users map[string]user) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p == nil {
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this server makes no tokens: it has no JWT policy that signs"})
			return
		}
		var body struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expected JSON {\"username\", \"password\"}"})
			return
		}
		u, known := users[body.Username]
		if !known || subtle.ConstantTimeCompare([]byte(u.Password), []byte(body.Password)) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown user or wrong password"})
			return
		}
		token, err := p.NewToken(body.Username, map[string]any{"groups": u.Groups})
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot make a token"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": token})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
